// `metronome compare`: two runs' headline metrics side by side, the change in each, and a verdict.

/// One metric of both runs. `higherIsBetter` says which way is a regression.
public struct ComparedMetric: Sendable {
    public var key: String
    public var label: String
    public var unit: String
    public var higherIsBetter: Bool
    public var base: Double
    public var new: Double
    /// `better`, `worse`, `same` (within the threshold) or `n/a` (a run did not measure it).
    public var verdict: String

    /// new − base.
    public var delta: Double { new - base }
    /// (new − base) / base; nil when base is 0.
    public var relative: Double? { base != 0 ? (new - base) / base : nil }
    public var isRegression: Bool { verdict == "worse" }
}

public struct RunComparison: Sendable {
    public var metrics: [ComparedMetric]
    /// A fraction: 0.05 for 5 %.
    public var threshold: Double
    public var notes: [String]
    public var regressions: [ComparedMetric] { metrics.filter(\.isRegression) }

    /// Rate, latency, error rate, and for LLM runs TTFT, ITL, TPOT and output tokens/s, over the
    /// whole of each run. A change counts only past `threshold` of the base (for the error rate:
    /// of the base or of 1 %, whichever is larger, so 0 → 0.01 % is not "infinitely worse").
    public init(base: RunSummary, new: RunSummary, threshold: Double) {
        self.threshold = threshold
        var metrics: [ComparedMetric] = []
        func add(_ key: String, _ label: String, _ unit: String, higherIsBetter: Bool, _ value: (RunSummary) -> Double?, floor: Double = 0) {
            let a = value(base), b = value(new)
            var metric = ComparedMetric(key: key, label: label, unit: unit, higherIsBetter: higherIsBetter, base: a ?? .nan, new: b ?? .nan, verdict: "n/a")
            if let a, let b, a.isFinite, b.isFinite {
                let allowed = threshold * max(abs(a), floor)
                let change = higherIsBetter ? a - b : b - a   // positive: worse
                metric.verdict = change > allowed ? "worse" : -change > allowed ? "better" : "same"
            }
            metrics.append(metric)
        }
        func measured(_ percentiles: @escaping (RunSummary) -> Percentiles, _ level: @escaping (Percentiles) -> Double) -> (RunSummary) -> Double? {
            { summary in percentiles(summary).count > 0 ? level(percentiles(summary)) : nil }
        }
        add("achieved_rps", "achieved rate", "req/s", higherIsBetter: true) { $0.total.achievedRps }
        add("latency_p50_ms", "latency p50", "ms", higherIsBetter: false, measured(\.total.latency, \.p50))
        add("latency_p95_ms", "latency p95", "ms", higherIsBetter: false, measured(\.total.latency, \.p95))
        add("latency_p99_ms", "latency p99", "ms", higherIsBetter: false, measured(\.total.latency, \.p99))
        add("error_percent", "errors", "%", higherIsBetter: false, { $0.total.scheduled > 0 ? $0.total.errorRate * 100 : nil }, floor: 1)
        if base.isLLM || new.isLLM {
            add("ttft_p50_ms", "TTFT p50", "ms", higherIsBetter: false, measured(\.total.ttft, \.p50))
            add("ttft_p95_ms", "TTFT p95", "ms", higherIsBetter: false, measured(\.total.ttft, \.p95))
            add("ttft_p99_ms", "TTFT p99", "ms", higherIsBetter: false, measured(\.total.ttft, \.p99))
            add("itl_p50_ms", "ITL p50", "ms", higherIsBetter: false, measured(\.total.itl, \.p50))
            add("itl_p95_ms", "ITL p95", "ms", higherIsBetter: false, measured(\.total.itl, \.p95))
            add("tpot_p50_ms", "TPOT p50", "ms", higherIsBetter: false, measured(\.total.tpot, \.p50))
            add("tpot_p95_ms", "TPOT p95", "ms", higherIsBetter: false, measured(\.total.tpot, \.p95))
            add("output_tokens_per_s", "output tokens/s", "tok/s", higherIsBetter: true) { $0.total.tokenCountedRequests > 0 ? $0.total.outputTokensPerS : nil }
        }
        self.metrics = metrics
        var notes: [String] = []
        if base.planDescription != new.planDescription {
            notes.append("the plans differ (base: \(base.planDescription); new: \(new.planDescription)): rates and latencies are not like for like")
        }
        if base.workload != new.workload { notes.append("the workloads differ (base \(base.workload), new \(new.workload))") }
        if base.closedLoop != nil || new.closedLoop != nil {
            notes.append("a closed-loop run (--concurrency) is compared: its latency excludes waiting")
        }
        for (name, summary) in [("base", base), ("new", new)] where summary.total.latency.count < 100 {
            notes.append("the \(name) run has \(summary.total.latency.count) successful requests: its p99 is one of the few slowest")
        }
        self.notes = notes
    }
}
