// Everything a run measures, shared between the loop thread (writer) and readers.

public final class RunStats: @unchecked Sendable {
    /// One entry per stage of the rate plan, in order.
    public let stages: [StageStats]
    /// The whole run, recorded alongside the stages so a live reader needs no merge.
    public let total = StageStats()
    /// Complete responses by status code (index = code: the parser takes any three digits, 100–999), for
    /// the failures report.
    public let statusCounts = CounterBlock(count: RunStats.statusCodeCount)
    public static var statusCodeCount: Int { 1000 }
    /// Gauges and run-wide counters, indexed by `LiveCounter`.
    public let live = CounterBlock(count: LiveCounter.allCases.count)

    /// Per-request limits for goodput (from `--slo`); never met when none are set.
    public let goodputLimits: GoodputLimits
    /// Read once per connection when its scanner is made, never per request.
    public let keepsTokenGaps: Bool

    /// `secrets`: the run's credentials (`SecretMask(apiKey:headers:)`), hidden in every server
    /// message kept and in the reports made from these stats.
    /// `keepsTokenGaps` (`--log-itl`): each connection's scanner keeps its request's inter-token gaps
    /// for the request log.
    /// `capturesIntervals` (`--hlog`): the per-second series keeps each second's histograms for the
    /// interval log (`series.intervalCapture`).
    public init(stageCount: Int, expectedSeconds: Int = 3600, goodputLimits: GoodputLimits = GoodputLimits(),
                secrets: SecretMask = SecretMask(), keepsTokenGaps: Bool = false, capturesIntervals: Bool = false) {
        self.goodputLimits = goodputLimits
        self.keepsTokenGaps = keepsTokenGaps
        failures = FailureLog(mask: secrets)
        // Each stage has its seven histograms, ~1.3 MiB of address space; the memory behind it is
        // taken only where values fall (see Histogram), so 2,000 short stages cost what they record.
        stages = (0..<max(stageCount, 1)).map { _ in StageStats() }
        stageTable = .allocate(capacity: stages.count)
        for (index, stage) in stages.enumerated() { (stageTable + index).initialize(to: Unmanaged.passUnretained(stage)) }
        series = TimeSeries(expectedSeconds: expectedSeconds, capturesIntervals: capturesIntervals)
    }

    deinit { stageTable.deallocate() }

    /// `stages` again, as unretained references: reading a class out of an array costs a
    /// retain/release pair per record, several per request. `stages` keeps each one alive.
    private let stageTable: UnsafeMutablePointer<Unmanaged<StageStats>>

    /// The stage's stats, lent to `body` with no retain.
    @inline(__always)
    private func withStage<Result>(_ stage: Int, _ body: (StageStats) -> Result) -> Result {
        stageTable[stage]._withUnsafeGuaranteedRef(body)
    }

    @inline(__always)
    public subscript(counter: LiveCounter) -> UInt64 { live[counter.rawValue] }

    /// Connection setup, run-wide (not per stage): TCP connect (from `connect` to writable) and, for
    /// https://, the TLS handshake after it. A request that waited for a new connection has both in
    /// its latency from the intended start, none in its service time.
    public let connectTime = Histogram()
    public let tlsHandshakeTime = Histogram()

    /// Per-second samples, written by the loop thread at each second boundary.
    public let series: TimeSeries

    /// First and last seen of each failure kind, and the servers' error messages.
    public let failures: FailureLog

    /// The credentials to hide; set before the run (read only on failure paths and by reports).
    public var secrets: SecretMask {
        get { failures.mask }
        set { failures.mask = newValue }
    }

    @inline(__always)
    func count(_ outcome: Outcome, stage: Int, status: Int = 0) {
        withStage(stage) { $0.outcomes.add(outcome.rawValue) }
        total.outcomes.add(outcome.rawValue)
        series.count(outcome)
        if outcome != .success { noteFailure(outcome, status: status) }
    }

    /// Out of line: inlined into the loop, the failure log was retained around each use.
    @inline(never)
    private func noteFailure(_ outcome: Outcome, status: Int) {
        failures.note(outcome, status: status, nowNs: monotonicNs())
    }

    @inline(__always)
    func countScheduled(stage: Int) {
        add(.scheduled, stage: stage)
        series.countScheduled()
    }

    @inline(__always)
    func add(_ counter: StageCounter, stage: Int, _ amount: UInt64 = 1) {
        withStage(stage) { $0.counters.add(counter.rawValue, amount) }
        total.counters.add(counter.rawValue, amount)
    }

    /// Each value goes into a stage's histogram and the run's, through methods of `StageStats` (a
    /// histogram passed as an argument costs a retain/release pair); a value past the 1 h range is
    /// clamped, and counted once (by the stage's histogram).
    @inline(__always)
    func recordSendLag(_ lagNs: UInt64, stage: Int) {
        let clamped = withStage(stage) { $0.recordSendLag(lagNs) }
        _ = total.recordSendLag(lagNs)
        if clamped > 0 { live.add(LiveCounter.saturatedValues.rawValue, clamped) }
    }

    /// `intendedOffsetNs`: the request's intended start from the plan's zero, for the achieved rate
    /// by intended second.
    @inline(__always)
    func recordSuccess(latencyNs: UInt64, serviceNs: UInt64, ttftNs: UInt64 = 0, tpotNs: UInt64 = 0, intendedOffsetNs: UInt64, stage: Int) {
        let clamped = withStage(stage) { $0.recordSuccess(latencyNs: latencyNs, serviceNs: serviceNs) }
        _ = total.recordSuccess(latencyNs: latencyNs, serviceNs: serviceNs)
        if clamped > 0 { live.add(LiveCounter.saturatedValues.rawValue, clamped) }
        series.recordLatency(latencyNs)
        series.countSuccess(intendedOffsetNs: intendedOffsetNs)
        if !goodputLimits.isEmpty && goodputLimits.met(latencyNs: latencyNs, ttftNs: ttftNs, tpotNs: tpotNs) {
            add(.goodRequests, stage: stage)
        }
    }

    /// TTFT, ITL and TPOT of LLM workloads; the workload's scanner calls these at a request's end.
    /// Both TTFTs at once, from the intended start (`ns`) and from the first byte sent (`sentNs`):
    /// the stage is looked up once for the two.
    @inline(never)  // once a request: inlined into the scanner, its histograms were retained around each use
    public func recordTTFT(_ ns: UInt64, sentNs: UInt64, stage: Int) {
        let clamped = withStage(stage) { $0.recordTTFT(ns, sentNs: sentNs) }
        _ = total.recordTTFT(ns, sentNs: sentNs)
        if clamped > 0 { live.add(LiveCounter.saturatedValues.rawValue, clamped) }
        series.recordTTFT(ns)
    }
    /// Once per content event: the hottest record of an LLM run.
    @inline(__always)
    public func recordITL(_ ns: UInt64, stage: Int) {
        let clamped = withStage(stage) { $0.recordITL(ns) }
        _ = total.recordITL(ns)
        if clamped > 0 { live.add(LiveCounter.saturatedValues.rawValue, clamped) }
        series.recordITL(ns)
    }
    @inline(never)  // once a request: inlined into the scanner, its histograms were retained around each use
    public func recordTPOT(_ ns: UInt64, stage: Int) {
        let clamped = withStage(stage) { $0.recordTPOT(ns) }
        _ = total.recordTPOT(ns)
        if clamped > 0 { live.add(LiveCounter.saturatedValues.rawValue, clamped) }
    }

    /// Token counts of one successful request: from the server's `usage`, or counted from content events.
    @inline(never)  // once a request: inlined into the scanner, its histograms were retained around each use
    public func recordTokens(prompt: UInt64?, completion: UInt64, fromUsage: Bool, stage: Int) {
        withStage(stage) { $0.addTokens(prompt: prompt, completion: completion, fromUsage: fromUsage) }
        total.addTokens(prompt: prompt, completion: completion, fromUsage: fromUsage)
        series.addOutputTokens(completion)
    }
}

public enum LiveCounter: Int, CaseIterable, Sendable {
    /// Requests written and not yet ended.
    case inFlight
    /// Requests due but waiting for a connection.
    case queued
    case openConnections
    /// Connections opened over the run; ≪ requests when keep-alive works.
    case connectionsOpened
    /// Connections the server closed while idle (keep-alive timeouts), not charged to any request.
    case idleClosedByServer
    /// Histogram values above the trackable range, clamped but counted.
    case saturatedValues
    /// Requests re-sent because their reused keep-alive connection failed the write with nothing
    /// written: the server provably never had them.
    case staleConnectionRetries
    /// Requests on a reused keep-alive connection closed after the request was written and before
    /// any answer: not re-sent (the server may have taken them), counted as closed_before_response.
    case replaysRefused
    /// Idle keep-alive connections the generator closed after `--idle-timeout`.
    case idleClosedByClient
    /// Connection attempts the generator's own limits refused (EMFILE, ENFILE, EADDRNOTAVAIL,
    /// ENOBUFS, ENOMEM): the request stayed queued, nothing was charged to the server.
    case generatorLimitedConnects
    /// The errno of the last such refusal, for the warning that names the limit.
    case generatorLimitErrno
    /// Readiness events cut short by the per-event read budget (a fast server must not starve the loop).
    case readBudgetYields
    /// The plan's elapsed time in ns, updated by the loop each iteration.
    case elapsedNs
    /// Requests sent ahead of their intended start, within the send horizon (timed from their send).
    case earlySends
    /// The largest send horizon the loop used, in µs (0: every request left at or after its time).
    case sendHorizonUs
    /// Times the pool's growth was held at its paced size while requests waited (`ConnectionPacing`).
    case poolGrowthPaced
    /// epoll waits of the loop thread (wake-ups per request = this / sent).
    case pollWaits
    /// https://: TLS handshakes completed, and of them those that resumed an earlier session.
    case tlsHandshakes
    case tlsResumed
    /// https://: handshakes that failed, whether or not a request was waiting to be charged with it.
    case tlsHandshakeFailures
    /// https://: connections whose server closed TCP without TLS's close_notify. The answers they
    /// ended are counted as their framing says; only a close-delimited body could have been cut.
    case tlsClosedWithoutNotify
    /// Loop sleeps that did not wake for answers because the next deadline was within `--read-hold`.
    case readsHeld
    /// Answers whose end is the kernel's receive time of their last segment rather than the read's.
    case kernelReceiveStamps

    /// The key of a run-wide connection counter in the reports' `connections` section; nil for gauges
    /// and counters reported elsewhere. A new connection counter needs only its key here.
    public var summaryKey: String? {
        switch self {
        case .connectionsOpened: "opened"
        case .idleClosedByServer: "idle_closed_by_server"
        case .staleConnectionRetries: "stale_connection_retries"
        case .replaysRefused: "replays_refused"
        case .idleClosedByClient: "idle_closed_by_client"
        case .generatorLimitedConnects: "generator_limited_connects"
        case .generatorLimitErrno: "generator_limit_errno"
        case .readBudgetYields: "read_budget_yields"
        case .earlySends: "early_sends"
        case .sendHorizonUs: "send_horizon_us"
        case .poolGrowthPaced: "pool_growth_paced"
        case .tlsHandshakes: "tls_handshakes"
        case .tlsResumed: "tls_resumed"
        case .tlsHandshakeFailures: "tls_handshake_failures"
        case .tlsClosedWithoutNotify: "tls_closed_without_notify"
        case .readsHeld: "reads_held"
        case .kernelReceiveStamps: "kernel_receive_stamps"
        case .inFlight, .queued, .openConnections, .saturatedValues, .elapsedNs, .pollWaits: nil
        }
    }
}
