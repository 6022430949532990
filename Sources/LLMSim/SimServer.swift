// The public face of llmsim: bind, serve on a thread, stop from any thread, read counters.
import CLinux
import Glibc
import MetronomeCore
import Synchronization

/// A simulated vLLM server. `init` binds (so the port is known and connections queue in the
/// backlog at once); `run()` serves on the calling thread until `stop()`. With
/// `config.tlsCertificateFile` and `tlsKeyFile` set it serves HTTPS (`config.scheme`), and `init`
/// throws `TLSSetupError` for a file it cannot use.
///
///     let server = try SimServer.startInBackground(config: config)
///     … connect to 127.0.0.1:\(server.port) …
///     server.stopAndWait()
public final class SimServer: @unchecked Sendable {
    public let config: SimConfig
    public let port: UInt16
    /// CLOCK_MONOTONIC at bind: the origin of the freeze windows.
    public let startNs: UInt64
    /// The freeze windows, when `--freeze-every` is set.
    public let freezeSchedule: FreezeSchedule?

    private let listener: Listener
    /// The OpenSSL server context with --tls-cert, freed at deinit (after `run()` has returned).
    private let tls: TLSServer?
    /// An eventfd: `stop()` writes to it to wake the loop. It stays open until deinit, so a late
    /// `stop()` never writes into a descriptor number reused by someone else.
    private let wakeFD: Int32
    private let counters = SimCounters()
    private let started = Atomic<Bool>(false)
    private let finished = Atomic<Bool>(false)
    private var thread: pthread_t?
    private var watchSignals = false

    public init(config: SimConfig) throws {
        let config = try config.validated()
        _ = raiseOpenFileLimit()
        ignoreSIGPIPE()
        self.config = config
        // Certificate and key are checked before the port is taken: a bad file binds nothing.
        if let certificateFile = config.tlsCertificateFile, let keyFile = config.tlsKeyFile {
            tls = try TLSServer(library: TLSLibrary.load(), certificateFile: certificateFile, keyFile: keyFile)
        } else {
            tls = nil
        }
        do {
            listener = try Listener(host: config.host, port: config.port)
        } catch {
            tls?.release()
            throw error
        }
        port = listener.boundPort
        wakeFD = eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC))
        guard wakeFD >= 0 else {
            let code = clinux_errno()
            listener.close()
            tls?.release()
            throw SystemError("eventfd", errno: code)
        }
        startNs = monotonicNs()
        freezeSchedule = config.freezeEveryNs > 0
            ? FreezeSchedule(originNs: startNs, everyNs: config.freezeEveryNs, forNs: config.freezeForNs) : nil
    }

    deinit {
        if !started.load(ordering: .acquiring) { listener.close() }
        closeDescriptor(wakeFD)
        tls?.release()
    }

    /// The freeze window holding `nowNs` (CLOCK_MONOTONIC, as `monotonicNs()`), or nil.
    public func freezeWindowContaining(nowNs: UInt64) -> FreezeWindow? {
        freezeSchedule?.window(containing: nowNs)
    }

    /// Makes SIGINT and SIGTERM stop `run()`; call on the thread that will call `run()`, before
    /// starting other threads (they inherit the blocked mask).
    public func stopOnTerminationSignals() {
        blockTerminationSignals()
        watchSignals = true
    }

    /// Serves until `stop()` (or a watched signal); then closes every connection and the listener.
    /// Runs once: a second call returns at once.
    public func run() {
        guard started.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else { return }
        defer { finished.store(true, ordering: .releasing) }
        do {
            let loop = try ServerLoop(config: config, listener: listener, wakeFD: wakeFD, counters: counters,
                                      freeze: freezeSchedule, tls: tls, watchSignals: watchSignals)
            loop.run()
        } catch {
            listener.close()
            writeStandardError("llmsim: \(error)\n")
        }
    }

    /// Asks `run()` to return; safe from any thread, any number of times.
    public func stop() {
        var one: UInt64 = 1
        _ = withUnsafeBytes(of: &one) { writeSome(wakeFD, $0.baseAddress!, 8) }
    }

    /// `stop()`, then waits for the background thread of `startInBackground` to end.
    public func stopAndWait() {
        stop()
        if let thread {
            pthread_join(thread, nil)
            self.thread = nil
        }
    }

    public var hasFinished: Bool { finished.load(ordering: .acquiring) }

    public var stats: SimStats { SimStats(counters) }

    /// Binds, then runs the server on a new thread. Returns once that thread is serving.
    public static func startInBackground(config: SimConfig) throws -> SimServer {
        let server = try SimServer(config: config)
        let box = Unmanaged.passRetained(server).toOpaque()
        var thread = pthread_t()
        let status = pthread_create(&thread, nil, { argument in
            let server = Unmanaged<SimServer>.fromOpaque(argument!).takeRetainedValue()
            nameCurrentThread("llmsim")
            server.run()
            return nil
        }, box)
        guard status == 0 else {
            Unmanaged<SimServer>.fromOpaque(box).release()
            throw SystemError("pthread_create", errno: status)
        }
        server.thread = thread
        while !server.started.load(ordering: .acquiring) { usleep(50) }   // serving, not only listening
        return server
    }
}
