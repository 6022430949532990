// Checks Histogram against HdrHistogram's index maths, exact sorts, a concurrent reader, and .hgrm text.
import Foundation
import Synchronization
import XCTest
@testable import MetronomeCore

final class HistogramTests: XCTestCase {
    // MARK: Index maths (hdrhistogram-swift testUnitMagnitude*IndexCalculations)

    func testUnitMagnitude0IndexCalculations() {
        let h = Histogram(lowestDiscernibleValue: 1, highestTrackableValue: 1 << 32, significantFigures: 3)
        XCTAssertEqual(h.subBucketCount, 2048)
        XCTAssertEqual(h.unitMagnitude, 0)
        // 2^11 << 22 > 2^32: 23 buckets.
        XCTAssertEqual(h.bucketCount, 23)
        XCTAssertEqual(h.countsLength, 24 * 1024)
        // First half of bucket 0, then its second half.
        XCTAssertEqual(h.bucketIndex(for: 3), 0)
        XCTAssertEqual(h.subBucketIndex(for: 3, bucketIndex: 0), 3)
        XCTAssertEqual(h.bucketIndex(for: 1024 + 3), 0)
        XCTAssertEqual(h.subBucketIndex(for: 1024 + 3, bucketIndex: 0), 1024 + 3)
        // Bucket 1 counts by 2s from its middle, bucket 2 by 4s.
        XCTAssertEqual(h.bucketIndex(for: 2048 + 3 * 2), 1)
        XCTAssertEqual(h.subBucketIndex(for: 2048 + 3 * 2, bucketIndex: 1), 1024 + 3)
        XCTAssertEqual(h.bucketIndex(for: (2048 << 1) + 3 * 4), 2)
        XCTAssertEqual(h.subBucketIndex(for: (2048 << 1) + 3 * 4, bucketIndex: 2), 1024 + 3)
        // Past the last bucket the maths still holds.
        XCTAssertEqual(h.bucketIndex(for: (2048 << 22) + 3 * (1 << 23)), 23)
        XCTAssertEqual(h.subBucketIndex(for: (2048 << 22) + 3 * (1 << 23), bucketIndex: 23), 1024 + 3)
        XCTAssertEqual(h.countsIndex(for: 3), 3)
        XCTAssertEqual(h.countsIndex(for: 2047), 2047)
        XCTAssertEqual(h.countsIndex(for: 2048), 2048)
        XCTAssertEqual(h.countsIndex(for: 2049), 2048)
        XCTAssertEqual(h.countsIndex(for: 4096), 3072)
        XCTAssertEqual(h.valueFromIndex(3072), 4096)
    }

    func testUnitMagnitude9IndexCalculations() {
        // lowestDiscernibleValue 1000 rounds down to a unit of 512.
        let h = Histogram()
        XCTAssertEqual(h.unitMagnitude, 9)
        XCTAssertEqual(h.subBucketCount, 2048)
        XCTAssertEqual(h.subBucketMask, 2047 << 9)
        // 2048·512 = 2^20; 2^20 << 22 = 2^42 > 3.6e12 > 2^41.
        XCTAssertEqual(h.bucketCount, 23)
        XCTAssertEqual(h.countsLength, 24_576)
        // Below one unit: slot 0.
        XCTAssertEqual(h.bucketIndex(for: 511), 0)
        XCTAssertEqual(h.countsIndex(for: 511), 0)
        XCTAssertEqual(h.countsIndex(for: 512), 1)
        // 1 ms: 1_000_000 >> 9 = 1953, still bucket 0.
        XCTAssertEqual(h.bucketIndex(for: 1_000_000), 0)
        XCTAssertEqual(h.subBucketIndex(for: 1_000_000, bucketIndex: 0), 1953)
        XCTAssertEqual(h.countsIndex(for: 1_000_000), 1953)
        // Last slot of bucket 0, first of bucket 1 (2^20).
        XCTAssertEqual(h.countsIndex(for: 1_048_575), 2047)
        XCTAssertEqual(h.bucketIndex(for: 1_048_576), 1)
        XCTAssertEqual(h.subBucketIndex(for: 1_048_576, bucketIndex: 1), 1024)
        XCTAssertEqual(h.countsIndex(for: 1_048_576), 2048)
        // 10 s = 10^10: bucket 14 (2^34 > 10^10 > 2^33), sub 10^10 >> 23 = 1192.
        XCTAssertEqual(h.bucketIndex(for: 10_000_000_000), 14)
        XCTAssertEqual(h.subBucketIndex(for: 10_000_000_000, bucketIndex: 14), 1192)
        XCTAssertEqual(h.countsIndex(for: 10_000_000_000), 15 * 1024 + 1192 - 1024)
        XCTAssertEqual(h.valueFromIndex(15 * 1024 + 168), 1192 << 23)
        // The highest trackable value lands in the last bucket, inside the slots.
        XCTAssertEqual(h.bucketIndex(for: h.highestTrackableValue), 22)
        XCTAssertLessThan(h.countsIndex(for: h.highestTrackableValue), h.countsLength)
    }

    func testUnitMagnitude12IndexCalculations() {
        let h = Histogram(lowestDiscernibleValue: 1 << 12, highestTrackableValue: 1 << 32, significantFigures: 3)
        let unit: UInt64 = 1 << 12
        XCTAssertEqual(h.unitMagnitude, 12)
        XCTAssertEqual(h.bucketCount, 11)
        XCTAssertEqual(h.bucketIndex(for: 3), 0)
        XCTAssertEqual(h.subBucketIndex(for: 3, bucketIndex: 0), 0)
        XCTAssertEqual(h.subBucketIndex(for: 3 * unit, bucketIndex: 0), 3)
        XCTAssertEqual(h.subBucketIndex(for: unit * (1024 + 3), bucketIndex: 0), 1024 + 3)
        XCTAssertEqual(h.bucketIndex(for: (unit << 11) + 3 * (unit << 1)), 1)
        XCTAssertEqual(h.subBucketIndex(for: (unit << 11) + 3 * (unit << 1), bucketIndex: 1), 1024 + 3)
        XCTAssertEqual(h.bucketIndex(for: (unit << 12) + 3 * (unit << 2)), 2)
        XCTAssertEqual(h.bucketIndex(for: (unit << 21) + 3 * (unit << 11)), 11)
        XCTAssertEqual(h.subBucketIndex(for: (unit << 21) + 3 * (unit << 11), bucketIndex: 11), 1024 + 3)
    }

    func testLayoutSizes() {
        XCTAssertEqual(Histogram(lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000).countsLength, 23_552)
        XCTAssertEqual(Histogram(lowestDiscernibleValue: 1).bucketCount, 32)
        let twoFigures = Histogram(lowestDiscernibleValue: 1, highestTrackableValue: 1 << 20, significantFigures: 2)
        XCTAssertEqual(twoFigures.subBucketCount, 256)
        let zeroFigures = Histogram(lowestDiscernibleValue: 1 << 61, highestTrackableValue: 1 << 62,
                                    significantFigures: 0)
        XCTAssertEqual(zeroFigures.subBucketCount, 2)
        XCTAssertEqual(zeroFigures.bucketCount, 2)
    }

    /// Every slot maps back to itself, and the slots tile the value range with no gap or overlap.
    func testSlotsTileTheRange() {
        let layouts = [Histogram(), Histogram(lowestDiscernibleValue: 1),
                       Histogram(lowestDiscernibleValue: 3, significantFigures: 1)]
        for h in layouts {
            var badSlots: [Int] = []
            for i in 0..<(h.countsLength - 1) {
                let low = h.valueFromIndex(i), high = h.highestEquivalentValue(low)
                if h.countsIndex(for: low) != i || h.countsIndex(for: high) != i || h.lowestEquivalentValue(high) != low
                    || high + 1 != h.valueFromIndex(i + 1) {
                    badSlots.append(i)
                }
            }
            XCTAssertEqual(badSlots, [], "unit \(h.unitMagnitude)")
        }
    }

    func testEquivalentValues() {
        let h = Histogram(lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000)
        XCTAssertEqual(h.lowestEquivalentValue(10_007), 10_000)
        XCTAssertEqual(h.lowestEquivalentValue(10_009), 10_008)
        XCTAssertEqual(h.highestEquivalentValue(8_180), 8_183)
        XCTAssertEqual(h.highestEquivalentValue(8_191), 8_191)
        XCTAssertEqual(h.highestEquivalentValue(8_193), 8_199)
        XCTAssertEqual(h.highestEquivalentValue(9_995), 9_999)
        XCTAssertEqual(h.highestEquivalentValue(10_008), 10_015)
        XCTAssertEqual(h.medianEquivalentValue(4), 4)
        XCTAssertEqual(h.medianEquivalentValue(4_000), 4_001)
        XCTAssertEqual(h.medianEquivalentValue(8_000), 8_002)
        XCTAssertEqual(h.medianEquivalentValue(10_007), 10_004)
        XCTAssertEqual(h.highestEquivalentValue(.max), .max)
        let scaled = Histogram(lowestDiscernibleValue: 1024, highestTrackableValue: 3_600_000_000)
        XCTAssertEqual(scaled.sizeOfEquivalentValueRange(1 * 1024), 1024)
        XCTAssertEqual(scaled.sizeOfEquivalentValueRange(2_500 * 1024), 2 * 1024)
        XCTAssertEqual(scaled.sizeOfEquivalentValueRange(8_191 * 1024), 4 * 1024)
        XCTAssertEqual(scaled.sizeOfEquivalentValueRange(8_192 * 1024), 8 * 1024)
        XCTAssertEqual(scaled.highestEquivalentValue(10_008 * 1024), 10_015 * 1024 + 1023)
        // Default layout: 1 ms sits in a 512 ns slot, 1.048576 ms starts 1024 ns slots.
        let ns = Histogram()
        XCTAssertEqual(ns.lowestEquivalentValue(1_000_000), 999_936)
        XCTAssertEqual(ns.highestEquivalentValue(1_000_000), 1_000_447)
        XCTAssertEqual(ns.medianEquivalentValue(1_000_000), 1_000_192)
        XCTAssertEqual(ns.highestEquivalentValue(1_048_576), 1_049_599)
        XCTAssertEqual(ns.highestEquivalentValue(1_000), 1_023)
    }

    // MARK: Percentiles against an exact sort

    /// 10^6 values log-uniform over 1 µs ... 10 s in nanoseconds, and their sort.
    static let sample: (values: [UInt64], sorted: [UInt64]) = {
        var random = TestRandom(seed: 0x5EED)
        let values = (0..<1_000_000).map { _ in UInt64(1_000 * pow(10, 7 * random.nextUnit())) }
        return (values, values.sorted())
    }()
    static let percentilesInBasisPoints: [UInt64] = [
        0, 100, 1_000, 2_500, 5_000, 7_500, 9_000, 9_500, 9_900, 9_990, 9_999, 10_000,
    ]

    func testPercentilesMatchExactSortAtOneUnitResolution() {
        let h = Histogram(lowestDiscernibleValue: 1)
        for value in Self.sample.values { XCTAssertTrue(h.record(value)) }
        checkPercentiles(h, maxRelativeError: 0.001)
    }

    func testPercentilesMatchExactSortWithDefaultLayout() {
        // Below ~1 ms the default layout resolves 512 ns, not 3 figures: values agree to the slot.
        let h = Histogram()
        for value in Self.sample.values { h.record(value) }
        checkPercentiles(h, maxRelativeError: nil)
    }

    private func checkPercentiles(_ h: Histogram, maxRelativeError: Double?) {
        let sorted = Self.sample.sorted
        let n = UInt64(sorted.count)
        XCTAssertEqual(h.totalCount, n)
        for basisPoints in Self.percentilesInBasisPoints {
            let percentile = Double(basisPoints) / 100
            // Nearest rank, in integers: max(1, ⌈p/100 · n⌉).
            let rank = max(1, (basisPoints * n + 9_999) / 10_000)
            let exact = sorted[Int(rank - 1)]
            let got = h.valueAtPercentile(percentile)
            XCTAssertTrue(h.valuesAreEquivalent(got, exact), "p\(percentile): \(got) vs exact \(exact)")
            let bound = maxRelativeError.map { Double(exact) * $0 } ?? Double(h.sizeOfEquivalentValueRange(exact))
            XCTAssertLessThanOrEqual(abs(Double(got) - Double(exact)), bound, "p\(percentile)")
        }
        XCTAssertEqual(h.valueAtPercentile(0), h.minValue)
        XCTAssertEqual(h.valueAtPercentile(100), h.maxValue)
        let levels = Self.percentilesInBasisPoints.map { Double($0) / 100 }.sorted()
        XCTAssertEqual(h.valuesAtPercentiles(levels), levels.map { h.valueAtPercentile($0) }, "one walk gives what one walk each gives")
        XCTAssertEqual(h.minValue, h.lowestEquivalentValue(sorted.first!))
        XCTAssertEqual(h.maxValue, h.highestEquivalentValue(sorted.last!))
    }

    func testValueAtPercentileAgreesWithPercentileIteration() {
        for length: UInt64 in [1, 5, 10, 50, 100, 500, 1_000, 5_000] {
            let h = Histogram(lowestDiscernibleValue: 1, highestTrackableValue: UInt64(Int64.max),
                              significantFigures: 2)
            for value in 1...length { h.record(value) }
            for step in h.percentiles(ticksPerHalfDistance: 1_000) {
                let percentile = 100 * Double(step.totalCountToValue) / Double(length)
                XCTAssertTrue(h.valuesAreEquivalent(h.valueAtPercentile(percentile), step.value),
                              "n \(length) p \(percentile)")
            }
        }
    }

    // MARK: Statistics, merge, reset, clamping

    func testMinMaxMeanCount() {
        let h = Histogram()
        h.record(1_000_000)
        h.record(3_000_000)
        XCTAssertEqual(h.totalCount, 2)
        XCTAssertEqual(h.minValue, 999_936)
        // 3 ms: 2048 ns slots from 2^21; slot 1464 spans 2_998_272 ... 3_000_319.
        XCTAssertEqual(h.maxValue, 3_000_319)
        // Slot medians 1_000_192 and 2_999_296.
        XCTAssertEqual(h.mean, 1_999_744)
        XCTAssertEqual(h.stdDeviation, 999_552)
        let exact = Histogram(lowestDiscernibleValue: 1, highestTrackableValue: 10_000)
        for value: UInt64 in 1...10 { exact.record(value) }
        XCTAssertEqual(exact.mean, 5.5)
        XCTAssertEqual(exact.stdDeviation, 8.25.squareRoot(), accuracy: 1e-12)
        // Values below one unit share slot 0, and the minimum then reads 0.
        h.record(0)
        h.record(511)
        XCTAssertEqual(h.countAtValue(300), 2)
        XCTAssertEqual(h.minValue, 0)
        XCTAssertEqual(h.valueAtPercentile(0), 0)
    }

    func testEmptyHistogram() {
        let h = Histogram()
        XCTAssertEqual(h.totalCount, 0)
        XCTAssertEqual(h.minValue, 0)
        XCTAssertEqual(h.maxValue, 0)
        XCTAssertEqual(h.mean, 0)
        XCTAssertEqual(h.stdDeviation, 0)
        XCTAssertEqual(h.valueAtPercentile(50), 0)
        var steps = h.percentiles()
        XCTAssertNil(steps.next())
        XCTAssertEqual(h.percentileDistribution(unitScale: 1e6), """
                   Value     Percentile TotalCount 1/(1-Percentile)

            #[Mean    =        0.000, StdDeviation   =        0.000]
            #[Max     =        0.000, Total count    =            0]
            #[Buckets =           23, SubBuckets     =         2048]

            """)
    }

    func testMergeOfHalvesEqualsWhole() {
        let values = Self.sample.values.prefix(200_000)
        let whole = Histogram(), first = Histogram(), second = Histogram()
        for (i, value) in values.enumerated() {
            whole.record(value)
            (i % 2 == 0 ? first : second).record(value)
        }
        first.merge(second)
        assertSameContents(first, whole)
        XCTAssertEqual(first.percentileDistribution(unitScale: 1e6), whole.percentileDistribution(unitScale: 1e6))
    }

    func testResetClearsEverything() {
        let h = Histogram(lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000)
        for value: UInt64 in [4, 10, 100] { h.record(value) }
        XCTAssertEqual(h.minValue, 4)
        XCTAssertEqual(h.maxValue, 100)
        h.reset()
        XCTAssertEqual(h.totalCount, 0)
        XCTAssertEqual(h.countAtValue(4), 0)
        XCTAssertEqual(h.minValue, 0)
        XCTAssertEqual(h.maxValue, 0)
        var occupied = 0
        h.forEachRecordedBucket { _, _, _ in occupied += 1 }
        XCTAssertEqual(occupied, 0)
        h.record(20)
        h.record(80)
        XCTAssertEqual(h.minValue, 20)
        XCTAssertEqual(h.maxValue, 80)
        // Zero and a clamped value: the reset clears from slot 0 to the top slot.
        h.record(0)
        h.record(UInt64.max)
        h.reset()
        h.forEachRecordedBucket { _, _, _ in occupied += 1 }
        XCTAssertEqual(occupied, 0, "every slot between the extremes cleared")
        XCTAssertEqual(h.valuesAtPercentiles([50, 99]), [0, 0])
    }

    func testValuesAboveHighestAreClampedCountedAndReported() {
        let h = Histogram(lowestDiscernibleValue: 1, highestTrackableValue: 1_000_000)
        XCTAssertTrue(h.record(1_000_000))
        XCTAssertFalse(h.record(2_000_000))
        XCTAssertFalse(h.record(.max, count: 3))
        XCTAssertEqual(h.totalCount, 5)
        XCTAssertEqual(h.countAtValue(1_000_000), 5)
        XCTAssertEqual(h.maxValue, 1_000_447)
        XCTAssertEqual(h.valueAtPercentile(100), 1_000_447)
    }

    func testCopyIsAnIndependentEqualSnapshot() {
        let h = Histogram()
        for value in Self.sample.values.prefix(10_000) { h.record(value, count: 2) }
        let snapshot = h.copy()
        assertSameContents(snapshot, h)
        h.record(1_000_000_000)
        XCTAssertEqual(snapshot.totalCount, 20_000)
        XCTAssertEqual(h.totalCount, 20_001)
    }

    private func assertSameContents(_ a: Histogram, _ b: Histogram,
                                    file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.totalCount, b.totalCount, file: file, line: line)
        XCTAssertEqual(a.minValue, b.minValue, file: file, line: line)
        XCTAssertEqual(a.maxValue, b.maxValue, file: file, line: line)
        XCTAssertEqual(a.mean, b.mean, file: file, line: line)
        var mismatches = 0
        for i in 0..<a.countsLength where a.count(atIndex: i) != b.count(atIndex: i) { mismatches += 1 }
        XCTAssertEqual(mismatches, 0, "slots differ", file: file, line: line)
    }

    // MARK: One writer, one lock-free reader

    func testConcurrentReaderWhileWriterRecords() {
        // A rising ramp makes nearly every record a new maximum, so snapshots race with max updates.
        let values = (0..<1_000_000).map { UInt64(1_000 + $0 * 10_000) }
        let h = Histogram()
        let state = ReaderState()
        let finished = DispatchSemaphore(value: 0)
        Thread {
            for value in values { h.record(value) }
            state.writerDone.store(true, ordering: .releasing)
            finished.signal()
        }.start()
        Thread {
            var lastTotal: UInt64 = 0, lastSnapshotTotal: UInt64 = 0
            repeat {
                let total = h.totalCount
                let p99 = h.valueAtPercentile(99)
                let snapshot = h.copy()
                var slotSum: UInt64 = 0, lastHigh: UInt64 = 0, firstLow: UInt64 = .max
                snapshot.forEachRecordedBucket { low, high, count in
                    slotSum += count
                    firstLow = min(firstLow, low)
                    lastHigh = high
                }
                // Relaxed loads of one location never go back in time; a snapshot is self-consistent.
                let consistent = total >= lastTotal && snapshot.totalCount >= lastSnapshotTotal
                    && slotSum == snapshot.totalCount && snapshot.totalCount <= UInt64(values.count)
                    && (slotSum == 0 || (snapshot.maxValue == lastHigh && snapshot.minValue == firstLow))
                    && p99 <= h.highestEquivalentValue(h.highestTrackableValue)
                if !consistent { state.failures.add(1, ordering: .relaxed) }
                lastTotal = total
                lastSnapshotTotal = snapshot.totalCount
                state.reads.add(1, ordering: .relaxed)
            } while !state.writerDone.load(ordering: .acquiring)
            finished.signal()
        }.start()
        finished.wait()
        finished.wait()
        XCTAssertEqual(state.failures.load(ordering: .relaxed), 0)
        XCTAssertGreaterThan(state.reads.load(ordering: .relaxed), 0)
        let expected = Histogram()
        for value in values { expected.record(value) }
        XCTAssertEqual(h.totalCount, UInt64(values.count))
        assertSameContents(h, expected)
    }

    // MARK: .hgrm text

    func testPercentileDistributionGolden() {
        // Checked byte for byte against HdrHistogram_c's iteration and printf. By hand: 850_000 ns is slot
        // 1660 of bucket 0 (512 ns), highest 850_431 → 0.850; 2_000_000 ns is in 1024 ns slots from 2^20,
        // highest 2_000_895 → 2.001, reached at level 55 (ticks 5·4 = 20 after 50 %) with 5+10+15+20+15 = 65
        // samples, 1/(1-0.55) = 2.22; 10^9 ns is in 524_288 ns slots, highest 1_000_341_503 → 1000.342.
        let h = Histogram()
        let data: [(UInt64, UInt64)] = [
            (850_000, 5), (1_000_000, 10), (1_200_000, 15), (1_500_000, 20), (2_000_000, 15), (2_500_000, 10),
            (3_000_000, 8), (4_000_000, 6), (5_000_000, 4), (8_000_000, 3), (12_000_000, 2), (50_000_000, 1),
            (1_000_000_000, 1),
        ]
        for (value, count) in data { h.record(value, count: count) }
        XCTAssertEqual(h.percentileDistribution(unitScale: 1e6), Self.goldenText)
    }

    func testPercentileDistributionMatchesHdrHistogramSwift() {
        // hdrhistogram-swift testOutputPercentileDistributionPlainText, whose last row omits the "inf" (Java does).
        let h = Histogram(lowestDiscernibleValue: 1, highestTrackableValue: 10_000)
        for value: UInt64 in 1...10 { h.record(value) }
        let rows = [
            "1.000 0.000000000000 1 1.00", "1.000 0.100000000000 1 1.11", "2.000 0.200000000000 2 1.25",
            "3.000 0.300000000000 3 1.43", "4.000 0.400000000000 4 1.67", "5.000 0.500000000000 5 2.00",
            "6.000 0.550000000000 6 2.22", "6.000 0.600000000000 6 2.50", "7.000 0.650000000000 7 2.86",
            "7.000 0.700000000000 7 3.33", "8.000 0.750000000000 8 4.00", "8.000 0.775000000000 8 4.44",
            "8.000 0.800000000000 8 5.00", "9.000 0.825000000000 9 5.71", "9.000 0.850000000000 9 6.67",
            "9.000 0.875000000000 9 8.00", "9.000 0.887500000000 9 8.89", "9.000 0.900000000000 9 10.00",
            "10.000 0.912500000000 10 11.43", "10.000 1.000000000000 10 inf",
        ]
        var expected = "       Value     Percentile TotalCount 1/(1-Percentile)\n\n"
        for row in rows {
            let f = row.split(separator: " ").map(String.init)
            expected += pad(f[0], 12) + " " + f[1] + " " + pad(f[2], 10) + " " + pad(f[3], 14) + "\n"
        }
        expected += "#[Mean    =        5.500, StdDeviation   =        2.872]\n"
            + "#[Max     =       10.000, Total count    =           10]\n"
            + "#[Buckets =            4, SubBuckets     =         2048]\n"
        XCTAssertEqual(h.percentileDistribution(unitScale: 1), expected)
    }

    func testPercentileDistributionStructure() {
        let h = Histogram()
        for value in Self.sample.values.prefix(100_000) { h.record(value) }
        let text = h.percentileDistribution(unitScale: 1e6, ticksPerHalfDistance: 5)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        XCTAssertEqual(lines[0], "       Value     Percentile TotalCount 1/(1-Percentile)")
        XCTAssertEqual(lines[1], "")
        XCTAssertEqual(lines.last, "")
        let footer = lines[(lines.count - 4)...]
        XCTAssertTrue(footer[footer.startIndex].hasPrefix("#[Mean    = "))
        let maxText = cFormat("%12.3f", Double(h.maxValue) / 1e6)
        XCTAssertEqual(footer[footer.startIndex + 1], "#[Max     = " + maxText + ", Total count    =       100000]")
        XCTAssertEqual(footer[footer.startIndex + 2], "#[Buckets =           23, SubBuckets     =         2048]")
        let rows = lines[2..<(lines.count - 4)]
        XCTAssertGreaterThan(rows.count, 50)
        var last: (value: Double, percentile: Double, count: UInt64) = (0, -1, 0)
        for row in rows {
            XCTAssertEqual(row.count, 12 + 1 + 14 + 1 + 10 + 1 + 14, row)
            let f = row.split(separator: " ")
            let value = Double(f[0])!, percentile = Double(f[1])!, count = UInt64(f[2])!
            XCTAssertGreaterThanOrEqual(value, last.value)
            XCTAssertGreaterThan(percentile, last.percentile)
            XCTAssertGreaterThanOrEqual(count, last.count)
            if percentile < 1 { XCTAssertEqual(Double(f[3])!, 1 / (1 - percentile), accuracy: 0.006) }
            last = (value, percentile, count)
        }
        XCTAssertTrue(rows.last!.hasSuffix(" 1.000000000000 " + pad("100000", 10) + " " + pad("inf", 14)), rows.last!)
    }

    private func pad(_ s: String, _ width: Int) -> String {
        String(repeating: " ", count: max(0, width - s.count)) + s
    }

    // MARK: Number formatting against glibc printf

    func testFixedFormattingMatchesPrintf() {
        var random = TestRandom(seed: 42)
        var cases: [Double] = [
            0, -0.0, .infinity, -.infinity, .nan, 0.125, 0.375, 2.5, 3.5, 0.5, 1.5, 1e300, .leastNonzeroMagnitude,
            .greatestFiniteMagnitude, 9.9995, 0.0005, 999.9995, 1e22, 1e23, 2e-9, 1_000.341503,
            1.8446744073709552e19, 0.990625, 106.66666666666667, -1e-9, -2.5,
        ]
        for _ in 0..<4_000 {
            cases.append(Double(bitPattern: random.next()))                                   // any magnitude
            cases.append(Double(random.next() >> UInt64(random.next() % 64)) / pow(10, Double(random.next() % 13)))
            cases.append(Double(random.next() % 100_000) / 8)                                  // exact ties
            cases.append(1 / (1 - random.nextUnit()))
        }
        var mismatches: [String] = []
        for (i, value) in cases.enumerated() {
            let decimals = i < 40 ? [0, 2, 3, 12][i % 4] : Int(random.next() % 23)
            let width = Int(random.next() % 24)
            var out: [UInt8] = []
            NumberText.appendFixed(value, decimals: decimals, width: width, to: &out)
            let expected = cFormat("%*.*f", Int32(width), Int32(decimals), value)
            if String(decoding: out, as: UTF8.self) != expected {
                mismatches.append("\(value) .\(decimals) w\(width): \(expected)")
            }
        }
        XCTAssertEqual(mismatches.prefix(5), [], "\(mismatches.count) mismatches")
    }

    func testUnsignedFormattingMatchesPrintf() {
        var random = TestRandom(seed: 7)
        for value in [0, 1, 9, 10, 99_999, .max] + (0..<1_000).map({ _ in random.next() >> (random.next() % 64) }) {
            let width = Int(random.next() % 24)
            var out: [UInt8] = []
            NumberText.appendUnsigned(value, width: width, to: &out)
            XCTAssertEqual(String(decoding: out, as: UTF8.self), cFormat("%*llu", Int32(width), value))
        }
    }

    private func cFormat(_ format: String, _ arguments: CVarArg...) -> String {
        var buffer = [CChar](repeating: 0, count: 1_024)
        let length = withVaList(arguments) { vsnprintf(&buffer, buffer.count, format, $0) }
        precondition(length >= 0 && Int(length) < buffer.count)
        return String(decoding: buffer.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static let goldenText = """
               Value     Percentile TotalCount 1/(1-Percentile)

               0.850 0.000000000000          5           1.00
               1.000 0.100000000000         15           1.11
               1.200 0.200000000000         30           1.25
               1.200 0.300000000000         30           1.43
               1.500 0.400000000000         50           1.67
               1.500 0.500000000000         50           2.00
               2.001 0.550000000000         65           2.22
               2.001 0.600000000000         65           2.50
               2.001 0.650000000000         65           2.86
               2.501 0.700000000000         75           3.33
               2.501 0.750000000000         75           4.00
               3.000 0.775000000000         83           4.44
               3.000 0.800000000000         83           5.00
               3.000 0.825000000000         83           5.71
               4.002 0.850000000000         89           6.67
               4.002 0.875000000000         89           8.00
               4.002 0.887500000000         89           8.89
               5.001 0.900000000000         93          10.00
               5.001 0.912500000000         93          11.43
               5.001 0.925000000000         93          13.33
               8.004 0.937500000000         96          16.00
               8.004 0.943750000000         96          17.78
               8.004 0.950000000000         96          20.00
               8.004 0.956250000000         96          22.86
              12.001 0.962500000000         98          26.67
              12.001 0.968750000000         98          32.00
              12.001 0.971875000000         98          35.56
              12.001 0.975000000000         98          40.00
              12.001 0.978125000000         98          45.71
              50.004 0.981250000000         99          53.33
              50.004 0.984375000000         99          64.00
              50.004 0.985937500000         99          71.11
              50.004 0.987500000000         99          80.00
              50.004 0.989062500000         99          91.43
            1000.342 0.990625000000        100         106.67
            1000.342 1.000000000000        100            inf
        #[Mean    =       12.833, StdDeviation   =       99.355]
        #[Max     =     1000.342, Total count    =          100]
        #[Buckets =           23, SubBuckets     =         2048]

        """
}

/// Flags shared between the test's writer and reader threads.
private final class ReaderState: Sendable {
    let writerDone = Atomic<Bool>(false)
    let failures = Atomic<Int>(0)
    let reads = Atomic<Int>(0)
}

