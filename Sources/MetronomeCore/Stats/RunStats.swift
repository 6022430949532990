// Everything a run measures, shared between the loop thread (writer) and readers.

public final class RunStats: @unchecked Sendable {
    /// One entry per stage of the rate plan, in order.
    public let stages: [StageStats]
    /// The whole run, recorded alongside the stages so a live reader needs no merge.
    public let total = StageStats()
    /// Complete responses by status code (index = code, 0..<600), for the failures report.
    public let statusCounts = CounterBlock(count: 600)
    /// Gauges and run-wide counters, indexed by `LiveCounter`.
    public let live = CounterBlock(count: LiveCounter.allCases.count)

    public init(stageCount: Int) {
        stages = (0..<max(stageCount, 1)).map { _ in StageStats() }
    }

    @inline(__always)
    public subscript(counter: LiveCounter) -> UInt64 { live[counter.rawValue] }

    @inline(__always)
    func count(_ outcome: Outcome, stage: Int) {
        stages[stage].outcomes.add(outcome.rawValue)
        total.outcomes.add(outcome.rawValue)
    }

    @inline(__always)
    func add(_ counter: StageCounter, stage: Int, _ amount: UInt64 = 1) {
        stages[stage].counters.add(counter.rawValue, amount)
        total.counters.add(counter.rawValue, amount)
    }

    @inline(__always)
    func recordSendLag(_ lagNs: UInt64, stage: Int) {
        stages[stage].sendLag.record(lagNs)
        total.sendLag.record(lagNs)
    }

    @inline(__always)
    func recordSuccess(latencyNs: UInt64, serviceNs: UInt64, stage: Int) {
        let stats = stages[stage]
        stats.latency.record(latencyNs)
        stats.serviceTime.record(serviceNs)
        total.latency.record(latencyNs)
        total.serviceTime.record(serviceNs)
    }
}

public enum LiveCounter: Int, CaseIterable, Sendable {
    /// Requests written and not yet ended.
    case inFlight
    /// Requests due but waiting for a connection.
    case queued
    case openConnections
    /// Connections opened over the run; ≪ requests when keep-alive works.
    case connectionsOpened
    /// Connections the server closed while idle (keep-alive timeouts), not charged to any request.
    case idleClosedByServer
    /// Histogram values above the trackable range, clamped but counted.
    case saturatedValues
    /// Requests re-sent because their reused keep-alive connection was closed before any answer.
    case staleConnectionRetries
    /// The plan's elapsed time in ns, updated by the loop each iteration.
    case elapsedNs
}
