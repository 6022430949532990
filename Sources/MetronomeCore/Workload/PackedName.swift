// The names CompletionJSONScanner matches, packed into words so a key is compared in a few instructions.

/// The keys the scanner acts on.
enum CompletionKey: UInt8 {
    case none   // no key read: the next string may itself be a key
    case other  // a key nobody acts on
    case content, error, object, message, detail, usage, promptTokens, completionTokens, finishReason

    /// What a key named `name` at `depth` means to the scanner. "error", "object", "message" and
    /// "detail" count only at the top level ("message" also in the top-level error object, whose
    /// members are at `errorDepth`); token counts only as members of "usage" (at `usageDepth`).
    static func named(_ name: PackedName, depth: Int, usageDepth: Int, errorDepth: Int) -> CompletionKey {
        let topLevel = depth == 1
        switch name.count {
        case 4: return name == .text ? .content : .other
        case 5:
            if name == .usage { return .usage }
            return topLevel && name == .error ? .error : .other
        case 6:
            guard topLevel else { return .other }
            return name == .object ? .object : name == .detail ? .detail : .other
        case 7:
            if name == .content { return .content }
            return name == .message && (topLevel || depth == errorDepth) ? .message : .other
        case 9: return name == .reasoning ? .content : .other
        case 13:
            if name == .finishReason { return .finishReason }
            return name == .promptTokens && depth == usageDepth ? .promptTokens : .other
        case 17:
            if name == .reasoningContent { return .content }
            return name == .completionTokens && depth == usageDepth ? .completionTokens : .other
        default: return .other
        }
    }
}

/// The first bytes of a string, little-endian in three words, compared in one go against names.
struct PackedName: Equatable {
    /// The longest name or value compared ("completion_tokens", "reasoning_content").
    static let longest = 17

    private var w0: UInt64 = 0
    private var w1: UInt64 = 0
    private var w2: UInt64 = 0
    private(set) var count = 0

    init() {}

    @inline(__always)
    init(_ literal: StaticString) {
        let bytes = UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount)
        for b in bytes { append(b) }
    }

    /// The `count` (≤ `longest`) bytes at `p`, in one go: the words `append` would build a byte at a
    /// time. `readable` bytes may be read from `p` (≥ `count`); with 24 of them the words are three
    /// unaligned loads, masked, instead of a shift and a branch per byte.
    @inline(__always)
    init(_ p: UnsafePointer<UInt8>, count: Int, readable: Int) {
        self.count = count
        guard count > 0 else { return }
        if readable >= 24 {
            let raw = UnsafeRawPointer(p)
            w0 = Self.low(UInt64(littleEndian: raw.loadUnaligned(as: UInt64.self)), bytes: count)
            if count > 8 { w1 = Self.low(UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self)), bytes: count - 8) }
            if count > 16 { w2 = Self.low(UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 16, as: UInt64.self)), bytes: count - 16) }
        } else {
            for k in 0..<count {
                let shifted = UInt64(p[k]) &<< (UInt64(k & 7) &* 8)
                if k < 8 { w0 |= shifted } else if k < 16 { w1 |= shifted } else { w2 |= shifted }
            }
        }
    }

    /// The low `bytes` bytes of `word` (all of it from 8 on).
    @inline(__always)
    private static func low(_ word: UInt64, bytes: Int) -> UInt64 {
        bytes >= 8 ? word : word & ((1 &<< (UInt64(bytes) &* 8)) &- 1)
    }

    /// Only called while `count <= longest`. Shifts into words rather than storing bytes, so the
    /// comparison that follows does not stall on store forwarding.
    @inline(__always)
    mutating func append(_ b: UInt8) {
        let shifted = UInt64(b) &<< (UInt64(count & 7) &* 8)
        if count < 8 {
            w0 |= shifted
        } else if count < 16 {
            w1 |= shifted
        } else {
            w2 |= shifted
        }
        count += 1
    }

    /// Makes this equal to no name.
    mutating func spoil() {
        count = Self.longest + 1
    }

    // Computed, not stored: the optimiser folds these into constants, where a `static let` would
    // cost a `swift_once` check on every comparison.
    static var text: PackedName { PackedName("text") }
    static var usage: PackedName { PackedName("usage") }
    static var error: PackedName { PackedName("error") }
    static var object: PackedName { PackedName("object") }
    static var detail: PackedName { PackedName("detail") }
    static var content: PackedName { PackedName("content") }
    static var message: PackedName { PackedName("message") }
    static var reasoning: PackedName { PackedName("reasoning") }
    static var finishReason: PackedName { PackedName("finish_reason") }
    static var promptTokens: PackedName { PackedName("prompt_tokens") }
    static var reasoningContent: PackedName { PackedName("reasoning_content") }
    static var completionTokens: PackedName { PackedName("completion_tokens") }
    static var stop: PackedName { PackedName("stop") }
    static var length: PackedName { PackedName("length") }
}

/// Byte values the scanners compare against.
enum ASCII {
    static let tab: UInt8 = 0x09
    static let lf: UInt8 = 0x0A
    static let cr: UInt8 = 0x0D
    static let space: UInt8 = 0x20
    static let quote: UInt8 = 0x22
    static let plus: UInt8 = 0x2B
    static let comma: UInt8 = 0x2C
    static let minus: UInt8 = 0x2D
    static let dot: UInt8 = 0x2E
    static let zero: UInt8 = 0x30
    static let colon: UInt8 = 0x3A
    static let openBracket: UInt8 = 0x5B
    static let backslash: UInt8 = 0x5C
    static let closeBracket: UInt8 = 0x5D
    static let a: UInt8 = 0x61
    static let b: UInt8 = 0x62
    static let f: UInt8 = 0x66
    static let n: UInt8 = 0x6E
    static let r: UInt8 = 0x72
    static let t: UInt8 = 0x74
    static let u: UInt8 = 0x75
    static let openBrace: UInt8 = 0x7B
    static let closeBrace: UInt8 = 0x7D
}
