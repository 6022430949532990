// The metronome binary as a user runs it: help, version, exit codes, JSON output, SIGINT.
import Foundation
import LLMSim
import XCTest
@testable import MetronomeCore

final class CLITests: XCTestCase {
    /// The binary next to the test bundle (swift build builds every product into the same folder).
    static var binary: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("metronome")
    }

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs the binary; `signalAfter` sends `signal` (SIGINT) to it (by its pid) after that many seconds.
    func metronome(_ arguments: [String], signalAfter: Double? = nil, signal: Int32 = SIGINT) throws -> Result {
        let result = try runProcess(Self.binary, arguments, signalAfter: signalAfter, signal: signal)
        return Result(status: result.status, stdout: result.stdout, stderr: result.stderr)
    }

    func testHelpAndVersion() throws {
        XCTAssertEqual(try metronome(["--version"]).stdout, "metronome \(metronomeVersion)\n")
        let help = try metronome(["--help"])
        XCTAssertEqual(help.status, 0)
        XCTAssertTrue(help.stdout.contains("EXIT CODES"))
        let runHelp = try metronome(["run", "--help"])
        XCTAssertEqual(runHelp.status, 0)
        XCTAssertTrue(runHelp.stdout.contains("--max-connections N"))
        XCTAssertEqual(try metronome([]).status, 64)
    }

    func testBadUsageIsOneLineNamingTheFlagAndExit64() throws {
        for (arguments, flag) in [(["run", "--rate", "abc", "--duration", "1s"], "--rate"),
                                  (["run", "--rate", "1", "--duration", "soon"], "--duration"),
                                  (["run", "ftp://x", "--rate", "1", "--duration", "1s"], "ftp"),
                                  (["run", "http://x", "--cacert", "ca.pem", "--rate", "1", "--duration", "1s"], "--cacert"),
                                  (["run", "--bogus"], "--bogus"), (["walk"], "walk")] {
            let result = try metronome(arguments)
            XCTAssertEqual(result.status, 64, "\(arguments)")
            XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, result.stderr)
            XCTAssertTrue(result.stderr.hasPrefix("error: "), result.stderr)
            XCTAssertTrue(result.stderr.contains(flag), result.stderr)
        }
    }

    func testUnreachableTargetCompletesWithExit1AndJSON() throws {
        let listener = try Listener(host: "127.0.0.1", port: 0)
        let port = listener.boundPort
        listener.close()
        let result = try metronome(["run", "http://127.0.0.1:\(port)/", "--rate", "20", "--duration", "500ms", "--arrival", "constant", "--json", "--quiet", "--workload", "http", "--no-files"])
        XCTAssertEqual(result.status, 1)
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as! [String: Any]
        for key in ["scheduled", "completed", "succeeded", "failed", "dropped", "unfinished", "offered_rps", "achieved_rps",
                    "error_rate", "latency_ms", "service_time_ms", "send_lag_ms", "errors", "stages"] {
            XCTAssertNotNil(object[key], key)
        }
        XCTAssertEqual(object["target_unreachable"] as? Bool, true)
        XCTAssertEqual((object["errors"] as? [String: Int])?["connect_refused"], 10)
        let stage = (object["stages"] as? [[String: Any]])?.first
        for key in ["name", "start_s", "end_s", "start_rate", "end_rate", "latency_ms"] { XCTAssertNotNil(stage?[key], key) }
        for key in ["p50", "p90", "p95", "p99", "p999", "max", "mean"] {
            XCTAssertNotNil((object["latency_ms"] as? [String: Any])?[key], key)
        }
    }

    func testSIGINTStopsDrainsPrintsSummaryAndExits130() throws {
        var config = SimConfig()
        config.port = 0
        config.fast = true
        let server = try SimServer.startInBackground(config: config)
        defer { server.stop() }
        let started = Date()
        let result = try metronome(["run", "http://127.0.0.1:\(server.port)/", "--rate", "200", "--duration", "60s", "--quiet", "--workload", "http", "--no-files"],
                                   signalAfter: 1.5)
        XCTAssertEqual(result.status, 130, result.stderr)
        XCTAssertLessThan(Date().timeIntervalSince(started), 20, "stops long before the 60 s plan")
        XCTAssertTrue(result.stdout.contains("INTERRUPTED"), result.stdout)
        XCTAssertTrue(result.stdout.contains("Latency"), result.stdout)
    }

    /// A failed SLO exits 3; the files are written; `metronome report` renders the same summary again.
    func testFailedSLOExits3AndReportRerendersTheSavedSummary() throws {
        var config = SimConfig()
        config.port = 0
        config.fast = true
        let server = try SimServer.startInBackground(config: config)
        defer { server.stop() }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("metronome-cli-\(getpid())")
        defer { try? FileManager.default.removeItem(at: directory) }
        let run = try metronome(["run", "http://127.0.0.1:\(server.port)/", "--workload", "http", "--rate", "50", "--duration", "1s",
                                 "--quiet", "--slo", "p99<=1ns,errors<=1%", "--out", directory.path, "--name", "cli",
                                 "--header", "Authorization: Bearer sk-cli-secret"])
        XCTAssertEqual(run.status, 3, run.stderr)
        XCTAssertTrue(run.stdout.contains("SLO (judged on the hold stages): FAIL"), run.stdout)
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        XCTAssertEqual(files, ["cli_failures.csv", "cli_latency.hgrm", "cli_report.html", "cli_service.hgrm", "cli_stats.csv",
                               "cli_stats_history.csv", "cli_summary.json"])
        for file in files {
            let text = try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
            XCTAssertFalse(text.contains("sk-cli-secret"), "\(file) shows the secret")
        }
        let report = try metronome(["report", directory.appendingPathComponent("cli_summary.json").path])
        XCTAssertEqual(report.status, 3, report.stderr)
        let summaryText = { (text: String) in text.components(separatedBy: "\n").prefix { !$0.hasPrefix("Reports:") && !$0.hasPrefix("Report:") } }
        XCTAssertEqual(Array(summaryText(report.stdout)).joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines),
                       Array(summaryText(run.stdout)).joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines))
        XCTAssertEqual(try metronome(["report", "/nonexistent_summary.json"]).status, 1)
    }

    /// The allocation budget of the hot path, counted by valgrind (instruction-exact, immune to load):
    /// twice the requests (and SSE events) must cost no more allocations than the two extra
    /// seconds of the per-second series (two per second).
    func testHotPathAllocatesNothingPerRequest() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/valgrind") else { throw XCTSkip("valgrind is not installed") }
        var config = SimConfig()
        config.port = 0
        config.ttftNs = 20_000_000
        config.itlNs = 2_000_000
        let server = try SimServer.startInBackground(config: config)
        defer { server.stop() }
        func allocations(_ duration: String, _ extra: [String]) throws -> Int {
            try heapAllocations(["run", "http://127.0.0.1:\(server.port)", "--rate", "50", "--duration", duration, "--arrival", "constant",
                                 "--quiet", "--no-files"] + extra).allocations
        }
        let streaming = ["--max-tokens", "20", "--ignore-eos"]
        let streamed = try extraAllocations(budget: 6, label: "streamed") { try allocations($0, streaming) }
        XCTAssertLessThanOrEqual(streamed, 6, "100 more requests (2,000 more SSE events) allocated \(streamed) times")
        let plain = try extraAllocations(budget: 6, label: "http") { try allocations($0, ["--workload", "http"]) }
        XCTAssertLessThanOrEqual(plain, 6, "100 more http requests allocated \(plain) times")
        // The request log (JSON lines with every gap): formatted into its buffer, the gaps kept in a
        // per-connection buffer allocated at a connection's first gap, never per request or event.
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("metronome-alloc-\(getpid()).jsonl").path
        defer { try? FileManager.default.removeItem(atPath: log) }
        let logged = try extraAllocations(budget: 6, label: "streamed and logged") { try allocations($0, streaming + ["--request-log", log, "--log-itl"]) }
        XCTAssertLessThanOrEqual(logged, 6, "100 more logged requests allocated \(logged) times")
    }
}
