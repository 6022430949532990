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

/// Wall-clock seconds since the epoch, for labels only (never for measuring).
public func wallClockSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}
