// What one stage of the plan (or the whole run) measured: histograms and outcome counters.

/// One writer (the loop thread) records; any thread may read through relaxed loads.
public final class StageStats: @unchecked Sendable {
    /// `c − t`: completion minus intended start, of successful requests. The headline.
    public let latency = Histogram()
    /// `c − s`: completion minus first byte written, of successful requests (what a closed-loop tool reports).
    public let serviceTime = Histogram()
    /// `s − t`: how late the generator sent each request it sent. Its own health.
    public let sendLag = Histogram()
    /// Indexed by `Outcome.rawValue`.
    public let outcomes = CounterBlock(count: Outcome.count)
    /// Counters that are not outcomes, indexed by `StageCounter`.
    public let counters = CounterBlock(count: StageCounter.allCases.count)

    public init() {}

    @inline(__always)
    public func count(_ outcome: Outcome) -> UInt64 { outcomes[outcome.rawValue] }

    @inline(__always)
    public subscript(counter: StageCounter) -> UInt64 { counters[counter.rawValue] }

    /// Requests that ended, whatever the outcome, except those still unfinished.
    public var ended: UInt64 {
        var sum: UInt64 = 0
        for outcome in Outcome.allCases where outcome != .unfinished { sum &+= count(outcome) }
        return sum
    }

    public func merge(_ other: StageStats) {
        latency.merge(other.latency)
        serviceTime.merge(other.serviceTime)
        sendLag.merge(other.sendLag)
        outcomes.merge(other.outcomes)
        counters.merge(other.counters)
    }
}

public enum StageCounter: Int, CaseIterable, Sendable {
    /// Arrivals whose intended time has come (and so entered the generator).
    case scheduled
    /// Requests that got a complete HTTP response, whatever its status.
    case completed
    /// Requests whose first byte was written.
    case sent
    /// Body bytes of complete responses (for Locust's "Average Content Size").
    case responseBodyBytes
}
