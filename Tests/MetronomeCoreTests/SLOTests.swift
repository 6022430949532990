// --slo: the grammar (good and bad expressions), goodput limits, and verdicts against known numbers.
import XCTest
@testable import MetronomeCore

final class SLOTests: XCTestCase {
    func testParsesEveryMetricForm() throws {
        let checks = try SLOParser.parse("p95<=5s, p99<10s,errors<=0.1%,ttft_p95<=500ms,achieved>=99%,latency_p99.9<=20s,itl_mean<=30ms,max<=1m,rps>=19.5,goodput>=18,service_p50<=1s,p999<=9s")
        XCTAssertEqual(checks.count, 12)
        XCTAssertEqual(checks[0].metric, .time(.latency, .percentile(95)))
        XCTAssertEqual(checks[0].limit, 5000)
        XCTAssertTrue(checks[0].atMost && !checks[0].strict)
        XCTAssertTrue(checks[1].strict)
        XCTAssertEqual(checks[2].metric, .errors)
        XCTAssertEqual(checks[2].limit, 0.1)
        XCTAssertEqual(checks[3].metric, .time(.ttft, .percentile(95)))
        XCTAssertEqual(checks[3].limit, 500)
        XCTAssertEqual(checks[4].metric, .achievedShare)
        XCTAssertFalse(checks[4].atMost)
        XCTAssertEqual(checks[5].metric, .time(.latency, .percentile(99.9)))
        XCTAssertEqual(checks[6].metric, .time(.itl, .mean))
        XCTAssertEqual(checks[7].metric, .time(.latency, .max))
        XCTAssertEqual(checks[7].limit, 60_000)
        XCTAssertEqual(checks[8].metric, .achievedRps)
        XCTAssertEqual(checks[9].metric, .goodputRps)
        XCTAssertEqual(checks[10].metric, .time(.service, .percentile(50)))
        XCTAssertEqual(checks[11].metric, .time(.latency, .percentile(99.9)))
    }

    func testRejectsBadExpressionsNamingTheFlag() {
        for bad in ["", "p95", "p95<=5", "p95<=fast", "errors<=0.1", "errors<=200%", "achieved>=x%", "p0<=1s", "p101<=1s",
                    "latency<=1s", "foo<=1s", "ttft_p95<=", "rps>=many", "errors<=0x1%", "errors<=nan%", "errors<=1e-1%",
                    "p0x5f<=1s", "pinf<=1s", "p+95<=1s"] {
            XCTAssertThrowsError(try SLOParser.parse(bad), bad) { error in
                XCTAssertEqual((error as? UsageError)?.flag, "--slo", bad)
            }
        }
    }

    func testGoodputLimitsTakeTheTightestPerRequestBounds() throws {
        let limits = GoodputLimits(try SLOParser.parse("p95<=5s,p99<=3s,ttft_p95<=500ms,tpot_p99<=40ms,errors<=1%,achieved>=99%"))
        XCTAssertEqual(limits.latencyNs, 3_000_000_000)
        XCTAssertEqual(limits.ttftNs, 500_000_000)
        XCTAssertEqual(limits.tpotNs, 40_000_000)
        XCTAssertTrue(limits.met(latencyNs: 2_999_000_000, ttftNs: 400_000_000, tpotNs: 0))
        XCTAssertFalse(limits.met(latencyNs: 3_000_000_001, ttftNs: 0, tpotNs: 0))
        XCTAssertFalse(limits.met(latencyNs: 1, ttftNs: 600_000_000, tpotNs: 0))
        XCTAssertTrue(GoodputLimits(try SLOParser.parse("errors<=1%")).isEmpty)
    }

    /// 100 requests in the hold stage with latencies 1…100 ms (p95 = 95 ms), 2 more failed; the
    /// ramp stage holds a slow outlier that the default scope must not see.
    func testVerdictsOnKnownNumbers() throws {
        let plan = try RatePlan(startRatePerSec: 1, targets: [(10_000_000_000, 10, "ramp"), (10_000_000_000, 10, "hold")])
        let stats = RunStats(stageCount: 2, goodputLimits: GoodputLimits(try SLOParser.parse("p95<=50ms")))
        for ms in 1...100 as ClosedRange<UInt64> {
            stats.countScheduled(stage: 1)
            stats.count(.success, stage: 1)
            stats.recordSuccess(latencyNs: ms * 1_000_000, serviceNs: ms * 1_000_000, intendedOffsetNs: 0, stage: 1)
        }
        for _ in 0..<2 {
            stats.countScheduled(stage: 1)
            stats.count(.timeout, stage: 1)
        }
        stats.countScheduled(stage: 0)
        stats.count(.success, stage: 0)
        stats.recordSuccess(latencyNs: 9_000_000_000, serviceNs: 9_000_000_000, intendedOffsetNs: 0, stage: 0)

        let checks = try SLOParser.parse("p95<=96ms,p95<=94ms,errors<=1%,errors<=2%,rps>=10,goodput>=5")
        let verdict = SLOJudge.judge(checks, scope: "hold", stats: stats, plan: plan, ranS: 20, goodput: true)
        XCTAssertEqual(verdict.scope, "hold")
        XCTAssertEqual(verdict.results.map(\.passed), [true, false, false, true, true, true])
        XCTAssertEqual(verdict.results[0].measured, 95, accuracy: 0.1)
        XCTAssertEqual(verdict.results[2].measured, 2 / 102 * 100, accuracy: 1e-9)
        XCTAssertEqual(verdict.results[4].measured, 10, accuracy: 1e-9, "100 successes over the 10 s hold")
        XCTAssertEqual(verdict.goodputRps!, 5, accuracy: 1e-9, "50 requests at or under 50 ms, over 10 s")

        let whole = SLOJudge.judge(try SLOParser.parse("max<=1s"), scope: "all", stats: stats, plan: plan, ranS: 20, goodput: false)
        XCTAssertEqual(whole.scope, "all")
        XCTAssertFalse(whole.results[0].passed, "the ramp's 9 s outlier counts in scope all")
        XCTAssertNil(whole.goodputRps)
    }

    func testNoSamplesCannotPassATimeBound() throws {
        let plan = try RatePlan(startRatePerSec: 1, targets: [(1_000_000_000, 1, "hold")])
        let stats = RunStats(stageCount: 1)
        let verdict = SLOJudge.judge(try SLOParser.parse("p95<=5s"), scope: "hold", stats: stats, plan: plan, ranS: 1, goodput: false)
        XCTAssertFalse(verdict.results[0].passed)
        XCTAssertTrue(verdict.results[0].measured.isNaN)
    }

    /// Two stages of 10 s judged alone and pooled (a table of expected verdicts). Stage 1: 100
    /// successes at 10 ms. Stage 2: 84 successes at 20 ms, 8 at 200 ms and 8 timeouts. Pooled over
    /// both (scope all), the 8 slow ones are 4.2 % of 192 (p95 = 20 ms), the 8 timeouts 4 % of 200,
    /// and 184 good requests over 20 s: the pool passes what stage 2 alone fails.
    func testEachStageIsJudgedOnItsOwnRequests() throws {
        let plan = try RatePlan(startRatePerSec: 0, targets: [(10_000_000_000, 10, "ramp"), (10_000_000_000, 10, "hold")])
        let checks = try SLOParser.parse("p95<=50ms,errors<=5%,goodput>=9,rps>=9")
        let stats = RunStats(stageCount: 2, goodputLimits: GoodputLimits(checks))
        func succeed(_ count: Int, ms: UInt64, stage: Int) {
            for _ in 0..<count {
                stats.countScheduled(stage: stage)
                stats.count(.success, stage: stage)
                stats.recordSuccess(latencyNs: ms * 1_000_000, serviceNs: ms * 1_000_000, intendedOffsetNs: 0, stage: stage)
            }
        }
        succeed(100, ms: 10, stage: 0)
        succeed(84, ms: 20, stage: 1)
        succeed(8, ms: 200, stage: 1)
        for _ in 0..<8 {
            stats.countScheduled(stage: 1)
            stats.count(.timeout, stage: 1)
        }

        let all = SLOJudge.judge(checks, scope: "all", stats: stats, plan: plan, ranS: 20, goodput: true)
        let hold = SLOJudge.judge(checks, scope: "hold", stats: stats, plan: plan, ranS: 20, goodput: true)
        let table: [(name: String, verdict: StageSLO, passed: [Bool], measured: [Double], goodputRps: Double)] = [
            ("ramp", all.stages[0], [true, true, true, true], [10, 0, 10, 10], 10),
            ("hold", all.stages[1], [false, false, false, true], [200, 8, 8.4, 9.2], 8.4),
            ("pooled, scope all", StageSLO(checks: all.results, goodputRps: all.goodputRps), [true, true, true, true], [20, 4, 9.2, 9.6], 9.2),
            ("pooled, scope hold", StageSLO(checks: hold.results, goodputRps: hold.goodputRps), [false, false, false, true], [200, 8, 8.4, 9.2], 8.4),
        ]
        for row in table {
            XCTAssertEqual(row.verdict.checks.map(\.passed), row.passed, row.name)
            XCTAssertEqual(row.verdict.passed, !row.passed.contains(false), row.name)
            for (check, expected) in zip(row.verdict.checks, row.measured) {
                XCTAssertEqual(check.measured, expected, accuracy: expected * 0.002 + 1e-9, "\(row.name): \(check.expression)")
            }
            XCTAssertEqual(row.verdict.goodputRps ?? -1, row.goodputRps, accuracy: 1e-9, row.name)
        }
        XCTAssertTrue(all.results.allSatisfy(\.passed), "the pool passes what stage 2 fails")
        XCTAssertEqual(hold.stages, all.stages, "the scope changes the pooled verdict only")

        var summary = RunSummary(target: "GET http://h/", address: "h:80", workload: "http", arrival: "constant", seed: 1, maxConnections: 1,
                                 plan: plan, stats: stats, result: EngineResult(startNs: 0, planElapsedNs: 20_000_000_000, totalElapsedNs: 20_000_000_000,
                                                                                interruptedBySignal: nil, loopCPUSeconds: 0, startedAtUnixS: 0))
        summary.sloChecks = all.results
        summary.sloScope = all.scope
        summary.goodputRps = all.goodputRps
        summary.setStageVerdicts(all.stages)
        XCTAssertTrue(summary.sloPassed)
        XCTAssertEqual(summary.stages.map { $0.slo?.passed }, [true, false])
        XCTAssertNil(summary.total.slo)
        let text = TextReport.render(summary, planDescription: TextReport.describe(plan))
        XCTAssertTrue(text.contains("SLO (judged on the whole run): PASS"), text)
        XCTAssertTrue(text.contains("SLO by stage (each judged on its own requests):"), text)
        let hold2 = try XCTUnwrap(text.split(separator: "\n").first { $0.hasPrefix("hold ") && $0.contains("FAIL") }, text)
        XCTAssertTrue(hold2.contains("✗ 200.") && hold2.contains("✗ 8.00 %") && hold2.contains("8.40"), String(hold2))
    }

    /// A stage that recorded nothing (here: the plan stopped before it) fails a time bound, though the pool passes it.
    func testAStageWithoutSamplesFailsATimeBound() throws {
        let plan = try RatePlan(startRatePerSec: 5, targets: [(1_000_000_000, 5, "hold"), (1_000_000_000, 5, "hold-2")])
        let stats = RunStats(stageCount: 2)
        stats.countScheduled(stage: 0)
        stats.count(.success, stage: 0)
        stats.recordSuccess(latencyNs: 1_000_000, serviceNs: 1_000_000, intendedOffsetNs: 0, stage: 0)
        let verdict = SLOJudge.judge(try SLOParser.parse("p95<=5s,errors<=1%"), scope: "hold", stats: stats, plan: plan, ranS: 1, goodput: false)
        XCTAssertEqual(verdict.results.map(\.passed), [true, true])
        XCTAssertEqual(verdict.stages.map(\.passed), [true, false])
        XCTAssertTrue(verdict.stages[1].checks[0].measured.isNaN)
        XCTAssertFalse(verdict.stages[1].checks[0].passed)
        XCTAssertNil(verdict.stages[1].goodputRps)
    }
}
