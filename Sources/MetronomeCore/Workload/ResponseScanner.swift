// The hook through which a workload sees each response as it arrives (the LLM workload scans SSE here).

/// One value per connection, reused request after request; the engine is generic over it, so the
/// calls are direct and inlined, never dynamic.
public protocol ResponseScanner {
    /// Made once per connection slot at start; `stats` is where per-request metrics go.
    init(stats: RunStats)
    /// A new request was just sent (`sentNs` is `s`, `intendedNs` is `t`), counted in `stage`.
    mutating func begin(intendedNs: UInt64, sentNs: UInt64, stage: Int)
    /// Decoded body bytes of a response with a final status, as they arrive.
    mutating func body(_ bytes: UnsafeRawBufferPointer, status: Int, nowNs: UInt64)
    /// A complete 2xx response: the outcome (success, or a failure only the body shows), with any
    /// per-request metrics recorded.
    mutating func finishSuccess(nowNs: UInt64) -> Outcome
    /// A complete non-2xx response: a chance to keep the server's error message.
    mutating func finishHTTPError(status: Int)
    /// After `finishSuccess`: the request's first-token moment (absolute ns), TTFT and TPOT, and
    /// its completion tokens; 0 where the workload has none (for goodput and the request log).
    var requestFirstTokenNs: UInt64 { get }
    var requestTTFTNs: UInt64 { get }
    var requestTPOTNs: UInt64 { get }
    var requestTokens: UInt64 { get }
    /// For the request log, after the request ended: the prompt tokens the server reported (nil
    /// without usage), the inter-token gaps (kept only with `RunStats.keepsTokenGaps`), and the
    /// server's error text copied into `buffer` (its byte count; 0 for none). None allocates.
    var requestPromptTokens: UInt64? { get }
    var requestGapsNs: UnsafeBufferPointer<UInt64> { get }
    func requestErrorText(into buffer: UnsafeMutableRawBufferPointer) -> Int
    /// Frees what the scanner allocated; the engine calls it once, at the end of the run.
    mutating func release()
    /// True when nothing but a response's end is timed (no first token, no gaps between events):
    /// then the loop may read an answer late and take its end from the kernel (`EngineConfig.readHoldNs`).
    static var timesOnlyTheEnd: Bool { get }
}

/// A workload without tokens or error texts has nothing to add to the request log.
extension ResponseScanner {
    public var requestPromptTokens: UInt64? { nil }
    public var requestGapsNs: UnsafeBufferPointer<UInt64> { UnsafeBufferPointer(start: nil, count: 0) }
    public func requestErrorText(into buffer: UnsafeMutableRawBufferPointer) -> Int { 0 }
    public mutating func release() {}
    public static var timesOnlyTheEnd: Bool { false }
}

/// The generic HTTP workload: any complete 2xx response is a success.
public struct PlainResponseScanner: ResponseScanner {
    public init(stats: RunStats) {}
    public static var timesOnlyTheEnd: Bool { true }
    @inline(__always) public mutating func begin(intendedNs: UInt64, sentNs: UInt64, stage: Int) {}
    @inline(__always) public mutating func body(_ bytes: UnsafeRawBufferPointer, status: Int, nowNs: UInt64) {}
    @inline(__always) public mutating func finishSuccess(nowNs: UInt64) -> Outcome { .success }
    @inline(__always) public mutating func finishHTTPError(status: Int) {}
    public var requestFirstTokenNs: UInt64 { 0 }
    public var requestTTFTNs: UInt64 { 0 }
    public var requestTPOTNs: UInt64 { 0 }
    public var requestTokens: UInt64 { 0 }
}

/// Hands a response's decoded body to the connection's scanner, with the moment it was read.
/// `status` starts as the parser's (a head read in an earlier call) and follows a head read now.
struct ScannerSink<Scanner: ResponseScanner>: ResponseSink {
    let scanner: UnsafeMutablePointer<Scanner>
    let nowNs: UInt64
    var status: Int

    @inline(__always) mutating func responseHead(status: Int) { self.status = status }

    @inline(__always) mutating func responseBody(_ bytes: UnsafeRawBufferPointer) {
        scanner.pointee.body(bytes, status: status, nowNs: nowNs)
    }
}
