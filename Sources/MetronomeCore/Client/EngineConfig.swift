// What the open-loop engine is given, and what it returns besides the stats.

public struct EngineConfig: Sendable {
    public var address: SocketAddress
    public var plan: RatePlan
    public var process: ArrivalProcess
    public var seed: UInt64
    /// `--shard I/N`: the arrivals of the schedule this engine sends.
    public var shard = Shard.whole
    public var maxConnections = 10_000
    public var maxQueue = 100_000
    public var connectTimeoutNs: UInt64 = 10_000_000_000
    /// Counted from the request's first byte written: the queue wait before it is the generator's,
    /// and shows in latency and send lag instead.
    public var requestTimeoutNs: UInt64 = 120_000_000_000
    /// An idle keep-alive connection older than this is closed by the generator. Below the common
    /// 5 s server keep-alive (uvicorn, nginx's 75 s is longer), so the server rarely closes a
    /// connection just as a request goes out on it. 0 keeps idle connections open.
    public var idleTimeoutNs: UInt64 = 4_000_000_000
    /// How long in-flight requests may finish after the plan ends.
    public var drainNs: UInt64 = 120_000_000_000
    /// The drain after SIGINT/SIGTERM is short: the user asked to stop.
    public var interruptDrainNs: UInt64 = 3_000_000_000
    /// Take SIGINT/SIGTERM through a signalfd (the CLI); tests leave signals alone.
    public var handlesSignals = false
    /// `--request-log`: one line per request; nil writes none.
    public var requestLog: RequestLog?
    /// The most a request may leave ahead of its intended start (`SendHorizon`: three arrivals, once they fit); 0 never sends early.
    public var sendHorizonCapNs: UInt64 = 500_000
    /// When the loop's next deadline is at most this far off it sleeps until then without waking
    /// for answers, and an answer read after such a sleep ends at the kernel's receive time of its
    /// last segment (SO_TIMESTAMPNS), not at the read. Only where the workload times nothing but
    /// the end (`ResponseScanner.timesOnlyTheEnd`), over plain TCP, in open loop; 0 never holds.
    public var readHoldNs: UInt64 = 0
    /// `--concurrency`: a closed loop's workers send instead of the schedule; nil runs open loop.
    public var closedLoop: ClosedLoopArrivals?
    /// `--web`: the web view's commands (rate, stop), polled by the loop once a turn; nil for none.
    public var commands: EngineCommands?
    /// https://: TLS on every connection (handshake after connect, then SSL_read/SSL_write); nil for http://.
    public var tls: TLSClient?

    public init(address: SocketAddress, plan: RatePlan, process: ArrivalProcess, seed: UInt64) {
        self.address = address
        self.plan = plan
        self.process = process
        self.seed = seed
    }
}

public struct EngineResult: Sendable {
    /// Monotonic time of the plan's zero.
    public var startNs: UInt64
    /// How much of the plan ran: its whole duration, or less when interrupted.
    public var planElapsedNs: UInt64
    /// From the plan's zero to the end of the drain.
    public var totalElapsedNs: UInt64
    public var interruptedBySignal: Int32?
    public var loopCPUSeconds: Double
    /// Wall clock at the plan's zero, Unix seconds (labels only).
    public var startedAtUnixS: Double
    /// Times the loop thread was preempted over the run (`ThreadUsage.involuntarySwitches`): with
    /// `hostLoad`, whether late requests waited for a CPU rather than for a connection.
    public var loopInvoluntarySwitches = 0
    /// The host at the run's end.
    public var hostLoad = HostLoad()
    /// https://: the protocol the first handshake agreed ("TLSv1.3"); nil for http:// or no handshake.
    public var tlsVersion: String? = nil
}
