// The steps of a sweep (the given rates, in order) or of a find-max (as `FindMax` chooses them).

/// Everything a sweep or find-max measured, for `SweepReport`.
public struct SweepResult: Sendable {
    public var command: CapacityOptions.Command
    /// `--tag key=value`, in the order given: labels for `report --grid`.
    public var tags: [(key: String, value: String)] = []
    public var target = ""
    public var model: String?
    public var arrival = ""
    public var sloText = ""
    public var stepDurationNs: UInt64 = 0
    public var stepRampNs: UInt64 = 0
    public var cooldownNs: UInt64 = 0
    public var steps: [StepResult] = []
    /// A signal cut the sweep short: the last step is partial and unjudged.
    public var interrupted = false
    /// Why the sweep stopped before its end (the target became unreachable).
    public var abortReason: String?
    public var warnings: [String] = []
    /// find-max: the highest rate that passed (nil if even the minimum failed), and the bracket.
    public var maxRate: Double?
    public var bracket: (pass: Double?, fail: Double?) = (nil, nil)
    public var precision = 0.0

    public init(command: CapacityOptions.Command) { self.command = command }

    public var isLLM: Bool { steps.contains { $0.isLLM } }
    public var isStreaming: Bool { steps.contains { $0.isLLM && $0.stream } }
}

public enum CapacitySearch {
    /// Runs every step on the calling thread. `onStep` sees each finished step (progress on stderr).
    /// Throws only for the first step's setup (bad URL, no model); later steps reuse what it found,
    /// and one that cannot start ends the search with what was measured (`abortReason`).
    public static func run(_ runner: SweepRunner, handlesSignals: Bool = false, progress: Bool = false,
                           onStep: (StepResult, Int) -> Void = { _, _ in }) throws -> SweepResult {
        let options = runner.options
        var result = SweepResult(command: options.command)
        result.sloText = options.run.sloText
        result.tags = options.run.tags
        result.stepDurationNs = options.stepDurationNs
        result.stepRampNs = options.effectiveStepRampNs
        result.cooldownNs = options.cooldownNs
        result.precision = options.precision
        var search = FindMax(minRate: options.minRate, maxRate: options.maxRate, precision: options.precision)
        var index = 0
        while true {
            let next: Double? = switch options.command {
            case .sweep: index < options.rates.count ? options.rates[index] : nil
            case .findMax: search.nextRate()
            }
            guard let rate = next else { break }
            let repeated = options.command == .findMax && search.nextIsRepeat
            // Ramp from the nearest lower rate already run, so a step after a fail at a higher rate
            // does not start by overloading the server.
            let rampFrom = result.steps.map(\.rate).filter { $0 < rate }.max()
            let step: StepResult
            do {
                step = try runner.runStep(rate: rate, rampFrom: rampFrom, repeated: repeated, handlesSignals: handlesSignals, progress: progress)
            } catch {
                // The first step's setup failing is the command's; a later one keeps what was measured.
                if result.steps.isEmpty { throw error }
                result.abortReason = "the step at \(Format.rate(rate)) requests/s could not start: \(error)"
                break
            }
            if index == 0 {
                result.target = runner.target
                result.model = runner.model
                result.arrival = runner.arrivalDescription
            }
            result.steps.append(step)
            index += 1
            onStep(step, index)
            if step.interrupted {
                result.interrupted = true
                break
            }
            if step.targetUnreachable {
                result.abortReason = "the target became unreachable at \(Format.rate(rate)) requests/s: no request could connect"
                break
            }
            if options.command == .findMax { search.record(rate, passed: step.passed) }
        }
        for step in result.steps where !step.passed && !step.interrupted && step.generatorLimited {
            result.warnings.append("at \(Format.rate(step.rate)) requests/s the generator, not the server, may have been the limit: send lag p99 \(Format.trimmed(step.hold.sendLag.p99, decimals: 1)) ms, \(step.hold.dropped) dropped (raise --max-connections/--max-queue, or use a less loaded machine)")
        }
        if options.command == .findMax {
            result.maxRate = search.maxPassingRate
            result.bracket = (search.highestPass, search.lowestFail)
            if !result.interrupted, result.abortReason == nil, search.highestPass == options.maxRate, search.lowestFail == nil {
                result.warnings.append("every step passed up to --max-rate \(Format.rate(options.maxRate)): the server's maximum may be higher")
            }
            if !result.interrupted, search.steps.count >= FindMax.maxSteps {
                result.warnings.append("stopped after \(FindMax.maxSteps) steps before the bracket narrowed to --precision")
            }
        }
        return result
    }
}
