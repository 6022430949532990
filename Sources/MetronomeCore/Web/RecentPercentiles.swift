// Percentiles of the last few seconds of a live histogram, read from another thread without locks.

/// Keeps the slot counts of a live histogram as they were at each of the last `seconds` ticks; the
/// difference between now and then is the histogram of the values recorded since, whose percentiles
/// are the "last seconds" figures (the run's own histogram has the whole run's).
final class RecentPercentiles {
    private let histogram: Histogram
    private var history: [[UInt64]]
    private var next = 0
    private var current: [UInt64]

    init(_ histogram: Histogram, seconds: Int) {
        self.histogram = histogram
        let slots = histogram.countsLength
        history = Array(repeating: [UInt64](repeating: 0, count: slots), count: max(seconds, 1))
        current = [UInt64](repeating: 0, count: slots)
    }

    /// Once a tick: reads the live slots (relaxed loads), and returns the window's p50/p95/p99 in
    /// ns (zeros when the window saw no value).
    func tick() -> [UInt64] {
        for index in 0..<current.count { current[index] = histogram.count(atIndex: index) }
        let oldest = history[next]
        var total: UInt64 = 0
        for index in 0..<current.count where current[index] > oldest[index] { total &+= current[index] - oldest[index] }
        var values: [UInt64] = [0, 0, 0]
        if total > 0 {
            let ranks = [50.0, 95.0, 99.0].map { Histogram.nearestRank($0, of: total) }
            var cumulative: UInt64 = 0
            var level = 0
            for index in 0..<current.count where current[index] > oldest[index] {
                cumulative &+= current[index] - oldest[index]
                while level < ranks.count && cumulative >= ranks[level] {
                    values[level] = histogram.highestEquivalentValue(histogram.valueFromIndex(index))
                    level += 1
                }
                if level == ranks.count { break }
            }
        }
        swap(&history[next], &current)
        next = (next + 1) % history.count
        return values
    }
}
