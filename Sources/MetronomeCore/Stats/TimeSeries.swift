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
    /// Over the run so far (Locust's history meaning), at `Percentiles.levels`, ms.
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
    /// This second's counts. A counter block, not stored `var`s: a class's stored property costs a
    /// dynamic exclusivity check on every write, and these are written per request.
    private let counts = CounterBlock(count: 4)
    private enum Count: Int { case scheduled, succeeded, failed, outputTokens }

    init(expectedSeconds: Int) {
        samples.reserveCapacity(min(max(expectedSeconds, 16), 1 << 20))
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
    @inline(__always) func addOutputTokens(_ tokens: UInt64) { counts.add(Count.outputTokens.rawValue, tokens) }

    /// Closes the second that ends at `endNs` (from the plan's zero). Once a second: the
    /// percentile walks here cost microseconds, never per request.
    func closeSecond(endNs: UInt64, total: StageStats, live: CounterBlock) {
        var sample = SecondSample(endS: Double(endNs) / 1e9, wallClockS: wallClockSeconds())
        sample.scheduled = counts[Count.scheduled.rawValue]
        sample.succeeded = counts[Count.succeeded.rawValue]
        sample.failed = counts[Count.failed.rawValue]
        sample.outputTokens = counts[Count.outputTokens.rawValue]
        sample.inFlight = live[LiveCounter.inFlight.rawValue]
        sample.queued = live[LiveCounter.queued.rawValue]
        if interval.totalCount > 0 {
            sample.p50Ms = Double(interval.valueAtPercentile(50)) / 1e6
            sample.p95Ms = Double(interval.valueAtPercentile(95)) / 1e6
            sample.p99Ms = Double(interval.valueAtPercentile(99)) / 1e6
        }
        let cumulative = Percentiles(total.latency)
        sample.cumulative = cumulative.values
        sample.cumulativeMeanMs = cumulative.mean
        sample.cumulativeMinMs = cumulative.min
        sample.cumulativeMaxMs = cumulative.max
        sample.cumulativeSucceeded = total.count(.success)
        sample.cumulativeFailed = total.failedCount
        let completed = total[.completed]
        if completed > 0 { sample.cumulativeMeanBytes = Double(total[.responseBodyBytes]) / Double(completed) }
        samples.append(sample)
        interval.reset()
        for index in 0..<counts.count { counts.set(index, 0) }
    }
}
