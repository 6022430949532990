// How far ahead of its intended start the loop may send a request, so a high rate needs fewer wake-ups.

/// On each wake the loop sends every request due by `now + horizon`. One wake-up (an epoll wait
/// and, for a timed one, a context switch) per arrival is the budget of a loop at 10,000 rps; a
/// horizon that holds more than one arrival lets one wake send several.
///
/// The horizon is `capNs` once the plan's rate puts at least one arrival in it (rate ≥ 1 / cap:
/// 10,000 rps for the default 100 µs), otherwise 0, so runs below that keep exact timing. Wake-up
/// lateness on this kind of machine is 35–95 µs anyway. A closed loop never sends ahead: its
/// intended start is a worker's ready time.
///
/// Truth: a request sent ahead of its intended start `t` is timed from its send `s` instead
/// (latency `c − min(t, s)`, send lag 0), and counted as an early send, so sending ahead can never
/// make a latency look shorter.
public struct SendHorizon: Sendable, Equatable {
    public let capNs: UInt64

    public init(capNs: UInt64) { self.capNs = capNs }

    @inline(__always)
    public func horizonNs(ratePerSec: Double) -> UInt64 {
        capNs > 0 && ratePerSec * Double(capNs) >= 1e9 ? capNs : 0
    }
}
