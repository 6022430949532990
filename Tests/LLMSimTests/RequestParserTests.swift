// Request parser fixtures, fed whole, byte by byte, and split at every index.
import XCTest
@testable import LLMSim

final class RequestParserTests: XCTestCase {
    struct Parsed: Equatable {
        var head: RequestHead
        var body: [UInt8]
    }

    /// Delivers `bytes` in pieces ending at `cuts`, parsing as the server does: every complete
    /// request is taken off the front of the buffer and the parser reset for the next.
    func parseStream(_ bytes: [UInt8], cuts: [Int], maxBodyBytes: Int = 1 << 20) -> (requests: [Parsed], failure: ParseFailure?, continueOwedSeen: Bool) {
        var parser = RequestParser(maxBodyBytes: maxBodyBytes)
        var decoded = ByteBuffer()
        var buffer: [UInt8] = []
        var requests: [Parsed] = []
        var delivered = 0
        var continueSeen = false
        for cut in cuts.map({ min($0, bytes.count) }) + [bytes.count] where cut > delivered {
            buffer += bytes[delivered..<cut]
            delivered = cut
            while !buffer.isEmpty {
                let outcome = buffer.withUnsafeBytes { parser.parse($0, decodedBody: &decoded) }
                if parser.continueOwed {
                    continueSeen = true
                    parser.continueSent()
                }
                switch outcome {
                case .needMore:
                    break
                case .failed(let failure):
                    return (requests, failure, continueSeen)
                case .complete(let consumed, let offset, let length):
                    let body = offset >= 0 ? Array(buffer[offset..<offset + length]) : decoded.array
                    requests.append(Parsed(head: parser.head, body: body))
                    buffer.removeFirst(consumed)
                    decoded.clear()
                    parser.reset()
                    continue
                }
                break
            }
        }
        return (requests, nil, continueSeen)
    }

    /// Whole, byte by byte, and every two-piece split give the same result.
    func assertEverySplit(_ text: String, maxBodyBytes: Int = 1 << 20, file: StaticString = #filePath, line: UInt = #line,
                          check: ([Parsed], ParseFailure?) -> Void) {
        let bytes = Array(text.utf8)
        let whole = parseStream(bytes, cuts: [], maxBodyBytes: maxBodyBytes)
        check(whole.requests, whole.failure)
        let byteByByte = parseStream(bytes, cuts: Array(0..<bytes.count), maxBodyBytes: maxBodyBytes)
        XCTAssertEqual(byteByByte.requests, whole.requests, "byte by byte", file: file, line: line)
        XCTAssertEqual(byteByByte.failure, whole.failure, "byte by byte", file: file, line: line)
        for split in 1..<bytes.count {
            let parsed = parseStream(bytes, cuts: [split], maxBodyBytes: maxBodyBytes)
            XCTAssertEqual(parsed.requests, whole.requests, "split at \(split)", file: file, line: line)
            XCTAssertEqual(parsed.failure, whole.failure, "split at \(split)", file: file, line: line)
        }
    }

    func testGetWithoutBody() {
        assertEverySplit("GET /health HTTP/1.1\r\nHost: x\r\nUser-Agent: t\r\n\r\n") { requests, failure in
            XCTAssertNil(failure)
            XCTAssertEqual(requests.count, 1)
            XCTAssertEqual(requests.first?.head.method, .get)
            XCTAssertEqual(requests.first?.head.route, .health)
            XCTAssertEqual(requests.first?.head.keepAlive, true)
            XCTAssertEqual(requests.first?.body, [])
        }
    }

    func testContentLengthBody() {
        let body = #"{"messages":[{"role":"user","content":"hi"}]}"#
        assertEverySplit("POST /v1/chat/completions?x=1 HTTP/1.1\r\ncontent-LENGTH:  \(body.utf8.count) \r\n\r\n\(body)") { requests, failure in
            XCTAssertNil(failure)
            XCTAssertEqual(requests.count, 1)
            XCTAssertEqual(requests.first?.head.method, .post)
            XCTAssertEqual(requests.first?.head.route, .chatCompletions)
            XCTAssertEqual(requests.first?.body, Array(body.utf8))
        }
    }

    func testChunkedBodyWithExtensionsAndTrailers() {
        let text = "POST /v1/completions HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "5;name=value\r\nhello\r\n1A\r\n abcdefghijklmnopqrstuvwxy\r\n0\r\nX-Trailer: yes\r\n\r\n"
        assertEverySplit(text) { requests, failure in
            XCTAssertNil(failure)
            XCTAssertEqual(requests.count, 1)
            XCTAssertEqual(requests.first?.head.route, .completions)
            XCTAssertEqual(requests.first.map { String(decoding: $0.body, as: UTF8.self) }, "hello abcdefghijklmnopqrstuvwxy")
        }
    }

    func testKeepAliveSequenceOfThree() {
        let text = "GET /v1/models HTTP/1.1\r\n\r\n"
            + "POST /v1/completions HTTP/1.1\r\nContent-Length: 2\r\n\r\nab"
            + "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nxyz\r\n0\r\n\r\n"
        assertEverySplit(text) { requests, failure in
            XCTAssertNil(failure)
            XCTAssertEqual(requests.map(\.head.route), [.models, .completions, .unknown])
            XCTAssertEqual(requests.map { String(decoding: $0.body, as: UTF8.self) }, ["", "ab", "xyz"])
            XCTAssertEqual(requests.map(\.head.keepAlive), [true, true, false])
        }
    }

    func testHTTP10AndBareLineFeeds() {
        assertEverySplit("\r\nGET /health HTTP/1.0\nConnection: keep-alive\n\nGET /health HTTP/1.0\n\n") { requests, failure in
            XCTAssertNil(failure)
            XCTAssertEqual(requests.map(\.head.http11), [false, false])
            XCTAssertEqual(requests.map(\.head.keepAlive), [true, false])
        }
    }

    func testExpectContinueIsOwedUntilTheBodyArrives() {
        let bytes = Array("POST /v1/completions HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc".utf8)
        let headOnly = bytes.count - 3
        XCTAssertTrue(parseStream(bytes, cuts: [headOnly]).continueOwedSeen)
        XCTAssertFalse(parseStream(bytes, cuts: []).continueOwedSeen, "the body came with the head: nothing to wait for")
    }

    func testMalformedInputsFailWithTheirStatus() {
        let cases: [(String, ParseFailure)] = [
            ("GARBAGE\r\n\r\n", .badRequestLine),
            ("GET  /health HTTP/1.1\r\n\r\n", .badRequestLine),
            ("GET /health\r\n\r\n", .badRequestLine),
            ("GET /health HTTP/2.0\r\n\r\n", .badVersion),
            ("GET /health HTTP/1.1\r\nBad Header: x\r\n\r\n", .badHeader),
            ("GET /health HTTP/1.1\r\nA: b\r\n folded\r\n\r\n", .badHeader),
            ("POST /v1/completions HTTP/1.1\r\nContent-Length: 12x\r\n\r\n", .badContentLength),
            ("POST /v1/completions HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", .conflictingLength),
            ("POST /v1/completions HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", .conflictingLength),
            ("POST /v1/completions HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", .unsupportedTransferEncoding),
            ("POST /v1/completions HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", .badChunk),
            ("POST /v1/completions HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabX\r\n", .badChunk),
        ]
        for (text, expected) in cases {
            assertEverySplit(text) { requests, failure in
                XCTAssertEqual(requests.count, 0, text)
                XCTAssertEqual(failure, expected, text)
            }
        }
        XCTAssertEqual(ParseFailure.badRequestLine.status, 400)
        XCTAssertEqual(ParseFailure.badVersion.status, 505)
        XCTAssertEqual(ParseFailure.unsupportedTransferEncoding.status, 501)
    }

    func testOversizeBodiesAre413() {
        assertEverySplit("POST /v1/completions HTTP/1.1\r\nContent-Length: 101\r\n\r\n", maxBodyBytes: 100) { _, failure in
            XCTAssertEqual(failure, .bodyTooLarge)
        }
        let chunked = "POST /v1/completions HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n32\r\n" + String(repeating: "a", count: 50)
            + "\r\n33\r\n" + String(repeating: "b", count: 51) + "\r\n0\r\n\r\n"
        assertEverySplit(chunked, maxBodyBytes: 100) { _, failure in
            XCTAssertEqual(failure, .bodyTooLarge)
            XCTAssertEqual(failure?.status, 413)
        }
        assertEverySplit("POST /v1/completions HTTP/1.1\r\nContent-Length: 100\r\n\r\n" + String(repeating: "c", count: 100), maxBodyBytes: 100) { requests, failure in
            XCTAssertNil(failure, "exactly the limit is allowed")
            XCTAssertEqual(requests.first?.body.count, 100)
        }
    }

    func testHeadLimits() {
        let longLine = "GET /" + String(repeating: "a", count: RequestParser.maxRequestLineBytes + 10) + " HTTP/1.1\r\n\r\n"
        XCTAssertEqual(parseStream(Array(longLine.utf8), cuts: []).failure, .uriTooLong)
        XCTAssertEqual(parseStream(Array(longLine.utf8), cuts: [RequestParser.maxRequestLineBytes + 5]).failure, .uriTooLong,
                       "refused before the line ends")
        let manyHeaders = "GET /health HTTP/1.1\r\n" + String(repeating: "X-A: b\r\n", count: RequestParser.maxHeaderCount + 1) + "\r\n"
        XCTAssertEqual(parseStream(Array(manyHeaders.utf8), cuts: []).failure, .headTooLarge)
        let hugeHeader = "GET /health HTTP/1.1\r\nX-A: " + String(repeating: "b", count: RequestParser.maxHeadBytes) + "\r\n\r\n"
        XCTAssertEqual(parseStream(Array(hugeHeader.utf8), cuts: [RequestParser.maxHeadBytes + 10]).failure, .headTooLarge)
    }
}
