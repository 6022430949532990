// A fixed, deterministic run summary for golden-file tests of every report format.
@testable import MetronomeCore

enum SampleSummary {
    /// Two stages (ramp 2 → 20 rps over 10 s, hold 20 rps for 20 s) of an LLM streaming run whose
    /// every number is derived from a seeded generator, never from a clock.
    static func make(llm: Bool = true) -> RunSummary {
        let plan = try! RatePlan(startRatePerSec: 2, targets: [(10_000_000_000, 20, "ramp"), (20_000_000_000, 20, "hold")])
        let checks = try! SLOParser.parse("p95<=5s,errors<=0.1%")
        let stats = RunStats(stageCount: 2, expectedSeconds: 40, goodputLimits: GoodputLimits(checks))
        var random = SeededRandom(seed: 2026)
        var schedule = ArrivalSchedule(plan: plan, process: .constant, seed: 1)
        var second: UInt64 = 1
        while let t = schedule.next() {
            while t > second * 1_000_000_000 {
                stats.series.closeSecond(endNs: second * 1_000_000_000, total: stats.total, live: stats.live)
                second += 1
            }
            let stage = plan.stageIndex(atNs: t)
            stats.countScheduled(stage: stage)
            stats.add(.sent, stage: stage)
            let lag = 20_000 + random.next() % 80_000
            stats.recordSendLag(lag, stage: stage)
            let roll = random.next() % 100
            if roll < 2 {
                stats.add(.completed, stage: stage)
                stats.add(.responseBodyBytes, stage: stage, 120)
                stats.statusCounts.add(500)
                stats.count(.httpError, stage: stage, status: 500)
                continue
            }
            if roll < 3 {
                stats.count(.timeout, stage: stage)
                continue
            }
            let ttft = 80_000_000 + random.next() % 120_000_000
            let itl = 9_000_000 + random.next() % 3_000_000
            let latency = ttft + 199 * itl + (t > 15_000_000_000 && t < 17_000_000_000 ? 1_500_000_000 : 0)
            stats.add(.completed, stage: stage)
            stats.add(.responseBodyBytes, stage: stage, 48_000)
            stats.statusCounts.add(200)
            stats.count(.success, stage: stage)
            stats.recordSuccess(latencyNs: latency, serviceNs: latency - lag, intendedOffsetNs: t, stage: stage)
            if llm {
                stats.recordTTFT(ttft, sentNs: ttft - lag, stage: stage)
                for _ in 0..<5 { stats.recordITL(itl - 1_000_000 + random.next() % 2_000_000, stage: stage) }
                stats.recordTPOT(itl, stage: stage)
                stats.recordTokens(prompt: 231, completion: 200, fromUsage: true, stage: stage)
            }
        }
        stats.series.closeSecond(endNs: 30_000_000_000, total: stats.total, live: stats.live)
        let result = EngineResult(startNs: 0, planElapsedNs: 30_000_000_000, totalElapsedNs: 31_250_000_000,
                                  interruptedBySignal: nil, loopCPUSeconds: 0.42, startedAtUnixS: 1_795_944_000)
        var summary = RunSummary(target: "POST http://127.0.0.1:8000/v1/chat/completions", address: "127.0.0.1:8000",
                                 workload: llm ? "openai-chat" : "http", arrival: "constant", seed: 1, maxConnections: 10_000,
                                 plan: plan, stats: stats, result: result)
        // Wall-clock labels are the one thing a run takes from the clock: fix them.
        for index in summary.series.indices { summary.series[index].wallClockS = 1_795_944_000 + summary.series[index].endS }
        for index in summary.failures.indices {
            summary.failures[index].firstSeenNs = 1_000_000_000
            summary.failures[index].lastSeenNs = 29_000_000_000
        }
        summary.connectionsOpened = 37
        summary.errorMessages = [("http_error", 500, "The model overloaded: KV cache is full", 12)]
        var options = RunOptions()
        options.rate = 20
        options.rampNs = 10_000_000_000
        options.durationNs = 20_000_000_000
        options.startRate = 2
        options.arrival = .constant
        options.seed = 1
        options.apiKey = "sk-secret-never-shown"
        options.headers = [("Authorization", "Bearer sk-secret-never-shown"), ("X-Team", "perf")]
        // Out of alphabetical order: every writer and the decoder keep the order given.
        options.tags = [("setting", "max_num_seqs=64"), ("gpu", "A100 80GB"), ("build", "v0.6.3")]
        summary.config = options.resolvedConfig()
        summary.tags = options.tags
        summary.environment = RunEnvironment(hostName: "golden-host", cores: 2, kernel: "Linux 6.1.0", clockSource: "tsc",
                                             metronomeVersion: metronomeVersion, startedAt: isoTimestamp(unixS: 1_795_944_000))
        if llm {
            summary.isLLM = true
            summary.stream = true
            summary.maxTokens = 200
            summary.uniquePrompts = true
        }
        summary.sloChecks = [
            SLOCheckResult(expression: "p95<=5s", metric: "latency p95", comparison: "<=", limit: 5000,
                           measured: summary.total.latency.p95, unit: "ms", passed: summary.total.latency.p95 <= 5000),
            SLOCheckResult(expression: "errors<=0.1%", metric: "error rate", comparison: "<=", limit: 0.1,
                           measured: summary.total.errorRate * 100, unit: "%", passed: summary.total.errorRate * 100 <= 0.1),
        ]
        summary.goodputRps = 17.5
        summary.setStageVerdicts(SLOJudge.judge(checks, scope: "hold", stats: stats, plan: plan, ranS: summary.ranS, goodput: true).stages)
        return summary
    }
}
