// What one stage of the plan (or the whole run) measured: histograms and outcome counters.

/// One writer (the loop thread) records; any thread may read through relaxed loads.
public final class StageStats: @unchecked Sendable {
    /// `c − t`: completion minus intended start, of successful requests. The headline.
    public let latency = Histogram()
    /// `c − s`: completion minus first byte written, of successful requests (what a closed-loop tool reports).
    public let serviceTime = Histogram()
    /// `s − t`: how late the generator sent each request it sent. Its own health.
    public let sendLag = Histogram()
    /// Time to first token, `f − t`, of successful streams.
    public let ttft = Histogram()
    /// Time to first token from the first byte sent, `f − s` (vLLM's `bench serve` definition): no
    /// queue wait in it, so it can only be smaller than `ttft`.
    public let ttftSent = Histogram()
    /// Inter-token latency: every gap between successive content events.
    public let itl = Histogram()
    /// Time per output token after the first, `(c − f) / (completion_tokens − 1)`, per request.
    public let tpot = Histogram()
    /// Indexed by `Outcome.rawValue`.
    public let outcomes = CounterBlock(count: Outcome.count)
    /// Counters that are not outcomes, indexed by `StageCounter`.
    public let counters = CounterBlock(count: StageCounter.allCases.count)

    public init() {}

    @inline(__always)
    public func count(_ outcome: Outcome) -> UInt64 { outcomes[outcome.rawValue] }

    /// Both TTFTs of one request, and one inter-token gap: methods of the stage, so each histogram is
    /// read from `self` (which the caller keeps alive) and passed on with no retain of its own.
    /// Return how many values were past the histograms' range (clamped).
    @inline(__always)
    func recordTTFT(_ ns: UInt64, sentNs: UInt64) -> UInt64 {
        (ttft.record(ns) ? 0 : 1) + (ttftSent.record(sentNs) ? 0 : 1)
    }

    @inline(__always)
    func recordITL(_ ns: UInt64) -> UInt64 { itl.record(ns) ? 0 : 1 }

    @inline(__always)
    func recordSendLag(_ ns: UInt64) -> UInt64 { sendLag.record(ns) ? 0 : 1 }

    /// Latency and service time of one successful request.
    @inline(__always)
    func recordSuccess(latencyNs: UInt64, serviceNs: UInt64) -> UInt64 {
        (latency.record(latencyNs) ? 0 : 1) + (serviceTime.record(serviceNs) ? 0 : 1)
    }

    @inline(__always)
    func recordTPOT(_ ns: UInt64) -> UInt64 { tpot.record(ns) ? 0 : 1 }

    @inline(__always)
    public subscript(counter: StageCounter) -> UInt64 { counters[counter.rawValue] }

    /// Requests that ended in a failure of any kind, dropped included (unfinished are not ended).
    public var failedCount: UInt64 {
        var sum: UInt64 = 0
        for outcome in Outcome.allCases where outcome != .success && outcome != .unfinished { sum &+= count(outcome) }
        return sum
    }

    /// Requests that ended, whatever the outcome, except those still unfinished.
    public var ended: UInt64 {
        var sum: UInt64 = 0
        for outcome in Outcome.allCases where outcome != .unfinished { sum &+= count(outcome) }
        return sum
    }

    /// The smallest and largest token count seen: stored plus one so that 0 means "none yet".
    @inline(__always)
    func noteExtremes(_ value: UInt64, min minCounter: StageCounter, max maxCounter: StageCounter) {
        let low = counters[minCounter.rawValue]
        if low == 0 || value &+ 1 < low { counters.set(minCounter.rawValue, value &+ 1) }
        if value &+ 1 > counters[maxCounter.rawValue] { counters.set(maxCounter.rawValue, value &+ 1) }
    }

    @inline(__always)
    func addTokens(prompt: UInt64?, completion: UInt64, fromUsage: Bool) {
        counters.add(StageCounter.tokenCountedRequests.rawValue)
        if fromUsage { counters.add(StageCounter.usageReportedRequests.rawValue) }
        counters.add(StageCounter.completionTokensSum.rawValue, completion)
        noteExtremes(completion, min: .completionTokensMin, max: .completionTokensMax)
        if let prompt {
            counters.add(StageCounter.promptCountedRequests.rawValue)
            counters.add(StageCounter.promptTokensSum.rawValue, prompt)
            counters.add(StageCounter.promptTokensSquaresSum.rawValue, prompt &* prompt)
            noteExtremes(prompt, min: .promptTokensMin, max: .promptTokensMax)
        }
    }

    /// (mean, min, max) of a token count, or nil when no request reported it.
    public func tokenStats(sum: StageCounter, min: StageCounter, max: StageCounter, requests: StageCounter) -> (mean: Double, min: UInt64, max: UInt64)? {
        let n = self[requests]
        guard n > 0 else { return nil }
        return (Double(self[sum]) / Double(n), self[min] &- 1, self[max] &- 1)
    }

    public func merge(_ other: StageStats) {
        latency.merge(other.latency)
        serviceTime.merge(other.serviceTime)
        sendLag.merge(other.sendLag)
        ttft.merge(other.ttft)
        ttftSent.merge(other.ttftSent)
        itl.merge(other.itl)
        tpot.merge(other.tpot)
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
    /// Successful LLM requests with a token count, and where the count came from.
    case tokenCountedRequests
    case usageReportedRequests
    case promptCountedRequests
    /// Successful requests that met every per-request limit of the SLO (goodput).
    case goodRequests
    case promptTokensSum, promptTokensMin, promptTokensMax
    case completionTokensSum, completionTokensMin, completionTokensMax
    /// Σ prompt², for the prompt tokens' standard deviation (the calibration of requested lengths).
    case promptTokensSquaresSum
}
