// One step of a sweep: a ramp and a hold as one engine run, then a cooldown; judged on the hold.

/// What a step measured on its hold, and its verdict.
public struct StepResult: Sendable {
    public var rate: Double
    /// find-max: this step repeats a fail near the boundary.
    public var repeated = false
    /// The hold stage's figures (the ramp before it is not judged).
    public var hold: PhaseSummary
    /// Requests/s of the hold that met every per-request limit of the SLO; nil without such limits.
    public var goodputRps: Double?
    public var sloChecks: [SLOCheckResult]
    /// The SLO passed on the hold, and the hold measured the server (some request succeeded, at most
    /// half dropped or unfinished). Without --slo only the second part counts.
    public var passed: Bool
    public var interrupted: Bool
    public var targetUnreachable: Bool
    public var warnings: [String]
    public var isLLM: Bool
    public var stream: Bool

    /// The generator may have been the limit: its send lag or drops, not the server.
    public var generatorLimited: Bool { hold.sendLag.p99 > 10 || hold.dropped > 0 }
}

/// Runs steps against one target; the model is discovered on the first step and reused after.
public final class SweepRunner {
    public let options: CapacityOptions
    public private(set) var model: String?
    /// Setup notes of the first step (open-file limit …), for the caller to print once.
    public private(set) var notes: [String] = []
    public private(set) var target = ""
    public private(set) var arrivalDescription = ""
    private var stepsRun = 0
    /// Called once, after the first step's setup (lookup, model discovery) and before its load.
    public var afterFirstSetup: (() -> Void)?

    public init(options: CapacityOptions) {
        self.options = options
        model = options.run.model
    }

    /// A step's `RunOptions`: the shared ones, with a plan of an optional ramp from `rampFrom` and a
    /// hold at `rate`, the cooldown as the drain, SLOs judged on the hold, and no report files.
    /// A repeat takes the next seed: the same schedule again would only replay the same bursts.
    public func stepOptions(rate: Double, rampFrom: Double?, repeated: Bool = false) -> RunOptions {
        var run = options.run
        if repeated { run.seed = options.run.seed &+ 1 }
        let rampNs = rampFrom == nil ? 0 : options.effectiveStepRampNs
        if let rampFrom, rampNs > 0, rampFrom != rate {
            run.startRate = rampFrom
            run.stages = [(rampNs, rate), (options.stepDurationNs, rate)]
        } else {
            run.startRate = rate
            run.stages = [(options.stepDurationNs, rate)]
        }
        run.rate = nil
        run.rampNs = nil
        run.durationNs = nil
        run.drainNs = options.cooldownNs
        run.sloScope = "hold"
        run.noFiles = true
        run.model = model
        if let path = options.run.requestLogPath { run.requestLogPath = Self.stepPath(path, step: stepsRun + 1) }
        return run
    }

    /// `log.csv` → `log_step3.csv`: each step writes its own request log.
    static func stepPath(_ path: String, step: Int) -> String {
        let slash = path.lastIndex(of: "/")
        if let dot = path.lastIndex(of: "."), slash.map({ $0 < dot }) ?? true, dot != path.startIndex {
            return String(path[..<dot]) + "_step\(step)" + String(path[dot...])
        }
        return path + "_step\(step)"
    }

    /// Runs one step on the calling thread. Setup errors throw (the first step's are the sweep's).
    public func runStep(rate: Double, rampFrom: Double?, repeated: Bool = false, handlesSignals: Bool, progress: Bool) throws -> StepResult {
        let load = try LoadRun(options: stepOptions(rate: rate, rampFrom: rampFrom, repeated: repeated))
        if stepsRun == 0 {
            notes = load.notes
            model = load.resolvedModel
            target = "\(load.template.method) \(load.url)"
            arrivalDescription = load.arrivalDescription
            afterFirstSetup?()
            afterFirstSetup = nil
        }
        stepsRun += 1
        let line = progress ? ProgressLine(stats: load.stats, plan: load.plan) : nil
        line?.start()
        let summary: RunSummary
        let result: EngineResult
        do {
            (summary, result) = try load.execute(handlesSignals: handlesSignals)
        } catch {
            line?.finish()
            throw error
        }
        line?.finish()
        let hold = summary.stages.last ?? summary.total
        let measured = hold.succeeded > 0 && (hold.dropped + hold.unfinished) * 2 <= hold.scheduled
        return StepResult(rate: rate, repeated: repeated, hold: hold, goodputRps: summary.goodputRps, sloChecks: summary.sloChecks,
                          passed: measured && summary.sloPassed, interrupted: result.interruptedBySignal != nil,
                          targetUnreachable: summary.targetUnreachable,
                          // A step's drain is the sweep's cooldown.
                          warnings: summary.warnings.map { $0.replacing("raise --drain", with: "raise --cooldown") },
                          isLLM: summary.isLLM, stream: summary.stream)
    }
}
