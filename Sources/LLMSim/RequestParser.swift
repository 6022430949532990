// HTTP/1.1 request parsing, incremental over a connection's unconsumed bytes: head, then body.
import Glibc

enum HTTPMethod: UInt8 { case get, post, head, other }

enum Route: UInt8 { case chatCompletions, completions, models, health, unknown }

struct RequestHead: Equatable {
    var method = HTTPMethod.other
    var route = Route.unknown
    var http11 = true
    var keepAlive = true
    var contentLength = -1     // -1: no Content-Length header
    var chunked = false
    var expectContinue = false
}

/// Why a request is refused before it reaches the application. All of them close the connection:
/// after a framing error the next request's first byte cannot be found.
enum ParseFailure: Equatable {
    case badRequestLine, badHeader, badVersion, uriTooLong, headTooLarge
    case badContentLength, conflictingLength, unsupportedTransferEncoding, badChunk, bodyTooLarge

    var status: Int {
        switch self {
        case .badVersion: return 505
        case .uriTooLong: return 414
        case .headTooLarge: return 431
        case .unsupportedTransferEncoding: return 501
        case .bodyTooLarge: return 413
        default: return 400
        }
    }

    var message: String {
        switch self {
        case .badRequestLine: return "Malformed HTTP request line"
        case .badHeader: return "Malformed HTTP header"
        case .badVersion: return "HTTP version not supported"
        case .uriTooLong: return "Request line too long"
        case .headTooLarge: return "Request header fields too large"
        case .badContentLength: return "Invalid Content-Length"
        case .conflictingLength: return "Both Content-Length and Transfer-Encoding, or two Content-Lengths"
        case .unsupportedTransferEncoding: return "Only Transfer-Encoding: chunked is supported"
        case .badChunk: return "Malformed chunked body"
        case .bodyTooLarge: return "Request body too large"
        }
    }
}

enum ParseOutcome: Equatable {
    case needMore
    /// `consumed` bytes of the input made the request. The body is `input[bodyOffset ..< +bodyLength]`,
    /// or for a chunked body (`bodyOffset` −1) the decoded-body buffer.
    case complete(consumed: Int, bodyOffset: Int, bodyLength: Int)
    case failed(ParseFailure)
}

/// Fed the same growing input (offset 0 = the request's first byte) until it completes; it
/// remembers how far it has looked, so feeding a byte at a time costs O(n) overall.
/// Lenient where servers commonly are (bare LF line ends, empty lines before the request line),
/// strict where ambiguity invites request smuggling (obs-fold, CL with TE, two different CLs).
struct RequestParser {
    enum Phase: UInt8 { case requestLine, headers, fixedBody, chunkSize, chunkData, chunkDataEnd, trailers }

    static let maxRequestLineBytes = 8 * 1024
    static let maxHeadBytes = 32 * 1024
    static let maxHeaderCount = 100

    let maxBodyBytes: Int
    private(set) var phase = Phase.requestLine
    private(set) var head = RequestHead()
    /// The head asked `Expect: 100-continue` and the body has not all arrived: owe a `100 Continue`.
    private(set) var continueOwed = false
    private var scan = 0
    private var lineStart = 0
    private var bodyStart = 0
    private var chunkRemaining = 0
    private var decodedBytes = 0
    private var headerCount = 0
    private var connectionClose = false
    private var connectionKeepAlive = false

    init(maxBodyBytes: Int) {
        self.maxBodyBytes = maxBodyBytes
    }

    mutating func reset() {
        self = RequestParser(maxBodyBytes: maxBodyBytes)
    }

    mutating func continueSent() { continueOwed = false }

    /// Whether any byte of a request has been seen (a connection closing between requests is normal).
    var isIdle: Bool { phase == .requestLine && scan == 0 }

    mutating func parse(_ input: UnsafeRawBufferPointer, decodedBody: inout ByteBuffer) -> ParseOutcome {
        let n = input.count
        guard n > 0, let p = input.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return .needMore }
        while true {
            switch phase {
            case .requestLine, .headers, .trailers, .chunkSize:
                guard scan < n, let found = memchr(p + scan, 0x0A, n - scan) else {
                    scan = n
                    return limitWhileWaiting(n)
                }
                let lf = UnsafeRawPointer(found).assumingMemoryBound(to: UInt8.self) - p
                var end = lf
                if end > lineStart && p[end - 1] == 0x0D { end -= 1 }
                let start = lineStart
                scan = lf + 1
                lineStart = scan
                if phase != .chunkSize && phase != .trailers && scan > RequestParser.maxHeadBytes {
                    return .failed(phase == .requestLine ? .uriTooLong : .headTooLarge)
                }
                switch phase {
                case .requestLine:
                    if end == start { continue }   // RFC 9112 §2.2: ignore empty lines before it
                    if end - start > RequestParser.maxRequestLineBytes { return .failed(.uriTooLong) }
                    if let failure = parseRequestLine(p, start, end) { return .failed(failure) }
                    phase = .headers
                case .headers:
                    if end > start {
                        if let failure = parseHeader(p, start, end) { return .failed(failure) }
                        continue
                    }
                    if let outcome = finishHead(available: n) { return outcome }
                case .chunkSize:
                    guard let size = parseChunkSize(p, start, end) else { return .failed(.badChunk) }
                    if size == 0 {
                        phase = .trailers
                        continue
                    }
                    if size > maxBodyBytes - decodedBytes { return .failed(.bodyTooLarge) }
                    chunkRemaining = size
                    phase = .chunkData
                default: // trailers: ignored, up to the empty line that ends the message
                    if end > start {
                        headerCount += 1
                        if headerCount > RequestParser.maxHeaderCount { return .failed(.headTooLarge) }
                        continue
                    }
                    continueOwed = false
                    return .complete(consumed: scan, bodyOffset: -1, bodyLength: decodedBytes)
                }
            case .fixedBody:
                if n - bodyStart < head.contentLength { return .needMore }
                continueOwed = false
                return .complete(consumed: bodyStart + head.contentLength, bodyOffset: bodyStart, bodyLength: head.contentLength)
            case .chunkData:
                let take = min(chunkRemaining, n - scan)
                if take == 0 { return .needMore }
                decodedBody.append(p + scan, take)
                decodedBytes += take
                scan += take
                chunkRemaining -= take
                if chunkRemaining == 0 { phase = .chunkDataEnd }
            case .chunkDataEnd:
                guard scan < n else { return .needMore }
                if p[scan] == 0x0A {
                    scan += 1
                } else if p[scan] == 0x0D {
                    guard scan + 1 < n else { return .needMore }
                    guard p[scan + 1] == 0x0A else { return .failed(.badChunk) }
                    scan += 2
                } else {
                    return .failed(.badChunk)
                }
                lineStart = scan
                phase = .chunkSize
            }
        }
    }

    /// Limits checked while a line is still incomplete, so a peer cannot grow the buffer forever.
    private func limitWhileWaiting(_ n: Int) -> ParseOutcome {
        switch phase {
        case .requestLine where n - lineStart > RequestParser.maxRequestLineBytes: return .failed(.uriTooLong)
        case .requestLine, .headers: return n > RequestParser.maxHeadBytes ? .failed(.headTooLarge) : .needMore
        case .chunkSize where n - lineStart > 1024: return .failed(.badChunk)
        case .trailers where n - lineStart > RequestParser.maxHeadBytes: return .failed(.headTooLarge)
        default: return .needMore
        }
    }

    private mutating func finishHead(available n: Int) -> ParseOutcome? {
        head.keepAlive = !connectionClose && (head.http11 || connectionKeepAlive)
        if head.chunked {
            if head.contentLength >= 0 { return .failed(.conflictingLength) }
            continueOwed = head.expectContinue
            phase = .chunkSize
            return nil
        }
        let length = max(head.contentLength, 0)
        if length > maxBodyBytes { return .failed(.bodyTooLarge) }
        bodyStart = scan
        if length == 0 { return .complete(consumed: scan, bodyOffset: scan, bodyLength: 0) }
        continueOwed = head.expectContinue && n - scan < length
        phase = .fixedBody
        return nil
    }

    private mutating func parseRequestLine(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> ParseFailure? {
        var i = start
        while i < end && isTokenChar(p[i]) { i += 1 }
        guard i > start, i < end, p[i] == 0x20 else { return .badRequestLine }
        head.method = method(p + start, i - start)
        let targetStart = i + 1
        i = targetStart
        while i < end && p[i] > 0x20 && p[i] != 0x7F { i += 1 }
        guard i > targetStart, i < end, p[i] == 0x20 else { return .badRequestLine }
        head.route = route(p + targetStart, i - targetStart)
        let version = i + 1
        guard end - version == 8, startsWith(p + version, "HTTP/1.") else {
            return looksLikeVersion(p + version, end - version) ? .badVersion : .badRequestLine
        }
        switch p[version + 7] {
        case 0x31: head.http11 = true
        case 0x30: head.http11 = false
        default: return looksLikeVersion(p + version, 8) ? .badVersion : .badRequestLine
        }
        return nil
    }

    private mutating func parseHeader(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> ParseFailure? {
        headerCount += 1
        if headerCount > RequestParser.maxHeaderCount { return .headTooLarge }
        var colon = start
        while colon < end && isTokenChar(p[colon]) { colon += 1 }
        guard colon > start, colon < end, p[colon] == 0x3A else { return .badHeader }   // also rejects obs-fold
        var valueStart = colon + 1
        var valueEnd = end
        while valueStart < valueEnd && (p[valueStart] == 0x20 || p[valueStart] == 0x09) { valueStart += 1 }
        while valueEnd > valueStart && (p[valueEnd - 1] == 0x20 || p[valueEnd - 1] == 0x09) { valueEnd -= 1 }
        let name = p + start
        let nameLength = colon - start
        let value = p + valueStart
        let valueLength = valueEnd - valueStart
        if equalsIgnoringCase(name, nameLength, "content-length") {
            guard valueLength > 0 else { return .badContentLength }
            var length = 0
            for k in 0..<valueLength {
                let digit = value[k] &- 0x30
                guard digit < 10 else { return .badContentLength }
                // Any number of digits is valid HTTP; past 10^17 the value stops growing (it is
                // only compared with the body limit, and 413 follows) instead of overflowing.
                if length < 100_000_000_000_000_000 { length = length * 10 + Int(digit) }
            }
            if head.contentLength >= 0 && head.contentLength != length { return .conflictingLength }
            head.contentLength = length
        } else if equalsIgnoringCase(name, nameLength, "transfer-encoding") {
            guard equalsIgnoringCase(value, valueLength, "chunked"), !head.chunked else { return .unsupportedTransferEncoding }
            head.chunked = true
        } else if equalsIgnoringCase(name, nameLength, "connection") {
            var tokenStart = 0
            for k in 0...valueLength where k == valueLength || value[k] == 0x2C {
                var a = tokenStart
                var b = k
                while a < b && (value[a] == 0x20 || value[a] == 0x09) { a += 1 }
                while b > a && (value[b - 1] == 0x20 || value[b - 1] == 0x09) { b -= 1 }
                if equalsIgnoringCase(value + a, b - a, "close") { connectionClose = true }
                if equalsIgnoringCase(value + a, b - a, "keep-alive") { connectionKeepAlive = true }
                tokenStart = k + 1
            }
        } else if equalsIgnoringCase(name, nameLength, "expect") {
            if equalsIgnoringCase(value, valueLength, "100-continue") { head.expectContinue = true }
        }
        return nil
    }

    /// Hex digits, then optionally whitespace and `;extensions` (ignored).
    private func parseChunkSize(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> Int? {
        var i = start
        var size = 0
        while i < end, let digit = hexValue(p[i]) {
            // Leading zeros are allowed; past 2^56 the size stops growing (413 follows).
            if size < 1 << 56 { size = size << 4 | digit }
            i += 1
        }
        guard i > start else { return nil }
        while i < end && (p[i] == 0x20 || p[i] == 0x09) { i += 1 }
        guard i == end || p[i] == 0x3B else { return nil }
        return size
    }
}

private func method(_ p: UnsafePointer<UInt8>, _ count: Int) -> HTTPMethod {
    if matches(p, "GET", count: count) { return .get }
    if matches(p, "POST", count: count) { return .post }
    if matches(p, "HEAD", count: count) { return .head }
    return .other
}

/// The path without its query; the routes are exact, as vLLM's are.
private func route(_ p: UnsafePointer<UInt8>, _ count: Int) -> Route {
    var pathLength = 0
    while pathLength < count && p[pathLength] != 0x3F && p[pathLength] != 0x23 { pathLength += 1 }
    if matches(p, "/v1/chat/completions", count: pathLength) { return .chatCompletions }
    if matches(p, "/v1/completions", count: pathLength) { return .completions }
    if matches(p, "/v1/models", count: pathLength) { return .models }
    if matches(p, "/health", count: pathLength) { return .health }
    return .unknown
}

private func looksLikeVersion(_ p: UnsafePointer<UInt8>, _ count: Int) -> Bool {
    count == 8 && startsWith(p, "HTTP/") && p[5] &- 0x30 < 10 && p[6] == 0x2E && p[7] &- 0x30 < 10
}

@inline(__always)
private func matches(_ p: UnsafePointer<UInt8>, _ text: StaticString, count: Int) -> Bool {
    count == text.utf8CodeUnitCount && memcmp(p, text.utf8Start, count) == 0
}

/// The caller guarantees at least `prefix.utf8CodeUnitCount` readable bytes.
@inline(__always)
private func startsWith(_ p: UnsafePointer<UInt8>, _ prefix: StaticString) -> Bool {
    memcmp(p, prefix.utf8Start, prefix.utf8CodeUnitCount) == 0
}

@inline(__always)
private func equalsIgnoringCase(_ p: UnsafePointer<UInt8>, _ count: Int, _ lowercase: StaticString) -> Bool {
    guard count == lowercase.utf8CodeUnitCount else { return false }
    let q = lowercase.utf8Start
    for i in 0..<count {
        let byte = p[i]
        let folded = byte &- 0x41 < 26 ? byte | 0x20 : byte
        if folded != q[i] { return false }
    }
    return true
}

@inline(__always)
private func hexValue(_ byte: UInt8) -> Int? {
    if byte &- 0x30 < 10 { return Int(byte &- 0x30) }
    let folded = byte | 0x20
    if folded &- 0x61 < 6 { return Int(folded &- 0x61) + 10 }
    return nil
}

/// RFC 9110 tchar: the bytes allowed in methods and header names.
@inline(__always)
private func isTokenChar(_ byte: UInt8) -> Bool {
    switch byte {
    case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: return true
    case 0x21, 0x23, 0x24, 0x25, 0x26, 0x27, 0x2A, 0x2B, 0x2D, 0x2E, 0x5E, 0x5F, 0x60, 0x7C, 0x7E: return true
    default: return false
    }
}
