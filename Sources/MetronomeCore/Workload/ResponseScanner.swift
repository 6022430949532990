// The hook through which a workload sees each response as it arrives (the LLM workload scans SSE here).

/// One value per connection, reused request after request; the engine is generic over it, so the
/// calls are direct and inlined, never dynamic.
public protocol ResponseScanner {
    init()
    /// A new request was just sent (`sentNs` is `s`, `intendedNs` is `t`).
    mutating func begin(intendedNs: UInt64, sentNs: UInt64)
    /// Decoded body bytes of a response with a final status, as they arrive.
    mutating func body(_ bytes: UnsafeRawBufferPointer, status: Int, nowNs: UInt64)
    /// A complete 2xx response: the outcome (success, or a failure only the body shows) and any
    /// per-request metrics recorded into `stats` for `stage`.
    mutating func finishSuccess(nowNs: UInt64, stats: RunStats, stage: Int) -> Outcome
}

/// The generic HTTP workload: any complete 2xx response is a success.
public struct PlainResponseScanner: ResponseScanner {
    public init() {}
    @inline(__always) public mutating func begin(intendedNs: UInt64, sentNs: UInt64) {}
    @inline(__always) public mutating func body(_ bytes: UnsafeRawBufferPointer, status: Int, nowNs: UInt64) {}
    @inline(__always) public mutating func finishSuccess(nowNs: UInt64, stats: RunStats, stage: Int) -> Outcome { .success }
}
