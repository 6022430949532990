// Bad input answered as vLLM would: 400/404/405/413 with error JSON; framing errors close; fuzz.
import XCTest
@testable import LLMSim
import MetronomeCore

final class BadInputTests: XCTestCase {
    func assertError(_ response: WireResponse, _ status: Int, containing text: String? = nil, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(response.status, status, response.bodyText, file: file, line: line)
        let error = response.json(file: file, line: line)
        XCTAssertEqual(error["object"] as? String, "error", file: file, line: line)
        XCTAssertEqual(error["code"] as? Int, status, file: file, line: line)
        XCTAssertNotNil(error["type"] as? String, file: file, line: line)
        XCTAssertTrue(error.keys.contains("param"), file: file, line: line)
        if let text { XCTAssertTrue((error["message"] as? String ?? "").contains(text), "\(error)", file: file, line: line) }
    }

    func testInvalidRequestsGetErrorJSONAndTheConnectionStaysUsable() throws {
        let cases: [(String, String, Int, String)] = [
            ("/v1/chat/completions", #"{"messages": [ {"role": "user""#, 400, "JSON"),
            ("/v1/chat/completions", #"[1, 2]"#, 400, "object"),
            ("/v1/chat/completions", #"{"max_tokens": 5}"#, 400, "messages"),
            ("/v1/chat/completions", #"{"messages": []}"#, 400, "messages"),
            ("/v1/chat/completions", #"{"messages": [{"content": "no role"}]}"#, 400, "role"),
            ("/v1/completions", #"{"max_tokens": 5}"#, 400, "prompt"),
            ("/v1/completions", #"{"prompt": {"a": 1}}"#, 400, "prompt"),
            ("/v1/completions", #"{"prompt": "hi", "max_tokens": 0}"#, 400, "max_tokens"),
            ("/v1/completions", #"{"prompt": "hi", "max_tokens": -3}"#, 400, "max_tokens"),
            ("/v1/completions", #"{"prompt": "hi", "max_tokens": "abc"}"#, 400, "max_tokens"),
            ("/v1/completions", #"{"prompt": "hi", "max_tokens": 2.5}"#, 400, "max_tokens"),
            ("/v1/completions", #"{"prompt": "hi", "max_tokens": true}"#, 400, "max_tokens"),
            ("/v1/completions", #"{"prompt": "hi", "max_tokens": 100000}"#, 400, "maximum context length"),
            ("/v1/completions", #"{"prompt": "hi", "max_tokens": 9223372036854775807}"#, 400, "maximum context length"),
            ("/v1/completions", #"{"prompt": "hi", "max_tokens": 5, "min_tokens": 6}"#, 400, "min_tokens"),
            ("/v1/completions", #"{"prompt": "hi", "stream": "yes"}"#, 400, "stream"),
            ("/v1/completions", #"{"prompt": "hi", "stream_options": {"include_usage": true}}"#, 400, "stream=True"),
            ("/v1/completions", #"{"prompt": "hi", "model": "gpt-4"}"#, 404, "does not exist"),
            ("/v1/embeddings", #"{}"#, 404, "Not Found"),
        ]
        try withServer(quickConfig()) { server in
            let client = try RawClient(port: server.port)
            for (path, body, status, text) in cases {
                client.send(post(path, body))
                assertError(client.readResponse(), status, containing: text)
            }
            client.send("GET /v1/chat/completions HTTP/1.1\r\n\r\n")
            let wrongMethod = client.readResponse()
            assertError(wrongMethod, 405)
            XCTAssertEqual(wrongMethod.headers["allow"], "POST")
            client.send("POST /health HTTP/1.1\r\nContent-Length: 0\r\n\r\n")
            assertError(client.readResponse(), 405)
            client.send(post("/v1/completions", #"{"prompt": "hi", "max_tokens": 2, "model": "llmsim"}"#))
            XCTAssertEqual(client.readResponse().status, 200, "after all that, the same connection still serves")
            XCTAssertEqual(server.stats.connectionsAccepted, 1)
        }
    }

    func testMalformedRequestLineIs400AndClose() throws {
        try withServer(quickConfig()) { server in
            let client = try RawClient(port: server.port)
            client.send("THIS IS NOT HTTP\r\n\r\n")
            let response = client.readResponse()
            assertError(response, 400)
            XCTAssertEqual(response.headers["connection"], "close")
            XCTAssertTrue(client.receiveUntilClosed().isEmpty, "then the server closes")
        }
    }

    func testOversizeBodyIs413AndClose() throws {
        try withServer(quickConfig { $0.maxBodyBytes = 100 }) { server in
            let client = try RawClient(port: server.port)
            client.send(post("/v1/completions", #"{"prompt": ""# + String(repeating: "x", count: 200) + #""}"#))
            let response = client.readResponse()
            assertError(response, 413)
            XCTAssertEqual(response.headers["connection"], "close")
            let chunked = try RawClient(port: server.port)
            chunked.send("POST /v1/completions HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" + String(repeating: "20\r\n" + String(repeating: "y", count: 32) + "\r\n", count: 5))
            assertError(chunked.readResponse(), 413)
        }
    }

    /// Issue 9, item 1: `max_tokens` 2^63−1 trapped on `promptTokens + maxTokens` and killed the
    /// server; 2^63 came back as −2^63. Each now gets a 400 quoting the client's digits, on both
    /// endpoints, and the same connection (and a new one) still serves.
    func testHugeNumbersGet400AndTheServerKeepsServing() throws {
        let cases: [(String, String)] = [
            ("9223372036854775807", "is too large: 9223372036854775807. This model's maximum context length is 8192 tokens"),
            ("9223372036854775808", "is too large: 9223372036854775808."),
            ("18446744073709551616", "is too large: 18446744073709551616."),
            ("-9223372036854775809", "max_tokens must be at least 1, got -9223372036854775809."),
            ("-5", "max_tokens must be at least 1, got -5."),
            ("2.5", "got a number with a fractional part"),
            ("1e400", "JSON decode error"),
            ("1e30", "is too large: 1e+30."),
        ]
        try withServer(quickConfig()) { server in
            let client = try RawClient(port: server.port)
            for (number, text) in cases {
                client.send(post("/v1/chat/completions", #"{"messages":[{"role":"user","content":"hi"}],"max_tokens":\#(number)}"#))
                assertError(client.readResponse(), 400, containing: text)
                client.send(post("/v1/completions", #"{"prompt":"hi","max_tokens":\#(number)}"#))
                assertError(client.readResponse(), 400, containing: text)
            }
            client.send(post("/v1/chat/completions", #"{"messages":[{"role":"user","content":"hi"}],"max_completion_tokens":9223372036854775807}"#))
            assertError(client.readResponse(), 400, containing: "is too large: 9223372036854775807.")
            client.send(post("/v1/chat/completions", chatBody(maxTokens: 2)))
            XCTAssertEqual(client.readResponse().status, 200, "the same connection still serves")
            let fresh = try RawClient(port: server.port)
            fresh.send(post("/v1/completions", #"{"prompt":"hi","max_tokens":2}"#))
            XCTAssertEqual(fresh.readResponse().status, 200, "and a new one")
            XCTAssertFalse(server.hasFinished)
        }
    }

    /// Framing numbers of any length: HTTP allows leading zeros, and a length past every limit
    /// is 413 (it used to be 400 past 18 digits, and 15 hex digits for a chunk).
    func testLongContentLengthsAndChunkSizesAreReadWithoutOverflow() throws {
        try withServer(quickConfig { $0.maxBodyBytes = 4096 }) { server in
            let body = chatBody(maxTokens: 2)
            let client = try RawClient(port: server.port)
            client.send("POST /v1/chat/completions HTTP/1.1\r\nContent-Length: 0000000000000000000000\(body.utf8.count)\r\n\r\n\(body)")
            XCTAssertEqual(client.readResponse().status, 200)
            client.send("POST /v1/chat/completions HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n00000000000000000000"
                + String(body.utf8.count, radix: 16) + "\r\n" + body + "\r\n0\r\n\r\n")
            XCTAssertEqual(client.readResponse().status, 200)
            for huge in ["Content-Length: 99999999999999999999999999", "Content-Length: 9223372036854775808"] {
                let c = try RawClient(port: server.port)
                c.send("POST /v1/completions HTTP/1.1\r\n\(huge)\r\n\r\n")
                assertError(c.readResponse(), 413)
            }
            let chunked = try RawClient(port: server.port)
            chunked.send("POST /v1/completions HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffffffffff\r\n")
            assertError(chunked.readResponse(), 413)
            XCTAssertFalse(server.hasFinished)
        }
    }

    func testChunkedAndExpectContinueBodiesAreAccepted() throws {
        try withServer(quickConfig()) { server in
            let client = try RawClient(port: server.port)
            let body = chatBody(maxTokens: 2)
            let half = body.utf8.count / 2
            client.send("POST /v1/chat/completions HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                + String(half, radix: 16) + "\r\n" + String(body.prefix(half)) + "\r\n"
                + String(body.utf8.count - half, radix: 16) + "\r\n" + String(body.dropFirst(half)) + "\r\n0\r\n\r\n")
            XCTAssertEqual(client.readResponse().status, 200)
            client.send("POST /v1/chat/completions HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: \(body.utf8.count)\r\n\r\n")
            XCTAssertEqual(client.readResponse().status, 100)
            client.send(body)
            XCTAssertEqual(client.readResponse().status, 200)
        }
    }

    /// Seeded garbage, whole and mutated requests, on many connections, each then half-closed:
    /// the server answers what it can and closes every one, never crashes or wedges, and a valid
    /// request on a new connection still works.
    func testRandomGarbageNeverCrashesTheServer() throws {
        let valid = Array(post("/v1/chat/completions", chatBody(maxTokens: 3, stream: true)).utf8)
        let pieces = ["GET ", "POST ", "/v1/completions", " HTTP/1.1", "\r\n", "\n", ":", "Content-Length: ", "Transfer-Encoding: chunked",
                      "0", "ffffffffffffffffffff", "\r\n\r\n", "{", "\"messages\"", "\u{0}", "\u{7F}", "é"].map { Array($0.utf8) }
        var random = SimRandom(seed: 11, stream: 0)
        try withServer(quickConfig { $0.maxBodyBytes = 4096 }) { server in
            for round in 0..<300 {
                var bytes: [UInt8]
                switch round % 3 {
                case 0:
                    bytes = (0..<(1 + random.below(600))).map { _ in UInt8(truncatingIfNeeded: random.next()) }
                case 1:
                    bytes = valid
                    for _ in 0..<(1 + random.below(8)) {
                        let at = random.below(bytes.count)
                        switch random.below(3) {
                        case 0: bytes[at] = UInt8(truncatingIfNeeded: random.next())
                        case 1: bytes.insert(contentsOf: pieces[random.below(pieces.count)], at: at)
                        default: bytes.removeSubrange(at..<min(bytes.count, at + random.below(20) + 1))
                        }
                        if bytes.isEmpty { bytes = valid }
                    }
                default:
                    bytes = (0..<(1 + random.below(40))).flatMap { _ in pieces[random.below(pieces.count)] }
                }
                let client = try RawClient(port: server.port)
                client.send(bytes)
                shutdown(client.fd, Int32(SHUT_WR))
                let answer = String(decoding: client.receiveUntilClosed(), as: UTF8.self)
                XCTAssertTrue(answer.isEmpty || answer.hasPrefix("HTTP/1.1 "), "round \(round): \(answer.prefix(80))")
            }
            XCTAssertFalse(server.hasFinished)
            let client = try RawClient(port: server.port)
            client.send(valid)
            let response = client.readResponse()
            XCTAssertEqual(response.status, 200)
            XCTAssertTrue(response.complete)
            XCTAssertEqual(response.events.last, "[DONE]")
            let deadline = monotonicNs() + 2_000_000_000
            while server.stats.connectionsClosed < server.stats.connectionsAccepted - 1 && monotonicNs() < deadline { sleepMs(1) }
            XCTAssertEqual(server.stats.connectionsClosed, server.stats.connectionsAccepted - 1, "every hung-up connection was closed")
            print("after fuzz: \(server.stats)")
        }
    }
}
