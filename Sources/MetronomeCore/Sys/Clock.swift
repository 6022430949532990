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

/// CLOCK_REALTIME − CLOCK_MONOTONIC in ns: turns the kernel's receive stamps (realtime) into the
/// loop's clock. NTP slews both clocks alike; only a step moves it, so the loop samples it each second.
public func realtimeAheadOfMonotonicNs() -> Int64 {
    var real = timespec()
    var mono = timespec()
    clock_gettime(CLOCK_MONOTONIC, &mono)
    clock_gettime(CLOCK_REALTIME, &real)
    return (Int64(real.tv_sec) - Int64(mono.tv_sec)) &* 1_000_000_000 &+ (Int64(real.tv_nsec) - Int64(mono.tv_nsec))
}

/// Wall-clock seconds since the epoch, for labels only (never for measuring).
public func wallClockSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}
