// A server that echoes the credentials it was sent: in a 401 body, a 403 text and a stream's error
// event. None of them may reach a report file, the request log or what the run prints.
import Foundation
import XCTest
@testable import MetronomeCore

final class SecretLeakTests: XCTestCase {
    static let key = "sk-live-4f9a8b7c6d5e4f3a2b1c"
    static let token = "tok-7d1e2f3a4b5c6d"
    static let cookie = "sess-9a8b7c6d5e4f3a"

    private var directory = ""

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "metronome-secret-leak-\(getpid())-\(UInt64.random(in: 0..<UInt64.max))"
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Answers in turn: 401 quoting `Authorization` and the token header in a JSON error; a 200
    /// stream whose error event names the bare key and the cookie; a 403 plain text quoting the
    /// cookie header; a 200 stream that ends well.
    static func echoingServer() throws -> ScriptedServer {
        try ScriptedServer { request, number in
            let authorization = request.header("authorization") ?? ""
            let bareKey = authorization.split(separator: " ").last.map(String.init) ?? ""
            let tokenHeader = request.header("x-auth-token") ?? ""
            let cookieHeader = request.header("cookie") ?? ""
            let sessionValue = cookieHeader.split(separator: ";").first?.split(separator: "=").last.map(String.init) ?? ""
            switch number % 4 {
            case 0:
                return ScriptedServer.response(status: 401, reason: "Unauthorized", body:
                    #"{"error":{"message":"invalid credentials: \#(authorization) (token \#(tokenHeader))","type":"invalid_request_error"}}"#)
            case 1:
                let events = #"data: {"id":"x","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant"}}]}"# + "\n\n"
                    + #"data: {"error":{"message":"stream aborted: key \#(bareKey) revoked for session \#(sessionValue)","code":500}}"# + "\n\n"
                    + "data: [DONE]\n\n"
                return ScriptedServer.response(status: 200, contentType: "text/event-stream", body: events)
            case 2:
                return ScriptedServer.response(status: 403, reason: "Forbidden", contentType: "text/plain", body: "forbidden for cookie \(cookieHeader)")
            default:
                let events = #"data: {"id":"x","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"hi"}}]}"# + "\n\n"
                    + #"data: {"id":"x","object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":1}}"# + "\n\n"
                    + "data: [DONE]\n\n"
                return ScriptedServer.response(status: 200, contentType: "text/event-stream", body: events)
            }
        }
    }

    func testCredentialsEchoedByTheServerReachNoFileAndNoOutput() throws {
        let server = try Self.echoingServer()
        defer { server.shutdown() }
        let requestLog = directory + "-requests.csv"
        defer { try? FileManager.default.removeItem(atPath: requestLog) }
        let options = try OptionTable.parse([
            "http://127.0.0.1:\(server.port)/v1", "--api-key", Self.key, "--header", "X-Auth-Token: \(Self.token)",
            "--header", "Cookie: session=\(Self.cookie); theme=dark", "--model", "m", "--stream",
            "--rate", "40", "--duration", "1s", "--arrival", "constant", "--quiet", "--request-log", requestLog,
        ])
        let load = try LoadRun(options: options)
        let (summary, _) = try load.execute(handlesSignals: false)

        // The server did echo: each kind of failure came back with a message, masked.
        XCTAssertEqual(summary.total.scheduled, 40)
        XCTAssertEqual(Set(summary.failures.map { "\($0.kind) \($0.status)" }), ["http_error 401", "http_error 403", "stream_error 0"])
        XCTAssertEqual(summary.errorMessages.count, 3, "\(summary.errorMessages)")
        XCTAssertTrue(summary.errorMessages.allSatisfy { $0.message.contains("***") }, "\(summary.errorMessages)")

        // What main writes and prints.
        let written = try ReportFiles.write(summary, latency: load.stats.total.latency, serviceTime: load.stats.total.serviceTime,
                                            directory: directory, prefix: "leak",
                                            html: HTMLReport.render(summary, title: "Metronome: \(summary.target)"))
        var outputs: [(String, String)] = try written.map { ($0, try String(contentsOfFile: $0, encoding: .utf8)) }
        outputs.append(("request log", try String(contentsOfFile: requestLog, encoding: .utf8)))
        outputs.append(("stdout text", TextReport.render(summary, planDescription: TextReport.describe(load.plan))))
        outputs.append(("stdout --json", JSONReport.render(summary)))
        XCTAssertEqual(written.count, 7)
        for (name, text) in outputs {
            for secret in [Self.key, Self.token, Self.cookie] {
                XCTAssertFalse(text.contains(secret), "\(name) shows \(secret)")
            }
        }
        // The request log carries each failed request's own error text, masked.
        let logText = try String(contentsOfFile: requestLog, encoding: .utf8)
        XCTAssertTrue(logText.contains("\"invalid credentials: *** (token ***)\""), logText)
        XCTAssertTrue(logText.contains("\"forbidden for cookie ***\""), logText)
        let failures = try XCTUnwrap(outputs.first { $0.0.hasSuffix("_failures.csv") }?.1)
        XCTAssertTrue(failures.contains("HTTP 401: invalid credentials: *** (token ***)"), failures)
        XCTAssertTrue(failures.contains("stream aborted: key *** revoked for session ***"), failures)
    }

    /// JSON lines: every failed request's line has the server's text with each credential masked.
    func testRequestLogJSONLinesMaskEchoedCredentials() throws {
        let server = try Self.echoingServer()
        defer { server.shutdown() }
        let requestLog = directory + "-requests.jsonl"
        defer { try? FileManager.default.removeItem(atPath: requestLog) }
        let options = try OptionTable.parse([
            "http://127.0.0.1:\(server.port)/v1", "--api-key", Self.key, "--header", "X-Auth-Token: \(Self.token)",
            "--header", "Cookie: session=\(Self.cookie); theme=dark", "--model", "m", "--stream",
            "--rate", "40", "--duration", "500ms", "--arrival", "constant", "--quiet", "--no-files", "--request-log", requestLog,
        ])
        let (summary, _) = try LoadRun(options: options).execute(handlesSignals: false)
        let text = try String(contentsOfFile: requestLog, encoding: .utf8)
        for secret in [Self.key, Self.token, Self.cookie] { XCTAssertFalse(text.contains(secret), "the log shows \(secret)") }
        let lines = try text.split(separator: "\n").map { try XCTUnwrap(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        XCTAssertEqual(UInt64(lines.count), summary.total.scheduled)
        var errors: [String: String] = [:]
        for line in lines where line["outcome"] as? String != "success" {
            errors["\(line["outcome"]!) \(line["status"]!)"] = try XCTUnwrap(line["error"] as? String, "\(line)")
        }
        XCTAssertEqual(errors, ["http_error 401": "invalid credentials: *** (token ***)",
                                "stream_error 200": "stream aborted: key *** revoked for session ***",
                                "http_error 403": "forbidden for cookie ***"])
    }
}
