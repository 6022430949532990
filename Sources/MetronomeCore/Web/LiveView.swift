// The web view's figures: read once a second from the engine's lock-free counters and histograms.
import Synchronization

/// One second's figures, as `/stats.json` gives them and the page draws them.
struct LiveFigures: Sendable {
    var elapsedS = 0.0
    var durationS = 0.0
    var state = "running"
    var stage = ""
    var stageIndex = 0
    var targetRps = 0.0
    var offeredRps = 0.0
    var achievedRps = 0.0
    var inFlight: UInt64 = 0
    var queued: UInt64 = 0
    var scheduled: UInt64 = 0
    var sent: UInt64 = 0
    var succeeded: UInt64 = 0
    var errors: UInt64 = 0
    var errorsByKind: [(String, UInt64)] = []
    /// p50, p95, p99 in ms: of the last `LiveView.windowSeconds`, and of the run.
    var latencyMs: [Double] = [0, 0, 0]
    var latencyRunMs: [Double] = [0, 0, 0]
    var ttftMs: [Double] = [0, 0, 0]
    var ttftRunMs: [Double] = [0, 0, 0]
    var itlMs: [Double] = [0, 0, 0]
    var sendLagMs: [Double] = [0, 0, 0]
    var stages: [RateStage] = []
    var report: String?
    var commandsTaken: UInt64 = 0
    /// `--slo` judged on the run so far (every stage), a second at a time; empty without `--slo`.
    var slo: [SLOCheckResult] = []
}

/// A chart point kept per second for the page's first HTML (the script then adds its own).
struct LivePoint: Sendable {
    var t: Double, target: Double, offered: Double, achieved: Double
    var p50: Double, p95: Double, p99: Double, errors: UInt64
}

/// Reads the run's stats on the web thread (relaxed loads, like the progress line) and keeps the last
/// `historyLimit` seconds of chart points. Only the web thread calls `tick()`.
final class LiveView: @unchecked Sendable {
    static let windowSeconds = 5
    static let historyLimit = 600
    let stats: RunStats
    private let originalPlan: RatePlan
    private let commands: EngineCommands?
    let isLLM: Bool
    let title: String
    private let latencyWindow: RecentPercentiles
    private let ttftWindow: RecentPercentiles?
    private let itlWindow: RecentPercentiles?
    private var lastNs: UInt64 = 0
    private var lastScheduled: UInt64 = 0
    private var lastSucceeded: UInt64 = 0
    private(set) var figures = LiveFigures()
    private(set) var history: [LivePoint] = []
    /// Set by the main thread when the run ended: "done" and the report's path.
    let finished = Mutex<(done: Bool, report: String?)>((false, nil))

    /// The run's `--slo`, judged live on the whole run so far (the final verdict judges the holds).
    let slo: [SLOCheck]

    init(stats: RunStats, plan: RatePlan, commands: EngineCommands?, isLLM: Bool, title: String, slo: [SLOCheck] = []) {
        self.stats = stats
        self.slo = slo
        originalPlan = plan
        self.commands = commands
        self.isLLM = isLLM
        self.title = title
        latencyWindow = RecentPercentiles(stats.total.latency, seconds: Self.windowSeconds)
        ttftWindow = isLLM ? RecentPercentiles(stats.total.ttft, seconds: Self.windowSeconds) : nil
        itlWindow = isLLM ? RecentPercentiles(stats.total.itl, seconds: Self.windowSeconds) : nil
        lastNs = monotonicNs()
    }

    var plan: RatePlan { commands?.currentPlan(or: originalPlan) ?? originalPlan }

    func tick() {
        let now = monotonicNs()
        let seconds = max(Double(now - lastNs) / 1e9, 1e-3)
        lastNs = now
        let plan = plan
        var f = LiveFigures()
        let elapsedNs = stats[.elapsedNs]
        f.elapsedS = Double(elapsedNs) / 1e9
        f.durationS = Double(plan.totalDurationNs) / 1e9
        let (done, report) = finished.withLock { $0 }
        f.state = done ? "done" : elapsedNs >= plan.totalDurationNs || (commands?.stopped ?? false) ? "draining" : "running"
        f.report = report
        f.stageIndex = min(plan.stageIndex(atNs: elapsedNs), plan.stages.count - 1)
        f.stage = plan.stages[f.stageIndex].name
        f.targetRps = f.state == "running" ? plan.rate(atNs: elapsedNs) : 0
        let total = stats.total
        f.scheduled = total[.scheduled]
        f.sent = total[.sent]
        f.succeeded = total.count(.success)
        f.offeredRps = Double(f.scheduled &- lastScheduled) / seconds
        f.achievedRps = Double(f.succeeded &- lastSucceeded) / seconds
        lastScheduled = f.scheduled
        lastSucceeded = f.succeeded
        f.inFlight = stats[.inFlight]
        f.queued = stats[.queued]
        for outcome in Outcome.allCases where outcome != .success && outcome != .unfinished {
            let count = total.count(outcome)
            f.errors &+= count
            if count > 0 { f.errorsByKind.append((outcome.key, count)) }
        }
        let ms = { (ns: [UInt64]) in ns.map { Double($0) / 1e6 } }
        f.latencyMs = ms(latencyWindow.tick())
        f.latencyRunMs = ms(total.latency.valuesAtPercentiles([50, 95, 99]))
        if isLLM {
            f.ttftMs = ms(ttftWindow?.tick() ?? [0, 0, 0])
            f.ttftRunMs = ms(total.ttft.valuesAtPercentiles([50, 95, 99]))
            f.itlMs = ms(itlWindow?.tick() ?? [0, 0, 0])
        }
        f.sendLagMs = ms(total.sendLag.valuesAtPercentiles([50, 95, 99]))
        f.stages = plan.stages
        f.commandsTaken = commands?.taken ?? 0
        if !slo.isEmpty && f.elapsedS > 0 {
            // Relaxed reads of the loop's histograms and counters, as for every figure here.
            f.slo = SLOJudge.judge(slo, stats: total, name: "run", durationS: min(f.elapsedS, f.durationS),
                                   goodput: !stats.goodputLimits.isEmpty).checks
        }
        figures = f
        history.append(LivePoint(t: f.elapsedS, target: f.targetRps, offered: f.offeredRps, achieved: f.achievedRps,
                                 p50: f.latencyMs[0], p95: f.latencyMs[1], p99: f.latencyMs[2], errors: f.errors))
        if history.count > Self.historyLimit { history.removeFirst(history.count - Self.historyLimit) }
    }

    /// `/stats.json` and each `/events` message: one line of JSON.
    func json() -> String {
        let f = figures
        var w = JSONWriter(pretty: false)
        w.beginObject()
        w.string("state", f.state)
        w.number("elapsed_s", f.elapsedS)
        w.number("duration_s", f.durationS)
        w.string("stage", f.stage)
        w.int("stage_index", f.stageIndex)
        w.number("target_rps", f.targetRps)
        w.number("offered_rps", f.offeredRps)
        w.number("achieved_rps", f.achievedRps)
        w.int("in_flight", f.inFlight)
        w.int("queued", f.queued)
        w.int("scheduled", f.scheduled)
        w.int("sent", f.sent)
        w.int("succeeded", f.succeeded)
        w.int("errors", f.errors)
        w.beginObject("errors_by_kind")
        for (kind, count) in f.errorsByKind { w.int(kind, count) }
        w.endObject()
        func percentiles(_ name: String, _ values: [Double]) {
            w.beginObject(name)
            w.number("p50", values[0]); w.number("p95", values[1]); w.number("p99", values[2])
            w.endObject()
        }
        w.int("window_s", Self.windowSeconds)
        percentiles("latency_ms", f.latencyMs)
        percentiles("latency_run_ms", f.latencyRunMs)
        if isLLM {
            percentiles("ttft_ms", f.ttftMs)
            percentiles("ttft_run_ms", f.ttftRunMs)
            percentiles("itl_ms", f.itlMs)
        }
        percentiles("send_lag_ms", f.sendLagMs)
        w.beginArray("stages")
        for stage in f.stages {
            w.beginObject()
            w.string("name", stage.name)
            w.number("start_s", Double(stage.startNs) / 1e9)
            w.number("end_s", Double(stage.startNs + stage.durationNs) / 1e9)
            w.number("start_rps", stage.startRatePerSec)
            w.number("end_rps", stage.endRatePerSec)
            w.endObject()
        }
        w.endArray()
        w.int("commands_taken", f.commandsTaken)
        JSONReport.sloChecks(f.slo, into: &w, decimals: 3, named: "slo")
        if f.slo.isEmpty { w.null("slo_passed") } else { w.bool("slo_passed", f.slo.allSatisfy(\.passed)) }
        if let report = f.report { w.string("report", report) } else { w.null("report") }
        w.endObject()
        return w.text
    }
}
