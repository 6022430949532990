// Client-side HTTP/1.1 response parser: status line, headers and body framing, one byte-level pass, no buffering.
import Glibc

/// Receives what the parser finds, in order. Implemented by the engine as a struct, used generically (no `any`).
public protocol ResponseSink {
    /// The final (non-1xx) status line and all headers have been read.
    mutating func responseHead(status: Int)
    /// Decoded body bytes (chunk framing removed), a slice of the input buffer; may be called many times.
    mutating func responseBody(_ bytes: UnsafeRawBufferPointer)
}

public enum ResponseParseError: UInt8, Sendable {
    case badStatusLine, badHeader, headTooLarge, badContentLength, badChunk, truncated
    /// Bytes after a complete response / before a request (no pipelining). `parse` returns it when
    /// called again after `.complete` without `begin`; otherwise the caller decides.
    case unexpectedBytes
}

public enum ParseStep: Equatable, Sendable {
    case needMore                 // all input consumed, response not complete
    case complete(consumed: Int)  // response complete after `consumed` bytes of this input
    case failed(ResponseParseError)
}

/// Reads one response at a time from bytes as they arrive, split anywhere.
///
/// Every partial match (inside "HTTP/1.", a header name, a Content-Length, a CRLF) lives in a few
/// small integers, so nothing is buffered and body bytes go to the sink as slices of the input.
/// Lenient where browsers are: bare LF line ends, whitespace around values, obs-fold
/// continuation lines. Strict where framing is decided: Content-Length is digits only and must
/// agree with any repeat; Transfer-Encoding overrides it (RFC 9112 §6.3).
public struct ResponseParser {
    public private(set) var status = 0         // 0 until the final status line is read
    public private(set) var keepAlive = true   // valid after `.complete`
    public private(set) var bodyBytes = 0      // decoded body bytes so far
    public private(set) var headBytes = 0      // status lines and headers, 1xx heads included

    private enum Phase: UInt8 { case head, length, chunked, untilClose, done, failed }

    private enum HeadState: UInt8 {
        case version, minor, space, code, reason, statusLF      // status line
        case lineStart, name                                    // header line
        case ignoredValue, lengthValue, tokenValue, valueLF     // header value
        case endLF                                              // CR of the empty line seen
    }

    /// The header whose value is being read; kept after its line so an obs-fold line can continue it.
    private enum HeaderKind: UInt8 { case none, other, contentLength, transferEncoding, connection }

    private let maxHeadBytes: Int
    private var isHeadRequest = false
    private var phase = Phase.head
    private var state = HeadState.version
    private var failure = ResponseParseError.truncated
    private var count = 0          // bytes of "HTTP/1." or digits of the status code matched so far
    private var code = 0
    private var minorVersion = 1
    private var kind = HeaderKind.none
    private var word = FoldedWord()   // the header name, or the list token, read so far
    private var inToken = false
    private var lengthDigits = 0
    private var lengthEnded = false   // whitespace followed the digits: another digit is an error
    private var lengthValue = 0
    private var contentLength = -1
    private var hasTransferCoding = false
    private var lastCodingChunked = false
    private var connectionClose = false
    private var connectionKeepAlive = false
    private var remaining = 0
    private var chunks = ChunkedDecoder()

    public init(maxHeadBytes: Int = 64 * 1024) {
        self.maxHeadBytes = maxHeadBytes
    }

    /// Resets for a new response. HEAD responses carry no body whatever their headers say.
    public mutating func begin(isHeadRequest: Bool) {
        self = ResponseParser(maxHeadBytes: maxHeadBytes)
        self.isHeadRequest = isHeadRequest
    }

    public mutating func parse<Sink: ResponseSink>(_ bytes: UnsafeRawBufferPointer, into sink: inout Sink) -> ParseStep {
        let n = bytes.count
        switch phase {
        case .failed: return .failed(failure)
        case .done: return n == 0 ? .complete(consumed: 0) : .failed(.unexpectedBytes)
        default: if n == 0 { return .needMore }
        }
        var i = 0
        if phase == .head {
            // The head may not grow past the limit, so the scan never looks further than that.
            let end = min(n, maxHeadBytes - headBytes)
            let (stop, final) = parseHead(bytes, end)
            headBytes += stop
            if phase == .failed { return .failed(failure) }
            guard final else { return end < n ? fail(.headTooLarge) : .needMore }
            i = stop
            guard startBody(into: &sink) else {
                phase = .done
                return .complete(consumed: i)
            }
        }
        switch phase {
        case .length:
            let take = min(remaining, n - i)
            if take > 0 {
                sink.responseBody(UnsafeRawBufferPointer(rebasing: bytes[i ..< i + take]))
                bodyBytes += take
                remaining -= take
                i += take
            }
            guard remaining == 0 else { return .needMore }
            phase = .done
            return .complete(consumed: i)
        case .untilClose:
            if i < n {
                sink.responseBody(UnsafeRawBufferPointer(rebasing: bytes[i ..< n]))
                bodyBytes += n - i
            }
            return .needMore
        case .chunked:
            let step = chunks.decode(bytes, from: i, bodyBytes: &bodyBytes, into: &sink)
            switch step {
            case .needMore: break
            case .complete: phase = .done
            case .failed(let error): phase = .failed; failure = error
            }
            return step
        default:
            return .needMore  // unreachable: the head phase ends in a body phase, done or failed
        }
    }

    /// The peer closed: that ends a close-delimited body and cuts short anything else.
    /// `headBytes == 0` tells the caller the connection closed before any byte of the response.
    public mutating func endOfInput<Sink: ResponseSink>(into sink: inout Sink) -> ParseStep {
        switch phase {
        case .untilClose:
            phase = .done
            keepAlive = false
            return .complete(consumed: 0)
        case .done: return .complete(consumed: 0)
        case .failed: return .failed(failure)
        default: return fail(.truncated)
        }
    }

    private mutating func fail(_ error: ResponseParseError) -> ParseStep {
        phase = .failed
        failure = error
        return .failed(error)
    }

    /// Runs the head states over `bytes[0 ..< end]`. Returns where it stopped, and whether that is
    /// just past the empty line of a final (non-1xx) head. On an error `phase` is `.failed`.
    private mutating func parseHead(_ bytes: UnsafeRawBufferPointer, _ end: Int) -> (Int, Bool) {
        var i = 0
        while i < end {
            let b = bytes[i]
            switch state {
            case .version:
                if count == 0, end - i >= 12, let start = Self.statusStart(bytes, i) {
                    // The usual case, all of "HTTP/1.x SSS" in this read, in one step; a status line
                    // split across reads, or a bad one, goes byte by byte below.
                    minorVersion = start.minor
                    code = start.code
                    count = 3
                    state = .code
                    i += 12
                    continue
                }
                let prefix: StaticString = "HTTP/1."
                guard b == prefix.utf8Start[count] else { return stop(.badStatusLine, i) }
                count += 1
                if count == prefix.utf8CodeUnitCount { state = .minor }
            case .minor:
                guard b &- 0x30 < 10 else { return stop(.badStatusLine, i) }
                minorVersion = Int(b &- 0x30)
                state = .space
            case .space:
                guard b == 0x20 else { return stop(.badStatusLine, i) }
                state = .code
                count = 0
            case .code:
                if count < 3 {
                    let digit = b &- 0x30
                    guard digit < 10, count > 0 || digit > 0 else { return stop(.badStatusLine, i) }
                    code = code * 10 + Int(digit)
                    count += 1
                } else if b == 0x20 {
                    state = .reason
                } else if b == 0x0D {
                    state = .statusLF
                } else if b == 0x0A {
                    endStatusLine()
                } else {
                    return stop(.badStatusLine, i)
                }
            case .reason:
                // A run of bytes in one state (reason phrase, name, Content-Length digits) is scanned
                // in an inner loop: one dispatch on `state` per run, not per byte.
                var c = b
                while c != 0x0D && c != 0x0A {
                    guard c >= 0x20 || c == 0x09, c != 0x7F else { return stop(.badStatusLine, i) }
                    i += 1
                    guard i < end else { return (i, false) }
                    c = bytes[i]
                }
                if c == 0x0D {
                    state = .statusLF
                } else {
                    endStatusLine()
                }
            case .statusLF:
                guard b == 0x0A else { return stop(.badStatusLine, i) }
                endStatusLine()
            case .lineStart:
                if b == 0x20 || b == 0x09 {
                    // obs-fold (RFC 9112 §5.2): the line break was whitespace inside the previous value.
                    switch kind {
                    case .none: return stop(.badHeader, i)
                    case .other: state = .ignoredValue
                    case .contentLength:
                        state = .lengthValue
                        if lengthDigits > 0 { lengthEnded = true }
                    case .transferEncoding, .connection: state = .tokenValue
                    }
                } else {
                    if kind == .contentLength {
                        guard lengthDigits > 0, contentLength < 0 || contentLength == lengthValue else {
                            return stop(.badContentLength, i)
                        }
                        contentLength = lengthValue
                    }
                    if b == 0x0D {
                        state = .endLF
                    } else if b == 0x0A {
                        if endHead() { return (i + 1, true) }
                    } else if Self.isTokenByte(b) {
                        state = .name
                        word = FoldedWord()
                        fallthrough  // the name loop starts with this byte
                    } else {
                        return stop(.badHeader, i)
                    }
                }
            case .name:
                var c = b
                while Self.isTokenByte(c) {
                    word.add(c | 0x20)
                    i += 1
                    guard i < end else { return (i, false) }
                    c = bytes[i]
                }
                // No colon, or whitespace before it (RFC 9112 §5.1).
                guard c == 0x3A else { return stop(.badHeader, i) }
                startValue()
            case .ignoredValue:
                let base = bytes.baseAddress! + i
                guard let lf = memchr(base, 0x0A, end - i) else { return (end, false) }
                i += UnsafeRawPointer(lf) - base
                state = .lineStart
            case .lengthValue:
                var c = b
                while c &- 0x30 < 10 {
                    guard !lengthEnded else { return stop(.badContentLength, i) }
                    let (tens, overflow1) = lengthValue.multipliedReportingOverflow(by: 10)
                    let (sum, overflow2) = tens.addingReportingOverflow(Int(c &- 0x30))
                    guard !overflow1, !overflow2 else { return stop(.badContentLength, i) }
                    lengthValue = sum
                    lengthDigits += 1
                    i += 1
                    guard i < end else { return (i, false) }
                    c = bytes[i]
                }
                if c == 0x20 || c == 0x09 {
                    if lengthDigits > 0 { lengthEnded = true }
                } else if c == 0x0D {
                    state = .valueLF
                } else if c == 0x0A {
                    state = .lineStart
                } else {
                    return stop(.badContentLength, i)
                }
            case .tokenValue:
                if b == 0x20 || b == 0x09 || b == 0x2C {
                    endToken()
                } else if b == 0x0D {
                    endToken()
                    state = .valueLF
                } else if b == 0x0A {
                    endToken()
                    state = .lineStart
                } else if b < 0x20 || b == 0x7F {
                    return stop(.badHeader, i)
                } else {
                    if !inToken {
                        inToken = true
                        word = FoldedWord()
                    }
                    word.add(b | 0x20)
                }
            case .valueLF:
                guard b == 0x0A else { return stop(.badHeader, i) }
                state = .lineStart
            case .endLF:
                guard b == 0x0A else { return stop(.badHeader, i) }
                if endHead() { return (i + 1, true) }
            }
            i += 1
        }
        return (i, false)
    }

    private mutating func stop(_ error: ResponseParseError, _ at: Int) -> (Int, Bool) {
        _ = fail(error)
        return (at, false)
    }

    private mutating func endStatusLine() {
        if !isInterim { status = code }
        state = .lineStart
        kind = .none
    }

    /// An interim 1xx head (100 Continue, 103 Early Hints) says nothing about the final response.
    /// 101 is final: the connection leaves HTTP after it.
    private var isInterim: Bool { code < 200 && code != 101 }

    /// The empty line is in: true for a final head; an interim one is forgotten and the next read.
    private mutating func endHead() -> Bool {
        guard isInterim else { return true }
        state = .version
        count = 0
        code = 0
        kind = .none
        contentLength = -1
        hasTransferCoding = false
        lastCodingChunked = false
        connectionClose = false
        connectionKeepAlive = false
        return false
    }

    /// Lengths are compared first: most names are none of the three.
    private mutating func startValue() {
        switch word.length {
        case 14 where word == .contentLength:
            kind = .contentLength
            state = .lengthValue
            lengthDigits = 0
            lengthEnded = false
            lengthValue = 0
        case 17 where word == .transferEncoding:
            kind = .transferEncoding
            state = .tokenValue
            inToken = false
        case 10 where word == .connection:
            kind = .connection
            state = .tokenValue
            inToken = false
        default:
            kind = .other
            state = .ignoredValue
        }
    }

    private mutating func endToken() {
        guard inToken else { return }
        inToken = false
        if kind == .transferEncoding {
            // Only the last coding decides the framing: chunked must be applied last (RFC 9112 §6.1).
            hasTransferCoding = true
            lastCodingChunked = word.length == 7 && word == .chunked
        } else if word.length == 5, word == .close {
            connectionClose = true
        } else if word.length == 10, word == .keepAlive {
            connectionKeepAlive = true
        }
    }

    /// Tells the sink the head is in and decides how the body ends (RFC 9112 §6.3); false if there is no body.
    private mutating func startBody<Sink: ResponseSink>(into sink: inout Sink) -> Bool {
        sink.responseHead(status: status)
        keepAlive = minorVersion >= 1 ? !connectionClose : connectionKeepAlive && !connectionClose
        if isHeadRequest || status == 204 || status == 304 { return false }
        if status == 101 {
            keepAlive = false  // the connection now speaks another protocol
            return false
        }
        if hasTransferCoding {
            // Transfer-Encoding beside Content-Length, or in HTTP/1.0, smells of smuggling or a
            // broken proxy: read this body by Transfer-Encoding but send nothing more on the connection.
            if contentLength >= 0 || minorVersion == 0 { keepAlive = false }
            guard lastCodingChunked else {
                keepAlive = false
                phase = .untilClose
                return true
            }
            phase = .chunked
            chunks.reset()
            return true
        }
        if contentLength >= 0 {
            guard contentLength > 0 else { return false }
            remaining = contentLength
            phase = .length
            return true
        }
        keepAlive = false
        phase = .untilClose
        return true
    }

    /// "HTTP/1.x SSS" read whole at `i` (12 bytes must be there): the minor version and the code.
    private static func statusStart(_ bytes: UnsafeRawBufferPointer, _ i: Int) -> (minor: Int, code: Int)? {
        let httpOne: UInt64 = 0x2E_31_2F_50_54_54_48  // "HTTP/1." read as a little-endian integer
        let first8 = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self))
        let minor = bytes[i + 7] &- 0x30
        let hundreds = bytes[i + 9] &- 0x30, tens = bytes[i + 10] &- 0x30, ones = bytes[i + 11] &- 0x30
        guard first8 & 0x00FF_FFFF_FFFF_FFFF == httpOne, minor < 10, bytes[i + 8] == 0x20,
              hundreds &- 1 < 9, tens < 10, ones < 10
        else { return nil }
        return (Int(minor), Int(hundreds) * 100 + Int(tens) * 10 + Int(ones))
    }

    /// tchar (RFC 9110 §5.6.2): the bytes a header name is made of.
    private static func isTokenByte(_ b: UInt8) -> Bool {
        switch b {
        case 0x30 ... 0x39, 0x41 ... 0x5A, 0x61 ... 0x7A, 0x21, 0x23 ... 0x27, 0x2A, 0x2B, 0x2D, 0x2E, 0x5E ... 0x60, 0x7C, 0x7E:
            true
        default:
            false
        }
    }
}

/// A header name or list token, lower-cased and packed eight bytes to a word as it arrives, so
/// recognising it is a few integer compares however its bytes were split across reads.
///
/// Bytes arrive folded with `| 0x20`, which lower-cases ASCII letters and leaves `-` and digits as
/// they are. No other byte that gets here folds onto one of those: CR would fold onto `-`, but it
/// always ends the name or token first.
private struct FoldedWord: Equatable {
    // Computed, not stored, and written as words: a `static let` costs a `swift_once` check on every
    // comparison, and the optimiser does not fold the byte loop of a 14- or 17-byte name into
    // constants (each access was a call of ~100 instructions). The words are the names' bytes,
    // folded, little-endian, eight to a word; the parser tests fail on any wrong one.
    static var contentLength: FoldedWord { FoldedWord(0x2D74_6E65_746E_6F63, 0x0000_6874_676E_656C, 0x00, length: 14) }  // "content-length"
    static var transferEncoding: FoldedWord { FoldedWord(0x7265_6673_6E61_7274, 0x6E69_646F_636E_652D, 0x67, length: 17) }  // "transfer-encoding"
    static var connection: FoldedWord { FoldedWord(0x6974_6365_6E6E_6F63, 0x0000_0000_0000_6E6F, 0x00, length: 10) }  // "connection"
    static var chunked: FoldedWord { FoldedWord(0x0064_656B_6E75_6863, 0, 0, length: 7) }  // "chunked"
    static var close: FoldedWord { FoldedWord(0x0000_0065_736F_6C63, 0, 0, length: 5) }  // "close"
    static var keepAlive: FoldedWord { FoldedWord(0x696C_612D_7065_656B, 0x0000_0000_0000_6576, 0x00, length: 10) }  // "keep-alive"

    private var low: UInt64 = 0
    private var middle: UInt64 = 0
    private var high: UInt64 = 0
    private(set) var length = 0

    init() {}

    @inline(__always)
    private init(_ low: UInt64, _ middle: UInt64, _ high: UInt64, length: Int) {
        self.low = low
        self.middle = middle
        self.high = high
        self.length = length
    }

    @inline(__always)
    mutating func add(_ folded: UInt8) {
        let shift = UInt64(length & 7) << 3
        switch length >> 3 {
        case 0: low |= UInt64(folded) << shift
        case 1: middle |= UInt64(folded) << shift
        case 2: high |= UInt64(folded) << shift
        default: break  // longer than any word looked for: the length alone tells it apart
        }
        length += 1
    }
}
