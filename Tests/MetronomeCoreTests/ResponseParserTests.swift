// Response parser: every fixture whole, byte by byte and split at every index; errors; seeded fuzzing.
import Foundation
import XCTest
@testable import MetronomeCore

final class ResponseParserTests: XCTestCase {
    // MARK: Fixtures that parse

    func testContentLength() throws {
        try checkFixture("content-length.txt", end: .complete(at: 78), status: 200, body: "Hello, world!", keepAlive: true)
    }

    func testChunkedWithExtensionsAndTrailers() throws {
        try checkFixture("chunked-extensions-trailers.txt", end: .complete(at: 181), status: 200, body: "Hello, world!", keepAlive: true)
    }

    func testChunkedUppercaseHexManySmallChunks() throws {
        let body = (0 ..< 600).map { UInt8(($0 * 7 + 13) % 256) }
        let data = try fixture("chunked-uppercase-many.txt")
        XCTAssertNotNil(Data(data).range(of: Data("\r\n1F\r\n".utf8)))  // upper-case hex
        XCTAssertNotNil(Data(data).range(of: Data("\r\n00C\r\n".utf8)))  // leading zeros
        try checkFixture("chunked-uppercase-many.txt", end: .complete(at: data.count), status: 200, body: body, keepAlive: true)
    }

    func testCloseDelimitedHTTP11() throws {
        let body = "body until the server closes\r\n\r\nand more\n"
        try checkFixture("close-delimited-http11.txt", end: .complete(at: 86), status: 200, body: body, keepAlive: false)
        let open = feed(try fixture("close-delimited-http11.txt"), cuts: [], closeAtEnd: false)
        XCTAssertEqual(open.end, .needMore)  // only the peer's close can end this body
        XCTAssertEqual(open.body, Array(body.utf8))
    }

    func testCloseDelimitedHTTP10() throws {
        try checkFixture("close-delimited-http10.txt", end: .complete(at: 48), status: 200, body: "an HTTP/1.0 body", keepAlive: false)
    }

    func testNoBodyFor204And304AndHead() throws {
        try checkFixture("no-content-204.txt", end: .complete(at: 47), status: 204, body: "", keepAlive: true)
        try checkFixture("not-modified-304.txt", end: .complete(at: 62), status: 304, body: "", keepAlive: true)
        try checkFixture("head-content-length.txt", isHead: true, end: .complete(at: 73), status: 200, body: "", keepAlive: true)
        // The same bytes answering a GET promise 1234 body bytes that never come.
        try checkFixture("head-content-length.txt", end: .failed(.truncated), status: 200, body: "", keepAlive: true)
    }

    func testOddHeaderCase() throws {
        try checkFixture("odd-case-length.txt", end: .complete(at: 67), status: 200, body: "hello", keepAlive: true)
        try checkFixture("odd-case-chunked.txt", end: .complete(at: 67), status: 200, body: "0123456789", keepAlive: true)
    }

    func testChunkedOverridesContentLength() throws {
        // Both framings at once may be smuggling: the body follows chunked, the connection is not reused.
        try checkFixture("chunked-overrides-length.txt", end: .complete(at: 87), status: 200, body: "abc", keepAlive: false)
    }

    func testConnectionHeader() throws {
        try checkFixture("connection-close.txt", end: .complete(at: 59), status: 200, body: "ok", keepAlive: false)
        try checkFixture("http10-keep-alive.txt", end: .complete(at: 67), status: 200, body: "hello", keepAlive: true)
    }

    func testInterimResponsesAreSkipped() throws {
        // 100 and 103 heads (the 103 even with Content-Length and Connection: close) leave no trace.
        let outcome = try checkFixture("continue-then-200.txt", end: .complete(at: 166), status: 200, body: "yes", keepAlive: true)
        XCTAssertEqual(outcome.heads, [200])
        XCTAssertEqual(outcome.headBytes, 163)
    }

    func testBareLineFeeds() throws {
        try checkFixture("bare-lf.txt", end: .complete(at: 62), status: 200, body: "body", keepAlive: true)
        try checkFixture("bare-lf-chunked.txt", end: .complete(at: 71), status: 200, body: "body!!!", keepAlive: true)
    }

    func testEmptyReasonPhrase() throws {
        try checkFixture("empty-reason.txt", end: .complete(at: 37), status: 200, body: "hi", keepAlive: true)
        try checkFixture("empty-reason-space.txt", end: .complete(at: 38), status: 200, body: "hi", keepAlive: true)
    }

    func testWhitespaceListsAndFolding() throws {
        try checkFixture("ows-and-lists.txt", end: .complete(at: 93), status: 200, body: "1234567", keepAlive: false)
        try checkFixture("obs-fold.txt", end: .complete(at: 101), status: 200, body: "abc", keepAlive: false)
        try checkFixture("duplicate-same-length.txt", end: .complete(at: 64), status: 200, body: "hello", keepAlive: true)
    }

    // MARK: Real captures from llama.cpp's server

    func testLlamaCppChunkedStream() throws {
        let wire = try fixture("llamacpp-stream.txt")
        let expected = try referenceDechunk(wire)
        let text = String(decoding: expected, as: UTF8.self)
        XCTAssertTrue(text.hasPrefix("data: {\"id\": \"chatcmpl-"))
        XCTAssertTrue(text.hasSuffix("data: [DONE]\n\n"))
        try checkFixture("llamacpp-stream.txt", end: .complete(at: wire.count), status: 200, body: expected, keepAlive: true)
    }

    func testLlamaCppQueuedStreamWithPings() throws {
        let wire = try fixture("llamacpp-queued-with-ping.txt")
        let expected = try referenceDechunk(wire)
        XCTAssertTrue(String(decoding: expected, as: UTF8.self).hasPrefix(": ping - "))
        try checkFixture("llamacpp-queued-with-ping.txt", end: .complete(at: wire.count), status: 200, body: expected, keepAlive: true)
    }

    func testLlamaCppCloseDelimitedStream() throws {
        let wire = try fixture("llamacpp-stream-http10.txt")
        let body = try bytesAfterHead(wire)
        XCTAssertTrue(String(decoding: body, as: UTF8.self).hasSuffix("data: [DONE]\n\n"))
        try checkFixture("llamacpp-stream-http10.txt", end: .complete(at: wire.count), status: 200, body: body, keepAlive: false)
    }

    func testLlamaCppContextExceededHasEmptyChunkedBody() throws {
        try checkFixture("llamacpp-context-exceeded.txt", end: .complete(at: 313), status: 200, body: "", keepAlive: true)
    }

    func testLlamaCppNonStreamingAndErrors() throws {
        for name in ["llamacpp-nonstream.txt", "llamacpp-validation-500.txt", "llamacpp-malformed-json-500.txt"] {
            let wire = try fixture(name)
            let body = try bytesAfterHead(wire)
            let status = name == "llamacpp-nonstream.txt" ? 200 : 500
            try checkFixture(name, end: .complete(at: wire.count), status: status, body: body, keepAlive: true)
        }
        XCTAssertEqual(try bytesAfterHead(fixture("llamacpp-nonstream.txt")).count, 1368)
    }

    // MARK: Errors

    func testErrorFixtures() throws {
        try checkFixture("error-bad-status-line.txt", end: .failed(.badStatusLine), status: 0, body: "", keepAlive: true, announced: false)
        try checkFixture("error-bad-header.txt", end: .failed(.badHeader), status: 200, body: "", keepAlive: true, announced: false)
        try checkFixture("error-non-digit-length.txt", end: .failed(.badContentLength), status: 200, body: "", keepAlive: true, announced: false)
        try checkFixture("error-conflicting-lengths.txt", end: .failed(.badContentLength), status: 200, body: "", keepAlive: true, announced: false)
        try checkFixture("error-bad-chunk-size.txt", end: .failed(.badChunk), status: 200, body: "abc", keepAlive: true)
        try checkFixture("error-chunk-missing-crlf.txt", end: .failed(.badChunk), status: 200, body: "abc", keepAlive: true)
        try checkFixture("truncated-length.txt", end: .failed(.truncated), status: 200, body: "only part of it", keepAlive: true)
        try checkFixture("truncated-chunked.txt", end: .failed(.truncated), status: 200, body: "only part", keepAlive: true)
    }

    func testMalformedHeads() {
        let cases: [(String, ResponseParseError)] = [
            ("HTTP/2 200 OK\r\n\r\n", .badStatusLine),
            ("http/1.1 200 OK\r\n\r\n", .badStatusLine),
            ("HTTP/1.1  200 OK\r\n\r\n", .badStatusLine),
            ("HTTP/1.1 20 OK\r\n\r\n", .badStatusLine),
            ("HTTP/1.1 2000 OK\r\n\r\n", .badStatusLine),
            ("HTTP/1.1 099 Low\r\n\r\n", .badStatusLine),
            ("HTTP/1.1 200 OK\rX\n\r\n", .badStatusLine),
            ("HTTP/1.1 200 O\u{1}K\r\n\r\n", .badStatusLine),
            ("\r\nHTTP/1.1 200 OK\r\n\r\n", .badStatusLine),
            ("HTTP/1.1 200 OK\r\nServer : x\r\n\r\n", .badHeader),
            ("HTTP/1.1 200 OK\r\n: empty name\r\n\r\n", .badHeader),
            ("HTTP/1.1 200 OK\r\n leading: space\r\n\r\n", .badHeader),
            ("HTTP/1.1 200 OK\r\nConnection: clo\u{1}se\r\n\r\n", .badHeader),
            ("HTTP/1.1 200 OK\r\nConnection: close\rX\n\r\n", .badHeader),
            ("HTTP/1.1 200 OK\r\nServer: x\r\n\rX", .badHeader),
            ("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", .badContentLength),
            ("HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\n", .badContentLength),
            ("HTTP/1.1 200 OK\r\nContent-Length: 1 2\r\n\r\n", .badContentLength),
            ("HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\n", .badContentLength),
            ("HTTP/1.1 200 OK\r\nContent-Length: 0x10\r\n\r\n", .badContentLength),
            ("HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\n", .badContentLength),
            ("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n", .badContentLength),
            ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n;x\r\n", .badChunk),
            ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\ng\r\n", .badChunk),
            ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\rX", .badChunk),
            ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n8000000000000000\r\n", .badChunk),
            ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\rX", .badChunk),
            ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\rX", .badChunk),
        ]
        for (text, error) in cases {
            checkEverySplit(Array(text.utf8), label: text.debugDescription) { XCTAssertEqual($0.end, .failed(error), text.debugDescription) }
        }
        // The largest size that fits in an Int is not an error by itself: the body is merely cut short.
        let huge = Array("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n7FFFFFFFFFFFFFFF\r\nab".utf8)
        XCTAssertEqual(feed(huge, cuts: []).end, .failed(.truncated))
    }

    /// Any three digits 200–999 is a final status, kept as sent (600–999 are unregistered but legal
    /// syntax); anything else on the status line is a protocol error.
    func testStatusCodesOfThreeDigitsAreKeptAsSent() {
        for code in [200, 404, 599, 600, 799, 999] {
            let text = "HTTP/1.1 \(code) X\r\nContent-Length: 2\r\n\r\nok"
            checkEverySplit(Array(text.utf8), label: text.debugDescription) { outcome in
                XCTAssertEqual(outcome.end, .complete(at: text.utf8.count), text.debugDescription)
                XCTAssertEqual(outcome.status, code)
                XCTAssertEqual(outcome.heads, [code])
            }
        }
        for line in ["HTTP/1.1 1000 X", "HTTP/1.1 000 X", "HTTP/1.1 9 X", "HTTP/1.1 99 X", "HTTP/1.1 6a0 X", "HTTP/1.1 -20 X", "HTTP/1.1 9999"] {
            let text = line + "\r\nContent-Length: 2\r\n\r\nok"
            checkEverySplit(Array(text.utf8), label: text.debugDescription) { XCTAssertEqual($0.end, .failed(.badStatusLine), line) }
        }
    }

    func testHeadTooLarge() throws {
        let data = try fixture("content-length.txt")  // head is 65 bytes
        checkEverySplit(data, maxHeadBytes: 65, label: "limit 65") { XCTAssertEqual($0.end, .complete(at: 78)) }
        checkEverySplit(data, maxHeadBytes: 64, label: "limit 64") {
            XCTAssertEqual($0.end, .failed(.headTooLarge))
            XCTAssertEqual($0.headBytes, 64)
        }
        // Interim heads count: 163 head bytes in all, the final one alone is 38.
        let interim = try fixture("continue-then-200.txt")
        XCTAssertEqual(feed(interim, cuts: [], maxHeadBytes: 162).end, .failed(.headTooLarge))
        let endless = Array(("HTTP/1.1 200 OK\r\nX-Big: " + String(repeating: "a", count: 70_000)).utf8)
        XCTAssertEqual(feed(endless, cuts: [], closeAtEnd: false).end, .failed(.headTooLarge))
    }

    func testEndOfInputBeforeAnyByte() {
        var parser = ResponseParser()
        var sink = CollectingSink()
        XCTAssertEqual(parser.endOfInput(into: &sink), .failed(.truncated))
        XCTAssertEqual(parser.headBytes, 0)  // how the engine tells a stale keep-alive connection
        XCTAssertEqual(parser.endOfInput(into: &sink), .failed(.truncated))
    }

    func testTwoResponsesInOneBuffer() throws {
        let data = try fixture("two-responses.txt")
        checkEverySplit(data, label: "two responses") {
            XCTAssertEqual($0.end, .complete(at: 43))
            XCTAssertEqual($0.body, Array("first".utf8))
        }
        data.withUnsafeBytes { all in
            var parser = ResponseParser()
            var sink = CollectingSink()
            sink.input = all
            XCTAssertEqual(parser.parse(all, into: &sink), .complete(consumed: 43))
            let rest = UnsafeRawBufferPointer(rebasing: all[43...])
            XCTAssertEqual(parser.parse(rest, into: &sink), .failed(.unexpectedBytes))  // no begin: no pipelining
            parser.begin(isHeadRequest: false)
            XCTAssertEqual(parser.status, 0)
            XCTAssertEqual(parser.parse(rest, into: &sink), .complete(consumed: data.count - 43))
            XCTAssertEqual(sink.heads, [200, 201])
            XCTAssertEqual(String(decoding: sink.body, as: UTF8.self), "firstsecond")
            XCTAssertEqual(parser.bodyBytes, 6)
            XCTAssertEqual(parser.parse(UnsafeRawBufferPointer(start: nil, count: 0), into: &sink), .complete(consumed: 0))
        }
    }

    func testFramingDecisions() {
        let ok = "HTTP/1.1 200 OK\r\n"
        let cases: [(String, End, String, Bool)] = [
            (ok + "Transfer-Encoding: chunked, gzip\r\n\r\n1\r\nx", .complete(at: 57), "1\r\nx", false),
            (ok + "Transfer-Encoding: chunkedx\r\n\r\nabc", .complete(at: 51), "abc", false),
            (ok + "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n", .complete(at: 83), "x", true),
            (ok + "Content-Lengthy: 3\r\nX-Content-Length: 3\r\n\r\nabcdef", .complete(at: 66), "abcdef", false),
            (ok + "Content-Length: 0\r\n\r\n", .complete(at: 38), "", true),
            (ok + "Connection: closed, keep-alive-ish\r\nContent-Length: 1\r\n\r\nz", .complete(at: 75), "z", true),
            (ok + "Connection: keep-alive, close\r\nContent-Length: 1\r\n\r\nz", .complete(at: 70), "z", false),
            ("HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nz", .complete(at: 39), "z", false),
            ("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nz\r\n0\r\n\r\n", .complete(at: 58), "z", false),
            ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\nframes", .complete(at: 56), "", false),
            ("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n", .complete(at: 52), "", true),
        ]
        for (text, end, body, keepAlive) in cases {
            checkEverySplit(Array(text.utf8), label: text.debugDescription) {
                XCTAssertEqual($0.end, end, text.debugDescription)
                XCTAssertEqual(String(decoding: $0.body, as: UTF8.self), body, text.debugDescription)
                XCTAssertEqual($0.keepAlive, keepAlive, text.debugDescription)
            }
        }
    }

    // MARK: Fuzzing

    func testFuzzRandomValidResponses() {
        var rng = TestRandom(seed: 0x5EED_0001)
        for iteration in 0 ..< 3000 {
            let r = RandomResponse.make(&rng)
            let outcome = feed(r.bytes, cuts: randomCuts(r.bytes.count, &rng), isHead: r.isHead)
            let expected = Outcome(
                end: .complete(at: r.length), heads: [r.status], body: r.body, status: r.status,
                keepAlive: r.keepAlive, bodyBytes: r.body.count, headBytes: outcome.headBytes, badSlices: 0)
            if outcome != expected {
                XCTFail("iteration \(iteration): \(String(decoding: r.bytes.prefix(400), as: UTF8.self).debugDescription)")
                XCTAssertEqual(outcome.end, expected.end)
                XCTAssertEqual(outcome.keepAlive, expected.keepAlive)
                return
            }
        }
    }

    func testFuzzGarbageNeverCrashes() {
        var rng = TestRandom(seed: 0x5EED_0002)
        for iteration in 0 ..< 2000 {
            let garbage = (0 ..< rng.below(400)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            let outcome = feed(garbage, cuts: randomCuts(garbage.count, &rng), closeAtEnd: false)
            if case .complete = outcome.end { XCTFail("garbage completed, iteration \(iteration)") }
            XCTAssertTrue(outcome.heads.isEmpty)
        }
    }

    /// Damaged responses may parse or fail, but the same way however the bytes are split.
    func testFuzzMutatedResponsesAreSplitInvariant() {
        var rng = TestRandom(seed: 0x5EED_0003)
        let interesting: [UInt8] = Array("\r\n\r\n :;,0aF\t-HTTP/1.".utf8)
        for iteration in 0 ..< 1500 {
            let r = RandomResponse.make(&rng)
            var bytes = r.bytes
            for _ in 0 ... rng.below(3) where !bytes.isEmpty {
                let at = rng.below(bytes.count)
                let byte = rng.chance(70) ? interesting[rng.below(interesting.count)] : UInt8(truncatingIfNeeded: rng.next())
                switch rng.below(3) {
                case 0: bytes[at] = byte
                case 1: bytes.insert(byte, at: at)
                default: bytes.remove(at: at)
                }
            }
            let whole = feed(bytes, cuts: [], isHead: r.isHead)
            let split = feed(bytes, cuts: randomCuts(bytes.count, &rng), isHead: r.isHead)
            let bytewise = feed(bytes, cuts: Array(0 ... bytes.count), isHead: r.isHead)
            guard whole == split, whole == bytewise, whole.bodyBytes == whole.body.count, whole.heads.count <= 1,
                  whole.badSlices == 0
            else {
                return XCTFail("iteration \(iteration): \(String(decoding: bytes.prefix(400), as: UTF8.self).debugDescription)")
            }
            if case .complete(let at) = whole.end { XCTAssertLessThanOrEqual(at, bytes.count) }
        }
    }
}

// MARK: - Harness

private enum End: Equatable {
    case complete(at: Int)  // counted from the first byte fed
    case failed(ResponseParseError)
    case needMore
}

/// Everything observable about one parse; two ways of feeding the same bytes must agree on all of it.
private struct Outcome: Equatable {
    var end: End
    var heads: [Int]
    var body: [UInt8]
    var status: Int
    var keepAlive: Bool
    var bodyBytes: Int
    var headBytes: Int
    var badSlices: Int

    /// Bodies compare with memcmp: element by element, the big capture at every split takes half a minute in debug.
    static func == (a: Outcome, b: Outcome) -> Bool {
        let sameBody = a.body.count == b.body.count && a.body.withUnsafeBytes { x in
            b.body.withUnsafeBytes { y in x.count == 0 || memcmp(x.baseAddress!, y.baseAddress!, x.count) == 0 }
        }
        return sameBody && a.end == b.end && a.heads == b.heads && a.status == b.status && a.keepAlive == b.keepAlive
            && a.bodyBytes == b.bodyBytes && a.headBytes == b.headBytes && a.badSlices == b.badSlices
    }
}

/// Collects what the parser reports, and counts body slices that are empty or outside the buffer
/// being parsed (the parser promises zero-copy slices of its input).
private struct CollectingSink: ResponseSink {
    var heads: [Int] = []
    var body: [UInt8] = []
    var input = UnsafeRawBufferPointer(start: nil, count: 0)
    var badSlices = 0

    mutating func responseHead(status: Int) { heads.append(status) }

    mutating func responseBody(_ bytes: UnsafeRawBufferPointer) {
        if let start = bytes.baseAddress, let inputStart = input.baseAddress, bytes.count > 0,
           start >= inputStart, start + bytes.count <= inputStart + input.count {
            body.append(contentsOf: bytes)
        } else {
            badSlices += 1
        }
    }
}

/// Feeds `data` in pieces ending at each of `cuts` (sorted, may repeat: empty pieces are fed too),
/// then the rest; stops at the first complete or failed step, else reports the peer's close.
private func feed(
    _ data: [UInt8], cuts: [Int], isHead: Bool = false, maxHeadBytes: Int = 64 * 1024, closeAtEnd: Bool = true
) -> Outcome {
    var parser = ResponseParser(maxHeadBytes: maxHeadBytes)
    parser.begin(isHeadRequest: isHead)
    var sink = CollectingSink()
    var end = End.needMore
    data.withUnsafeBytes { all in
        var start = 0
        for cut in cuts + [data.count] {
            sink.input = UnsafeRawBufferPointer(rebasing: all[start ..< cut])
            switch parser.parse(sink.input, into: &sink) {
            case .needMore: start = cut; continue
            case .complete(let consumed): end = .complete(at: start + consumed)
            case .failed(let error): end = .failed(error)
            }
            break
        }
    }
    if end == .needMore, closeAtEnd {
        switch parser.endOfInput(into: &sink) {
        case .needMore: break
        case .complete(let consumed): end = .complete(at: data.count + consumed)
        case .failed(let error): end = .failed(error)
        }
    }
    return Outcome(
        end: end, heads: sink.heads, body: sink.body, status: parser.status, keepAlive: parser.keepAlive,
        bodyBytes: parser.bodyBytes, headBytes: parser.headBytes, badSlices: sink.badSlices)
}

/// Fed whole, byte by byte, and in two pieces split at every index: all must give the same outcome,
/// which `check` then judges.
private func checkEverySplit(
    _ data: [UInt8], isHead: Bool = false, maxHeadBytes: Int = 64 * 1024, label: String,
    file: StaticString = #filePath, line: UInt = #line, _ check: (Outcome) -> Void
) {
    let whole = feed(data, cuts: [], isHead: isHead, maxHeadBytes: maxHeadBytes)
    check(whole)
    XCTAssertEqual(whole.badSlices, 0, label, file: file, line: line)
    XCTAssertEqual(whole.bodyBytes, whole.body.count, label, file: file, line: line)
    let bytewise = feed(data, cuts: Array(0 ... data.count), isHead: isHead, maxHeadBytes: maxHeadBytes)
    XCTAssertEqual(bytewise, whole, "\(label) byte by byte", file: file, line: line)
    for cut in 0 ... data.count {
        let split = feed(data, cuts: [cut], isHead: isHead, maxHeadBytes: maxHeadBytes)
        if split != whole {
            return XCTFail("\(label) split at \(cut): \(split.end) vs \(whole.end)", file: file, line: line)
        }
    }
}

@discardableResult
private func checkFixture(
    _ name: String, isHead: Bool = false, end: End, status: Int, body: String, keepAlive: Bool,
    announced: Bool = true, file: StaticString = #filePath, line: UInt = #line
) throws -> Outcome {
    try checkFixture(
        name, isHead: isHead, end: end, status: status, body: Array(body.utf8), keepAlive: keepAlive,
        announced: announced, file: file, line: line)
}

@discardableResult
private func checkFixture(
    _ name: String, isHead: Bool = false, end: End, status: Int, body: [UInt8], keepAlive: Bool,
    announced: Bool = true, file: StaticString = #filePath, line: UInt = #line
) throws -> Outcome {
    let data = try fixture(name)
    let whole = feed(data, cuts: [], isHead: isHead)
    checkEverySplit(data, isHead: isHead, label: name, file: file, line: line) { outcome in
        XCTAssertEqual(outcome.end, end, name, file: file, line: line)
        XCTAssertEqual(outcome.status, status, name, file: file, line: line)
        XCTAssertEqual(outcome.heads, announced ? [status] : [], name, file: file, line: line)
        XCTAssertEqual(outcome.body, body, name, file: file, line: line)
        XCTAssertEqual(outcome.keepAlive, keepAlive, name, file: file, line: line)
    }
    return whole
}

private func fixture(_ name: String) throws -> [UInt8] {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/http/\(name)")
    return try [UInt8](Data(contentsOf: url))
}

private func bytesAfterHead(_ wire: [UInt8]) throws -> [UInt8] {
    let data = Data(wire)
    let head = try XCTUnwrap(data.range(of: Data("\r\n\r\n".utf8)))
    return [UInt8](data[head.upperBound...])
}

/// An obviously correct chunked decoder over a whole CRLF capture, to check the real one against.
private func referenceDechunk(_ wire: [UInt8]) throws -> [UInt8] {
    let data = Data(wire)
    let crlf = Data("\r\n".utf8)
    var at = try XCTUnwrap(data.range(of: Data("\r\n\r\n".utf8))).upperBound
    var body = Data()
    while true {
        let lineEnd = try XCTUnwrap(data.range(of: crlf, in: at ..< data.endIndex))
        let line = String(decoding: data[at ..< lineEnd.lowerBound], as: UTF8.self)
        let size = try XCTUnwrap(Int(line.split(separator: ";")[0].trimmingCharacters(in: .whitespaces), radix: 16))
        at = lineEnd.upperBound
        if size == 0 { break }
        body.append(data[at ..< at + size])
        XCTAssertEqual(data[at + size ..< at + size + 2], crlf)
        at += size + 2
    }
    XCTAssertEqual(data[at...], crlf)  // no trailers in these captures
    return [UInt8](body)
}

// MARK: - Random responses


/// Split points for one feed: sometimes every byte, otherwise up to six random ones.
private func randomCuts(_ count: Int, _ rng: inout TestRandom) -> [Int] {
    if rng.chance(10) { return Array(0 ... count) }
    return (0 ..< rng.below(7)).map { _ in rng.below(count + 1) }.sorted()
}

/// A valid response with random framing, header case, whitespace, line ends, chunking and body,
/// and what it must parse to.
private struct RandomResponse {
    var bytes: [UInt8] = []
    var length = 0  // of the response; unrelated bytes may follow it
    var status = 200
    var body: [UInt8] = []
    var keepAlive = true
    var isHead = false

    static func make(_ rng: inout TestRandom) -> RandomResponse {
        var r = RandomResponse()
        var text: [UInt8] = []
        func put(_ s: String) { text += Array(s.utf8) }
        func eol() -> String { rng.chance(75) ? "\r\n" : "\n" }
        func ows() -> String { rng.pick(["", "", " ", "\t", "  \t"]) }
        func mixCase(_ s: String) -> String { String(s.map { rng.chance(50) ? Character($0.uppercased()) : $0 }) }
        func printable(_ n: Int) -> String { String((0 ..< n).map { _ in Character(Unicode.Scalar(UInt8(0x20 + rng.below(0x5F)))) }) }

        if rng.chance(15) {
            put("HTTP/1.1 100 Continue" + eol())
            if rng.chance(50) { put("X-Interim: " + printable(rng.below(20)) + eol()) }
            put(eol())
        }
        let minor = rng.chance(20) ? 0 : 1
        r.status = rng.pick([200, 200, 201, 204, 304, 404, 500, 503])
        r.isHead = rng.chance(10)
        put("HTTP/1.\(minor) \(r.status)" + rng.pick(["", " ", " OK", " Some Reason", "  "]) + eol())

        let framing = rng.below(10)
        let chunked = framing < 4, lengthDelimited = framing >= 4 && framing < 8
        let bodyLength = rng.chance(5) ? 0 : rng.chance(3) ? rng.below(20_000) : rng.below(2_000)
        let body = (0 ..< bodyLength).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        let fillers = ["Date", "Server", "Content-Type", "X-Request-Id", "Vary", "Content-Lengthy", "X-Connection", "Transfer-Encodings", "Connectio"]
        var headers = (0 ..< rng.below(6)).map { _ in mixCase(rng.pick(fillers)) + ":" + printable(rng.below(30)) }
        if chunked {
            headers.append(mixCase("Transfer-Encoding") + ":" + ows() + (rng.chance(20) ? "gzip, " : "") + mixCase("chunked") + ows())
        }
        if lengthDelimited { headers.append(mixCase("Content-Length") + ":" + ows() + String(bodyLength) + ows()) }
        let connection = rng.pick(["", "close", "keep-alive", "Keep-Alive, Upgrade", "TE,close", "upgrade"])
        if !connection.isEmpty { headers.append(mixCase("Connection") + ":" + ows() + mixCase(connection) + ows()) }
        headers.shuffle(using: &rng)
        for header in headers { put(header + eol()) }
        put(eol())

        let close = connection.lowercased().contains("close")
        r.keepAlive = minor == 1 ? !close : connection.lowercased().contains("keep-alive") && !close
        let hasBody = !(r.isHead || r.status == 204 || r.status == 304)
        if hasBody {
            r.body = body
            if chunked {
                if minor == 0 { r.keepAlive = false }
                var at = 0
                while at < body.count {
                    let n = min(body.count - at, 1 + rng.below(rng.chance(50) ? 16 : 700))
                    let size = rng.pick(["", "0", "00"]) + String(n, radix: 16, uppercase: rng.chance(50))
                    put(size + rng.pick(["", "", ";a=b", ";q=\"x;y\"", " ;z"]) + eol())
                    text += body[at ..< at + n]
                    put(eol())
                    at += n
                }
                put("0" + rng.pick(["", ";end"]) + eol())
                if rng.chance(20) { put("X-Trailer: " + printable(rng.below(20)) + eol()) }
                put(eol())
            } else {
                text += body
                if !lengthDelimited { r.keepAlive = false }
            }
        }
        r.length = text.count
        let closeDelimited = hasBody && !chunked && !lengthDelimited
        if !closeDelimited, rng.chance(30) { put(rng.pick(["HTTP/1.1 200 OK\r\n\r\n", "\r\n", "garbage"])) }
        r.bytes = text
        return r
    }
}
