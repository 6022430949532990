// Intended send times: unit-rate event times of an arrival process mapped through Λ⁻¹ of a plan.

/// How arrivals are spaced in unit time (where the rate is 1); the plan then stretches unit time
/// into real time, so every process follows the plan's λ(t).
public enum ArrivalProcess: Sendable, Equatable {
    /// uₖ = k: evenly spaced at the current rate, exactly ⌊Λ(T)⌋ arrivals in (0, T].
    case constant
    /// uₖ = uₖ₋₁ + Exp(1): a non-homogeneous Poisson process with intensity λ(t) (time rescaling).
    case poisson
    /// uₖ = uₖ₋₁ + Gamma(shape, scale 1/shape), mean gap 1 and coefficient of variation 1/√shape:
    /// vLLM's "burstiness" (1 is Poisson, below 1 burstier, above 1 smoother). Must be > 0.
    case gamma(shape: Double)
}

/// Yields the intended start of each arrival in ns from the plan start, in order.
///
/// It owns no clock: the engine asks for the next time, waits until then, and sends. Each call is
/// O(1) amortised (the stage cursor only moves forward) and allocates nothing.
public struct ArrivalSchedule: Sendable {
    public private(set) var plan: RatePlan
    public let process: ArrivalProcess
    public let shard: Shard
    /// Arrivals of the whole schedule drawn so far, this shard's and the others'.
    public private(set) var emitted: Int = 0
    /// The number k (from 0, over the whole schedule) of the arrival `next()` returned last.
    public private(set) var lastIndex: UInt64 = 0
    private var random: SeededRandom
    /// u of the last arrival, for the random processes; `constant` derives u from `emitted`
    /// instead, so a long plan does not accumulate the error of repeated addition.
    private var unitTime = 0.0
    /// The piece of Λ⁻¹ holding the last u (the first whose end reaches it); never moves backwards
    /// because u only grows. Maths only: the stage a request is counted in is `RatePlan.stageIndex`.
    private var segment = 0
    private var finished = false

    public init(plan: RatePlan, process: ArrivalProcess, seed: UInt64, shard: Shard = .whole) {
        if case .gamma(let shape) = process {
            precondition(shape > 0 && shape.isFinite, "gamma shape must be positive and finite")
        }
        self.plan = plan
        self.process = process
        self.shard = shard
        self.random = SeededRandom(seed: seed)
    }

    /// The intended start of this shard's next arrival in ns from the plan start, or nil once the
    /// plan is over (and on every call after that). Another shard's arrivals are drawn and passed
    /// over, so every shard walks the same random sequence.
    public mutating func next() -> UInt64? {
        while !finished {
            let k = UInt64(emitted)
            guard let u = nextUnitArrival() else { return nil }
            if shard.owns(k) {
                lastIndex = k
                return plan.time(ofUnitArrival: u, inStage: segment)
            }
        }
        return nil
    }

    /// The next arrival of the whole schedule in unit time, with `segment` moved to hold it.
    private mutating func nextUnitArrival() -> Double? {
        guard !finished else { return nil }
        let u: Double
        switch process {
        case .constant:
            u = Double(emitted + 1)
        case .poisson:
            unitTime += random.nextExponential()
            u = unitTime
        case .gamma(let shape):
            unitTime += random.nextGamma(shape: shape) / shape
            u = unitTime
        }
        let segments = plan.segments
        guard u <= segments[segments.count - 1].endArrivals else {
            finished = true
            return nil
        }
        while segments[segment].endArrivals < u { segment += 1 }
        emitted += 1
        return u
    }

    /// Swaps in a plan that agrees with the old one up to now (`RatePlan.replacingRest`) and returns
    /// the new time of the arrival last returned by `next()` (drawn, not yet sent): its unit time u
    /// stays, only Λ⁻¹ changes. Nil when the new plan ends before u (no more arrivals).
    public mutating func replacePlan(_ newPlan: RatePlan) -> UInt64? {
        plan = newPlan
        segment = 0
        guard !finished, emitted > 0 else { return nil }
        let u = process == .constant ? Double(emitted) : unitTime
        let segments = plan.segments
        guard u <= segments[segments.count - 1].endArrivals else {
            finished = true
            return nil
        }
        while segments[segment].endArrivals < u { segment += 1 }
        return plan.time(ofUnitArrival: u, inStage: segment)
    }
}
