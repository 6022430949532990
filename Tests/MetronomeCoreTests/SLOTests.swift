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
            stats.recordSuccess(latencyNs: ms * 1_000_000, serviceNs: ms * 1_000_000, stage: 1)
        }
        for _ in 0..<2 {
            stats.countScheduled(stage: 1)
            stats.count(.timeout, stage: 1)
        }
        stats.countScheduled(stage: 0)
        stats.count(.success, stage: 0)
        stats.recordSuccess(latencyNs: 9_000_000_000, serviceNs: 9_000_000_000, stage: 0)

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
}
