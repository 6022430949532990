// The OpenAI workload against llmsim with a known time model: TTFT, ITL, TPOT, tokens, and faults.
import LLMSim
import XCTest
@testable import MetronomeCore

final class LLMEndToEndTests: XCTestCase {
    func startServer(_ configure: (inout SimConfig) -> Void) throws -> SimServer {
        var config = SimConfig()
        config.port = 0
        config.jitter = 0
        configure(&config)
        let server = try SimServer.startInBackground(config: config)
        addTeardownBlock { server.stop() }
        return server
    }

    func run(_ arguments: [String], port: UInt16) throws -> RunSummary {
        let options = try OptionTable.parse(["http://127.0.0.1:\(port)", "--quiet", "--no-files"] + arguments)
        let (summary, _) = try LoadRun(options: options).execute(handlesSignals: false)
        XCTAssertEqual(summary.total.scheduled, summary.total.succeeded + summary.total.failed + summary.total.dropped + summary.total.unfinished)
        return summary
    }

    /// llmsim's model with jitter 0: TTFT = ttft + prefill × prompt tokens, ITL = itl, TPOT = itl.
    func testStreamingMetricsMatchTheModel() throws {
        let server = try startServer { $0.ttftNs = 50_000_000; $0.prefillPerTokenNs = 100_000; $0.itlNs = 5_000_000 }
        let arguments = ["--rate", "20", "--duration", "3s", "--max-tokens", "40", "--ignore-eos", "--arrival", "constant"]
        var summary = try run(arguments, port: server.port)
        let prompt = try XCTUnwrap(summary.total.promptTokens)
        let ttftMs = 50 + 0.1 * Double(prompt.mean)
        // The p99 of 60 requests is their worst: on a loaded 2-core machine one stall of the test's
        // threads shows there. One retry, then every bound must hold.
        if abs(summary.total.ttft.p99 - ttftMs) > 5 || abs(summary.total.itl.p99 - 5) > 5 || abs(summary.total.tpot.p99 - 5) > 5 {
            summary = try run(arguments, port: server.port)
        }
        XCTAssertEqual(summary.total.succeeded, 60)
        XCTAssertEqual(prompt.min, prompt.max, "every prompt has the same length")
        XCTAssertEqual(summary.total.ttft.p50, ttftMs, accuracy: 2)
        XCTAssertEqual(summary.total.ttft.p99, ttftMs, accuracy: 5)
        XCTAssertEqual(summary.total.itl.p50, 5, accuracy: 2)
        XCTAssertEqual(summary.total.itl.p99, 5, accuracy: 5)
        XCTAssertEqual(summary.total.tpot.p50, 5, accuracy: 2)
        XCTAssertEqual(summary.total.tpot.p99, 5, accuracy: 5)
        XCTAssertEqual(summary.total.latency.p50, ttftMs + 39 * 5, accuracy: 2)
        XCTAssertEqual(summary.total.completionTokens, TokenStats(mean: 40, min: 40, max: 40))
        XCTAssertEqual(summary.usageSource, "usage")
        XCTAssertEqual(summary.total.itl.count, 60 * 39, "one gap between each pair of content events")
        XCTAssertTrue(summary.warnings.isEmpty, "\(summary.warnings)")
    }

    func testNonStreamingAndCompletionsEndpoint() throws {
        let server = try startServer { $0.ttftNs = 10_000_000; $0.itlNs = 1_000_000 }
        let chat = try run(["--rate", "20", "--duration", "1s", "--max-tokens", "10", "--ignore-eos", "--no-stream"], port: server.port)
        XCTAssertEqual(chat.total.succeeded, chat.total.scheduled)
        XCTAssertEqual(chat.total.completionTokens?.mean, 10)
        XCTAssertEqual(chat.total.ttft.count, 0, "no TTFT without a stream")
        let completions = try run(["--workload", "openai-completions", "--rate", "20", "--duration", "1s", "--max-tokens", "10", "--ignore-eos"],
                                  port: server.port)
        XCTAssertEqual(completions.total.succeeded, completions.total.scheduled)
        XCTAssertEqual(completions.total.completionTokens?.mean, 10)
        XCTAssertTrue(completions.target.hasSuffix("/v1/completions"))
    }

    func testStoppingEarlyAndPromptDriftAreWarned() throws {
        let server = try startServer { $0.ttftNs = 1_000_000; $0.itlNs = 1_000_000 }
        let summary = try run(["--rate", "20", "--duration", "1s", "--max-tokens", "50", "--expect-prompt-tokens", "100"], port: server.port)
        XCTAssertLessThan(summary.total.completionTokens!.mean, 47.5, "llmsim picks seeded lengths without --ignore-eos")
        XCTAssertTrue(summary.warnings.contains { $0.contains("--ignore-eos") }, "\(summary.warnings)")
        XCTAssertTrue(summary.warnings.contains { $0.contains("--expect-prompt-tokens 100") }, "\(summary.warnings)")
    }

    func testFaultsBecomeTheRightOutcomes() throws {
        let errors = try startServer { $0.ttftNs = 1_000_000; $0.itlNs = 1_000_000; $0.errorRate = 1 }
        let failed = try run(["--rate", "20", "--duration", "1s", "--max-tokens", "5"], port: errors.port)
        XCTAssertEqual(failed.total.errors.first { $0.kind == "http_error" }?.count, failed.total.scheduled)
        XCTAssertFalse(failed.errorMessages.isEmpty, "the server's error message is kept")

        let drops = try startServer { $0.ttftNs = 1_000_000; $0.itlNs = 1_000_000; $0.dropRate = 1 }
        let dropped = try run(["--rate", "20", "--duration", "1s", "--max-tokens", "20", "--ignore-eos"], port: drops.port)
        XCTAssertEqual(dropped.total.succeeded, 0)
        XCTAssertEqual(dropped.total.failed, dropped.total.scheduled, "\(dropped.total.errors)")

        let rejects = try startServer { $0.ttftNs = 500_000_000; $0.itlNs = 1_000_000; $0.maxNumSeqs = 1; $0.rejectWhenWaiting = 1 }
        let rejected = try run(["--rate", "20", "--duration", "1s", "--max-tokens", "5", "--ignore-eos"], port: rejects.port)
        XCTAssertGreaterThan(rejected.statusCounts.first { $0.status == 429 }?.count ?? 0, 10)
    }

    /// A `--stage` plan against llmsim with 4 slots that answers 429 when all are busy
    /// (`--reject-when-waiting 0`): a request takes 20 + 9 × 2 = 38 ms, so the server completes at
    /// most 4 / 0.038 ≈ 105 requests/s. The first stage (5 rps) fits; the second (400 rps) gets
    /// about three quarters 429s. Each stage carries its own verdict, goodput and checks.
    func testEachStageCarriesItsOwnVerdict() throws {
        let server = try startServer {
            $0.ttftNs = 20_000_000; $0.prefillPerTokenNs = 0; $0.itlNs = 2_000_000; $0.maxNumSeqs = 4; $0.rejectWhenWaiting = 0
        }
        let summary = try run(["--start-rate", "5", "--stage", "2s:5", "--stage", "0s:400", "--stage", "1s:400", "--arrival", "constant",
                               "--max-tokens", "10", "--ignore-eos", "--slo", "errors<=10%,p95<=1s", "--tag", "max_num_seqs=4"], port: server.port)
        XCTAssertEqual(summary.stages.map(\.name), ["hold", "hold-2"])
        let first = try XCTUnwrap(summary.stages[0].slo)
        let second = try XCTUnwrap(summary.stages[1].slo)
        XCTAssertTrue(first.passed, "\(first.checks)")
        XCTAssertEqual(first.checks[0].measured, summary.stages[0].errorRate * 100, accuracy: 1e-9)
        // 9 or 10 arrivals in 2 s (the 10th falls on the boundary), each under 1 s.
        XCTAssertEqual(first.goodputRps ?? 0, 5, accuracy: 0.75)
        XCTAssertFalse(second.passed)
        XCTAssertFalse(second.checks[0].passed, "\(second.checks)")
        XCTAssertGreaterThan(second.checks[0].measured, 30, "most of 400 rps find the 4 slots busy")
        XCTAssertEqual(second.checks[0].measured, summary.stages[1].errorRate * 100, accuracy: 1e-9, "the stage's own counters, not the pool's")
        XCTAssertGreaterThan(summary.stages[1].errors.first { $0.kind == "http_error" }?.count ?? 0, 0)
        XCTAssertGreaterThan(summary.statusCounts.first { $0.status == 429 }?.count ?? 0, 0)
        XCTAssertLessThan(second.goodputRps ?? .infinity, 4 / 0.038 * 1.2, "no more than the server's capacity succeeds")
        XCTAssertFalse(summary.sloPassed, "the pooled verdict over both holds fails")
        XCTAssertEqual(summary.tags.map(\.key), ["max_num_seqs"])

        // The same verdicts in the saved summary, read back for `metronome report`.
        let decoded = try RunSummary(summaryJSON: Array(SummaryFile.render(summary).utf8))
        XCTAssertEqual(decoded.stages.map { $0.slo?.passed }, [true, false])
        XCTAssertEqual(decoded.tags.map(\.value), ["4"])
        XCTAssertEqual(TextReport.render(decoded, planDescription: decoded.planDescription),
                       TextReport.render(summary, planDescription: decoded.planDescription))
    }

    func testModelIsDiscoveredAndAnUnknownOneIsAnError() throws {
        let server = try startServer { $0.model = "served-model"; $0.ttftNs = 1_000_000; $0.itlNs = 1_000_000 }
        let options = try OptionTable.parse(["http://127.0.0.1:\(server.port)/v1", "--rate", "5", "--duration", "1s", "--quiet"])
        let load = try LoadRun(options: options)
        XCTAssertEqual(load.resolvedModel, "served-model")
        XCTAssertEqual(load.url.target, "/v1/chat/completions")
        let listener = try Listener(host: "127.0.0.1", port: 0)
        let port = listener.boundPort
        listener.close()
        XCTAssertThrowsError(try LoadRun(options: try OptionTable.parse(["http://127.0.0.1:\(port)", "--rate", "5", "--duration", "1s"]))) {
            XCTAssertTrue("\($0)".contains("--model"), "\($0)")
        }
    }
}
