// `--hlog`: each second's interval histograms, kept by the loop thread as the occupied slots it clears.

/// The per-second latency, TTFT and ITL histograms of a run, as `TimeSeries.closeSecond` resets them:
/// each occupied slot as one `index << 48 | count` entry (nanosecond layout of `Histogram()`),
/// appended in the walk the reset makes anyway. Encoding and compression happen after the run
/// (`IntervalLog`), off the loop. Memory: 8 bytes per occupied slot per second, a few KiB a second.
/// Each second's entries go to a scratch buffer that keeps its capacity, then to an array of their
/// exact size: one allocation a second, and no copy of earlier seconds ever (a single growing buffer
/// would copy megabytes on the loop thread as an hour-long run doubles it).
public final class IntervalCapture: @unchecked Sendable {
    /// One closed second: its span from the plan's zero and its three histograms' entries.
    public struct Interval: Sendable {
        public var startNs: UInt64
        public var endNs: UInt64
        /// Latency entries, then TTFT's from `latencyEnd`, then ITL's from `ttftEnd`.
        var entries: [UInt64]
        var latencyEnd: Int
        var ttftEnd: Int
    }

    public private(set) var intervals: [Interval] = []
    private var scratch: [UInt64] = []
    /// Whether any second had TTFT or ITL values: an LLM run's log carries their tagged lines.
    public private(set) var hasTTFT = false
    public private(set) var hasITL = false
    private var lastEndNs: UInt64 = 0

    init(expectedSeconds: Int) {
        intervals.reserveCapacity(min(max(expectedSeconds, 16), 1 << 20))
        scratch.reserveCapacity(4_096)
    }

    /// Takes the second's histograms and resets them, as `TimeSeries.closeSecond` would. The loop
    /// thread, once a second.
    func capture(endNs: UInt64, latency: Histogram, ttft: Histogram, itl: Histogram) {
        scratch.removeAll(keepingCapacity: true)
        latency.resetAppendingOccupied(to: &scratch)
        let latencyEnd = scratch.count
        if ttft.totalCount > 0 {
            hasTTFT = true
            ttft.resetAppendingOccupied(to: &scratch)
        }
        let ttftEnd = scratch.count
        if itl.totalCount > 0 {
            hasITL = true
            itl.resetAppendingOccupied(to: &scratch)
        }
        intervals.append(Interval(startNs: lastEndNs, endNs: endNs, entries: Array(scratch), latencyEnd: latencyEnd, ttftEnd: ttftEnd))
        lastEndNs = endNs
    }

    public enum Kind: Sendable { case latency, ttft, itl }

    /// Calls `body(index, count)` for the slots of interval `number`'s histogram of `kind`, ascending.
    func forEachSlot(interval number: Int, _ kind: Kind, _ body: (_ index: Int, _ count: UInt64) -> Void) {
        let interval = intervals[number]
        let range = switch kind {
        case .latency: 0..<interval.latencyEnd
        case .ttft: interval.latencyEnd..<interval.ttftEnd
        case .itl: interval.ttftEnd..<interval.entries.count
        }
        var index = -1
        var count: UInt64 = 0
        // A count split over entries of one index (2^48 or more) comes back whole.
        for entry in interval.entries[range] {
            let entryIndex = Int(entry >> 48)
            if entryIndex != index && index >= 0 {
                body(index, count)
                count = 0
            }
            index = entryIndex
            count &+= entry & ((1 << 48) - 1)
        }
        if index >= 0 { body(index, count) }
    }
}
