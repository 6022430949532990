// Why requests left late: the figures that tell the connection cap from a loop thread short of CPU, and the warning they call for.
import Glibc

/// What the run measured of the generator itself. A request leaves late (send lag `s − t`) because
/// it waited in the queue for a connection (every connection busy: only then does raising
/// `--max-connections` help), because it waited for a new connection to open, or because the loop
/// thread was not running when it fell due: busy with other requests (its CPU time near the run's
/// length) or preempted by other threads (involuntary context switches, a load average above the
/// cores).
public struct GeneratorFigures: Sendable, Equatable {
    public var sendLagP99Ms = 0.0
    public var sent: UInt64 = 0
    public var dropped: UInt64 = 0
    public var maxConnections = 0
    /// Connections opened over the run: an upper bound of how many were ever open at once.
    public var connectionsOpened: UInt64 = 0
    /// The most requests in flight at any second's end (one per busy connection): a lower bound of the peak.
    public var peakInFlight: UInt64 = 0
    /// Seconds whose end found requests queued while every connection was busy.
    public var secondsQueuedAtCap = 0
    public var loopCPUSeconds = 0.0
    public var elapsedS = 0.0
    public var involuntarySwitches = 0
    public var host = HostLoad()
    /// Connection attempts this machine refused (EMFILE, ENFILE, EADDRNOTAVAIL, ENOBUFS, ENOMEM), and the last errno.
    public var generatorLimitedConnects: UInt64 = 0
    public var generatorLimitErrno: Int32 = 0
    /// Times requests waited while the pool was held at its paced size (`ConnectionPacing`): every
    /// connection busy with a server slower than usual.
    public var poolGrowthPaced: UInt64 = 0

    public init() {}
}

public enum GeneratorHealth {
    /// Send lag p99 above this is the generator's own delay showing in every latency.
    public static let sendLagLimitMs = 10.0
    /// The loop is at its own limit when it ran on the CPU this share of the run.
    static let busyShare = 0.9

    /// The warnings the figures call for, each naming the cause the figures show, with the figures.
    public static func warnings(_ f: GeneratorFigures) -> [String] {
        var out: [String] = []
        if let lag = lateWarning(f) { out.append(lag) }
        if f.dropped > 0 {
            out.append("GENERATOR BOTTLENECK: \(f.dropped) requests dropped: all \(f.maxConnections) connections were busy and the queue was full (raise --max-connections or --max-queue)")
        }
        if f.generatorLimitedConnects > 0 {
            out.append("GENERATOR LIMIT: \(f.generatorLimitedConnects) connection attempts were refused by this machine (\(limitText(f))); those requests waited in the queue, so latency includes the wait (\(limitAdvice(f)))")
        }
        return out
    }

    static func limitText(_ f: GeneratorFigures) -> String {
        "\(errnoName(f.generatorLimitErrno)): \(errnoDescription(f.generatorLimitErrno))"
    }

    static func limitAdvice(_ f: GeneratorFigures) -> String {
        f.generatorLimitErrno == EMFILE || f.generatorLimitErrno == ENFILE
            ? "raise the open-file limit, ulimit -n, or lower --max-connections"
            : "lower --max-connections, or keep connections longer with --idle-timeout"
    }

    /// Send lag p99 above the limit, with its causes.
    static func lateWarning(_ f: GeneratorFigures) -> String? {
        guard f.sendLagP99Ms > sendLagLimitMs else { return nil }
        var causes: [String] = []
        if f.generatorLimitedConnects > 0 {
            causes.append("this machine refused new connections (\(limitText(f)), \(f.generatorLimitedConnects) times); \(limitAdvice(f))")
        }
        let atCap = f.dropped > 0 || f.secondsQueuedAtCap > 0 || f.peakInFlight >= UInt64(max(f.maxConnections, 1))
        if atCap {
            let seen = f.secondsQueuedAtCap > 0 ? " (requests waited with all of them busy in \(f.secondsQueuedAtCap) s of the run)" : ""
            causes.append("queueing at the connection cap: all \(f.maxConnections) connections were busy\(seen); raise --max-connections")
        }
        if isLoopBusy(f) {
            causes.append("the loop thread was busy: \(Format.fixed(f.loopCPUSeconds, decimals: 2)) s CPU in \(Format.fixed(f.elapsedS, decimals: 2)) s"
                + " (\(Format.fixed(100 * f.loopCPUSeconds / f.elapsedS, decimals: 0)) %); lower the rate or shard (--processes)")
        }
        if isShortOfCPU(f) {
            causes.append("the loop thread did not get the CPU: \(cpuFigures(f)); run on a quieter host or core (taskset), or lower the other load")
        }
        if !atCap && f.poolGrowthPaced > 0 {
            causes.append("the pool was held at its paced size \(f.poolGrowthPaced) times (Little's law on the usual service time): every connection waited on the server, so a server stall (see service time) shows as queueing here instead of as a connection storm")
        }
        if !atCap && isConnectSetup(f) {
            causes.append("waiting for new connections: \(f.connectionsOpened) of \(f.sent) requests waited for a connect (the server may be closing keep-alive connections)")
        }
        var text = "GENERATOR BOTTLENECK: send lag p99 \(Format.fixed(f.sendLagP99Ms, decimals: 2)) ms > \(Format.trimmed(sendLagLimitMs, decimals: 0)) ms;"
            + " requests left late, so latency includes the generator's own delay. "
        if causes.isEmpty {
            text += "Cause not identified: \(cpuFigures(f)), loop CPU \(Format.fixed(f.loopCPUSeconds, decimals: 2)) s in \(Format.fixed(f.elapsedS, decimals: 2)) s"
        } else {
            text += "Cause: " + causes.joined(separator: "; ")
        }
        if !atCap {
            // Opened connections bound the open ones from above, so below the cap this is a proof.
            text += UInt64(f.maxConnections) > f.connectionsOpened
                ? ". Not the connection cap: at most \(f.connectionsOpened) of \(f.maxConnections) connections were ever open, so raising --max-connections will not help"
                : ". The connection cap was not seen reached: at most \(f.peakInFlight) of \(f.maxConnections) connections busy at any second's end"
        }
        return text
    }

    static func isLoopBusy(_ f: GeneratorFigures) -> Bool {
        f.elapsedS > 0 && f.loopCPUSeconds >= busyShare * f.elapsedS
    }

    /// Preempted at least once per hundred requests sent (enough to reach the p99) and at least ten
    /// times, or more runnable threads than cores.
    static func isShortOfCPU(_ f: GeneratorFigures) -> Bool {
        let preempted = f.involuntarySwitches >= 10 && UInt64(f.involuntarySwitches) * 100 >= f.sent
        let overloaded = f.host.cores > 0 && (f.host.loadAverage1m ?? 0) > Double(f.host.cores)
        return preempted || overloaded
    }

    /// At least one request in a hundred opened a connection first (each opening holds a request).
    static func isConnectSetup(_ f: GeneratorFigures) -> Bool {
        f.connectionsOpened > 0 && f.connectionsOpened * 100 >= f.sent
    }

    static func cpuFigures(_ f: GeneratorFigures) -> String {
        var text = "preempted \(f.involuntarySwitches) times (involuntary context switches of the loop thread)"
        if let load = f.host.loadAverage1m {
            text += ", load average \(Format.fixed(load, decimals: 2)) on \(f.host.cores) cores"
        }
        return text
    }
}
