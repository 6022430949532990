// TTFT from the first byte sent and the per-request log, against llmsim with a known time model.
import Foundation
import LLMSim
import XCTest
@testable import MetronomeCore

final class RequestLogEndToEndTests: XCTestCase {
    private var paths: [String] = []

    override func tearDown() {
        for path in paths { try? FileManager.default.removeItem(atPath: path) }
    }

    func temporaryPath(_ suffix: String) -> String {
        let path = NSTemporaryDirectory() + "metronome-requestlog-\(getpid())-\(UInt64.random(in: 0..<UInt64.max))\(suffix)"
        paths.append(path)
        return path
    }

    func startServer(_ configure: (inout SimConfig) -> Void) throws -> SimServer {
        var config = SimConfig()
        config.port = 0
        config.jitter = 0
        config.prefillPerTokenNs = 0
        configure(&config)
        let server = try SimServer.startInBackground(config: config)
        addTeardownBlock { server.stop() }
        return server
    }

    func run(_ arguments: [String], port: UInt16) throws -> RunSummary {
        let options = try OptionTable.parse(["http://127.0.0.1:\(port)", "--quiet", "--no-files", "--arrival", "constant"] + arguments)
        return try LoadRun(options: options).execute(handlesSignals: false).0
    }

    /// Each line of a JSON-lines file as an object.
    func lines(_ path: String) throws -> [[String: Any]] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        XCTAssertTrue(text.hasSuffix("\n"))
        return try text.split(separator: "\n").map { line in
            try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], String(line))
        }
    }

    static let keys: Set<String> = ["id", "stage", "intended_ns", "sent_ns", "first_token_ns", "completed_ns", "status", "outcome", "bytes",
                                    "prompt_tokens", "completion_tokens", "ttft_ms", "ttft_sent_ms", "tpot_ms", "error"]

    /// With one connection and a server that takes ~55 ms a request, 40 requests in a second queue
    /// up: TTFT from the intended start grows with the wait, TTFT from the first byte sent stays the
    /// server's 50 ms. Per request, the two differ by exactly the send lag.
    func testTTFTFromTheSentByteExcludesTheQueueWait() throws {
        let server = try startServer { $0.ttftNs = 50_000_000; $0.itlNs = 1_000_000 }
        let log = temporaryPath(".jsonl")
        let summary = try run(["--rate", "40", "--duration", "1s", "--max-tokens", "5", "--ignore-eos", "--max-connections", "1",
                               "--request-log", log], port: server.port)
        XCTAssertEqual(summary.total.succeeded, 40)
        XCTAssertEqual(summary.total.ttftSent.count, 40)
        XCTAssertEqual(summary.total.ttftSent.p50, 50, accuracy: 10, "the server's TTFT")
        XCTAssertLessThan(summary.total.ttftSent.p95, 100)
        XCTAssertGreaterThan(summary.total.ttft.p50, summary.total.ttftSent.p50 + 300, "the queue wait is in TTFT from the intended start")
        XCTAssertGreaterThan(summary.total.ttft.max, 800)
        for line in try lines(log) {
            let ttft = try XCTUnwrap(line["ttft_ms"] as? Double), ttftSent = try XCTUnwrap(line["ttft_sent_ms"] as? Double)
            let lagMs = Double(try XCTUnwrap(line["sent_ns"] as? Int) - (try XCTUnwrap(line["intended_ns"] as? Int))) / 1e6
            XCTAssertLessThanOrEqual(ttftSent, ttft)
            XCTAssertEqual(ttft - ttftSent, lagMs, accuracy: 0.0015, "TTFT − TTFT from send = send lag (µs rounding)")
        }
        // Without a queue the two agree with the server's TTFT.
        let free = try run(["--rate", "10", "--duration", "1s", "--max-tokens", "5", "--ignore-eos"], port: server.port)
        XCTAssertEqual(free.total.ttftSent.p50, 50, accuracy: 10)
        XCTAssertEqual(free.total.ttft.p50, free.total.ttftSent.p50, accuracy: 3)
        // Every stage and the JSON carry it beside ttft_ms, shaped the same.
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(JSONReport.render(summary).utf8)) as? [String: Any])
        let ttftSent = try XCTUnwrap(json["ttft_sent_ms"] as? [String: Any])
        XCTAssertEqual(Set(ttftSent.keys), Set(try XCTUnwrap(json["ttft_ms"] as? [String: Any]).keys))
        XCTAssertEqual(ttftSent["count"] as? Int, 40)
        let stage = try XCTUnwrap((json["stages"] as? [[String: Any]])?.first)
        XCTAssertNotNil(stage["ttft_sent_ms"] as? [String: Any])
        XCTAssertTrue(TextReport.render(summary, planDescription: "").contains("TTFT from the first byte sent"))
    }

    /// One line per scheduled request, ids unique, the fields the summary counts, and with
    /// --log-itl completion_tokens − 1 gaps per streamed success.
    func testJSONLinesCarryEveryRequest() throws {
        let server = try startServer { $0.ttftNs = 5_000_000; $0.itlNs = 1_000_000 }
        let log = temporaryPath(".jsonl")
        let summary = try run(["--rate", "30", "--duration", "1s", "--max-tokens", "12", "--ignore-eos", "--request-log", log, "--log-itl"],
                              port: server.port)
        let records = try lines(log)
        XCTAssertEqual(UInt64(records.count), summary.total.scheduled)
        XCTAssertEqual(Set(records.map { $0["id"] as! Int }), Set(0..<records.count), "ids unique: the sequence numbers")
        let successes = records.filter { $0["outcome"] as? String == "success" }
        XCTAssertEqual(UInt64(successes.count), summary.total.succeeded)
        XCTAssertEqual(summary.total.succeeded, 30)
        for record in successes {
            XCTAssertEqual(Set(record.keys), Self.keys.union(["itl_ms"]))
            XCTAssertEqual(record["stage"] as? String, "hold")
            XCTAssertEqual(record["status"] as? Int, 200)
            XCTAssertTrue(record["error"] is NSNull)
            let moments = try ["intended_ns", "sent_ns", "first_token_ns", "completed_ns"].map { try XCTUnwrap(record[$0] as? Int, $0) }
            XCTAssertEqual(moments, moments.sorted(), "intended ≤ sent ≤ first token ≤ completed")
            let completion = try XCTUnwrap(record["completion_tokens"] as? Int)
            XCTAssertEqual(completion, 12)
            XCTAssertEqual(record["prompt_tokens"] as? Int, Int(try XCTUnwrap(summary.total.promptTokens).mean))
            let gaps = try XCTUnwrap(record["itl_ms"] as? [Double])
            XCTAssertEqual(gaps.count, completion - 1)
            XCTAssertEqual(gaps.reduce(0, +) / Double(gaps.count), 1, accuracy: 3)
            XCTAssertEqual(try XCTUnwrap(record["tpot_ms"] as? Double), 1, accuracy: 3)
            XCTAssertEqual(try XCTUnwrap(record["ttft_sent_ms"] as? Double), 5, accuracy: 5)
        }
        XCTAssertEqual(successes.reduce(0) { $0 + ($1["itl_ms"] as! [Double]).count }, Int(summary.total.itl.count))
    }

    /// Requests that never left the generator get their line too: dropped (no queue room) ones with
    /// no sent, first-token or completed moment and no status.
    func testDroppedRequestsGetALineInCSV() throws {
        let server = try startServer { $0.ttftNs = 300_000_000; $0.itlNs = 1_000_000 }
        let log = temporaryPath(".csv")
        let summary = try run(["--rate", "40", "--duration", "500ms", "--max-tokens", "2", "--ignore-eos", "--max-connections", "1",
                               "--max-queue", "1", "--request-log", log, "--log-itl"], port: server.port)
        XCTAssertGreaterThan(summary.total.dropped, 5)
        let rows = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        XCTAssertEqual(rows[0], ["intended_ns", "sent_ns", "first_token_ns", "completed_ns", "status", "outcome", "bytes", "tokens", "id", "stage",
                                 "prompt_tokens", "ttft_ms", "ttft_sent_ms", "tpot_ms", "itl_ms", "error"])
        let body = rows.dropFirst()
        XCTAssertEqual(UInt64(body.count), summary.total.scheduled)
        XCTAssertTrue(body.allSatisfy { $0.count == 16 })
        let dropped = body.filter { $0[5] == "dropped" }
        XCTAssertEqual(UInt64(dropped.count), summary.total.dropped)
        for row in dropped {
            XCTAssertFalse(row[0].isEmpty)
            XCTAssertEqual(Array(row[1...4]), ["", "", "", ""])
            XCTAssertEqual(row[9], "hold")
        }
        for row in body where row[5] == "success" {
            XCTAssertEqual(row[14].split(separator: ";").count, Int(row[7])! - 1, "the gaps, ;-joined")
        }
        XCTAssertEqual(Set(body.map { $0[8] }).count, body.count)
    }

    func testOptionsAreChecked() throws {
        for bad in ["run.log", "requests.json", "requests", "dir.csv/", ".csv"] {
            XCTAssertThrowsError(try OptionTable.parse(["http://127.0.0.1:1", "--rate", "1", "--duration", "1s", "--request-log", bad]), bad) { error in
                XCTAssertEqual((error as? UsageError)?.flag, "--request-log")
                XCTAssertTrue("\(error)".contains(".jsonl") && "\(error)".contains(".csv"), "\(error)")
            }
        }
        for good in ["a.jsonl", "dir/a.csv"] {
            XCTAssertEqual(try OptionTable.parse(["http://127.0.0.1:1", "--rate", "1", "--duration", "1s", "--request-log", good]).requestLogPath, good)
        }
        let options = try OptionTable.parse(["http://127.0.0.1:1", "--rate", "1", "--duration", "1s", "--log-itl", "--model", "m"])
        XCTAssertThrowsError(try LoadRun(options: options)) { error in
            XCTAssertEqual((error as? UsageError)?.flag, "--log-itl")
            XCTAssertTrue("\(error)".contains("--request-log"))
        }
    }
}
