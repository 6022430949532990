// The offered-rate profile: a piecewise-linear λ(t), its exact integral Λ(t), and Λ⁻¹.

/// One piece of a rate plan: the rate moves linearly from `startRatePerSec` to `endRatePerSec`.
public struct RateStage: Sendable, Equatable {
    /// "ramp", "hold" or "stage N"; chosen by the CLI and only carried here for reports.
    public var name: String
    public var durationNs: UInt64
    /// Equal to the previous stage's `endRatePerSec` (k6 convention).
    public var startRatePerSec: Double
    public var endRatePerSec: Double
    /// Offset of the stage from the plan start.
    public var startNs: UInt64
}

/// Why a rate plan was refused; `description` is meant for `error: …` on the command line.
public enum RatePlanError: Error, Equatable, CustomStringConvertible {
    case noStages
    case negativeRate
    case nonFiniteRate
    /// Every stage has zero length: the plan would take no time.
    case zeroDuration
    /// The stages add up to more nanoseconds than UInt64 holds (about 584 years).
    case durationOverflow
    /// More than 2⁵³ expected arrivals: past that, arrival numbers are no longer exact in a Double.
    case tooManyArrivals

    public var description: String {
        switch self {
        case .noStages: "a rate plan needs at least one stage"
        case .negativeRate: "a rate must not be negative"
        case .nonFiniteRate: "a rate must be a finite number"
        case .zeroDuration: "the stages add up to no time; give at least one stage a duration above 0"
        case .durationOverflow: "the stages add up to more than UInt64 nanoseconds (about 584 years)"
        case .tooManyArrivals: "the plan asks for more than 2^53 requests"
        }
    }
}

/// A rate profile λ(t) made of linear stages, with its integral Λ(t) = ∫₀ᵗ λ in closed form.
///
/// Within a stage starting at sᵢ with start rate r₀, slope a = (r₁ − r₀)/dᵢ and τ = t − sᵢ (seconds):
///
///     λ(t) = r₀ + a·τ
///     Λ(t) = Cᵢ + r₀·τ + a·τ²/2          where Cᵢ = Λ(sᵢ)
///     Λ⁻¹(u) = sᵢ + 2v / (r₀ + √(r₀² + 2a·v))   where v = u − Cᵢ
///
/// The root is written in the form without cancellation: it stays exact when a → 0 (a hold gives
/// v/r₀) and when r₀ = 0 (a ramp from zero gives √(2v/a)). Working relative to the stage start
/// keeps both v and τ small, so long plans do not drift.
public struct RatePlan: Sendable, Equatable {
    public let stages: [RateStage]
    /// The same stages as plain numbers plus Λ at both ends: what `next()` reads per arrival.
    let segments: [Segment]

    /// k6 convention: the rate starts at `startRatePerSec`, and each target moves it linearly
    /// from the previous target to this one over `durationNs`. A target of zero length is a step:
    /// the rate jumps to it at once, and the next stage starts from it. It takes no time and offers
    /// no arrivals, so it becomes no stage of its own (λ is then piecewise linear with a jump, and
    /// Λ stays continuous, so Λ⁻¹ is unchanged).
    public init(
        startRatePerSec: Double,
        targets: [(durationNs: UInt64, targetRatePerSec: Double, name: String)]
    ) throws(RatePlanError) {
        guard !targets.isEmpty else { throw .noStages }
        try Self.check(startRatePerSec)
        var stages: [RateStage] = []
        var segments: [Segment] = []
        stages.reserveCapacity(targets.count)
        segments.reserveCapacity(targets.count)
        var startNs: UInt64 = 0
        var startRatePerSec = startRatePerSec
        var startArrivals = 0.0
        for target in targets {
            try Self.check(target.targetRatePerSec)
            guard target.durationNs > 0 else {
                startRatePerSec = target.targetRatePerSec
                continue
            }
            let (endNs, overflow) = startNs.addingReportingOverflow(target.durationNs)
            guard !overflow else { throw .durationOverflow }
            let segment = Segment(
                startNs: startNs, durationNs: target.durationNs,
                startRatePerSec: startRatePerSec, endRatePerSec: target.targetRatePerSec,
                startArrivals: startArrivals)
            guard segment.endArrivals <= Self.maxArrivals else { throw .tooManyArrivals }
            stages.append(RateStage(
                name: target.name, durationNs: target.durationNs,
                startRatePerSec: startRatePerSec, endRatePerSec: target.targetRatePerSec,
                startNs: startNs))
            segments.append(segment)
            startNs = endNs
            startRatePerSec = target.targetRatePerSec
            startArrivals = segment.endArrivals
        }
        guard !stages.isEmpty else { throw .zeroDuration }
        self.stages = stages
        self.segments = segments
    }

    /// 2⁵³: every whole arrival number up to here is exact in a Double.
    static let maxArrivals = 9_007_199_254_740_992.0

    private static func check(_ ratePerSec: Double) throws(RatePlanError) {
        guard ratePerSec.isFinite else { throw .nonFiniteRate }
        guard ratePerSec >= 0 else { throw .negativeRate }
    }

    public var totalDurationNs: UInt64 {
        let last = segments[segments.count - 1]
        return last.startNs + last.durationNs
    }

    /// Λ(total): the number of arrivals the plan offers (exact for constant, mean for Poisson).
    public var totalExpectedArrivals: Double {
        segments[segments.count - 1].endArrivals
    }

    /// λ(t) in requests per second; 0 past the end of the plan.
    public func rate(atNs t: UInt64) -> Double {
        guard t <= totalDurationNs else { return 0 }
        let segment = segments[stageIndex(atNs: t)]
        let fraction = Double(t - segment.startNs) / Double(segment.durationNs)
        return segment.startRatePerSec + (segment.endRatePerSec - segment.startRatePerSec) * fraction
    }

    /// Λ(t) = ∫₀ᵗ λ, the expected number of arrivals in [0, t]; constant past the end.
    public func expectedArrivals(byNs t: UInt64) -> Double {
        guard t < totalDurationNs else { return totalExpectedArrivals }
        let segment = segments[stageIndex(atNs: t)]
        return segment.arrivals(atOffsetNs: t - segment.startNs)
    }

    /// Λ⁻¹(u) = inf { t : Λ(t) ≥ u } in ns, or nil when u > Λ(total). Where λ is 0 (a pause),
    /// Λ is flat and the earliest time is the answer, so no arrival is ever placed inside a pause.
    public func time(ofUnitArrival u: Double) -> UInt64? {
        guard u <= totalExpectedArrivals else { return nil }  // NaN lands here too
        guard u > 0 else { return 0 }
        // First stage whose end reaches u; stages with no arrivals (Cᵢ = Cᵢ₊₁) are skipped.
        var low = 0
        var high = segments.count - 1
        while low < high {
            let middle = (low + high) / 2
            if segments[middle].endArrivals >= u { high = middle } else { low = middle + 1 }
        }
        return time(ofUnitArrival: u, inStage: low)
    }

    /// Λ⁻¹(u) when the caller already knows the stage: Cᵢ < u ≤ Cᵢ₊₁.
    func time(ofUnitArrival u: Double, inStage index: Int) -> UInt64 {
        let segment = segments[index]
        return segment.startNs + segment.offsetNs(ofArrivals: u)
    }

    /// The stage of a request: THE one definition, used by the engine, the reports and the progress
    /// line. A request whose intended offset equals a stage's start belongs to that stage; the plan's
    /// end (and anything past it) belongs to the last stage.
    public func stageIndex(atNs t: UInt64) -> Int {
        var low = 0
        var high = segments.count - 1
        while low < high {
            let middle = (low + high + 1) / 2
            if segments[middle].startNs <= t { low = middle } else { high = middle - 1 }
        }
        return low
    }

    /// `stageIndex(atNs:)` for times that only grow: moves forward from `current` (the stage of an
    /// earlier time), O(1) amortised, for the loop thread.
    @inline(__always)
    public func stageIndex(atNs t: UInt64, from current: Int) -> Int {
        var stage = current
        while stage + 1 < segments.count && segments[stage + 1].startNs <= t { stage += 1 }
        return stage
    }

    /// A stage reduced to numbers, with Λ at its start and end precomputed.
    struct Segment: Sendable, Equatable {
        let startNs: UInt64
        let durationNs: UInt64
        let startRatePerSec: Double
        let endRatePerSec: Double
        /// a = (r₁ − r₀) / d, in requests per second per second.
        let slopePerSec2: Double
        let startArrivals: Double
        let endArrivals: Double

        init(startNs: UInt64, durationNs: UInt64, startRatePerSec: Double, endRatePerSec: Double,
             startArrivals: Double) {
            self.startNs = startNs
            self.durationNs = durationNs
            self.startRatePerSec = startRatePerSec
            self.endRatePerSec = endRatePerSec
            let durationSec = Double(durationNs) / 1e9
            slopePerSec2 = (endRatePerSec - startRatePerSec) / durationSec
            self.startArrivals = startArrivals
            // Multiplying by whole nanoseconds first rounds away most of a decimal rate's binary
            // error (33.3 rps × 10 s comes out as exactly 333), so ⌊Λ(T)⌋ is the count users expect.
            endArrivals = startArrivals + (startRatePerSec + endRatePerSec) * Double(durationNs) / 2e9
        }

        /// Λ at `offsetNs` into the stage: Cᵢ + τ·(r₀ + (r₁ − r₀)·(τ/d)/2).
        func arrivals(atOffsetNs offsetNs: UInt64) -> Double {
            let seconds = Double(offsetNs) / 1e9
            let fraction = Double(offsetNs) / Double(durationNs)
            return startArrivals + seconds * (startRatePerSec + (endRatePerSec - startRatePerSec) * fraction / 2)
        }

        /// τ such that Λ(sᵢ + τ) = u, rounded to the nanosecond and kept inside the stage.
        func offsetNs(ofArrivals u: Double) -> UInt64 {
            let v = u - startArrivals
            guard v > 0 else { return 0 }
            // The root is ill-conditioned where a ramp ends at 0; the end itself is known exactly.
            guard u < endArrivals else { return durationNs }
            let seconds: Double
            if slopePerSec2 == 0 {
                seconds = v / startRatePerSec
            } else {
                // Rounding can push the discriminant a hair below 0 at the end of a ramp down to 0.
                let discriminant = max(0, startRatePerSec * startRatePerSec + 2 * slopePerSec2 * v)
                seconds = 2 * v / (startRatePerSec + discriminant.squareRoot())
            }
            let ns = (seconds * 1e9).rounded()
            return ns < Double(durationNs) ? UInt64(ns) : durationNs
        }
    }
}
