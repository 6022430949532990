// Which cause a late-send warning names, as a pure function of the run's figures: a table of runs.
import XCTest
@testable import MetronomeCore

final class GeneratorHealthTests: XCTestCase {
    /// A calm 12 rps run of 10,000 requests: under every threshold unless a case changes it.
    static func figures(_ change: (inout GeneratorFigures) -> Void) -> GeneratorFigures {
        var f = GeneratorFigures()
        f.sendLagP99Ms = 11.66
        f.sent = 10_000
        f.maxConnections = 10_000
        f.connectionsOpened = 70
        f.peakInFlight = 4
        f.loopCPUSeconds = 3
        f.elapsedS = 833
        f.involuntarySwitches = 5
        f.host = HostLoad(loadAverage1m: 0.4, cores: 2)
        change(&f)
        return f
    }

    func testTheCauseNamedIsTheOneTheFiguresShow() {
        let cases: [(name: String, figures: GeneratorFigures, present: [String], absent: [String])] = [
            ("the issue's run: a busy host, 70 of 10,000 connections",
             Self.figures { $0.involuntarySwitches = 812; $0.host = HostLoad(loadAverage1m: 7.9, cores: 2) },
             ["send lag p99 11.66 ms > 10 ms", "the loop thread did not get the CPU", "preempted 812 times",
              "load average 7.90 on 2 cores", "Not the connection cap: at most 70 of 10000 connections were ever open"],
             ["queueing at the connection cap", "; raise --max-connections", "Cause not identified"]),
            ("preemptions alone, load unknown",
             Self.figures { $0.involuntarySwitches = 150; $0.host = HostLoad(loadAverage1m: nil, cores: 2) },
             ["did not get the CPU", "preempted 150 times"], ["load average", "queueing at the connection cap"]),
            ("load above the cores alone",
             Self.figures { $0.host = HostLoad(loadAverage1m: 3.5, cores: 2) },
             ["did not get the CPU", "load average 3.50 on 2 cores"], ["queueing at the connection cap"]),
            ("every connection busy with requests waiting",
             Self.figures { $0.sendLagP99Ms = 250; $0.maxConnections = 64; $0.connectionsOpened = 64; $0.peakInFlight = 64; $0.secondsQueuedAtCap = 12 },
             ["queueing at the connection cap: all 64 connections were busy", "in 12 s of the run", "raise --max-connections"],
             ["did not get the CPU", "Not the connection cap", "Cause not identified"]),
            ("the cap and a busy host at once",
             Self.figures { $0.maxConnections = 64; $0.connectionsOpened = 64; $0.peakInFlight = 64; $0.involuntarySwitches = 900 },
             ["queueing at the connection cap", "did not get the CPU"], ["Not the connection cap"]),
            ("the loop thread itself saturated",
             Self.figures { $0.loopCPUSeconds = 9.6; $0.elapsedS = 10 },
             ["the loop thread was busy: 9.60 s CPU in 10.00 s (96 %)", "shard"], ["did not get the CPU", "queueing at the connection cap"]),
            ("many requests waited for a new connection",
             Self.figures { $0.connectionsOpened = 400 },
             ["waiting for new connections: 400 of 10000 requests"], ["queueing at the connection cap", "did not get the CPU"]),
            ("a server freeze met by a paced pool",
             Self.figures { $0.sendLagP99Ms = 1900; $0.connectionsOpened = 64; $0.poolGrowthPaced = 3 },
             ["the pool was held at its paced size 3 times", "a server stall (see service time)", "Not the connection cap"],
             ["queueing at the connection cap", "Cause not identified"]),
            ("nothing in the figures",
             Self.figures { _ in },
             ["Cause not identified: preempted 5 times", "load average 0.40 on 2 cores", "Not the connection cap"],
             ["raise --max-connections"]),
            ("the cap possibly reached but never seen",
             Self.figures { $0.maxConnections = 50; $0.connectionsOpened = 80; $0.peakInFlight = 20 },
             ["not seen reached: at most 20 of 50 connections busy"], ["queueing at the connection cap"]),
        ]
        for (name, figures, present, absent) in cases {
            let warnings = GeneratorHealth.warnings(figures)
            XCTAssertEqual(warnings.count, 1, name)
            let text = warnings.joined(separator: "\n")
            XCTAssertTrue(text.hasPrefix("GENERATOR BOTTLENECK: "), name)
            for part in present { XCTAssertTrue(text.contains(part), "\(name): missing '\(part)' in \(text)") }
            for part in absent { XCTAssertFalse(text.contains(part), "\(name): unexpected '\(part)' in \(text)") }
        }
    }

    func testNoWarningUnderTheLimitAndDropsAlwaysReported() {
        XCTAssertEqual(GeneratorHealth.warnings(Self.figures { $0.sendLagP99Ms = 9.9; $0.involuntarySwitches = 5000 }), [])
        let dropped = GeneratorHealth.warnings(Self.figures { $0.sendLagP99Ms = 1; $0.dropped = 7; $0.maxConnections = 8 })
        XCTAssertEqual(dropped, ["GENERATOR BOTTLENECK: 7 requests dropped: all 8 connections were busy and the queue was full (raise --max-connections or --max-queue)"])
    }

    /// Through the summary, as a run reports it: late sends with 70 of 10,000 connections ever open
    /// must not be blamed on the connection cap (the old warning said "raise --max-connections").
    func testSummaryDoesNotBlameTheCapItNeverReached() throws {
        let plan = try RatePlan(startRatePerSec: 12, targets: [(10_000_000_000, 12, "hold")])
        let stats = RunStats(stageCount: 1, expectedSeconds: 20)
        for index in 0..<120 {
            stats.countScheduled(stage: 0)
            stats.add(.sent, stage: 0)
            stats.recordSendLag(index % 50 == 0 ? 12_000_000 : 50_000, stage: 0)
            stats.count(.success, stage: 0)
            stats.recordSuccess(latencyNs: 30_000_000, serviceNs: 20_000_000, intendedOffsetNs: 0, stage: 0)
        }
        stats.live.add(LiveCounter.connectionsOpened.rawValue, 70)
        let result = EngineResult(startNs: 0, planElapsedNs: 10_000_000_000, totalElapsedNs: 10_100_000_000,
                                  interruptedBySignal: nil, loopCPUSeconds: 0.05, startedAtUnixS: 0)
        let summary = RunSummary(target: "GET http://h/", address: "h:80", workload: "http", arrival: "constant", seed: 1,
                                 maxConnections: 10_000, plan: plan, stats: stats, result: result)
        let warning = try XCTUnwrap(summary.warnings.first { $0.contains("send lag p99") }, "\(summary.warnings)")
        XCTAssertFalse(warning.contains("(raise --max-connections"), warning)
        XCTAssertTrue(warning.contains("Not the connection cap: at most 70 of 10000 connections were ever open"), warning)
    }
}
