// `metronome sweep` and `metronome find-max` as a user runs them: JSON, files, exit codes, SIGINT.
import Foundation
import LLMSim
import XCTest
@testable import MetronomeCore

final class CapacityCLITests: XCTestCase {
    func metronome(_ arguments: [String], signalAfter: Double? = nil) throws -> ProcessResult {
        try runProcess(CLITests.binary, arguments, signalAfter: signalAfter)
    }

    func startServer() throws -> SimServer {
        var config = SimConfig()
        config.port = 0
        config.jitter = 0
        config.ttftNs = 20_000_000
        config.itlNs = 5_000_000
        let server = try SimServer.startInBackground(config: config)
        addTeardownBlock { server.stop() }
        return server
    }

    func temporaryDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "metronome-sweep-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    func testSweepPrintsTheStepsAsJSONWritesItsFilesAndExits0() throws {
        let server = try startServer()
        let directory = try temporaryDirectory()
        let result = try metronome(["sweep", "http://127.0.0.1:\(server.port)", "--rates", "5,10", "--step-duration", "1s", "--cooldown", "2s",
                                    "--max-tokens", "5", "--ignore-eos", "--slo", "p95<=1ms", "--json", "--out", directory, "--name", "s",
                                    "--tag", "max_num_seqs=32", "--tag", "gpu=a100"])
        XCTAssertEqual(result.status, 0, "failing steps are data: \(result.stderr)")
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], result.stdout)
        XCTAssertEqual(object["command"] as? String, "sweep")
        XCTAssertEqual(object["tags"] as? [String: String], ["max_num_seqs": "32", "gpu": "a100"])
        XCTAssertTrue(result.stdout.hasPrefix("{\n  \"command\": \"sweep\",\n  \"tags\": {\n    \"max_num_seqs\": \"32\","), "tags in order, after command")
        let steps = try XCTUnwrap(object["steps"] as? [[String: Any]])
        XCTAssertEqual(steps.map { $0["rate"] as? Double }, [5, 10])
        for step in steps {
            for key in ["offered_rps", "achieved_rps", "latency_ms", "ttft_ms", "itl_ms", "tpot_ms", "output_tokens_per_s", "error_rate",
                        "goodput_rps", "send_lag_p99_ms", "verdict"] {
                XCTAssertNotNil(step[key], key)
            }
            for key in ["p50", "p90", "p95", "p99"] { XCTAssertNotNil((step["latency_ms"] as? [String: Any])?[key], key) }
            XCTAssertEqual(step["verdict"] as? String, "fail", "no LLM answers in 1 ms")
        }
        let csv = try String(contentsOfFile: directory + "/s_sweep.csv", encoding: .utf8)
        XCTAssertEqual(csv.split(separator: "\n").count, 3, csv)
        XCTAssertTrue(csv.hasPrefix("step,rate,offered_rps,achieved_rps,latency_p50_ms"), csv)
        XCTAssertTrue(csv.split(separator: "\n").allSatisfy { $0.hasSuffix(",tag_max_num_seqs,tag_gpu") || $0.hasSuffix(",32,a100") }, csv)
        let saved = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: directory + "/s_sweep.json"))) as? [String: Any]
        XCTAssertEqual((saved?["steps"] as? [Any])?.count, 2)
        XCTAssertEqual(saved?["tags"] as? [String: String], ["max_num_seqs": "32", "gpu": "a100"])
        let html = try String(contentsOfFile: directory + "/s_sweep.html", encoding: .utf8)
        XCTAssertTrue(html.hasPrefix("<!DOCTYPE html>") && html.hasSuffix("</html>\n"))
        for id in ["chart-latency", "chart-ttft", "chart-goodput", "steps"] { XCTAssertTrue(html.contains("id=\"\(id)\""), id) }
        XCTAssertTrue(html.contains("<code>max_num_seqs=32</code>") && html.contains("SLO p95&lt;=1ms"))
        let files = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        XCTAssertEqual(files, ["s_sweep.csv", "s_sweep.html", "s_sweep.json"], "a step writes no report files of its own")
    }

    func testFindMaxExits3WhenEvenTheMinimumFailsAndUsageErrorsExit64() throws {
        let server = try startServer()
        let result = try metronome(["find-max", "http://127.0.0.1:\(server.port)", "--slo", "p95<=1ms", "--min-rate", "5", "--step-duration", "1s",
                                    "--max-tokens", "5", "--no-files", "--quiet"])
        XCTAssertEqual(result.status, 3, result.stderr)
        XCTAssertTrue(result.stdout.contains("Max rate: none"), result.stdout)
        for arguments in [["sweep", "--rates", "5", "--rate", "5"], ["find-max", "--min-rate", "5"], ["sweep", "--rates", "9,3"]] {
            let usage = try metronome(arguments)
            XCTAssertEqual(usage.status, 64, "\(arguments)")
            XCTAssertEqual(usage.stderr.split(separator: "\n").count, 1, usage.stderr)
        }
        let help = try metronome(["sweep", "--help"])
        XCTAssertEqual(help.status, 0)
        XCTAssertTrue(help.stdout.contains("--rates LIST"))
    }

    /// Steps that fail because the generator dropped requests (a tiny pool) are said to be the
    /// generator's limit, not the server's.
    func testFindMaxSaysWhenTheGeneratorWasTheLimit() throws {
        let server = try startServer()
        let result = try metronome(["find-max", "http://127.0.0.1:\(server.port)", "--slo", "errors<=1%", "--min-rate", "5", "--max-rate", "160",
                                    "--step-duration", "1s", "--step-ramp", "0s", "--max-tokens", "5", "--ignore-eos", "--arrival", "constant",
                                    "--max-connections", "1", "--max-queue", "1", "--no-files", "--json"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], result.stdout)
        let warnings = try XCTUnwrap(object["warnings"] as? [String])
        XCTAssertTrue(warnings.contains { $0.contains("the generator, not the server") && $0.contains("dropped") }, "\(warnings)")
        let bracket = try XCTUnwrap(object["bracket"] as? [Any])
        XCTAssertEqual(bracket.count, 2)
        // One connection carrying 60 ms requests (20 ms TTFT + 200 prompt tokens × 0.1 ms, 4 × 5 ms
        // ITL) serves at most 16.7 requests/s.
        XCTAssertLessThan(try XCTUnwrap(object["max_rate"] as? Double), 17, result.stdout)
    }

    func testSIGINTStopsTheSweepPrintsWhatItHasAndExits130() throws {
        let server = try startServer()
        let started = Date()
        let result = try metronome(["sweep", "http://127.0.0.1:\(server.port)", "--rates", "5,10,20", "--step-duration", "1s", "--step-ramp", "0s",
                                    "--max-tokens", "5", "--no-files", "--json"], signalAfter: 1.8)
        XCTAssertEqual(result.status, 130, result.stderr)
        XCTAssertLessThan(Date().timeIntervalSince(started), 20)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], result.stdout)
        XCTAssertEqual(object["interrupted"] as? Bool, true)
        let steps = try XCTUnwrap(object["steps"] as? [[String: Any]])
        XCTAssertEqual(steps.count, 2, "the first step whole, the second cut short")
        XCTAssertEqual(steps.first?["verdict"] as? String, "pass")
        XCTAssertTrue(steps.last?["verdict"] is NSNull)
    }
}
