// The live progress line on stderr, drawn by a second thread that reads the stats without locks.
import Glibc
import Synchronization

public final class ProgressLine: @unchecked Sendable {
    private let stats: RunStats
    private let plan: RatePlan
    /// `--web`: the plan a rate change made, for the stage's name.
    private let commands: EngineCommands?
    private let isTerminal: Bool
    private let stop = Atomic<Bool>(false)
    private var thread: BackgroundThread?

    public init(stats: RunStats, plan: RatePlan, commands: EngineCommands? = nil) {
        self.stats = stats
        self.plan = plan
        self.commands = commands
        isTerminal = isatty(2) == 1
    }

    /// On a terminal the line is redrawn every second; otherwise a plain line every 10 s.
    public func start() {
        thread = BackgroundThread(name: "metronome-progress") { [self] in loop() }
    }

    public func finish() {
        stop.store(true, ordering: .relaxed)
        thread?.join()
        thread = nil // the thread's closure holds self: let both go
        if isTerminal { writeStandardError("\r\u{1B}[2K") }
    }

    private func loop() {
        let interval: UInt64 = isTerminal ? 1_000_000_000 : 10_000_000_000
        var lastNs = monotonicNs()
        var lastScheduled: UInt64 = 0
        var lastSucceeded: UInt64 = 0
        while !stop.load(ordering: .relaxed) {
            usleep(50_000)
            let now = monotonicNs()
            guard now - lastNs >= interval else { continue }
            let seconds = Double(now - lastNs) / 1e9
            lastNs = now
            let scheduled = stats.total[.scheduled]
            let succeeded = stats.total.count(.success)
            let line = render(offered: Double(scheduled - lastScheduled) / seconds, achieved: Double(succeeded - lastSucceeded) / seconds)
            lastScheduled = scheduled
            lastSucceeded = succeeded
            let text = isTerminal ? "\r\u{1B}[2K" + line : line + "\n"
            writeStandardError(text)
        }
    }

    func render(offered: Double, achieved: Double) -> String {
        let elapsedNs = stats[.elapsedNs]
        let plan = commands?.currentPlan(or: plan) ?? plan
        let stage = plan.stages[min(plan.stageIndex(atNs: elapsedNs), plan.stages.count - 1)].name
        let failed = Outcome.allCases.filter { $0 != .success }.reduce(UInt64(0)) { $0 + stats.total.count($1) }
        let latency = stats.total.latency
        return "[\(Format.fixed(Double(elapsedNs) / 1e9, decimals: 0))s/\(Format.fixed(Double(plan.totalDurationNs) / 1e9, decimals: 0))s \(stage)]"
            + " offered \(Format.fixed(offered, decimals: 1))/s achieved \(Format.fixed(achieved, decimals: 1))/s"
            + " in flight \(stats[.inFlight]) queued \(stats[.queued]) errors \(failed)"
            + " p50 \(Format.fixed(Double(latency.valueAtPercentile(50)) / 1e6, decimals: 1)) ms"
            + " p95 \(Format.fixed(Double(latency.valueAtPercentile(95)) / 1e6, decimals: 1)) ms"
    }
}
