// The one clock Metronome measures with: CLOCK_MONOTONIC in nanoseconds.
import Glibc

/// Nanoseconds on CLOCK_MONOTONIC. ~30 ns; Swift's ContinuousClock is CLOCK_BOOTTIME on Linux and
/// twice the cost, so the hot path calls this instead.
@inline(__always)
public func monotonicNs() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
}

/// Sleeps until `deadlineNs` on CLOCK_MONOTONIC (absolute, so a late start does not lengthen it).
@inline(__always)
public func sleepUntil(_ deadlineNs: UInt64) {
    var at = timespec(tv_sec: Int(deadlineNs / 1_000_000_000), tv_nsec: Int(deadlineNs % 1_000_000_000))
    _ = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, nil)
}

/// A kernel receive stamp (SO_TIMESTAMPNS: CLOCK_REALTIME ns) on the monotonic clock, by its age:
/// both clocks are read now, so a step of the wall clock before this read cannot skew it. nil for no
/// stamp, or one a second old or more (then the caller's own clock is the honest bound).
@inline(__always)
public func monotonicNs(ofReceiveStamp stampNs: Int64) -> UInt64? {
    guard stampNs > 0 else { return nil }
    var real = timespec()
    clock_gettime(CLOCK_REALTIME, &real)
    let nowNs = monotonicNs()
    let ageNs = max(Int64(real.tv_sec) &* 1_000_000_000 &+ Int64(real.tv_nsec) &- stampNs, 0)
    guard ageNs < 1_000_000_000, UInt64(ageNs) <= nowNs else { return nil }
    return nowNs &- UInt64(ageNs)
}

/// Wall-clock seconds since the epoch, for labels only (never for measuring).
public func wallClockSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}
