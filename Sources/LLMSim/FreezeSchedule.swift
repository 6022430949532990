// When llmsim freezes: fixed windows measured from server start, in which no byte is written.

/// One freeze: output due in `[startNs, endNs)` leaves at `endNs`.
public struct FreezeWindow: Sendable, Equatable {
    public let startNs: UInt64
    public let endNs: UInt64
}

/// Windows `[origin + k·P − F, origin + k·P)` for k = 1, 2, …: the server runs for P − F after
/// start, then freezes for F, and every window ends on a multiple of P. A pure function of time.
///
/// For a request arriving at a uniformly random time whose response would otherwise leave
/// at once, the extra latency X satisfies P(X > x) = (F − x)/P for 0 ≤ x < F.
public struct FreezeSchedule: Sendable, Equatable {
    public let originNs: UInt64
    public let everyNs: UInt64
    public let forNs: UInt64

    public init(originNs: UInt64, everyNs: UInt64, forNs: UInt64) {
        precondition(everyNs > 0 && forNs < everyNs, "a freeze must be shorter than its period")
        self.originNs = originNs
        self.everyNs = everyNs
        self.forNs = forNs
    }

    public func window(containing nowNs: UInt64) -> FreezeWindow? {
        guard forNs > 0, nowNs >= originNs else { return nil }
        let phase = (nowNs - originNs) % everyNs
        guard phase >= everyNs - forNs else { return nil }
        let endNs = nowNs - phase + everyNs
        return FreezeWindow(startNs: endNs - forNs, endNs: endNs)
    }

    /// The first window that starts at or after `nowNs`.
    public func nextWindow(startingAtOrAfter nowNs: UInt64) -> FreezeWindow {
        let elapsed = nowNs > originNs ? nowNs - originNs : 0
        let k = max(1, (elapsed + forNs + everyNs - 1) / everyNs)   // least k ≥ 1 with k·P − F ≥ elapsed
        let endNs = originNs + k * everyNs
        return FreezeWindow(startNs: endNs - forNs, endNs: endNs)
    }

    /// When output due at `dueNs` may leave: `dueNs`, or the end of the window holding it.
    @inline(__always)
    public func releaseNs(_ dueNs: UInt64) -> UInt64 {
        window(containing: dueNs)?.endNs ?? dueNs
    }
}
