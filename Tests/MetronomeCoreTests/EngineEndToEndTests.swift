// The engine against a real server on loopback (llmsim, started in-process on port 0): ground truth.
import LLMSim
import XCTest
@testable import MetronomeCore

final class EngineEndToEndTests: XCTestCase {
    func run(_ arguments: [String], path: String = "/", port: UInt16, sendHorizonNs: UInt64? = nil) throws -> (RunSummary, RunStats) {
        try runHTTP(arguments, path: path, port: port, sendHorizonNs: sendHorizonNs)
    }

    func startServer(_ configure: (inout SimConfig) -> Void) throws -> SimServer { try startLLMSim(configure) }

    func testAchievedRateMatchesPlanAndConnectionsAreReused() throws {
        let server = try startServer { $0.fast = true }
        let (summary, _) = try run(["--rate", "500", "--duration", "3s", "--arrival", "constant"], port: server.port)
        XCTAssertEqual(summary.total.scheduled, 1500, "constant arrivals: exactly rate × duration")
        XCTAssertEqual(summary.total.succeeded, 1500)
        XCTAssertEqual(summary.total.achievedRps, 500, accuracy: 5, "within 1 % of the plan")
        XCTAssertLessThan(summary.connectionsOpened, 150, "keep-alive: connections opened ≪ requests")
        XCTAssertEqual(summary.total.latency.count, 1500)
        XCTAssertEqual(summary.total.sendLag.count, 1500)
    }

    func testPoissonRateOverAFewSeconds() throws {
        let server = try startServer { $0.fast = true }
        let (summary, _) = try run(["--rate", "400", "--duration", "5s", "--seed", "3"], port: server.port)
        // Poisson count: mean 2000, sd ≈ 45; within 4 sd.
        XCTAssertEqual(Double(summary.total.scheduled), 2000, accuracy: 180)
        XCTAssertEqual(summary.total.succeeded, summary.total.scheduled)
    }

    func testConnectionRefusedIsCountedAndTargetReportedUnreachable() throws {
        let listener = try Listener(host: "127.0.0.1", port: 0)
        let port = listener.boundPort
        listener.close()
        let (summary, _) = try run(["--rate", "50", "--duration", "1s", "--arrival", "constant"], port: port)
        XCTAssertEqual(summary.total.scheduled, 50)
        XCTAssertEqual(summary.total.errors.first { $0.kind == "connect_refused" }?.count, 50)
        XCTAssertTrue(summary.targetUnreachable)
        XCTAssertTrue(summary.warnings.contains { $0.contains("UNREACHABLE") })
    }

    func testServerClosingMidResponseIsCountedAsClosedEarly() throws {
        let server = try startServer { $0.fast = true; $0.dropRate = 1.0 }
        let (summary, _) = try run(["--rate", "100", "--duration", "1s", "--arrival", "constant"], port: server.port)
        XCTAssertEqual(summary.total.scheduled, 100)
        XCTAssertEqual(summary.total.errors.first { $0.kind == "closed_early" }?.count, 100, "a FIN mid-body, not an RST")
        XCTAssertEqual(summary.total.succeeded, 0)
    }

    func testHTTPErrorsAreCountedByStatus() throws {
        let server = try startServer { $0.fast = true; $0.errorRate = 1.0 }
        let (summary, _) = try run(["--rate", "100", "--duration", "1s", "--arrival", "constant"], port: server.port)
        XCTAssertEqual(summary.total.errors.first { $0.kind == "http_error" }?.count, 100)
        XCTAssertEqual(summary.statusCounts.first { $0.status == 500 }?.count, 100)
        XCTAssertEqual(summary.total.errorRate, 1)
    }

    func testRequestTimeoutDropAndUnfinishedAreCounted() throws {
        let server = try startServer { $0.ttftNs = 2_000_000_000; $0.itlNs = 1_000_000 }
        let body = FileManager.default.temporaryDirectory.appendingPathComponent("metronome-body-\(getpid()).json")
        try Data(#"{"model":"llmsim","messages":[{"role":"user","content":"hi"}],"max_tokens":2}"#.utf8).write(to: body)
        defer { try? FileManager.default.removeItem(at: body) }
        let common = ["--rate", "20", "--duration", "1s", "--arrival", "constant", "--body", body.path,
                      "--header", "Content-Type: application/json"]
        let (timedOut, _) = try run(common + ["--timeout", "300ms", "--drain", "1s"], path: "/v1/chat/completions", port: server.port)
        XCTAssertEqual(timedOut.total.errors.first { $0.kind == "timeout" }?.count, 20)

        let (crowded, _) = try run(common + ["--max-connections", "1", "--max-queue", "2", "--drain", "0s"],
                                   path: "/v1/chat/completions", port: server.port)
        XCTAssertEqual(crowded.total.dropped, 17, "one on the wire, two waiting, the other 17 dropped")
        XCTAssertEqual(crowded.total.unfinished, 3)
        XCTAssertTrue(crowded.warnings.contains { $0.contains("dropped") })
    }

    /// A server that stops answering for F seconds every P seconds. For arrivals uniform over the
    /// period, P(latency > base + x) = (F − x) / P, so the q-quantile is F − (1 − q)·P.
    func freezeRun(maxConnections: Int) throws -> RunSummary {
        let periodS = 1.0, freezeS = 0.4
        let server = try startServer {
            $0.fast = true
            $0.freezeEveryNs = UInt64(periodS * 1e9)
            $0.freezeForNs = UInt64(freezeS * 1e9)
        }
        let (summary, _) = try run(["--rate", "400", "--duration", "6s", "--arrival", "constant",
                                    "--max-connections", String(maxConnections)], port: server.port)
        XCTAssertEqual(summary.total.succeeded, 2400)
        for (q, measured) in [(0.90, summary.total.latency.p90), (0.95, summary.total.latency.p95), (0.99, summary.total.latency.p99)] {
            let expectedMs = (freezeS - (1 - q) * periodS) * 1000
            print("freeze P=\(periodS)s F=\(freezeS)s max-connections \(maxConnections): p\(q * 100) latency \(measured) ms, analytic \(expectedMs) ms, service time p95 \(summary.total.serviceTime.p95) ms")
            XCTAssertEqual(measured, expectedMs, accuracy: expectedMs * 0.10, "p\(Int(q * 100)) vs the analytic \(expectedMs) ms")
        }
        return summary
    }

    func testFreezeLatencyMatchesTheAnalyticDistribution() throws {
        let summary = try freezeRun(maxConnections: 10_000)
        // With a connection per request, the server's stall shows in service time too.
        XCTAssertEqual(summary.total.serviceTime.p95, summary.total.latency.p95, accuracy: summary.total.latency.p95 * 0.1)
    }

    /// The coordinated-omission proof: one connection, so requests queue behind the stall. Latency
    /// (from the intended start) still tells the truth; service time (what a closed-loop tool
    /// reports) hides it.
    func testFewConnectionsLatencyStillTrueWhileServiceTimeHidesTheStall() throws {
        let summary = try freezeRun(maxConnections: 1)
        XCTAssertLessThan(summary.total.serviceTime.p95, summary.total.latency.p95 / 10)
        XCTAssertLessThan(summary.connectionsOpened, 3)
    }
}
