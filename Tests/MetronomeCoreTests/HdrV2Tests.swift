// HdrHistogram V2 encoding: exact counts, unit conversion within precision, and agreement with the
// reference implementation (PyPI hdrhistogram).
import Foundation
import XCTest
@testable import MetronomeCore

final class HdrV2Tests: XCTestCase {
    // MARK: Helpers

    static func slots(_ histogram: Histogram) -> [HdrV2.Decoded.Slot] {
        var slots: [HdrV2.Decoded.Slot] = []
        histogram.forEachOccupiedSlot { slots.append(HdrV2.Decoded.Slot(index: $0, count: $1)) }
        return slots
    }

    /// A seeded histogram of nanoseconds: a body of ~1–50 ms, a tail to seconds, some sub-microsecond.
    static func randomNanoseconds(seed: UInt64, values: Int) -> Histogram {
        var random = TestRandom(seed: seed)
        let histogram = Histogram()
        for _ in 0..<values {
            let shape = random.below(100)
            let value: UInt64
            if shape < 3 {
                value = UInt64(random.below(1_500))
            } else if shape < 90 {
                value = 1_000_000 + UInt64(random.nextUnit() * 49e6)
            } else {
                // Log-uniform from 50 µs to 2,000 s.
                value = UInt64(exp(log(50e3) + random.nextUnit() * (log(2e12) - log(50e3))))
            }
            histogram.record(value, count: UInt64(1 + random.below(random.chance(5) ? 1_000 : 3)))
        }
        return histogram
    }

    /// The documented bound of ns → µs → ns: one microsecond slot plus one nanosecond slot at `value`.
    static func tolerance(_ value: UInt64) -> UInt64 {
        let ns = Histogram(), us = HdrV2.microsecondHistogram()
        return 1_000 * us.sizeOfEquivalentValueRange(value / 1_000) + ns.sizeOfEquivalentValueRange(value)
    }

    static let levels: [Double] = [0, 50, 75, 90, 95, 99, 99.9, 99.99, 100]

    func assertWithinPrecision(_ original: Histogram, _ back: Histogram, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(back.totalCount, original.totalCount, "total count", file: file, line: line)
        let pairs = Self.levels.map { (original.valueAtPercentile($0), back.valueAtPercentile($0), "p\($0)") }
            + [(original.minValue, back.minValue, "min"), (original.maxValue, back.maxValue, "max")]
        for (want, got, name) in pairs {
            let difference = want > got ? want - got : got - want
            XCTAssertLessThanOrEqual(difference, Self.tolerance(want), "\(name): \(want) ns became \(got) ns",
                                     file: file, line: line)
        }
    }

    // MARK: Exact counts

    /// Encoding as recorded and decoding gives back every slot's count, plain and compressed (with
    /// libz and with stored blocks).
    func testRoundTripAsRecordedKeepsEverySlot() throws {
        for seed in 1...20 as ClosedRange<UInt64> {
            let us = HdrV2.microseconds(Self.randomNanoseconds(seed: seed, values: 1 + Int(seed) * 300))
            let want = Self.slots(us)
            let plain = HdrV2.encodeAsRecorded(us)
            XCTAssertEqual(try HdrV2.decodeAsRecorded(plain).slots, want, "seed \(seed)")
            for zlib in [Zlib.shared, Zlib.storedOnly] {
                let compressed = HdrV2.compress(plain, zlib: zlib)
                let decoded = try HdrV2.decodeAsRecorded(compressed, zlib: .shared)
                XCTAssertEqual(decoded.slots, want, "seed \(seed), libz \(zlib.isLoaded)")
                XCTAssertEqual(decoded.significantFigures, 3)
                XCTAssertEqual(decoded.lowestDiscernibleValue, 1)
                XCTAssertEqual(decoded.highestTrackableValue, 3_600_000_000)
                XCTAssertEqual(decoded.integerToDoubleValueConversionRatio, 1.0)
            }
        }
    }

    /// Merging in microseconds is exact: decoded, added and encoded again, every slot is the sum of
    /// the inputs' slots. (Through nanoseconds it would not be: that is what the µs API is for.)
    func testMicrosecondMergeIsExact() throws {
        let parts = (1...4 as ClosedRange<UInt64>).map { Self.randomNanoseconds(seed: 100 + $0, values: 3_000) }
        let files = parts.map { HdrV2.encodeCompressedBase64($0) }
        let merged = HdrV2.microsecondHistogram()
        for file in files { merged.merge(try HdrV2.decodeMicrosecondsBase64(file)) }
        let want = HdrV2.microsecondHistogram()
        for part in parts { want.merge(HdrV2.microseconds(part)) }
        XCTAssertEqual(Self.slots(merged), Self.slots(want))
        let again = try HdrV2.decodeAsRecorded(base64: HdrV2.encodeCompressedBase64(microseconds: merged))
        XCTAssertEqual(again.slots, Self.slots(want))
        XCTAssertEqual(again.totalCount, parts.reduce(0) { $0 + $1.totalCount })
        // A slot past the highest trackable value cannot go into a Histogram of those parameters.
        var writer = HdrV2.Writer(significantFigures: 3, lowest: 1, highest: 3_600_000_000)
        writer.append(index: HdrV2.microsecondHistogram().countsLength - 1, count: 1)
        XCTAssertThrowsError(try HdrV2.histogramAsRecorded(HdrV2.decodeAsRecorded(writer.finish())))
    }

    /// The ZigZag LEB128 edges: counts needing 1 to 9 bytes, runs of one and of many empty slots.
    func testCountsOfEveryWidthAndEmptyRuns() throws {
        let us = HdrV2.microsecondHistogram()
        let counts: [UInt64] = [1, 63, 64, 8_191, 8_192, 1 << 20, 1 << 27, 1 << 34, 1 << 41, 1 << 48, 1 << 55, UInt64(Int64.max)]
        // Slots 0, 2 (one empty between), then far apart.
        for (position, count) in counts.enumerated() {
            let value: UInt64 = position == 0 ? 0 : position == 1 ? 2 : UInt64(position) * 1_000_003
            us.record(value, count: count)
        }
        let bytes = HdrV2.encodeAsRecorded(us)
        // Slot 1 empty: a single 0, as Java writes it.
        XCTAssertEqual(Array(bytes[40..<43]), [0x02, 0x00, 0x7E])
        XCTAssertEqual(try HdrV2.decodeAsRecorded(bytes).slots, Self.slots(us))
        // The cookie without the word-size nibble (0x1c849303) reads the same, as in the references.
        var bare = bytes
        bare[3] = 0x03
        XCTAssertEqual(try HdrV2.decodeAsRecorded(bare).slots, Self.slots(us))
    }

    func testEmptyHistogram() throws {
        let empty = Histogram()
        let bytes = HdrV2.encode(empty)
        XCTAssertEqual(bytes.count, 40, "header only")
        XCTAssertEqual(Array(bytes[0..<4]), [0x1c, 0x84, 0x93, 0x13])
        XCTAssertEqual(try HdrV2.decode(bytes).totalCount, 0)
        let back = try HdrV2.decodeCompressedBase64(HdrV2.encodeCompressedBase64(empty))
        XCTAssertEqual(back.totalCount, 0)
        XCTAssertEqual(back.maxValue, 0)
        // What Python's hdrh writes for an empty HdrHistogram(1, 3600000000, 3).encode().
        XCTAssertEqual(try HdrV2.decodeCompressedBase64("HISTFAAAABx4nJNpmSzMgADMUJoRRFybvITB/gNEAABQ2gSH").totalCount, 0)
    }

    func testSingleHugeValue() throws {
        for value: UInt64 in [3_600_000_000_000, 3_599_999_999_999, 10_000_000_000_000] {
            let ns = Histogram()
            ns.record(value)
            let back = try HdrV2.decodeCompressedBase64(HdrV2.encodeCompressedBase64(ns))
            XCTAssertEqual(back.totalCount, 1)
            assertWithinPrecision(ns, back)
        }
    }

    // MARK: Units

    /// ns → µs → ns keeps every percentile, the minimum and the maximum within one µs slot plus one ns
    /// slot, and the total exactly.
    func testNanosecondsSurviveTheMicrosecondFile() throws {
        for seed in 1...30 as ClosedRange<UInt64> {
            let original = Self.randomNanoseconds(seed: seed, values: 1 + Int(seed) * 200)
            assertWithinPrecision(original, try HdrV2.decodeCompressedBase64(HdrV2.encodeCompressedBase64(original)))
            assertWithinPrecision(original, try HdrV2.decode(HdrV2.encode(original)))
        }
        // Small values: each microsecond and the sub-microsecond slots.
        let small = Histogram()
        for value in stride(from: 0 as UInt64, through: 5_000, by: 7) { small.record(value) }
        assertWithinPrecision(small, try HdrV2.decode(HdrV2.encode(small)))
    }

    /// The conversion's own figures: a nanosecond slot goes to the microsecond nearest its middle.
    func testNanosecondSlotGoesToItsMiddle() {
        let ns = Histogram()
        ns.record(300)        // slot 0..511, middle 256 → 0 µs
        ns.record(700)        // slot 512..1023, middle 768 → 1 µs
        ns.record(1_000_000)  // slot 999,936..1,000,447 (512 wide), middle 1,000,192 → 1,000 µs
        let us = HdrV2.microseconds(ns)
        XCTAssertEqual(us.countAtValue(0), 1)
        XCTAssertEqual(us.countAtValue(1), 1)
        XCTAssertEqual(us.countAtValue(1_000), 1)
        XCTAssertEqual(us.totalCount, 3)
    }

    // MARK: The reference implementation's bytes

    /// Made with PyPI hdrhistogram 0.10.8:
    ///     h = HdrHistogram(1, 3600000000, 3)
    ///     for v, c in [(1, 5), (2, 1), (999, 3), (1000, 2), (2047, 1), (2048, 7), (5000, 11),
    ///                  (123456, 13), (1000000, 2), (3599999999, 1)]: h.record_value(v, c)
    ///     h.encode()
    /// It printed total 46 and p50 5003, p90 123519 (µs).
    func testDecodesTheReferenceVector() throws {
        let text = "HISTFAAAADh4nJNpmSzMwMAgwQABzFCaEURcm7yEwf4DVICL6Tg/G8tqASa+g8Jip72k1hqwLN7DyAQABTcKsw=="
        let records: [(UInt64, UInt64)] = [(1, 5), (2, 1), (999, 3), (1000, 2), (2047, 1), (2048, 7), (5000, 11),
                                          (123456, 13), (1000000, 2), (3599999999, 1)]
        let us = HdrV2.microsecondHistogram()
        for (value, count) in records { us.record(value, count: count) }
        let decoded = try HdrV2.decodeAsRecorded(base64: text)
        XCTAssertEqual(decoded.slots, Self.slots(us))
        XCTAssertEqual(decoded.totalCount, 46)
        XCTAssertEqual(us.valueAtPercentile(50), 5003)
        XCTAssertEqual(us.valueAtPercentile(90), 123_519)
        let ns = try HdrV2.decodeCompressedBase64(text)
        XCTAssertEqual(ns.totalCount, 46)
        XCTAssertEqual(Double(ns.valueAtPercentile(50)), 5_003_000, accuracy: 5_003_000 * 0.002)
        // Without libz its deflated stream cannot be read, and the error says what is missing.
        XCTAssertThrowsError(try HdrV2.decodeAsRecorded(HdrV2.base64Bytes(text), zlib: .storedOnly)) { error in
            XCTAssertTrue("\(error)".contains("libz.so.1") && "\(error)".contains("zlib1g"), "\(error)")
        }
    }

    // MARK: zlib without libz

    func testStoredBlocksAreAZlibStream() throws {
        XCTAssertEqual(Zlib.adler32(Array("Wikipedia".utf8)), 0x11E6_0398)
        XCTAssertTrue(Zlib.shared.isLoaded, "libz.so.1 is installed here; the fallback is tested on its own")
        var random = TestRandom(seed: 7)
        for length in [0, 1, 65_535, 65_536, 200_000] {
            let data = (0..<length).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            let stored = Zlib.stored(data)
            XCTAssertEqual(Array(stored.prefix(2)), [0x78, 0x01])
            XCTAssertEqual(try Zlib.shared.decompress(stored, limit: 1 << 20), data, "libz reads stored blocks, \(length) bytes")
            XCTAssertEqual(try Zlib.unstored(stored, limit: 1 << 20), data)
            // zlib at level 0 writes stored blocks too; the fallback reads them.
            XCTAssertEqual(try Zlib.storedOnly.decompress(try Zlib.shared.compress(data, level: 0), limit: 1 << 20), data)
        }
        var corrupt = Zlib.stored([1, 2, 3])
        corrupt[corrupt.count - 1] ^= 1
        XCTAssertThrowsError(try Zlib.unstored(corrupt, limit: 100))
        XCTAssertThrowsError(try Zlib.unstored(Array(Zlib.stored([1, 2, 3]).dropLast()), limit: 100))
        XCTAssertThrowsError(try Zlib.unstored(Zlib.stored([UInt8](repeating: 0, count: 200)), limit: 100))
    }

    /// The whole API on the fallback: what it writes any zlib (and Python) reads, and it reads it back.
    func testEncodingWithoutLibz() throws {
        let original = Self.randomNanoseconds(seed: 99, values: 5_000)
        let bytes = HdrV2.encodeCompressed(original, zlib: .storedOnly)
        let decoded = try HdrV2.decodeAsRecorded(bytes, zlib: .storedOnly)
        XCTAssertEqual(decoded.slots, Self.slots(HdrV2.microseconds(original)))
        XCTAssertEqual(try HdrV2.decodeAsRecorded(bytes, zlib: .shared).slots, decoded.slots)
    }

    // MARK: Errors

    func testErrorsSayWhatIsWrong() throws {
        let good = HdrV2.encode(Self.randomNanoseconds(seed: 3, values: 100))
        func message(_ bytes: [UInt8]) -> String {
            do {
                _ = try HdrV2.decode(bytes)
                return "no error"
            } catch { return "\(error)" }
        }
        var badCookie = good
        badCookie[0] = 0x11
        XCTAssertTrue(message(badCookie).contains("cookie 0x1184"), message(badCookie))
        XCTAssertTrue(message(Array(good.prefix(20))).contains("truncated"))
        XCTAssertTrue(message(Array(good.dropLast())).contains("truncated"))
        XCTAssertTrue(message([]).contains("truncated"))
        var compressed = HdrV2.encodeCompressed(Self.randomNanoseconds(seed: 3, values: 100))
        compressed.removeLast()
        XCTAssertTrue(message(compressed).contains("compressed length says"), message(compressed))
        var badZlib = HdrV2.encodeCompressed(Self.randomNanoseconds(seed: 3, values: 100))
        badZlib[12] ^= 0xFF
        XCTAssertTrue(message(badZlib).contains("zlib") || message(badZlib).contains("cookie"), message(badZlib))

        // Parameters HdrHistogram rejects.
        var figures = good
        figures[15] = 9
        XCTAssertTrue(message(figures).contains("significant figures 9"), message(figures))
        var shifted = good
        shifted[11] = 1
        XCTAssertTrue(message(shifted).contains("normalizingIndexOffset"), message(shifted))

        // A count past the slots its parameters give: lowest 1, highest 2, 1 figure (a few dozen slots).
        var writer = HdrV2.Writer(significantFigures: 1, lowest: 1, highest: 2)
        writer.append(index: 5_000, count: 1)
        XCTAssertTrue(message(writer.finish()).contains("beyond the"), message(writer.finish()))

        // Microsecond values past the hour a nanosecond histogram holds.
        let wide = Histogram(lowestDiscernibleValue: 1, highestTrackableValue: 100_000_000_000, significantFigures: 3)
        wide.record(50_000_000_000)
        XCTAssertTrue(message(HdrV2.encodeAsRecorded(wide)).contains("beyond the 3600000000 µs"),
                      message(HdrV2.encodeAsRecorded(wide)))

        XCTAssertThrowsError(try HdrV2.decodeCompressedBase64("not base64!")) { error in
            XCTAssertEqual(error as? HdrV2Error, .badBase64)
        }
    }

    // MARK: The reference implementation reads ours

    /// Python's hdrh decodes our base64 to the same total, extremes and percentiles (in µs) as our own
    /// microsecond histogram. Skipped when python3 cannot `import hdrh` (pip install hdrhistogram).
    func testPythonHdrhReadsOurEncoding() throws {
        try Self.requirePythonHdrh()
        let original = Self.randomNanoseconds(seed: 42, values: 20_000)
        let us = HdrV2.microseconds(original)
        for zlib in [Zlib.shared, Zlib.storedOnly] {
            let text = Data(HdrV2.encodeCompressed(original, zlib: zlib)).base64EncodedString()
            let script = """
                import sys
                from hdrh.histogram import HdrHistogram
                h = HdrHistogram.decode(sys.argv[1])
                print(h.get_total_count(), h.get_min_value(), h.get_max_value(),
                      *[h.get_value_at_percentile(p) for p in (50, 75, 90, 95, 99, 99.9, 99.99)])
                """
            let result = try runProcess(URL(fileURLWithPath: "/usr/bin/env"), ["python3", "-c", script, text])
            XCTAssertEqual(result.status, 0, result.stderr)
            let numbers = result.stdout.split(whereSeparator: \.isWhitespace).compactMap { UInt64($0) }
            XCTAssertEqual(numbers.count, 10, result.stdout)
            guard numbers.count == 10 else { return }
            XCTAssertEqual(numbers[0], original.totalCount)
            XCTAssertEqual(numbers[1], us.minValue)
            XCTAssertEqual(numbers[2], us.maxValue)
            // hdrh ranks by rounding p·n, we by HdrHistogram's nearest rank: the same slot or the next.
            for (offset, level) in [50, 75, 90, 95, 99, 99.9, 99.99].enumerated() {
                let ours = us.valueAtPercentile(level)
                let theirs = numbers[3 + offset]
                XCTAssertLessThanOrEqual(max(ours, theirs) - min(ours, theirs), us.sizeOfEquivalentValueRange(ours),
                                         "p\(level): ours \(ours) µs, hdrh \(theirs) µs")
            }
        }
    }

    static func requirePythonHdrh() throws {
        let probe = try runProcess(URL(fileURLWithPath: "/usr/bin/env"), ["python3", "-c", "import hdrh"])
        if probe.status != 0 {
            throw XCTSkip("python3 cannot import hdrh (pip install hdrhistogram): \(probe.stderr.suffix(200))")
        }
    }
}
