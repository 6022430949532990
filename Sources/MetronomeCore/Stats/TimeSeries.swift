// One sample per second of the run: rates over that second, and percentiles of it and of the run so far.

public struct SecondSample: Sendable {
    /// End of the second, from the plan's zero.
    public var endS: Double
    /// Wall clock at the end of the second, Unix seconds (labels only).
    public var wallClockS: Double
    public var scheduled: UInt64 = 0
    public var succeeded: UInt64 = 0
    /// Requests that ended in a failure during this second (dropped included, unfinished not).
    public var failed: UInt64 = 0
    public var outputTokens: UInt64 = 0
    public var inFlight: UInt64 = 0
    public var queued: UInt64 = 0
    /// Latency percentiles of the requests that succeeded in this second, ms (0 when none).
    public var p50Ms = 0.0, p95Ms = 0.0, p99Ms = 0.0
    /// TTFT (from the intended start) of the streams that succeeded in this second, and the
    /// inter-token gaps that arrived in it, ms (0 when none).
    public var ttftP50Ms = 0.0, ttftP95Ms = 0.0
    public var itlP50Ms = 0.0, itlP95Ms = 0.0
    /// Successes whose INTENDED start fell in this second, whenever they finished: filled in after
    /// the run (a request intended now may succeed seconds later). Beside `succeeded` (by completion
    /// second) it tells a server that batches answers (a sawtooth in completions) from one that
    /// falls behind (successes by intended second drop).
    public var succeededByIntended: UInt64 = 0
    /// Over the run so far (Locust's history meaning), at `Percentiles.levels`, ms. Filled in after
    /// the run from `TimeSeries.cumulativePercentiles(ofSecond:)` (a closed second allocates nothing).
    public var cumulative: [Double] = []
    public var cumulativeSucceeded: UInt64 = 0
    public var cumulativeFailed: UInt64 = 0
    public var cumulativeMeanMs = 0.0, cumulativeMinMs = 0.0, cumulativeMaxMs = 0.0
    public var cumulativeMeanBytes = 0.0
}

/// Written only by the loop thread (counts as they happen, a sample at each second boundary);
/// read after the run.
public final class TimeSeries: @unchecked Sendable {
    public private(set) var samples: [SecondSample] = []
    private let interval = Histogram()
    private let ttftInterval = Histogram()
    private let itlInterval = Histogram()
    /// Successes by the second of their intended start (index = second from the plan's zero); a
    /// counter block sized once: intended starts all fall within the plan, which `expectedSeconds` covers.
    private let byIntended: CounterBlock
    /// One walk of each interval histogram fills these (no array is allocated a second).
    private var latencyValues = [0.0, 0.0, 0.0]
    private var tokenValues = [0.0, 0.0]
    /// Every closed second's run-so-far percentiles, `Percentiles.levels.count` a second, in one
    /// buffer reserved once, and the walk's scratch: no array is allocated a second.
    private var cumulativeTable: [Double] = []
    private var cumulativeValues = [Double](repeating: 0, count: Percentiles.levels.count)
    private static let latencyLevels: [Double] = [50, 95, 99]
    private static let tokenLevels: [Double] = [50, 95]
    /// This second's counts. A counter block, not stored `var`s: a class's stored property costs a
    /// dynamic exclusivity check on every write, and these are written per request.
    private let counts = CounterBlock(count: 4)
    private enum Count: Int { case scheduled, succeeded, failed, outputTokens }

    /// `--hlog`: each second's interval histograms, kept as they are reset; nil (the default) keeps none.
    public let intervalCapture: IntervalCapture?

    init(expectedSeconds: Int, capturesIntervals: Bool = false) {
        samples.reserveCapacity(min(max(expectedSeconds, 16), 1 << 20))
        byIntended = CounterBlock(count: min(max(expectedSeconds, 16), 1 << 20))
        intervalCapture = capturesIntervals ? IntervalCapture(expectedSeconds: expectedSeconds) : nil
        cumulativeTable.reserveCapacity(min(max(expectedSeconds, 16), 1 << 20) * Percentiles.levels.count)
    }

    /// The run-so-far percentiles at the end of second `index` (as `SecondSample.cumulative`).
    public func cumulativePercentiles(ofSecond index: Int) -> [Double] {
        let width = Percentiles.levels.count
        return Array(cumulativeTable[index * width ..< (index + 1) * width])
    }

    /// Successes by the second of their intended start, one per sample: the last sample also takes
    /// any intended after it (an arrival exactly at the plan's end, when no later second closed), so
    /// they add up to the run's successes.
    public func succeededByIntendedSecond() -> [UInt64] {
        guard !samples.isEmpty else { return [] }
        var counts = (0..<samples.count).map { $0 < byIntended.count ? byIntended[$0] : 0 }
        for second in samples.count ..< max(samples.count, byIntended.count) { counts[samples.count - 1] &+= byIntended[second] }
        return counts
    }

    @inline(__always) func countScheduled() { counts.add(Count.scheduled.rawValue) }

    @inline(__always)
    func count(_ outcome: Outcome) {
        if outcome == .success {
            counts.add(Count.succeeded.rawValue)
        } else if outcome != .unfinished {
            counts.add(Count.failed.rawValue)
        }
    }

    @inline(__always) func recordLatency(_ ns: UInt64) { interval.record(ns) }
    @inline(__always) func recordTTFT(_ ns: UInt64) { ttftInterval.record(ns) }
    @inline(__always) func recordITL(_ ns: UInt64) { itlInterval.record(ns) }

    @inline(__always)
    func countSuccess(intendedOffsetNs: UInt64) {
        byIntended.add(Int(min(intendedOffsetNs / 1_000_000_000, UInt64(byIntended.count - 1))))
    }
    @inline(__always) func addOutputTokens(_ tokens: UInt64) { counts.add(Count.outputTokens.rawValue, tokens) }

    /// Closes the second that ends at `endNs` (from the plan's zero). Once a second: the
    /// percentile walks here cost microseconds, never per request.
    @inline(never)  // once a second: kept out of the loop so that the loop stays small (and measurable)
    func closeSecond(endNs: UInt64, total: StageStats, live: CounterBlock) {
        var sample = SecondSample(endS: Double(endNs) / 1e9, wallClockS: wallClockSeconds())
        sample.scheduled = counts[Count.scheduled.rawValue]
        sample.succeeded = counts[Count.succeeded.rawValue]
        sample.failed = counts[Count.failed.rawValue]
        sample.outputTokens = counts[Count.outputTokens.rawValue]
        sample.inFlight = live[LiveCounter.inFlight.rawValue]
        sample.queued = live[LiveCounter.queued.rawValue]
        // One bounded walk per histogram (its occupied slots only), however many levels are read.
        if interval.totalCount > 0 {
            interval.valuesAtPercentiles(Self.latencyLevels, into: &latencyValues, divisor: 1e6)
            sample.p50Ms = latencyValues[0]
            sample.p95Ms = latencyValues[1]
            sample.p99Ms = latencyValues[2]
        }
        if ttftInterval.totalCount > 0 {
            ttftInterval.valuesAtPercentiles(Self.tokenLevels, into: &tokenValues, divisor: 1e6)
            sample.ttftP50Ms = tokenValues[0]
            sample.ttftP95Ms = tokenValues[1]
        }
        if itlInterval.totalCount > 0 {
            itlInterval.valuesAtPercentiles(Self.tokenLevels, into: &tokenValues, divisor: 1e6)
            sample.itlP50Ms = tokenValues[0]
            sample.itlP95Ms = tokenValues[1]
        }
        // What `Percentiles(total.latency)` gives, its percentiles and mean in one walk, not two.
        if total.latency.totalCount > 0 {
            sample.cumulativeMeanMs = total.latency.valuesAtPercentilesAndMean(Percentiles.levels, into: &cumulativeValues, divisor: 1e6) / 1e6
            sample.cumulativeMinMs = Double(total.latency.minValue) / 1e6
            sample.cumulativeMaxMs = Double(total.latency.maxValue) / 1e6
        } else {
            for index in cumulativeValues.indices { cumulativeValues[index] = 0 }
        }
        sample.cumulativeSucceeded = total.count(.success)
        sample.cumulativeFailed = total.failedCount
        let completed = total[.completed]
        if completed > 0 { sample.cumulativeMeanBytes = Double(total[.responseBodyBytes]) / Double(completed) }
        cumulativeTable.append(contentsOf: cumulativeValues)
        samples.append(sample)
        if let intervalCapture {
            // The same resets, each keeping the slots it clears: the interval log's only cost here.
            intervalCapture.capture(endNs: endNs, latency: interval, ttft: ttftInterval, itl: itlInterval)
        } else {
            interval.reset()
            if ttftInterval.totalCount > 0 { ttftInterval.reset() }
            if itlInterval.totalCount > 0 { itlInterval.reset() }
        }
        for index in 0..<counts.count { counts.set(index, 0) }
    }
}
