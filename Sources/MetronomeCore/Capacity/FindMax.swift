// find-max's search as a pure function of verdicts: double until a step fails, then bisect.

/// Which rate to try next, given the verdicts so far. No clock, no server: `SweepRunner` runs the
/// rate `nextRate()` names and reports its verdict with `record(_:passed:)`.
///
/// 1. From `minRate`, double (capped at `maxRate`) while steps pass: the bracket's top is the first fail.
/// 2. Bisect [highest pass, lowest fail] at its midpoint until (fail − pass) / pass < `precision`.
/// A fail within 2 × `precision` of the highest pass is run once more before it counts (the machine
/// and the server are noisy near the boundary); if the repeat passes, the rate counts as passed.
public struct FindMax: Sendable {
    public let minRate: Double
    public let maxRate: Double
    /// A fraction: 0.05 for 5 %.
    public let precision: Double
    /// A bound on steps, whatever the verdicts (doubling from 0.001 to 10M rps is 34 steps).
    public static var maxSteps: Int { 60 }

    public private(set) var highestPass: Double?
    public private(set) var lowestFail: Double?
    /// Every step run, in order, with its verdict and whether it was a repeat.
    public private(set) var steps: [(rate: Double, passed: Bool, repeated: Bool)] = []
    /// A rate whose fail is waiting for its one repeat.
    private var pendingRepeat: Double?

    public init(minRate: Double, maxRate: Double, precision: Double) {
        self.minRate = minRate
        self.maxRate = max(minRate, maxRate)
        self.precision = precision
    }

    /// The rate of the next step; nil when the search is over.
    public func nextRate() -> Double? {
        guard steps.count < Self.maxSteps else { return nil }
        if let pendingRepeat { return pendingRepeat }
        guard let pass = highestPass else { return steps.isEmpty ? minRate : nil }
        guard let fail = lowestFail else { return pass >= maxRate ? nil : min(pass * 2, maxRate) }
        guard (fail - pass) / pass >= precision else { return nil }
        return (pass + fail) / 2
    }

    /// Whether the next step repeats a failed rate.
    public var nextIsRepeat: Bool { pendingRepeat != nil }

    public mutating func record(_ rate: Double, passed: Bool) {
        let isRepeat = pendingRepeat == rate
        steps.append((rate, passed, isRepeat))
        pendingRepeat = nil
        if passed {
            highestPass = max(highestPass ?? rate, rate)
            return
        }
        if !isRepeat, let pass = highestPass, (rate - pass) / pass < 2 * precision {
            pendingRepeat = rate
            return
        }
        lowestFail = min(lowestFail ?? rate, rate)
    }

    /// The answer: the highest rate that passed (not a midpoint); nil when even `minRate` failed.
    public var maxPassingRate: Double? { highestPass }
    public var isDone: Bool { nextRate() == nil }
}
