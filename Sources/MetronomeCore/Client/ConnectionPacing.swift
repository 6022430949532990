// How many connections the pool may hold and open at once: sized by Little's law, so a stall is no storm.

/// Without pacing the pool grew by one connection per queued request, up to `--max-connections`:
/// when the server stalls, or the loop thread falls behind, every request due meanwhile opened its
/// own connection, thousands at once, and each connect cost both sides CPU just as they were behind.
///
/// Little's law says a rate R at service time S keeps R·S requests in flight. The pool may hold
/// `max(poolFloor, R × (headroom × S + stallAllowance))` connections (never above
/// `--max-connections`): Little's law with room for the long tail, plus the requests due in a short
/// stall of the server or of the loop thread. At most `max(connectFloor, R × S)` connects may be
/// under way at once. R is the plan's rate now. S is a running
/// median of service times: one finished request per `sampleIntervalNs` moves it by 1/64 of itself
/// towards the sample. Sampling by time, not by request, is what makes a stall harmless: a stall of
/// any length yields a few samples, not thousands (the requests caught in it finish together). The
/// estimate moves by ×1.36 a second at most: a saturated server's service time grows with the
/// requests in flight, and a pool that followed it fast would feed that loop (seen: 1,776
/// connections through a 2 s freeze at 30,000 rps with 10 ms sampling, about 300 with 50 ms). A
/// server that really slowed down is followed within seconds.
///
/// S starts as the shortest service time of the first interval after a request first finished (the
/// first requests also pay for connects and warm-up). Before that S is unknown, and a server frozen
/// from the start looks exactly like a slow one whose first answer is still to come: the pool starts
/// at `max(poolFloor, R × stallAllowance)` and doubles with each `unknownDoublingNs` of the run while no
/// request has finished (300 connections at 30,000 rps, 1,200 from 2 s on; unpaced it was one per
/// request due, up to 10,000). The first answer sets S and Little's law takes over at once, so a
/// server that is only slow to start gets its pool with its first answer. Requests held back wait in
/// the queue (or are dropped at `--max-queue`, counted), and their latency counts from their intended
/// start as always.
public struct ConnectionPacing: Sendable {
    /// Connections allowed whatever the estimate says, so runs below a few thousand rps grow as before.
    public static var poolFloor: Int { 256 }
    /// On a busy machine service times have a long tail (against llmsim at 30,000 rps: median 0.07 ms,
    /// p99 4–5 ms) and stalls of a few ms are common: the pool keeps room for the requests due in 10 ms
    /// (300 at 30,000 rps; unpaced runs there used 150–320).
    public static var stallAllowanceNs: Double { 10_000_000 }
    /// Connects under way allowed whatever the estimate says.
    public static var connectFloor: Int { 64 }
    /// The pool may hold this many times what Little's law needs at the median service time: service
    /// times have a tail, and Poisson arrivals come in bursts.
    public static var headroom: Double { 4 }
    /// While no request has finished, the pool may double once per this much of the run.
    public static var unknownDoublingNs: UInt64 { 1_000_000_000 }
    /// At most one finished request per interval moves the estimate.
    public static var sampleIntervalNs: UInt64 { 50_000_000 }

    /// The running median of service times in ns; 0 until a request finished.
    public private(set) var serviceEstimateNs: UInt64 = 0
    private var nextSampleNs: UInt64 = 0
    /// The end of the first interval, in which S is the shortest sample seen.
    private var firstIntervalEndNs: UInt64 = 0

    public init() {}

    /// A request ended `serviceNs` after its first byte went out, at `nowNs` (monotonic).
    @inline(__always)
    public mutating func noteService(_ serviceNs: UInt64, atNs nowNs: UInt64) {
        if serviceEstimateNs == 0 {
            serviceEstimateNs = max(serviceNs, 1)
            firstIntervalEndNs = nowNs &+ Self.sampleIntervalNs
            nextSampleNs = firstIntervalEndNs
            return
        }
        if nowNs < firstIntervalEndNs {
            serviceEstimateNs = max(min(serviceEstimateNs, serviceNs), 1)
            return
        }
        guard nowNs >= nextSampleNs else { return }
        nextSampleNs = nowNs &+ Self.sampleIntervalNs
        if serviceNs > serviceEstimateNs {
            serviceEstimateNs &+= serviceEstimateNs >> 6 | 1
        } else if serviceNs < serviceEstimateNs {
            serviceEstimateNs &-= min(serviceEstimateNs >> 6 | 1, serviceEstimateNs - 1)
        }
    }

    /// Connections Little's law needs at `ratePerSec`, or nil before any request finished.
    @inline(__always)
    public func needed(ratePerSec: Double) -> Double? {
        serviceEstimateNs == 0 ? nil : ratePerSec * Double(serviceEstimateNs) / 1e9
    }

    /// The most connections the pool may hold at `ratePerSec`, `elapsedNs` into the run, capped at
    /// `maxConnections`.
    public func poolLimit(ratePerSec: Double, elapsedNs: UInt64, maxConnections: Int) -> Int {
        let stall = ratePerSec * Self.stallAllowanceNs / 1e9
        guard let need = needed(ratePerSec: ratePerSec) else {
            let doublings = min(elapsedNs / Self.unknownDoublingNs, 40)
            return Self.clamp(max(Double(Self.poolFloor), stall) * Double(UInt64(1) << doublings), floor: Self.poolFloor, maxConnections)
        }
        return Self.clamp(Self.headroom * need + stall, floor: Self.poolFloor, maxConnections)
    }

    /// The most connects that may be under way at once.
    public func connectLimit(ratePerSec: Double, maxConnections: Int) -> Int {
        Self.clamp(needed(ratePerSec: ratePerSec) ?? 0, floor: Self.connectFloor, maxConnections)
    }

    private static func clamp(_ count: Double, floor: Int, _ maxConnections: Int) -> Int {
        let wanted = count < Double(Int32.max) ? max(floor, Int(count.rounded(.up))) : Int(Int32.max)
        return min(wanted, maxConnections)
    }
}
