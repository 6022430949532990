// The immutable snapshot every reporter renders: numbers only, built once from the run's stats.
import Glibc

public struct Percentiles: Sendable, Equatable {
    /// The levels reported everywhere: Locust's columns (50 … 100), of which the text shows a subset.
    public static let levels: [Double] = [50, 66, 75, 80, 90, 95, 98, 99, 99.9, 99.99, 100]

    public var count: UInt64 = 0
    /// Milliseconds at each of `levels`.
    public var values: [Double] = Array(repeating: 0, count: Percentiles.levels.count)
    public var min = 0.0, max = 0.0, mean = 0.0

    public var p50: Double { values[0] }
    public var p90: Double { values[4] }
    public var p95: Double { values[5] }
    public var p99: Double { values[7] }
    public var p999: Double { values[8] }

    public init() {}

    /// Milliseconds from a nanosecond histogram.
    public init(_ histogram: Histogram) {
        count = histogram.totalCount
        guard count > 0 else { return }
        histogram.valuesAtPercentiles(Percentiles.levels, into: &values, divisor: 1e6)
        min = Double(histogram.minValue) / 1e6
        max = Double(histogram.maxValue) / 1e6
        mean = histogram.mean / 1e6
    }
}

public struct PhaseSummary: Sendable {
    public var name: String
    public var startS: Double
    public var endS: Double
    public var startRate: Double
    public var endRate: Double
    public var scheduled: UInt64 = 0
    public var sent: UInt64 = 0
    public var completed: UInt64 = 0
    public var succeeded: UInt64 = 0
    /// Failures of the request itself: HTTP errors, connect errors, resets, timeouts, protocol and stream errors.
    public var failed: UInt64 = 0
    public var dropped: UInt64 = 0
    public var unfinished: UInt64 = 0
    public var offeredRps = 0.0
    public var achievedRps = 0.0
    /// (scheduled − succeeded) / scheduled: every request that did not succeed, dropped and unfinished included.
    public var errorRate = 0.0
    public var latency = Percentiles()
    public var serviceTime = Percentiles()
    public var sendLag = Percentiles()
    public var meanResponseBytes = 0.0
    /// LLM workloads: time to first token, inter-token latency, time per output token (ms).
    public var ttft = Percentiles()
    /// TTFT from the first byte sent (vLLM's `bench serve` definition); `ttft` counts from the intended start.
    public var ttftSent = Percentiles()
    public var itl = Percentiles()
    public var tpot = Percentiles()
    /// Completion tokens of the stage's successful requests per second of the stage.
    public var outputTokensPerS = 0.0
    public var promptTokens: TokenStats?
    public var completionTokens: TokenStats?
    /// Successful requests whose token counts came from the server's `usage`, and all with counts.
    public var usageReportedRequests: UInt64 = 0
    public var tokenCountedRequests: UInt64 = 0
    /// Each outcome other than success with a non-zero count, in `Outcome` order.
    public var errors: [(kind: String, count: UInt64)] = []
    /// A stage's own `--slo` verdict (`RunSummary.setStageVerdicts`); nil without `--slo`, and for the total.
    public var slo: StageSLO? = nil

    init(name: String, startS: Double, endS: Double, startRate: Double, endRate: Double, stats: StageStats, elapsedS: Double) {
        self.name = name
        self.startS = startS
        self.endS = endS
        self.startRate = startRate
        self.endRate = endRate
        scheduled = stats[.scheduled]
        sent = stats[.sent]
        completed = stats[.completed]
        succeeded = stats.count(.success)
        for outcome in Outcome.allCases where outcome.isFailure { failed += stats.count(outcome) }
        dropped = stats.count(.dropped)
        unfinished = stats.count(.unfinished)
        let ranS = Swift.max(0, Swift.min(endS, elapsedS) - startS)
        if ranS > 0 {
            offeredRps = Double(scheduled) / ranS
            achievedRps = Double(succeeded) / ranS
        }
        errorRate = scheduled > 0 ? Double(scheduled - Swift.min(succeeded, scheduled)) / Double(scheduled) : 0
        latency = Percentiles(stats.latency)
        serviceTime = Percentiles(stats.serviceTime)
        sendLag = Percentiles(stats.sendLag)
        if completed > 0 { meanResponseBytes = Double(stats[.responseBodyBytes]) / Double(completed) }
        ttft = Percentiles(stats.ttft)
        ttftSent = Percentiles(stats.ttftSent)
        itl = Percentiles(stats.itl)
        tpot = Percentiles(stats.tpot)
        if ranS > 0 { outputTokensPerS = Double(stats[.completionTokensSum]) / ranS }
        promptTokens = stats.tokenStats(sum: .promptTokensSum, min: .promptTokensMin, max: .promptTokensMax, requests: .promptCountedRequests)
            .map { TokenStats(mean: $0.mean, min: $0.min, max: $0.max) }
        completionTokens = stats.tokenStats(sum: .completionTokensSum, min: .completionTokensMin, max: .completionTokensMax, requests: .tokenCountedRequests)
            .map { TokenStats(mean: $0.mean, min: $0.min, max: $0.max) }
        usageReportedRequests = stats[.usageReportedRequests]
        tokenCountedRequests = stats[.tokenCountedRequests]
        for outcome in Outcome.allCases where outcome != .success && stats.count(outcome) > 0 {
            errors.append((outcome.key, stats.count(outcome)))
        }
    }
}

extension RunSummary {
    /// (percentile, ms) points of a nanosecond histogram, HdrHistogram's iteration at 5 ticks per half distance.
    static func distribution(_ histogram: Histogram) -> [(percentile: Double, ms: Double)] {
        guard histogram.totalCount > 0 else { return [] }
        return histogram.percentiles(ticksPerHalfDistance: 5).map { ($0.percentileLevel, Double($0.value) / 1e6) }
    }
}

public struct TokenStats: Sendable, Equatable {
    public var mean: Double
    public var min: UInt64
    public var max: UInt64
}

/// Where the run happened, for the JSON summary and the HTML report.
public struct RunEnvironment: Sendable {
    public var hostName: String
    public var cores: Int
    public var kernel: String
    public var clockSource: String
    public var metronomeVersion: String
    public var startedAt: String

    public static func current(startedAtUnixS: Double) -> RunEnvironment {
        var name = [CChar](repeating: 0, count: 256)
        gethostname(&name, name.count - 1)
        var system = utsname()
        uname(&system)
        let release = withUnsafeBytes(of: &system.release) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
        let sysname = withUnsafeBytes(of: &system.sysname) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
        var clock = "unknown"
        if let bytes = try? readFile("/sys/devices/system/clocksource/clocksource0/current_clocksource") {
            clock = String(decoding: bytes, as: UTF8.self).trimmingSpaces().filter { $0 != "\n" }
        }
        return RunEnvironment(hostName: stringFromCBuffer(name), cores: Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))),
                              kernel: "\(sysname) \(release)", clockSource: clock, metronomeVersion: MetronomeCore.metronomeVersion,
                              startedAt: isoTimestamp(unixS: startedAtUnixS))
    }
}

/// One `--slo` check as judged: `p95<=5s` measured 4213.2 ms → PASS.
public struct SLOCheckResult: Sendable, Equatable {
    /// As the user wrote it, e.g. `p95<=5s`.
    public var expression: String
    /// What was measured, e.g. `latency p95`, `error rate`, `TTFT p95`, `achieved / offered`.
    public var metric: String
    /// `<=` or `>=`.
    public var comparison: String
    /// In `unit`: ms for times, % for rates.
    public var limit: Double
    public var measured: Double
    public var unit: String
    public var passed: Bool
}

/// Every member has a value before any is set, so a reader (`SummaryDecoder`) can fill it in through
/// the same descriptions the writers use (`SummarySchema`).
public struct RunSummary: Sendable {
    /// Nothing measured: what a reader starts from.
    init() {}

    public var target = ""
    public var address = ""
    public var workload = ""
    public var arrival = ""
    public var seed: UInt64 = 0
    public var maxConnections = 0
    public var plannedDurationS = 0.0
    public var ranS = 0.0
    public var elapsedS = 0.0
    public var interrupted = false
    public var stages: [PhaseSummary] = []
    public var total = PhaseSummary(name: "total", startS: 0, endS: 0, startRate: 0, endRate: 0)
    /// The run-wide connection counters (`LiveCounter.summaryKey`), in `LiveCounter` order: the
    /// `connections` section of every report.
    public var connectionCounters: [(key: String, count: UInt64)] = []
    public var connectionsOpened: UInt64 {
        get { connectionCounter(.connectionsOpened) }
        set { setConnectionCounter(.connectionsOpened, newValue) }
    }
    public var staleConnectionRetries: UInt64 {
        get { connectionCounter(.staleConnectionRetries) }
        set { setConnectionCounter(.staleConnectionRetries, newValue) }
    }
    public var statusCounts: [(status: Int, count: UInt64)] = []
    public var loopCPUSeconds = 0.0
    /// Preemptions of the loop thread over the run, and the host's load at its end (see `GeneratorHealth`).
    public var loopInvoluntarySwitches = 0
    public var hostLoad = HostLoad()
    /// TCP connect times of the run's connections, and for https:// the TLS handshake after each.
    public var connectTime = Percentiles()
    public var tlsHandshakeTime = Percentiles()
    /// https://: the protocol agreed ("TLSv1.3") and how the certificate was checked (`TLSVerify`);
    /// empty for http://.
    public var tlsVersion = ""
    public var tlsVerify = ""
    public var warnings: [String] = []
    public var targetUnreachable = false
    public var series: [SecondSample] = []
    public var failures: [FailureLog.Entry] = []
    public var errorMessages: [(kind: String, status: Int, message: String, count: UInt64)] = []
    /// Monotonic ns → wall clock: the plan's zero in Unix seconds.
    public var startedAtUnixS = 0.0
    /// (percentile, ms) points of the latency and service-time distributions, HdrHistogram's iteration.
    public var latencyDistribution: [(percentile: Double, ms: Double)] = []
    public var serviceDistribution: [(percentile: Double, ms: Double)] = []
    /// The same for TTFT (from the intended start and from the first byte sent) and ITL, streams
    /// only; empty when none were measured (and in files written before them).
    public var ttftDistribution: [(percentile: Double, ms: Double)] = []
    public var ttftSentDistribution: [(percentile: Double, ms: Double)] = []
    public var itlDistribution: [(percentile: Double, ms: Double)] = []
    /// The resolved options, secrets masked, in table order; set by the caller.
    public var config: [(key: String, value: String)] = []
    /// `--tag key=value` labels, in the order given: what a grid over server settings groups runs by.
    public var tags: [(key: String, value: String)] = []
    /// The run's credentials (from the stats), hidden by every writer; never written anywhere.
    public var secrets = SecretMask()
    /// OpenAI workloads: what was asked, so reports can judge the token counts.
    public var isLLM = false
    public var stream = false
    public var maxTokens = 0
    /// The mean max_tokens of the bodies sent when it varies (dataset rows, --output-spread); nil when every body asks `maxTokens`.
    public var maxTokensMean: Double? = nil
    public var uniquePrompts = false
    /// Bodies prepared for the run (dataset rows, synthetic pool, prefix groups), sent in turn.
    public var distinctPrompts = 1

    /// `unique` (numbered per request), `same` (one body), `cycled` (several bodies sent in turn).
    public var promptMode: String { uniquePrompts ? "unique" : distinctPrompts > 1 ? "cycled" : "same" }
    /// Requested vs the server's prompt tokens (OpenAI workloads).
    public var promptCalibration: PromptCalibration? = nil
    public var environment: RunEnvironment? = nil
    /// `--slo` verdicts, judged on `sloScope` (`hold` stages by default, or `all`); empty without `--slo`.
    public var sloChecks: [SLOCheckResult] = []
    public var sloScope = "hold"
    /// Requests per second (over the judged stages) that met every per-request limit of the SLO
    /// (latency and TTFT limits); nil without per-request limits.
    public var goodputRps: Double? = nil
    public var sloPassed: Bool { sloChecks.allSatisfy(\.passed) }
    /// `--concurrency`: a closed loop, which every report names; nil for an open-loop run.
    public var closedLoop: ClosedLoopMode? = nil
    /// `--shard I/N`: the part of the schedule this run sent; `.whole` otherwise.
    public var shard = Shard.whole
    /// `--start-at`: the plan's zero asked for, Unix seconds; nil when the run started after setup.
    public var startAtUnixS: Double? = nil
    /// `metronome merge`: the summaries this one adds up, in the order given; empty for a run.
    public var mergedFrom: [MergeSource] = []
    /// The stats themselves, per stage and for the whole run: what the summary file keeps losslessly
    /// (counters, and histograms in HdrHistogram's V2 form) so that `merge` adds runs exactly. Empty
    /// for a summary read from a file without them.
    public var rawStages: [StageStats] = []
    public var rawTotal: StageStats? = nil

    /// Gives each stage its own verdict (`SLOVerdict.stages`, in plan order).
    public mutating func setStageVerdicts(_ verdicts: [StageSLO]) {
        for (index, verdict) in zip(stages.indices, verdicts) { stages[index].slo = verdict }
    }

    /// The pooled verdict and each stage's, as `SLOJudge.judge` gave them.
    mutating func setSLO(_ verdict: SLOVerdict) {
        sloChecks = verdict.results
        sloScope = verdict.scope
        goodputRps = verdict.goodputRps
        setStageVerdicts(verdict.stages)
    }

    public func connectionCounter(_ counter: LiveCounter) -> UInt64 {
        connectionCounters.first { $0.key == counter.summaryKey }?.count ?? 0
    }

    public mutating func setConnectionCounter(_ counter: LiveCounter, _ count: UInt64) {
        guard let key = counter.summaryKey else { return }
        if let index = connectionCounters.firstIndex(where: { $0.key == key }) {
            connectionCounters[index].count = count
        } else {
            connectionCounters.append((key, count))
        }
    }

    /// What `GeneratorHealth` judges the generator by.
    public var generatorFigures: GeneratorFigures {
        var figures = GeneratorFigures()
        figures.sendLagP99Ms = total.sendLag.p99
        figures.sent = total.sent
        figures.dropped = total.dropped
        figures.maxConnections = maxConnections
        figures.connectionsOpened = connectionsOpened
        figures.peakInFlight = series.map(\.inFlight).max() ?? 0
        figures.secondsQueuedAtCap = series.filter { $0.queued > 0 && $0.inFlight >= UInt64(max(maxConnections, 1)) }.count
        figures.loopCPUSeconds = loopCPUSeconds
        figures.elapsedS = elapsedS
        figures.involuntarySwitches = loopInvoluntarySwitches
        figures.host = hostLoad
        figures.generatorLimitedConnects = connectionCounter(.generatorLimitedConnects)
        figures.generatorLimitErrno = Int32(truncatingIfNeeded: connectionCounter(.generatorLimitErrno))
        figures.poolGrowthPaced = connectionCounter(.poolGrowthPaced)
        return figures
    }

    public init(target: String, address: String, workload: String, arrival: String, seed: UInt64, maxConnections: Int,
                plan: RatePlan, stats: RunStats, result: EngineResult) {
        self.target = target
        self.address = address
        self.workload = workload
        self.arrival = arrival
        self.seed = seed
        self.maxConnections = maxConnections
        plannedDurationS = Double(plan.totalDurationNs) / 1e9
        ranS = Double(result.planElapsedNs) / 1e9
        elapsedS = Double(result.totalElapsedNs) / 1e9
        interrupted = result.interruptedBySignal != nil
        let ran = ranS
        stages = plan.stages.enumerated().map { index, stage in
            PhaseSummary(name: stage.name, startS: Double(stage.startNs) / 1e9, endS: Double(stage.startNs + stage.durationNs) / 1e9,
                         startRate: stage.startRatePerSec, endRate: stage.endRatePerSec, stats: stats.stages[index], elapsedS: ran)
        }
        total = PhaseSummary(name: "total", startS: 0, endS: plannedDurationS, startRate: plan.stages.first?.startRatePerSec ?? 0,
                             endRate: plan.stages.last?.endRatePerSec ?? 0, stats: stats.total, elapsedS: ran)
        connectionCounters = LiveCounter.allCases.compactMap { counter in counter.summaryKey.map { ($0, stats[counter]) } }
        statusCounts = (0..<RunStats.statusCodeCount).compactMap { code in stats.statusCounts[code] > 0 ? (code, stats.statusCounts[code]) : nil }
        loopCPUSeconds = result.loopCPUSeconds
        loopInvoluntarySwitches = result.loopInvoluntarySwitches
        hostLoad = result.hostLoad
        connectTime = Percentiles(stats.connectTime)
        tlsHandshakeTime = Percentiles(stats.tlsHandshakeTime)
        tlsVersion = result.tlsVersion ?? ""
        series = stats.series.samples
        // Successes by intended second are complete only now: a request may succeed seconds after its second closed.
        for (index, count) in stats.series.succeededByIntendedSecond().enumerated() { series[index].succeededByIntended = count }
        for index in series.indices { series[index].cumulative = stats.series.cumulativePercentiles(ofSecond: index) }
        // The log stamps with the monotonic clock; reports want ns from the plan's zero.
        failures = stats.failures.entries.map { entry in
            var relative = entry
            relative.firstSeenNs = entry.firstSeenNs &- min(entry.firstSeenNs, result.startNs)
            relative.lastSeenNs = entry.lastSeenNs &- min(entry.lastSeenNs, result.startNs)
            return relative
        }
        errorMessages = stats.failures.messages
        // A --web run holds spare stages for rate changes that may never come: only the plan's are its.
        rawStages = Array(stats.stages.prefix(plan.stages.count))
        rawTotal = stats.total
        secrets = stats.secrets
        startedAtUnixS = result.startedAtUnixS
        let distribution = RunSummary.distribution
        latencyDistribution = distribution(stats.total.latency)
        serviceDistribution = distribution(stats.total.serviceTime)
        ttftDistribution = distribution(stats.total.ttft)
        ttftSentDistribution = distribution(stats.total.ttftSent)
        itlDistribution = distribution(stats.total.itl)
        let connectFailures = Outcome.allCases.filter(\.isConnectFailure).reduce(0) { $0 + stats.total.count($1) }
        targetUnreachable = total.scheduled > 0 && total.completed == 0 && connectFailures > 0
            && connectFailures + total.dropped + total.unfinished == total.scheduled
        warnings = []
        if targetUnreachable {
            warnings.append("TARGET UNREACHABLE: no request could connect to \(address) (\(connectFailures) connect errors)")
        }
        warnings += GeneratorHealth.warnings(generatorFigures)
        if total.unfinished > 0 {
            warnings.append("\(total.unfinished) requests unfinished when the drain ended (raise --drain or --timeout)")
        }
        if stats[.saturatedValues] > 0 {
            warnings.append("\(stats[.saturatedValues]) values above the histograms' 1 h range were clamped")
        }
    }
}
