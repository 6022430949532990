// Intended starts of a closed loop (`--concurrency`): N workers, each ready again when its request ends.

/// The arrivals of N workers, in ns from the plan start, for the engine to dispatch as it dispatches
/// the open-loop schedule. A worker is ready at its spawn time (worker k at k / spawn rate, all at 0
/// without one), and again `thinkNs` after its request ended, whatever the outcome.
///
/// With a constant think time the returns are monotonic (each is an end time, read from the clock,
/// plus the same D), so a FIFO ring merged with the (also monotonic) spawn times yields the ready
/// times in order without a heap. The ring holds at most `workers` entries and is allocated once.
///
/// A closed loop has no queue: a request's intended start is the moment its worker was ready, so its
/// latency excludes any waiting the server caused — coordinated omission by construction.
public struct ClosedLoopArrivals: Sendable {
    public let workers: Int
    /// ns between two workers' first requests; 0 starts them all at once.
    public let spawnIntervalNs: UInt64
    public let thinkNs: UInt64
    /// The plan's end: no worker starts a request at or after it.
    public let endNs: UInt64
    private var ready: [UInt64]
    private var head = 0
    private var count = 0
    private var spawned = 0
    /// Workers whose request is out (taken and not yet freed): a second free of one trips a check.
    public private(set) var busy = 0

    public init(workers: Int, spawnRatePerSec: Double?, thinkNs: UInt64, endNs: UInt64) {
        precondition(workers > 0)
        self.workers = workers
        spawnIntervalNs = spawnRatePerSec.map { UInt64((1e9 / $0).rounded()) } ?? 0
        self.thinkNs = thinkNs
        self.endNs = endNs
        ready = Array(repeating: 0, count: workers)
    }

    /// Worker k's first ready time.
    private func spawnNs(_ k: Int) -> UInt64 {
        spawnIntervalNs.multipliedReportingOverflow(by: UInt64(k)).overflow ? .max : spawnIntervalNs &* UInt64(k)
    }

    /// The earliest ready time before the plan's end, or nil when every worker is busy or the next
    /// one is ready only after the end.
    public func peek() -> UInt64? {
        var next = UInt64.max
        if spawned < workers { next = spawnNs(spawned) }
        if count > 0 { next = min(next, ready[head]) }
        return next < endNs ? next : nil
    }

    /// The worker `peek()` named sends its request now.
    public mutating func take() {
        if count > 0 && (spawned == workers || ready[head] <= spawnNs(spawned)) {
            head = head + 1 == workers ? 0 : head + 1
            count -= 1
        } else {
            precondition(spawned < workers, "no worker is ready")
            spawned += 1
        }
        busy += 1
    }

    /// A worker's request ended (any outcome) at `endedNs` from the plan start: it is ready again
    /// after the think time.
    public mutating func workerFreed(atNs endedNs: UInt64) {
        precondition(busy > 0 && count < workers, "a worker was freed twice")
        busy -= 1
        let (due, overflow) = endedNs.addingReportingOverflow(thinkNs)
        let tail = head + count < workers ? head + count : head + count - workers
        ready[tail] = overflow ? .max : due
        count += 1
    }
}
