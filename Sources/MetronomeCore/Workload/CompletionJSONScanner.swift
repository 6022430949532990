// Finds the few keys load testing needs in OpenAI-style JSON, a byte at a time, without parsing the value.

import Glibc

/// A JSON tokenizer that keeps no stack and no text: only the nesting depth, the first bytes of the
/// latest string (packed into three words) and a few flags. A string is a key only when the next
/// token is `:`, so generated text that reads `"content":"x"` (escaped inside a value) never
/// matches. Keys match at any depth, except that "error", "object", "message" and "detail" count
/// only at the top level (and "message" inside a top-level "error" object), and the token counts
/// only as direct members of a "usage" object (`CompletionKey.named`).
///
/// Input is not validated: malformed JSON gives some answer, never a crash or a loop. A body whose
/// first non-blank byte is not `{` or `[` is plain text, kept as the error message.
public struct CompletionJSONScanner {
    private enum State: UInt8 {
        case start    // before the first non-blank byte: JSON or plain text?
        case between  // between tokens
        case string   // inside a string
        case escape   // after a backslash in a string
        case unicode  // in the four hex digits of `\uXXXX`
        case bare     // in a number or literal
        case text     // the body is not JSON
    }

    /// What the current string is read for.
    private enum StringUse: UInt8 {
        case skip          // nobody needs it: jump to the closing quote
        case pack          // maybe a key, or a short value to compare ("stop", "error")
        case contentFirst  // a content value: only whether it is empty matters
        case message       // kept, unescaped, as the error message
    }

    private var state = State.start
    private var use = StringUse.skip
    /// The key whose value the current string is; `.none` while the string may itself be a key.
    private var stringKey = CompletionKey.none
    /// The key just read, until the `:` that confirms it (or any other token, which cancels it).
    private var pendingKey = CompletionKey.none
    /// The key whose value the next token is (set by `:`).
    private var valueKey = CompletionKey.none
    private var bareKey = CompletionKey.none
    /// Containers open at this point; the top-level object's members are at depth 1.
    private var depth = 0
    /// Depth of the members of the "usage" object being read, or 0.
    private var usageDepth = 0
    /// Depth of the members of the top-level "error" object being read, or 0.
    private var errorDepth = 0
    private var name = PackedName()
    /// The integer part of the number being read, or -1 when it is not a usable count.
    private var number = 0
    private var inFraction = false
    private var unicodeDigitsLeft = 0
    private var unicodeValue: UInt32 = 0
    /// A `\uD8xx` escape waiting for its low half.
    private var highSurrogate: UInt32 = 0
    private var current = CompletionEvent()
    private(set) var message = MessageBuffer()

    public init() {}

    public mutating func reset() {
        self = CompletionJSONScanner()
    }

    /// What the body said so far (a count whose last digit has arrived counts).
    public var event: CompletionEvent {
        var result = current
        if state == .bare { Self.applyNumber(number, for: bareKey, to: &result) }
        return result
    }

    /// The first ≤ 200 bytes of the body's error message: a top-level "message", "error" or
    /// "detail" string, or "message" inside a top-level "error" object, whichever comes first; for a
    /// body that is not JSON, its text. Allocates: for reports.
    public var errorMessage: String { message.string }

    public mutating func scan(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        scan(base.assumingMemoryBound(to: UInt8.self), count: bytes.count)
    }

    /// Starts a new SSE event without the cost of clearing the whole message buffer.
    mutating func beginEvent() {
        state = .start
        stringKey = .none
        pendingKey = .none
        valueKey = .none
        depth = 0
        usageDepth = 0
        errorDepth = 0
        highSurrogate = 0
        current = CompletionEvent()
        message.removeAll()
    }

    mutating func scan(_ p: UnsafePointer<UInt8>, count n: Int) {
        var i = 0
        while i < n {
            switch state {
            case .between:
                // Blanks and punctuation stay in this loop; only a string or a bare token leaves it.
                repeat {
                    let b = p[i]
                    i += 1
                    switch b {
                    case ASCII.space, ASCII.tab, ASCII.lf, ASCII.cr:
                        break
                    case ASCII.quote:
                        beginString()
                    case ASCII.colon:
                        valueKey = pendingKey == .none ? .other : pendingKey
                        pendingKey = .none
                    case ASCII.comma:
                        valueKey = .none
                        pendingKey = .none
                    case ASCII.openBrace, ASCII.openBracket:
                        open(isObject: b == ASCII.openBrace)
                    case ASCII.closeBrace, ASCII.closeBracket:
                        close()
                    default:
                        beginBare(b)
                    }
                } while i < n && state == .between
            case .string:
                switch use {
                case .skip:
                    skipString(p, &i, n)
                case .pack:
                    if name.count == 0, let length = Self.shortStringLength(p, from: i, to: n) {
                        // The whole string (a key, nearly always) is here: packed in one go.
                        name = PackedName(p + i, count: length, readable: n - i)
                        i += length + 1
                        endString()
                    } else if name.count > PackedName.longest {
                        skipString(p, &i, n)
                    } else {
                        packString(p, &i, n)
                    }
                case .contentFirst:
                    if p[i] != ASCII.quote { current.hasContent = true }
                    use = .skip  // the byte is read again as part of the string
                case .message:
                    captureString(p, &i, n)
                }
            case .escape:
                let b = p[i]
                i += 1
                if b == ASCII.u {
                    state = .unicode
                    unicodeDigitsLeft = 4
                    unicodeValue = 0
                } else {
                    if use == .message { appendMessageByte(Self.unescaped(b)) }
                    state = .string
                }
            case .unicode:
                let digit = Self.hexValue(p[i])
                guard digit >= 0 else {
                    state = .string  // not an escape after all: the byte is read again as text
                    continue
                }
                i += 1
                unicodeValue = unicodeValue << 4 | UInt32(digit)
                unicodeDigitsLeft -= 1
                if unicodeDigitsLeft == 0 {
                    if use == .message { appendMessageScalar(unicodeValue) }
                    state = .string
                }
            case .bare:
                // The whole token in this loop (a timestamp is ten digits), not a turn of the switch a byte.
                repeat {
                    let b = p[i]
                    if b &- ASCII.zero < 10 {
                        if number >= 0, !inFraction {
                            number = number &* 10 &+ Int(b &- ASCII.zero)
                            if number > 1 << 50 { number = -1 }
                        }
                    } else if b == ASCII.dot {
                        inFraction = true
                    } else if Self.isBareByte(b) {
                        number = -1  // a literal, a sign or an exponent: not a count
                    } else {
                        Self.applyNumber(number, for: bareKey, to: &current)
                        state = .between  // the delimiter is read again there
                        break
                    }
                    i += 1
                } while i < n
            case .start:
                let b = p[i]
                if b == ASCII.space || b == ASCII.tab || b == ASCII.lf || b == ASCII.cr {
                    i += 1
                } else {
                    state = b == ASCII.openBrace || b == ASCII.openBracket ? .between : .text
                }
            case .text:
                message.append(p + i, count: n - i)
                i = n
            }
        }
    }

    // MARK: Tokens

    private mutating func beginString() {
        state = .string
        stringKey = valueKey
        switch valueKey {
        case .none:
            use = .pack
            name = PackedName()
        case .content:
            use = .contentFirst
        case .object, .finishReason:
            use = .pack
            name = PackedName()
        case .error:
            current.isError = true
            use = message.count == 0 ? .message : .skip
        case .message, .detail:
            use = message.count == 0 ? .message : .skip
        default:
            use = .skip
        }
        valueKey = .none
        pendingKey = .none
    }

    private mutating func endString() {
        state = .between
        switch use {
        case .pack:
            switch stringKey {
            case .none: pendingKey = .named(name, depth: depth, usageDepth: usageDepth, errorDepth: errorDepth)
            case .object: if name == .error { current.isError = true }
            case .finishReason: current.finishReason = name == .stop ? .stop : name == .length ? .length : .other
            default: break
            }
        case .message:
            if highSurrogate != 0 { appendMessageScalar(0xFFFD) }
        default:
            break
        }
    }

    private mutating func open(isObject: Bool) {
        switch valueKey {
        case .error:
            current.isError = true
            if isObject { errorDepth = depth + 1 }
        case .usage:
            if isObject { usageDepth = depth + 1 }
        case .finishReason:
            current.finishReason = .other
        default:
            break
        }
        depth += 1
        valueKey = .none
        pendingKey = .none
    }

    private mutating func close() {
        if depth > 0 { depth -= 1 }
        if depth < usageDepth { usageDepth = 0 }
        if depth < errorDepth { errorDepth = 0 }
        valueKey = .none
        pendingKey = .none
    }

    /// A number or literal begins with `b` (consumed here, so any byte makes progress).
    private mutating func beginBare(_ b: UInt8) {
        switch valueKey {
        case .error:
            if b != ASCII.n, b != ASCII.f { current.isError = true }  // not null, not false
        case .finishReason:
            if b != ASCII.n { current.finishReason = .other }
        default:
            break
        }
        bareKey = valueKey
        number = b &- ASCII.zero < 10 ? Int(b &- ASCII.zero) : -1
        inFraction = false
        valueKey = .none
        pendingKey = .none
        state = .bare
    }

    private static func applyNumber(_ number: Int, for key: CompletionKey, to event: inout CompletionEvent) {
        guard number >= 0 else { return }
        if key == .promptTokens {
            event.promptTokens = number
        } else if key == .completionTokens {
            event.completionTokens = number
        }
    }

    // MARK: Strings

    /// Jumps to the next quote or backslash: eight bytes at a time over the first 64, then `memchr`
    /// for long values.
    private mutating func skipString(_ p: UnsafePointer<UInt8>, _ i: inout Int, _ n: Int) {
        let near = min(n, i + 64)
        var j = Self.quoteOrBackslash(p, from: i, to: near)
        if j == near, near < n {
            let quote = Self.find(ASCII.quote, p, from: j, to: n)
            j = Self.find(ASCII.backslash, p, from: j, to: quote)
        }
        guard j < n else { i = n; return }
        i = j + 1
        if p[j] == ASCII.quote { endString() } else { state = .escape }
    }

    private mutating func packString(_ p: UnsafePointer<UInt8>, _ i: inout Int, _ n: Int) {
        var packed = name  // in registers until the string or the input ends
        while i < n {
            let b = p[i]
            i += 1
            if b == ASCII.quote {
                name = packed
                endString()
                return
            }
            if b == ASCII.backslash {
                packed.spoil()  // escaped names are never ones we match
                state = .escape
                break
            }
            packed.append(b)
            if packed.count > PackedName.longest { break }
        }
        name = packed
    }

    private mutating func captureString(_ p: UnsafePointer<UInt8>, _ i: inout Int, _ n: Int) {
        while i < n {
            let b = p[i]
            i += 1
            if b == ASCII.quote { endString(); return }
            if b == ASCII.backslash { state = .escape; return }
            appendMessageByte(b)
        }
    }

    private mutating func appendMessageByte(_ b: UInt8) {
        if highSurrogate != 0 {
            highSurrogate = 0
            message.append(scalar: 0xFFFD)
        }
        message.append(b)
    }

    private mutating func appendMessageScalar(_ value: UInt32) {
        let high = highSurrogate
        highSurrogate = 0
        if (0xDC00...0xDFFF).contains(value), high != 0 {
            message.append(scalar: 0x10000 + (high - 0xD800) << 10 + (value - 0xDC00))
            return
        }
        if high != 0 { message.append(scalar: 0xFFFD) }
        if (0xD800...0xDBFF).contains(value) {
            highSurrogate = value
        } else {
            message.append(scalar: value)  // a lone low half becomes U+FFFD there
        }
    }

    // MARK: Bytes

    /// The length of the string starting at `p[start]` when its closing quote is among the next
    /// `PackedName.longest + 1` bytes and no backslash comes first; nil otherwise (long, escaped, or
    /// cut by the end of the input: the byte-at-a-time path takes it).
    @inline(__always)
    private static func shortStringLength(_ p: UnsafePointer<UInt8>, from start: Int, to end: Int) -> Int? {
        let limit = min(end, start + PackedName.longest + 1)
        let j = quoteOrBackslash(p, from: start, to: limit)
        return j < limit && p[j] == ASCII.quote ? j - start : nil
    }

    /// The index of the first `"` or `\` in `p[start..<end]`, or `end`. Eight bytes a step (SWAR):
    /// a byte equal to the one looked for XORs to zero, and the lowest zero byte of a word is found
    /// exactly (borrows only ever flag bytes above it).
    @inline(__always)
    private static func quoteOrBackslash(_ p: UnsafePointer<UInt8>, from start: Int, to end: Int) -> Int {
        var j = start
        let raw = UnsafeRawPointer(p)
        while j + 8 <= end {
            let word = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: j, as: UInt64.self))
            let hits = zeroBytes(word ^ 0x2222_2222_2222_2222) | zeroBytes(word ^ 0x5C5C_5C5C_5C5C_5C5C)
            if hits != 0 { return j + hits.trailingZeroBitCount >> 3 }
            j += 8
        }
        while j < end, p[j] != ASCII.quote, p[j] != ASCII.backslash { j += 1 }
        return j
    }

    /// The high bit of each zero byte of `v` (and perhaps of bytes above the lowest zero one).
    @inline(__always)
    private static func zeroBytes(_ v: UInt64) -> UInt64 {
        (v &- 0x0101_0101_0101_0101) & ~v & 0x8080_8080_8080_8080
    }

    private static func find(_ byte: UInt8, _ p: UnsafePointer<UInt8>, from start: Int, to end: Int) -> Int {
        guard start < end, let hit = memchr(p + start, Int32(byte), end - start) else { return end }
        return UnsafeRawPointer(p).distance(to: UnsafeRawPointer(hit))
    }

    private static func hexValue(_ b: UInt8) -> Int {
        if b &- ASCII.zero < 10 { return Int(b &- ASCII.zero) }
        let lower = b | 0x20
        if lower &- ASCII.a < 6 { return Int(lower &- ASCII.a) + 10 }
        return -1
    }

    /// Bytes that continue a number or literal: letters, digits, `.`, `+`, `-`.
    private static func isBareByte(_ b: UInt8) -> Bool {
        (b | 0x20) &- ASCII.a < 26 || b &- ASCII.zero < 10 || b == ASCII.dot || b == ASCII.plus || b == ASCII.minus
    }

    private static func unescaped(_ b: UInt8) -> UInt8 {
        switch b {
        case ASCII.n: return ASCII.lf
        case ASCII.t: return ASCII.tab
        case ASCII.r: return ASCII.cr
        case ASCII.b: return 0x08
        case ASCII.f: return 0x0C
        default: return b  // `"`, `\`, `/`, and anything else taken literally
        }
    }
}
