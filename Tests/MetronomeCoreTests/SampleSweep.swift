// A fixed find-max and sweep, built by hand (no clock, no server), for golden-file tests of the sweep reports.
@testable import MetronomeCore

enum SampleSweep {
    /// Percentiles in ms with p50/p90/p95/p99 set, the other levels between them.
    static func percentiles(_ p50: Double, _ p90: Double, _ p95: Double, _ p99: Double, count: UInt64) -> Percentiles {
        var p = Percentiles()
        p.count = count
        p.values = [p50, p50 * 1.1, p50 * 1.2, p50 * 1.3, p90, p95, (p95 + p99) / 2, p99, p99 * 1.2, p99 * 1.3, p99 * 1.4]
        p.min = p50 / 2
        p.max = p99 * 1.4
        p.mean = p50 * 1.1
        return p
    }

    /// One step's hold of 10 s at `rate`: latency grows with `load` (1 at the knee), a share fails.
    static func step(_ rate: Double, load: Double, errorRate: Double = 0, passed: Bool, repeated: Bool = false, llm: Bool = true,
                     checks: [SLOCheckResult] = []) -> StepResult {
        var hold = PhaseSummary(name: "hold", startS: 0, endS: 10, startRate: rate, endRate: rate, stats: StageStats(), elapsedS: 10)
        hold.scheduled = UInt64(rate * 10)
        hold.succeeded = UInt64((rate * 10 * (1 - errorRate)).rounded())
        hold.failed = hold.scheduled - hold.succeeded
        hold.sent = hold.scheduled
        hold.completed = hold.scheduled
        hold.offeredRps = rate * 1.002
        hold.achievedRps = Double(hold.succeeded) / 10
        hold.errorRate = errorRate
        if hold.failed > 0 { hold.errors = [("http_error", hold.failed)] }
        let queue = 1 / max(0.05, 1 - load)
        hold.latency = percentiles(1900 + 40 * queue, 2100 + 90 * queue, 2200 + 120 * queue, 2400 + 200 * queue, count: hold.succeeded)
        hold.sendLag = percentiles(0.04, 0.08, 0.09, 0.12, count: hold.scheduled)
        if llm {
            hold.ttft = percentiles(90 + 30 * queue, 140 + 60 * queue, 160 + 80 * queue, 200 + 120 * queue, count: hold.succeeded)
            hold.itl = percentiles(9.5, 10.5, 11, 11.8, count: hold.succeeded * 199)
            hold.tpot = percentiles(9.6, 10.2, 10.4, 10.9, count: hold.succeeded)
            hold.outputTokensPerS = hold.achievedRps * 200
        }
        let goodput = hold.achievedRps * (passed ? 0.99 : 0.6)
        return StepResult(rate: rate, repeated: repeated, hold: hold, goodputRps: goodput, sloChecks: checks, passed: passed,
                          interrupted: false, targetUnreachable: false, warnings: [], isLLM: llm, stream: llm)
    }

    static func check(_ expression: String, _ metric: String, measured: Double, limit: Double, unit: String) -> SLOCheckResult {
        SLOCheckResult(expression: expression, metric: metric, comparison: "<=", limit: limit, measured: measured, unit: unit, passed: measured <= limit)
    }

    /// find-max from 5 rps: 5, 10 pass, 20 fails, 15 passes, 17.5 fails twice (the second a repeat).
    static func findMax() -> SweepResult {
        var result = SweepResult(command: .findMax)
        result.tags = [("max_num_seqs", "32"), ("gpu", "a100, 80GB")]
        result.target = "POST http://127.0.0.1:8000/v1/chat/completions"
        result.model = "sim-model"
        result.arrival = "poisson"
        result.sloText = "p95<=3s,ttft_p95<=1s,errors<=1%"
        result.stepDurationNs = 10_000_000_000
        result.stepRampNs = 5_000_000_000
        result.cooldownNs = 30_000_000_000
        result.precision = 0.2
        func checks(p95: Double, ttft: Double, errors: Double) -> [SLOCheckResult] {
            [check("p95<=3s", "latency p95", measured: p95, limit: 3000, unit: "ms"),
             check("ttft_p95<=1s", "TTFT p95", measured: ttft, limit: 1000, unit: "ms"),
             check("errors<=1%", "error rate", measured: errors, limit: 1, unit: "%")]
        }
        var steps: [StepResult] = []
        for (rate, load, errors, repeated) in [(5.0, 0.25, 0.0, false), (10, 0.5, 0.0, false), (20, 1.05, 0.08, false),
                                               (15, 0.75, 0.0, false), (17.5, 0.9, 0.02, false), (17.5, 0.92, 0.03, true)] {
            var step = SampleSweep.step(rate, load: load, errorRate: errors, passed: true, repeated: repeated)
            step.sloChecks = checks(p95: step.hold.latency.p95, ttft: step.hold.ttft.p95, errors: errors * 100)
            step.passed = step.sloChecks.allSatisfy(\.passed)
            step.goodputRps = step.hold.achievedRps * (step.passed ? 0.99 : 0.6)
            steps.append(step)
        }
        steps[2].warnings = ["12 requests were still running when the cooldown ended (raise --cooldown)"]
        result.steps = steps
        result.maxRate = 15
        result.bracket = (15, 17.5)
        result.warnings = ["at 20 requests/s the generator, not the server, may have been the limit: send lag p99 0.1 ms, 3 dropped"]
        return result
    }

    /// A plain-HTTP sweep over 4 rates without --slo and without tags.
    static func sweep() -> SweepResult {
        var result = SweepResult(command: .sweep)
        result.target = "GET http://127.0.0.1:8080/"
        result.arrival = "constant"
        result.stepDurationNs = 2_000_000_000
        result.stepRampNs = 1_000_000_000
        result.cooldownNs = 5_000_000_000
        result.steps = [5.0, 10, 20, 40].map { rate in
            var step = SampleSweep.step(rate, load: rate / 45, passed: true, llm: false)
            step.goodputRps = nil
            return step
        }
        return result
    }
}
