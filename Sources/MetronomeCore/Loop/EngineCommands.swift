// Commands from another thread (the web view) to the loop: one slot, one producer, polled once a turn.
import Synchronization

/// What the loop is asked to do; `rate` replaces the rest of the plan (`RatePlan.replacingRest`).
public enum EngineCommand: Sendable, Equatable {
    case rate(perSec: Double, rampNs: UInt64)
    case stop
}

/// A single-producer, single-consumer slot of lock-free atomics. The producer (the web thread) fills
/// the payload and publishes the kind with release; the loop sees a non-zero kind with one acquiring
/// load per turn, takes the payload and clears the kind. A second command while one waits is refused
/// (the producer answers "busy"), so nothing is ever overwritten unseen.
///
/// The loop reads the slot through `words`, a pointer it copies once: no reference, no ARC per turn.
/// The current plan is published back under a mutex taken only when a rate command is applied (rare),
/// never per request.
public final class EngineCommands: @unchecked Sendable {
    /// [kind, rate bits, ramp ns, applied commands]; kind 0 none, 1 rate, 2 stop.
    public let words: UnsafeMutablePointer<Atomic<UInt64>>
    static let kindIndex = 0, rateIndex = 1, rampIndex = 2, appliedIndex = 3, wordCount = 4
    /// The plan as the loop last replaced it; nil until a rate command is applied.
    private let published = Mutex<RatePlan?>(nil)
    /// Stages that `RunStats` holds beyond the plan's own: each rate command adds at most two.
    public let spareStages: Int
    public var maxRateChanges: Int { spareStages / 2 }

    public init(maxRateChanges: Int = 32) {
        spareStages = maxRateChanges * 2
        words = .allocate(capacity: Self.wordCount)
        for index in 0..<Self.wordCount { (words + index).initialize(to: Atomic(0)) }
    }

    deinit {
        words.deinitialize(count: Self.wordCount)
        words.deallocate()
    }

    /// Producer side. False when a command still waits for the loop (the caller answers busy).
    public func send(_ command: EngineCommand) -> Bool {
        guard words[Self.kindIndex].load(ordering: .acquiring) == 0 else { return false }
        switch command {
        case .rate(let perSec, let rampNs):
            words[Self.rateIndex].store(perSec.bitPattern, ordering: .relaxed)
            words[Self.rampIndex].store(rampNs, ordering: .relaxed)
            words[Self.kindIndex].store(1, ordering: .releasing)
        case .stop:
            stopSent.store(true, ordering: .relaxed)
            words[Self.kindIndex].store(2, ordering: .releasing)
        }
        return true
    }

    public typealias Words = UnsafeMutablePointer<Atomic<UInt64>>

    @inline(__always)
    static func isPending(_ words: Words) -> Bool { words[kindIndex].load(ordering: .acquiring) != 0 }

    /// Consumer side (the loop), after it saw a non-zero kind in `words[0]`.
    static func take(_ words: Words) -> EngineCommand? {
        let kind = words[kindIndex].load(ordering: .acquiring)
        let command: EngineCommand? = switch kind {
        case 1: .rate(perSec: Double(bitPattern: words[rateIndex].load(ordering: .relaxed)),
                      rampNs: words[rampIndex].load(ordering: .relaxed))
        case 2: .stop
        default: nil
        }
        words[appliedIndex].store(words[appliedIndex].load(ordering: .relaxed) &+ 1, ordering: .relaxed)
        words[kindIndex].store(0, ordering: .releasing)
        return command
    }

    /// Commands the loop has taken so far (applied or refused by it).
    public var taken: UInt64 { words[Self.appliedIndex].load(ordering: .relaxed) }
    /// Set by the producer when it sent a stop (the live view then shows "draining").
    public var stopped: Bool { words[Self.kindIndex].load(ordering: .relaxed) == 2 || stopSent.load(ordering: .relaxed) }
    private let stopSent = Atomic<Bool>(false)
    public var isPending: Bool { words[Self.kindIndex].load(ordering: .acquiring) != 0 }

    func publish(_ plan: RatePlan) { published.withLock { $0 = plan } }
    /// The plan now in force: the replaced one, or `original` when no rate command was applied.
    public func currentPlan(or original: RatePlan) -> RatePlan { published.withLock { $0 } ?? original }
}

extension RatePlan {
    /// The plan with everything after `nowNs` replaced: a ramp from the current rate to `ratePerSec`
    /// over `rampNs`, then a hold at it until the planned end (none when the ramp reaches past it; the
    /// plan then ends with the ramp). Stages before `nowNs` keep their index, numbers and Λ, so arrivals
    /// already drawn keep their times and a stage's stats stay its own. The stage running at `nowNs` is
    /// cut there (1 ns at least, so that it keeps its index). New stages are named `web N`, N their
    /// position in the plan (1-based), as the request log names them.
    public func replacingRest(atNs nowNs: UInt64, ratePerSec: Double, rampNs: UInt64) throws(RatePlanError) -> RatePlan {
        let endNs = totalDurationNs
        let current = stageIndex(atNs: nowNs)
        let cut = max(nowNs, stages[current].startNs &+ 1)
        guard cut < endNs else { throw .zeroDuration }
        var targets: [(durationNs: UInt64, targetRatePerSec: Double, name: String)] = []
        var rate = stages[0].startRatePerSec
        // A stage that starts off the previous one's end came after a step: the step is kept.
        for stage in stages[...current] {
            if stage.startRatePerSec != rate { targets.append((0, stage.startRatePerSec, "step")) }
            let last = stage.startNs == stages[current].startNs
            let durationNs = last ? cut - stage.startNs : stage.durationNs
            rate = last ? self.rate(atNs: cut) : stage.endRatePerSec
            targets.append((durationNs, rate, stage.name))
        }
        var count = current + 1
        if rampNs > 0 {
            count += 1
            targets.append((rampNs, ratePerSec, "web \(count)"))
        } else {
            targets.append((0, ratePerSec, "step"))
        }
        if cut &+ rampNs < endNs {
            count += 1
            targets.append((endNs - cut - rampNs, ratePerSec, "web \(count)"))
        }
        return try RatePlan(startRatePerSec: stages[0].startRatePerSec, targets: targets)
    }
}
