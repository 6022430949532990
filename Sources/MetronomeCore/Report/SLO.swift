// `--slo 'p95<=5s,errors<=0.1%,ttft_p95<=500ms,achieved>=99%'`: parsing, and the verdict on a run.

public struct SLOCheck: Sendable, Equatable {
    public enum Metric: Sendable, Equatable {
        /// A percentile (0–100) of a time histogram, or its max / mean.
        case time(TimeSource, Statistic)
        /// Error rate, in %.
        case errors
        /// Achieved as a share of offered, in %.
        case achievedShare
        /// Achieved requests/s.
        case achievedRps
        /// Requests/s that met every per-request limit.
        case goodputRps
    }

    public enum TimeSource: String, Sendable, Equatable, CaseIterable {
        case latency, service, ttft, itl, tpot, sendLag = "send_lag"
    }

    public enum Statistic: Sendable, Equatable {
        case percentile(Double)
        case max
        case mean
    }

    public var expression: String
    public var metric: Metric
    public var atMost: Bool
    public var strict: Bool
    /// ms for times, % for shares, requests/s for rates.
    public var limit: Double
}

public enum SLOParser {
    public static let grammar = "checks like p95<=5s, p99<=10s, errors<=0.1%, ttft_p95<=500ms, itl_p99<=50ms, achieved>=99%, rps>=19, goodput>=18, separated by commas"

    public static func parse(_ text: String) throws(UsageError) -> [SLOCheck] {
        var checks: [SLOCheck] = []
        for part in text.split(separator: ",") {
            let expression = String(part).filter { $0 != " " }
            guard !expression.isEmpty else { continue }
            checks.append(try parseCheck(expression))
        }
        guard !checks.isEmpty else { throw UsageError("--slo", "is empty; give \(grammar)") }
        return checks
    }

    static func parseCheck(_ expression: String) throws(UsageError) -> SLOCheck {
        let operators = ["<=", ">=", "<", ">"]
        guard let op = operators.first(where: { expression.contains($0) }),
              let range = expression.firstRange(of: op) else {
            throw UsageError("--slo", "'\(expression)' has no comparison (<=, >=, <, >); give \(grammar)")
        }
        let name = expression[..<range.lowerBound].lowercased()
        let valueText = String(expression[range.upperBound...])
        let atMost = op.hasPrefix("<")
        let metric = try metric(named: name, in: expression)
        let limit: Double
        switch metric {
        case .time:
            guard let ns = Units.parseDuration(valueText), valueText.contains(where: { $0.isLetter }) else {
                throw UsageError("--slo", "'\(expression)': '\(valueText)' must be a duration with a unit, such as 500ms or 5s")
            }
            limit = Double(ns) / 1e6
        case .errors, .achievedShare:
            guard valueText.hasSuffix("%"), let value = Units.parseDecimal(String(valueText.dropLast())), value >= 0, value <= 100 else {
                throw UsageError("--slo", "'\(expression)': '\(valueText)' must be a percentage such as 0.1% or 99%")
            }
            limit = value
        case .achievedRps, .goodputRps:
            guard let value = Units.parseRate(valueText) else {
                throw UsageError("--slo", "'\(expression)': '\(valueText)' must be a rate in requests/s such as 19.5")
            }
            limit = value
        }
        return SLOCheck(expression: expression, metric: metric, atMost: atMost, strict: op.count == 1, limit: limit)
    }

    /// `p95`, `latency_p95`, `p99.9`, `max`, `ttft_p95`, `itl_mean`, `service_p99`, `errors`, `achieved`, `rps`, `goodput`.
    static func metric(named name: String, in expression: String) throws(UsageError) -> SLOCheck.Metric {
        switch name {
        case "errors", "error_rate": return .errors
        case "achieved": return .achievedShare
        case "rps", "achieved_rps": return .achievedRps
        case "goodput": return .goodputRps
        default: break
        }
        var source = SLOCheck.TimeSource.latency
        var statistic = name
        for candidate in SLOCheck.TimeSource.allCases where name.hasPrefix(candidate.rawValue + "_") {
            source = candidate
            statistic = String(name.dropFirst(candidate.rawValue.count + 1))
        }
        if statistic == "max" { return .time(source, .max) }
        if statistic == "mean" || statistic == "avg" { return .time(source, .mean) }
        if statistic.hasPrefix("p"), var value = Units.parseDecimal(String(statistic.dropFirst())) {
            if statistic == "p999" { value = 99.9 }
            if statistic == "p9999" { value = 99.99 }
            if value > 0 && value <= 100 { return .time(source, .percentile(value)) }
        }
        throw UsageError("--slo", "'\(expression)': unknown metric '\(name)'; give \(grammar)")
    }
}

/// The limits a single request must meet to count toward goodput: the tightest latency, TTFT and
/// TPOT bounds among the `<=` percentile checks (as vLLM's benchmark defines goodput).
public struct GoodputLimits: Sendable, Equatable {
    public var latencyNs: UInt64 = .max
    public var ttftNs: UInt64 = .max
    public var tpotNs: UInt64 = .max

    public init() {}

    public init(_ checks: [SLOCheck]) {
        for check in checks where check.atMost {
            guard case .time(let source, .percentile) = check.metric else { continue }
            let ns = UInt64(check.limit * 1e6)
            switch source {
            case .latency: latencyNs = min(latencyNs, ns)
            case .ttft: ttftNs = min(ttftNs, ns)
            case .tpot: tpotNs = min(tpotNs, ns)
            default: break
            }
        }
    }

    public var isEmpty: Bool { latencyNs == .max && ttftNs == .max && tpotNs == .max }

    @inline(__always)
    func met(latencyNs: UInt64, ttftNs: UInt64, tpotNs: UInt64) -> Bool {
        latencyNs <= self.latencyNs && (ttftNs == 0 || ttftNs <= self.ttftNs) && (tpotNs == 0 || tpotNs <= self.tpotNs)
    }
}

/// One stage's own verdict: every check judged on that stage's histograms and counters alone, never
/// on a pool, so a stage at one rate is not rescued (or sunk) by a stage at another.
public struct StageSLO: Sendable, Equatable {
    public var checks: [SLOCheckResult]
    /// Requests/s of the stage that met every per-request limit; nil without per-request limits.
    public var goodputRps: Double?
    public var passed: Bool { checks.allSatisfy(\.passed) }

    public init(checks: [SLOCheckResult], goodputRps: Double?) {
        self.checks = checks
        self.goodputRps = goodputRps
    }
}

/// The verdict on a run: the pooled one over `scope` (it decides the exit code), and each stage's own.
public struct SLOVerdict: Sendable {
    public var results: [SLOCheckResult]
    /// The scope actually used: `hold`, or `all` when asked or when the plan holds no rate.
    public var scope: String
    /// Over the judged stages; nil without per-request limits.
    public var goodputRps: Double?
    /// In plan order, one per stage, whatever the scope.
    public var stages: [StageSLO]
}

public enum SLOJudge {
    /// Judges `checks` on the stages in `scope` (`hold`: stages that hold a rate; `all`: the run),
    /// and on each stage alone.
    public static func judge(_ checks: [SLOCheck], scope: String, stats: RunStats, plan: RatePlan, ranS: Double,
                             goodput: Bool) -> SLOVerdict {
        var indices = Array(plan.stages.indices)
        var usedScope = "all"
        if scope == "hold" {
            let holds = plan.stages.indices.filter { plan.stages[$0].startRatePerSec == plan.stages[$0].endRatePerSec }
            if !holds.isEmpty {
                indices = holds
                usedScope = "hold"
            }
        }
        let merged = StageStats()
        var durationS = 0.0
        for index in indices {
            merged.merge(stats.stages[index])
            durationS += ranDurationS(plan.stages[index], ranS: ranS)
        }
        let pooled = judge(checks, stats: merged, name: usedScope, durationS: durationS, goodput: goodput)
        let stages = plan.stages.indices.map { index in
            judge(checks, stats: stats.stages[index], name: plan.stages[index].name,
                  durationS: ranDurationS(plan.stages[index], ranS: ranS), goodput: goodput)
        }
        return SLOVerdict(results: pooled.checks, scope: usedScope, goodputRps: pooled.goodputRps, stages: stages)
    }

    /// The part of a stage that ran before the plan stopped (all of it, unless interrupted), in s.
    static func ranDurationS(_ stage: RateStage, ranS: Double) -> Double {
        let startS = Double(stage.startNs) / 1e9
        return max(0, min(startS + Double(stage.durationNs) / 1e9, ranS) - startS)
    }

    /// `checks` on one set of stats that ran for `durationS` (a stage, or the pooled scope).
    public static func judge(_ checks: [SLOCheck], stats: StageStats, name: String, durationS: Double, goodput: Bool) -> StageSLO {
        let phase = PhaseSummary(name: name, startS: 0, endS: durationS, startRate: 0, endRate: 0, stats: stats, elapsedS: durationS)
        let goodputRps = goodput && durationS > 0 ? Double(stats[.goodRequests]) / durationS : nil
        let results = checks.map { check -> SLOCheckResult in
            let (label, measured, unit) = value(of: check.metric, phase: phase, stats: stats, goodputRps: goodputRps ?? 0)
            let passed: Bool
            if check.atMost {
                passed = check.strict ? measured < check.limit : measured <= check.limit
            } else {
                passed = check.strict ? measured > check.limit : measured >= check.limit
            }
            return SLOCheckResult(expression: check.expression, metric: label, comparison: (check.atMost ? "<" : ">") + (check.strict ? "" : "="),
                                  limit: check.limit, measured: measured, unit: unit, passed: passed && !measured.isNaN)
        }
        return StageSLO(checks: results, goodputRps: goodputRps)
    }

    static func value(of metric: SLOCheck.Metric, phase: PhaseSummary, stats: StageStats, goodputRps: Double) -> (String, Double, String) {
        switch metric {
        case .errors:
            return ("error rate", phase.errorRate * 100, "%")
        case .achievedShare:
            return ("achieved / offered", phase.offeredRps > 0 ? phase.achievedRps / phase.offeredRps * 100 : 0, "%")
        case .achievedRps:
            return ("achieved rps", phase.achievedRps, "rps")
        case .goodputRps:
            return ("goodput", goodputRps, "rps")
        case .time(let source, let statistic):
            let histogram: Histogram = switch source {
            case .latency: stats.latency
            case .service: stats.serviceTime
            case .ttft: stats.ttft
            case .itl: stats.itl
            case .tpot: stats.tpot
            case .sendLag: stats.sendLag
            }
            // No sample at all cannot pass a bound: a run where nothing succeeded is not fast.
            guard histogram.totalCount > 0 else { return (label(source, statistic), .nan, "ms") }
            let ns: Double = switch statistic {
            case .percentile(let p): Double(histogram.valueAtPercentile(p))
            case .max: Double(histogram.maxValue)
            case .mean: histogram.mean
            }
            return (label(source, statistic), ns / 1e6, "ms")
        }
    }

    static func label(_ source: SLOCheck.TimeSource, _ statistic: SLOCheck.Statistic) -> String {
        let name = switch source {
        case .latency: "latency"
        case .service: "service time"
        case .ttft: "TTFT"
        case .itl: "ITL"
        case .tpot: "TPOT"
        case .sendLag: "send lag"
        }
        switch statistic {
        case .percentile(let p): return "\(name) p\(Format.trimmed(p, decimals: 2))"
        case .max: return "\(name) max"
        case .mean: return "\(name) mean"
        }
    }
}
