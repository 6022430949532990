// HdrHistogram's V2 encoding, plain and compressed: histograms that HdrHistogram's own tools read.

/// Why bytes could not be read as an HdrHistogram V2 encoding.
public enum HdrV2Error: Error, CustomStringConvertible, Sendable, Equatable {
    case badBase64
    case badCookie(found: UInt32, expected: UInt32)
    case truncated(what: String, needed: Int, available: Int)
    case lengthMismatch(what: String, stated: Int, actual: Int)
    case badParameters(String)
    case unsupported(String)
    case badVarint(offset: Int)
    case countsBeyondRange(index: Int, slots: Int)
    case valueBeyondRange(microseconds: UInt64, highest: UInt64)
    case zlib(String)

    public var description: String {
        switch self {
        case .badBase64: "HdrHistogram encoding: not base64"
        case let .badCookie(found, expected):
            "HdrHistogram encoding: cookie 0x\(String(found, radix: 16)), expected 0x\(String(expected, radix: 16)) "
                + "(V2\(expected == HdrV2.compressedCookie ? " compressed" : ""))"
        case let .truncated(what, needed, available):
            "HdrHistogram encoding truncated: \(what) needs \(needed) bytes, \(available) left"
        case let .lengthMismatch(what, stated, actual):
            "HdrHistogram encoding: \(what) says \(stated) bytes, \(actual) follow"
        case let .badParameters(text): "HdrHistogram encoding: bad parameters: \(text)"
        case let .unsupported(text): "HdrHistogram encoding: unsupported: \(text)"
        case let .badVarint(offset): "HdrHistogram encoding: bad ZigZag LEB128 count at byte \(offset)"
        case let .countsBeyondRange(index, slots):
            "HdrHistogram encoding: a count at slot \(index), beyond the \(slots) slots its parameters give"
        case let .valueBeyondRange(microseconds, highest):
            "HdrHistogram encoding: values of \(microseconds) µs, beyond the \(highest) µs a histogram here tracks"
        case let .zlib(text): "HdrHistogram compressed encoding: \(text)"
        }
    }
}

/// HdrHistogram's V2 encoding (what Java's `encodeIntoByteBuffer`, C's `hdr_encode_compressed` and
/// Python's `hdrh` write and read) of our histograms, in MICROSECONDS as wrk2 records them: lowest
/// discernible value 1 µs, highest trackable 3,600,000,000 µs (1 h), 3 significant figures.
///
/// Encoding, all big-endian: cookie 0x1c849313 | payload length (Int32) | normalizingIndexOffset (0) |
/// significant figures (Int32) | lowest discernible value (Int64) | highest trackable value (Int64) |
/// integer-to-double conversion ratio (Double, 1.0) | the counts from slot 0 to the last occupied one as
/// ZigZag LEB128 (at most 9 bytes, the ninth taking 8 bits), a run of k > 1 empty slots as −k.
/// Compressed: cookie 0x1c849314 | length (Int32) | a zlib stream of the encoding. Base64 of that is what
/// HdrHistogram's `encode()` returns and what an interval log line carries. (The references write the
/// cookies with 0x10 in the word-size nibble, 0x1c849303 | 0x10; readers mask the nibble, so we do too.)
///
/// Units and precision. Our histograms count nanoseconds at 512 ns resolution below ~1 ms and 3 figures
/// above; the files count microseconds. Each occupied nanosecond slot goes to the microsecond value
/// nearest its MIDDLE (HdrHistogram's median equivalent value, rounded to the nearest µs), and back, each
/// occupied microsecond slot to the nanosecond value of its middle. Counts are never lost or moved
/// between seconds: totals are exact. A value moves by at most half a slot of each histogram each way,
/// so any percentile, the minimum and the maximum read after ns → µs → ns differ from the original by
/// at most one microsecond slot plus one nanosecond slot: at most 2 µs below 2 ms, ~0.2% of the value
/// above (the slots are 1/1024 to 1/2048 of their values wide).
public enum HdrV2 {
    /// wrk2's microsecond histogram, the one the files hold.
    public static let lowestMicroseconds: UInt64 = 1
    public static let highestMicroseconds: UInt64 = 3_600_000_000
    public static let significantFigures = 3

    static let encodingCookie: UInt32 = 0x1c84_9313
    static let compressedCookie: UInt32 = 0x1c84_9314
    /// The references' cookies without the word-size nibble (0xf0), which they ignore on reading.
    static let encodingCookieBase: UInt32 = 0x1c84_9303
    static let compressedCookieBase: UInt32 = 0x1c84_9304
    static let headerLength = 40
    /// Largest decompressed encoding accepted: 9 bytes for each of 7 million slots, past any layout
    /// of up to 5 significant figures from 1 to Int64.max.
    static let decompressedLimit = 64 << 20

    /// An empty histogram of the files' microsecond parameters.
    public static func microsecondHistogram() -> Histogram {
        Histogram(lowestDiscernibleValue: lowestMicroseconds, highestTrackableValue: highestMicroseconds,
                  significantFigures: significantFigures)
    }

    // MARK: Public API: nanosecond histograms in and out, microseconds in the bytes

    /// The V2 encoding (uncompressed) of `histogram` (nanoseconds), in microseconds.
    public static func encode(_ histogram: Histogram) -> [UInt8] {
        encodeAsRecorded(microseconds(histogram))
    }

    /// A nanosecond histogram (the standard parameters) from a V2 encoding in microseconds, plain or
    /// compressed (the cookie tells).
    public static func decode(_ bytes: [UInt8]) throws -> Histogram {
        try nanoseconds(decodeAsRecorded(bytes))
    }

    /// The V2 compressed encoding of `histogram` (nanoseconds), in microseconds.
    public static func encodeCompressed(_ histogram: Histogram) -> [UInt8] {
        encodeCompressed(histogram, zlib: .shared)
    }

    /// Base64 of the V2 compressed encoding of `histogram` (nanoseconds), in microseconds: what
    /// HdrHistogram's `encode()` gives and `HdrHistogram.decode(...)` reads.
    public static func encodeCompressedBase64(_ histogram: Histogram) -> String {
        Base64.encode(encodeCompressed(histogram))
    }

    /// A nanosecond histogram (the standard parameters) from base64 of a V2 (compressed) encoding in
    /// microseconds.
    public static func decodeCompressedBase64(_ text: String) throws -> Histogram {
        try nanoseconds(decodeAsRecorded(base64: text))
    }

    // MARK: Microsecond histograms as they are (exact merges)

    /// Base64 of the V2 compressed encoding of `microseconds`, a histogram already in the files' units
    /// (`microsecondHistogram()`, `microseconds(_:)`, `microsecondHistogram(decoded:)`), as it is.
    /// Merging files EXACTLY means adding their microsecond histograms and encoding the sum with
    /// this: a trip through nanoseconds (`decode…`, then `encodeCompressedBase64(_:)`) moves about
    /// 4% of the microsecond slots to a neighbour, the two layouts' slot edges not lining up.
    public static func encodeCompressedBase64(microseconds: Histogram) -> String {
        Base64.encode(compress(encodeAsRecorded(microseconds), zlib: .shared))
    }

    /// The decoded counts in a histogram of the encoding's own parameters and units, slot for slot.
    /// A count in a slot above the parameters' highest trackable value (HdrHistogram's layout runs to
    /// the end of its last bucket, Java can fill those slots, `Histogram` clamps there) is an error.
    public static func histogramAsRecorded(_ decoded: Decoded) throws -> Histogram {
        let result = decoded.layout()
        for slot in decoded.slots {
            let value = result.valueFromIndex(slot.index)
            guard value <= result.highestTrackableValue else {
                throw HdrV2Error.valueBeyondRange(microseconds: value, highest: result.highestTrackableValue)
            }
            result.record(value, count: slot.count)
        }
        return result
    }

    /// Base64 of a V2 (compressed) encoding as a histogram of its own parameters and units: for
    /// our files, a microsecond histogram whose `merge` with another one is exact.
    public static func decodeMicrosecondsBase64(_ text: String) throws -> Histogram {
        try histogramAsRecorded(decodeAsRecorded(base64: text))
    }

    // MARK: Units

    /// `nanoseconds` as a microsecond histogram of the files' parameters (see the type's comment).
    public static func microseconds(_ nanoseconds: Histogram) -> Histogram {
        let result = microsecondHistogram()
        nanoseconds.forEachOccupiedSlot { index, count in
            result.record(microsecondValue(ofSlot: index, in: nanoseconds), count: count)
        }
        return result
    }

    /// The microsecond value a nanosecond slot's counts go to: its middle, rounded to the nearest µs.
    @inline(__always)
    static func microsecondValue(ofSlot index: Int, in layout: Histogram) -> UInt64 {
        (layout.medianEquivalentValue(layout.valueFromIndex(index)) + 500) / 1_000
    }

    /// The decoded counts as a nanosecond histogram of the standard parameters, each slot's counts at
    /// the nanosecond value of the slot's middle. Slots wholly above the nanosecond histogram's 1 h
    /// are an error, not clamped: that is data the file has and we could not show.
    public static func nanoseconds(_ decoded: Decoded) throws -> Histogram {
        let result = Histogram()
        let layout = decoded.layout()
        let highest = result.highestTrackableValue / 1_000
        for slot in decoded.slots {
            let low = layout.valueFromIndex(slot.index)
            guard low <= highest else { throw HdrV2Error.valueBeyondRange(microseconds: low, highest: highest) }
            result.record(min(layout.medianEquivalentValue(low), highest) * 1_000, count: slot.count)
        }
        return result
    }

    // MARK: Encoding as recorded (no unit change)

    /// The V2 encoding of `histogram` in its own units and parameters.
    public static func encodeAsRecorded(_ histogram: Histogram) -> [UInt8] {
        var writer = Writer(histogram)
        histogram.forEachOccupiedSlot { index, count in writer.append(index: index, count: count) }
        return writer.finish()
    }

    /// The compressed form of a V2 encoding: cookie, length, zlib stream. Without libz the stream is
    /// made of stored blocks, which every zlib reads.
    static func compress(_ encoding: [UInt8], zlib: Zlib) -> [UInt8] {
        let stream = (try? zlib.compress(encoding)) ?? Zlib.stored(encoding)
        var output: [UInt8] = []
        output.reserveCapacity(8 + stream.count)
        appendBigEndian(compressedCookie, to: &output)
        appendBigEndian(UInt32(stream.count), to: &output)
        output.append(contentsOf: stream)
        return output
    }

    static func encodeCompressed(_ histogram: Histogram, zlib: Zlib) -> [UInt8] {
        compress(encode(histogram), zlib: zlib)
    }

    /// Appends counts slot by slot, ascending, and frames them: the encoder of one histogram.
    struct Writer {
        private var bytes: [UInt8] = []
        private var nextIndex = 0

        init(_ layout: Histogram) {
            self.init(significantFigures: layout.significantFigures, lowest: layout.lowestDiscernibleValue,
                      highest: layout.highestTrackableValue)
        }

        init(significantFigures: Int, lowest: UInt64, highest: UInt64) {
            bytes.reserveCapacity(Self.headerLength + 256)
            HdrV2.appendBigEndian(HdrV2.encodingCookie, to: &bytes)
            HdrV2.appendBigEndian(UInt32(0), to: &bytes)  // payload length, set by finish()
            HdrV2.appendBigEndian(UInt32(0), to: &bytes)  // normalizingIndexOffset
            HdrV2.appendBigEndian(UInt32(significantFigures), to: &bytes)
            HdrV2.appendBigEndian(lowest, to: &bytes)
            HdrV2.appendBigEndian(highest, to: &bytes)
            HdrV2.appendBigEndian((1.0 as Double).bitPattern, to: &bytes)
        }

        private static var headerLength: Int { HdrV2.headerLength }

        /// `count` more in slot `index`; indices ascend (a repeated index continues the same slot only
        /// if nothing came between, so pass each slot once).
        mutating func append(index: Int, count: UInt64) {
            precondition(index >= nextIndex, "slots must ascend")
            precondition(count <= UInt64(Int64.max), "a count must fit in 63 bits (ZigZag)")
            guard count > 0 else { return }
            let gap = index - nextIndex
            // Java's writer: one empty slot as a 0 count, longer runs as their negated length.
            if gap == 1 { appendZigZag(0) } else if gap > 1 { appendZigZag(-Int64(gap)) }
            appendZigZag(Int64(count))
            nextIndex = index + 1
        }

        mutating func finish() -> [UInt8] {
            let payload = UInt32(bytes.count - Self.headerLength)
            for shift in 0..<4 { bytes[4 + shift] = UInt8(truncatingIfNeeded: payload >> (24 - 8 * UInt32(shift))) }
            return bytes
        }

        /// ZigZag, then LEB128 in at most 9 bytes: 7 bits in each of the first 8, all 8 in the ninth.
        private mutating func appendZigZag(_ signed: Int64) {
            var value = UInt64(bitPattern: (signed << 1) ^ (signed >> 63))
            for _ in 0..<8 {
                if value < 0x80 {
                    bytes.append(UInt8(value))
                    return
                }
                bytes.append(UInt8(value & 0x7F) | 0x80)
                value >>= 7
            }
            bytes.append(UInt8(truncatingIfNeeded: value))
        }
    }

    // MARK: Decoding as recorded

    /// A decoded V2 encoding: its parameters and its occupied slots, in the file's own units.
    public struct Decoded: Sendable {
        public var significantFigures: Int
        public var lowestDiscernibleValue: UInt64
        public var highestTrackableValue: UInt64
        public var integerToDoubleValueConversionRatio: Double
        /// Occupied slots (HdrHistogram's counts-array indices), ascending, each once.
        public var slots: [Slot]
        public var totalCount: UInt64 { slots.reduce(0) { $0 &+ $1.count } }

        public struct Slot: Sendable, Equatable {
            public var index: Int
            public var count: UInt64
        }

        /// An empty histogram of these parameters: its index maths tell each slot's values.
        public func layout() -> Histogram {
            Histogram(lowestDiscernibleValue: lowestDiscernibleValue, highestTrackableValue: highestTrackableValue,
                      significantFigures: significantFigures)
        }
    }

    /// Base64 of a V2 encoding (compressed or not), decoded in the file's own units.
    public static func decodeAsRecorded(base64 text: String) throws -> Decoded {
        try decodeAsRecorded(base64Bytes(text))
    }

    static func base64Bytes(_ text: String) throws -> [UInt8] {
        guard let bytes = Base64.decode(text) else { throw HdrV2Error.badBase64 }
        return bytes
    }

    /// A V2 encoding, compressed or not (the cookie tells), in the file's own units.
    public static func decodeAsRecorded(_ bytes: [UInt8]) throws -> Decoded {
        try decodeAsRecorded(bytes, zlib: .shared)
    }

    static func decodeAsRecorded(_ bytes: [UInt8], zlib: Zlib) throws -> Decoded {
        guard bytes.count >= 4 else { throw HdrV2Error.truncated(what: "cookie", needed: 4, available: bytes.count) }
        let cookie = readUInt32(bytes, at: 0)
        if cookie & ~0xF0 == compressedCookieBase {
            return try decodeEncoding(decompress(bytes, zlib: zlib))
        }
        return try decodeEncoding(bytes)
    }

    /// The V2 encoding inside a compressed one.
    static func decompress(_ bytes: [UInt8], zlib: Zlib) throws -> [UInt8] {
        guard bytes.count >= 8 else { throw HdrV2Error.truncated(what: "compressed header", needed: 8, available: bytes.count) }
        let cookie = readUInt32(bytes, at: 0)
        guard cookie & ~0xF0 == compressedCookieBase else {
            throw HdrV2Error.badCookie(found: cookie, expected: compressedCookie)
        }
        let length = Int(readUInt32(bytes, at: 4))
        guard length == bytes.count - 8 else {
            throw HdrV2Error.lengthMismatch(what: "compressed length", stated: length, actual: bytes.count - 8)
        }
        do {
            return try zlib.decompress(Array(bytes[8...]), limit: decompressedLimit)
        } catch let error as ZlibError {
            throw HdrV2Error.zlib(error.description)
        }
    }

    /// An uncompressed V2 encoding.
    static func decodeEncoding(_ bytes: [UInt8]) throws -> Decoded {
        guard bytes.count >= headerLength else {
            throw HdrV2Error.truncated(what: "header", needed: headerLength, available: bytes.count)
        }
        let cookie = readUInt32(bytes, at: 0)
        guard cookie & ~0xF0 == encodingCookieBase else { throw HdrV2Error.badCookie(found: cookie, expected: encodingCookie) }
        let payloadLength = Int(readUInt32(bytes, at: 4))
        let normalizingIndexOffset = Int32(bitPattern: readUInt32(bytes, at: 8))
        let figures = Int32(bitPattern: readUInt32(bytes, at: 12))
        let lowest = Int64(bitPattern: readUInt64(bytes, at: 16))
        let highest = Int64(bitPattern: readUInt64(bytes, at: 24))
        let ratio = Double(bitPattern: readUInt64(bytes, at: 32))
        guard normalizingIndexOffset == 0 else {
            throw HdrV2Error.unsupported("normalizingIndexOffset \(normalizingIndexOffset) (a shifted histogram)")
        }
        try checkParameters(figures: figures, lowest: lowest, highest: highest)
        guard payloadLength <= bytes.count - headerLength else {
            throw HdrV2Error.truncated(what: "counts", needed: payloadLength, available: bytes.count - headerLength)
        }
        var decoded = Decoded(significantFigures: Int(figures), lowestDiscernibleValue: UInt64(lowest),
                              highestTrackableValue: UInt64(highest), integerToDoubleValueConversionRatio: ratio,
                              slots: [])
        let slotLimit = decoded.layout().countsLength
        var position = headerLength
        let end = headerLength + payloadLength
        var index = 0
        while position < end {
            let start = position
            var value: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                guard position < end else { throw HdrV2Error.badVarint(offset: start) }
                let byte = UInt64(bytes[position])
                position += 1
                if shift == 56 {
                    value |= byte << 56
                    break
                }
                value |= (byte & 0x7F) << shift
                if byte & 0x80 == 0 { break }
                shift += 7
            }
            let signed = Int64(bitPattern: (value >> 1) ^ (0 &- (value & 1)))
            if signed < 0 {
                // A run of empty slots; one that runs past the end is harmless until a count follows it.
                let (next, overflow) = index.addingReportingOverflow(Int(truncatingIfNeeded: signed.magnitude))
                guard !overflow, signed.magnitude <= UInt64(Int.max) else { throw HdrV2Error.countsBeyondRange(index: Int.max, slots: slotLimit) }
                index = next
                continue
            }
            if signed > 0 {
                guard index < slotLimit else { throw HdrV2Error.countsBeyondRange(index: index, slots: slotLimit) }
                decoded.slots.append(Decoded.Slot(index: index, count: UInt64(signed)))
            }
            index += 1
        }
        return decoded
    }

    /// What HdrHistogram itself accepts (and what `Histogram` can lay out), as errors instead of traps.
    static func checkParameters(figures: Int32, lowest: Int64, highest: Int64) throws {
        guard (0...5).contains(figures) else { throw HdrV2Error.badParameters("significant figures \(figures), not 0...5") }
        guard lowest >= 1 else { throw HdrV2Error.badParameters("lowest discernible value \(lowest), not >= 1") }
        guard highest >= 2 && lowest <= highest / 2 else {
            throw HdrV2Error.badParameters("highest trackable value \(highest), not >= 2 x lowest (\(lowest))")
        }
        var singleUnit: Int64 = 2
        for _ in 0..<figures { singleUnit *= 10 }
        let subBucketCountMagnitude = 64 - (singleUnit - 1).leadingZeroBitCount
        let unitMagnitude = 63 - lowest.leadingZeroBitCount
        guard unitMagnitude + max(subBucketCountMagnitude, 1) - 1 <= 61 else {
            throw HdrV2Error.badParameters("\(figures) significant figures above \(lowest) do not fit in 64 bits")
        }
    }

    // MARK: Bytes

    static func appendBigEndian(_ value: UInt32, to bytes: inout [UInt8]) {
        for shift in stride(from: 24, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt32(shift))) }
    }

    static func appendBigEndian(_ value: UInt64, to bytes: inout [UInt8]) {
        for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }

    static func readUInt32(_ bytes: [UInt8], at offset: Int) -> UInt32 {
        (0..<4).reduce(0) { $0 << 8 | UInt32(bytes[offset + $1]) }
    }

    static func readUInt64(_ bytes: [UInt8], at offset: Int) -> UInt64 {
        (0..<8).reduce(0) { $0 << 8 | UInt64(bytes[offset + $1]) }
    }
}
