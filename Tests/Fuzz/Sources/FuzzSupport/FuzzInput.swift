// One libFuzzer input read as options, cut points and a payload, so every target checks "whole = split".

/// The input's first byte holds options: bits 0-2 the number of cuts, bit 3 "one byte per read",
/// bits 4-7 left to each target. Then two bytes (little-endian) per cut, taken modulo the
/// payload's length + 1; the rest is the payload. Keeping the cuts in front lets libFuzzer mutate
/// the split points and the bytes independently. Seeds are fixtures behind an options byte
/// (Tests/Fuzz/seed.py).
public struct FuzzInput {
    public let options: UInt8
    public let payload: [UInt8]
    /// The payload's reads, in order, covering it exactly; empty reads are kept (a parser must take them).
    public let pieces: [Range<Int>]

    public init(_ data: UnsafePointer<UInt8>?, _ size: Int) {
        let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
        options = bytes.first ?? 0
        let cutCount = Int(options & 7)
        let header = 1 + 2 * cutCount
        guard bytes.count >= header else {
            payload = Array(bytes.dropFirst())
            pieces = [0 ..< payload.count]
            return
        }
        payload = Array(bytes[header...])
        if options & 8 != 0 {
            pieces = (0 ..< payload.count).map { $0 ..< $0 + 1 }
            return
        }
        var cuts: [Int] = []
        for k in 0 ..< cutCount {
            let raw = Int(bytes[1 + 2 * k]) | Int(bytes[2 + 2 * k]) << 8
            cuts.append(raw % (payload.count + 1))
        }
        cuts.sort()
        var result: [Range<Int>] = []
        var start = 0
        for cut in cuts {
            result.append(start ..< cut)
            start = cut
        }
        result.append(start ..< payload.count)
        pieces = result
    }

    /// The whole payload as one read.
    public var whole: [Range<Int>] { [0 ..< payload.count] }

    /// Bits 4-7 of the options byte.
    public func flag(_ bit: Int) -> Bool { options & (16 << bit) != 0 }
}

/// Stops the fuzzer with a message: libFuzzer saves the input as a crash file.
public func violated(_ what: String, _ whole: Any, _ split: Any, _ input: FuzzInput) -> Never {
    fatalError("invariant broken: \(what)\n whole: \(whole)\n split: \(split)\n pieces: \(input.pieces)")
}
