// The open-loop engine: one thread fires requests on the arrival schedule and never waits for answers.
import CLinux
import Glibc

/// A struct so that its mutable state is plain stored properties (no class exclusivity checks on
/// the hot path); per-connection state lives in slabs reached through `let` pointers.
public struct OpenLoopEngine<Scanner: ResponseScanner> {
    private var config: EngineConfig
    private let requests: RequestSet
    public let stats: RunStats
    private let poller: Poller
    private var schedule: ArrivalSchedule
    private let horizon: SendHorizon
    private let requestLog: RequestLog?
    /// `--concurrency`: the workers' ready times replace the schedule (see `ClosedLoopArrivals`).
    private var closedLoop: ClosedLoopArrivals?
    /// `EngineCommands.words` of the web view's command slot, polled once a turn; nil without one.
    private let commandWords: EngineCommands.Words?

    private let slab: ConnectionSlab
    private let parsers: UnsafeMutablePointer<ResponseParser>
    private let scanners: UnsafeMutablePointer<Scanner>
    private let digits: UnsafeMutablePointer<UInt8>
    private let iovecs: UnsafeMutablePointer<iovec>
    private let readBuffer: UnsafeMutableRawPointer
    private static var readBufferSize: Int { 64 * 1024 }
    /// Reads per readiness event before the loop takes its turn again: a server streaming at full
    /// speed must not hold off the schedule, timeouts and signals.
    private static var readsPerEvent: Int { 4 }
    /// How long to wait before trying a new connection after the generator's own limits refused one,
    /// unless a connection closes first.
    private static var generatorLimitBackoffNs: UInt64 { 10_000_000 }
    /// A connection idle this long is checked (one `recv(MSG_PEEK)`) before it carries a request:
    /// the server's keep-alive timer may have closed it since the loop last looked. Busier pools
    /// reuse connections sooner and skip the syscall.
    private static var checkIdleAfterNs: UInt64 { 250_000_000 }
    private static var digitsStride: Int { RequestTemplate.maxSequenceWidth }

    /// https://: OpenSSL's calls and the run's TLS settings (nil for http://), the session new
    /// connections resume, and the buffer a request's bytes are gathered into for `SSL_write` (one
    /// TLS record: a request of several vectors goes out as one record, not one per vector).
    private let tls: TLSClient?
    private let tlsLibrary: TLSLibrary?
    private var tlsSession: UnsafeMutableRawPointer? = nil
    /// The protocol of the first handshake ("TLSv1.3"), a static string of OpenSSL's.
    private var tlsVersion: UnsafePointer<CChar>? = nil
    private let tlsWriteBuffer: UnsafeMutableRawPointer?
    private static var tlsWriteBufferSize: Int { 16 * 1024 }

    private var free = SlotList()
    /// Slots 0..<preparedSlots are initialised (see takeSlot); the rest of the cap is only reserved.
    private var preparedSlots = 0
    private var connecting = SlotList()
    private var idle = SlotList()
    private var busy = SlotList()
    private var queue: RequestQueue
    private var ready: ReadyList
    private var connectBackoffUntilNs: UInt64 = 0
    private var pacing = ConnectionPacing()
    /// Requests wait while the pool is held at its paced size (one episode counted until the queue empties).
    private var poolHeld = false

    // Loop figures, published to the live counters once a second and at the end (no atomics per request).
    private var earlySends: UInt64 = 0
    private var horizonUsedNs: UInt64 = 0
    /// The send horizon now, worked out from the plan's rate once per `horizonRecheckNs`.
    private var horizonNs: UInt64 = 0
    private var horizonRecheckNs: UInt64 = 0
    /// Holds keep their rate; a ramp's moves little in 100 ms (and the horizon only switches at 1 / cap).
    private static var horizonRecheckNs: UInt64 { 100_000_000 }
    private var poolHeldEpisodes: UInt64 = 0
    private var pollWaits: UInt64 = 0
    private var readsHeld: UInt64 = 0
    private var kernelReceiveStamps: UInt64 = 0

    /// `EngineConfig.readHoldNs` where it applies (the workload times only the end, plain TCP, open
    /// loop), else 0; also 0 once a socket refused receive stamps.
    private var readHoldNs: UInt64

    private var startNs: UInt64 = 0
    private var nextArrivalNs: UInt64? = nil
    private var currentStage = 0
    private var nextSequence: UInt64 = 0
    private var planDone = false
    private var planEndNs: UInt64 = 0
    private var drainDeadlineNs: UInt64 = 0
    private var interruptedBy: Int32? = nil
    /// The end of the current second of the time series.
    private var nextSecondNs: UInt64 = 0

    public init(config: EngineConfig, template: RequestTemplate, stats: RunStats) throws {
        try self.init(config: config, requests: RequestSet(template), stats: stats)
    }

    public init(config: EngineConfig, requests: RequestSet, stats: RunStats) throws {
        precondition(config.maxConnections > 0 && config.maxConnections < Int(Int32.max))
        self.config = config
        self.requests = requests
        self.stats = stats
        poller = try Poller(capacity: 1024)
        if config.handlesSignals { try poller.watchTerminationSignals() }
        schedule = ArrivalSchedule(plan: config.plan, process: config.process, seed: config.seed, shard: config.shard)
        horizon = SendHorizon(capNs: config.closedLoop == nil ? config.sendHorizonCapNs : 0)
        readHoldNs = Scanner.timesOnlyTheEnd && config.tls == nil && config.closedLoop == nil ? config.readHoldNs : 0
        requestLog = config.requestLog
        closedLoop = config.closedLoop
        commandWords = config.commands?.words
        // Reserved for the cap, initialised per slot on first use (takeSlot): memory follows the
        // connections a run opens, not --max-connections.
        slab = ConnectionSlab(reserving: config.maxConnections)
        parsers = .allocate(capacity: config.maxConnections)
        scanners = .allocate(capacity: config.maxConnections)
        digits = .allocate(capacity: config.maxConnections * Self.digitsStride)
        iovecs = .allocate(capacity: 3)
        readBuffer = .allocate(byteCount: Self.readBufferSize, alignment: 64)
        tls = config.tls
        tlsLibrary = config.tls?.library
        tlsWriteBuffer = config.tls == nil ? nil : .allocate(byteCount: Self.tlsWriteBufferSize, alignment: 64)
        queue = RequestQueue(capacity: config.maxQueue)
        ready = ReadyList(slots: config.maxConnections)
    }

    /// Runs the plan, then the drain, and returns; the stats hold everything measured.
    /// Consumes the engine: its buffers are released at the end.
    public consuming func run() -> EngineResult {
        let cpuStart = ThreadUsage.current()
        startNs = monotonicNs()
        let startedAtUnixS = wallClockSeconds()
        nextSecondNs = startNs &+ 1_000_000_000
        if closedLoop != nil {
            nextArrivalNs = closedLoop!.peek().map { startNs &+ $0 }
        } else {
            nextArrivalNs = schedule.next().map { startNs &+ $0 }
            nextSequence = schedule.lastIndex
            if nextArrivalNs == nil { endPlan(atNs: startNs &+ config.plan.totalDurationNs) }
        }
        while true {
            let now = monotonicNs()
            stats.live.set(LiveCounter.elapsedNs.rawValue, now &- startNs)
            if let words = commandWords, EngineCommands.isPending(words) { apply(EngineCommands.take(words), now: now) }
            // A closed loop's plan ends by the clock: its workers, not a schedule, say when the next request goes.
            if closedLoop != nil && !planDone && now &- startNs >= config.plan.totalDurationNs {
                nextArrivalNs = nil
                endPlan(atNs: startNs &+ config.plan.totalDurationNs)
            }
            if !planDone { dispatchDue(now) }
            expireTimeouts(now)
            while now >= nextSecondNs {
                publishLoopFigures()
                stats.series.closeSecond(endNs: nextSecondNs &- startNs, total: stats.total, live: stats.live)
                nextSecondNs &+= 1_000_000_000
            }
            if planDone {
                if queue.isEmpty && busy.count == 0 && now >= planEndNs { break }
                if now >= drainDeadlineNs { break }
            }
            waitForEvents()
        }
        let endNs = monotonicNs()
        let tlsVersionText = tlsVersion.map { String(cString: $0) }
        publishLoopFigures()
        // A signal that came as the loop ended still means the run was cut short.
        if interruptedBy == nil && config.handlesSignals, let signal = poller.takeSignal() { interruptedBy = signal }
        countUnfinished()
        stats.series.closeSecond(endNs: endNs &- startNs, total: stats.total, live: stats.live)
        releaseEverything()
        return EngineResult(startNs: startNs, planElapsedNs: planEndNs &- startNs, totalElapsedNs: endNs &- startNs,
                            interruptedBySignal: interruptedBy, loopCPUSeconds: threadCPUSeconds() - cpuStart.cpuSeconds,
                            startedAtUnixS: startedAtUnixS,
                            loopInvoluntarySwitches: ThreadUsage.current().since(cpuStart).involuntarySwitches,
                            hostLoad: HostLoad.current(), tlsVersion: tlsVersionText)
    }

    // MARK: Schedule

    /// Sends every request due by `now` plus the send horizon (see `SendHorizon`), each keeping its
    /// own intended start.
    private mutating func dispatchDue(_ now: UInt64) {
        guard let first = nextArrivalNs, first <= now &+ horizon.capNs else { return }
        if horizon.capNs > 0 && now >= horizonRecheckNs {
            horizonNs = horizon.horizonNs(ratePerSec: config.plan.rate(atNs: now &- startNs))
            if horizonNs > horizonUsedNs { horizonUsedNs = horizonNs }
            horizonRecheckNs = now &+ Self.horizonRecheckNs
        }
        let limitNs = now &+ horizonNs
        while let due = nextArrivalNs, due <= limitNs {
            currentStage = config.plan.stageIndex(atNs: due &- startNs, from: currentStage)
            let request = QueuedRequest(intendedNs: due, sequence: nextSequence, stage: Int32(currentStage))
            nextSequence &+= 1
            stats.countScheduled(stage: currentStage)
            // The next arrival is read before the send: a closed loop's request that fails at once
            // frees its worker inside `submit`, and that worker's return must not be taken for this one.
            if closedLoop != nil {
                closedLoop!.take()
                nextArrivalNs = closedLoop!.peek().map { startNs &+ $0 }
            } else if let next = schedule.next() {
                nextArrivalNs = startNs &+ next
                // The arrival's number in the whole schedule, so a shard's request k carries body k.
                nextSequence = schedule.lastIndex
            } else {
                nextArrivalNs = nil
                endPlan(atNs: startNs &+ config.plan.totalDurationNs)
            }
            submit(request, now: now)
        }
    }

    /// A request ended, whatever its outcome (not a replay, which keeps its worker): in a closed loop
    /// its worker is ready again after the think time.
    private mutating func requestEnded() {
        guard closedLoop != nil else { return }
        closedLoop!.workerFreed(atNs: monotonicNs() &- startNs)
        if !planDone { nextArrivalNs = closedLoop!.peek().map { startNs &+ $0 } }
    }

    private mutating func endPlan(atNs endNs: UInt64) {
        planDone = true
        planEndNs = endNs
        drainDeadlineNs = endNs &+ config.drainNs
    }

    private mutating func submit(_ request: QueuedRequest, now: UInt64) {
        if idle.head >= 0 && slab.slots[Int(idle.head)].deadlineNs <= now { expireIdle(now) }
        while let index = slab.popBack(&idle) {
            let slot = slab.slots + Int(index)
            if now &- slot.pointee.idleSinceNs >= Self.checkIdleAfterNs && idleConnectionIsSpent(slot) {
                closeSlot(index)
                stats.live.add(LiveCounter.idleClosedByServer.rawValue)
                continue
            }
            send(request, on: index)
            return
        }
        guard !queue.isFull else {
            stats.count(.dropped, stage: Int(request.stage))
            log(request, outcome: .dropped)
            requestEnded()
            return
        }
        queue.pushBack(request)
        stats.live.add(LiveCounter.queued.rawValue)
        openConnectionsForQueue(now: now)
    }

    private mutating func takeQueued() -> QueuedRequest? {
        guard let request = queue.popFront() else { return nil }
        stats.live.subtract(LiveCounter.queued.rawValue)
        if queue.isEmpty { poolHeld = false }
        return request
    }

    // MARK: Connections

    /// Opens connections while more requests wait than connects are under way, up to the paced
    /// pool size and connects in flight (`ConnectionPacing`; a closed loop's workers bound it already).
    private mutating func openConnectionsForQueue(now: UInt64) {
        guard now >= connectBackoffUntilNs && queue.count > connecting.count else { return }
        var poolLimit = config.maxConnections
        var connectLimit = config.maxConnections
        if closedLoop == nil {
            let ratePerSec = config.plan.rate(atNs: now &- startNs)
            poolLimit = pacing.poolLimit(ratePerSec: ratePerSec, elapsedNs: now &- startNs, maxConnections: config.maxConnections)
            connectLimit = pacing.connectLimit(ratePerSec: ratePerSec, maxConnections: config.maxConnections)
        }
        while queue.count > connecting.count {
            if connecting.count + idle.count + busy.count >= poolLimit {
                if !poolHeld && poolLimit < config.maxConnections {
                    poolHeld = true
                    poolHeldEpisodes &+= 1
                }
                return
            }
            guard connecting.count < connectLimit, let index = takeSlot() else { return }
            if !openConnection(index, now: now) { return }
        }
    }

    /// A freed slot, else the next one never used, initialised now (with its parser, scanner and
    /// sequence digits); nil at the cap.
    private mutating func takeSlot() -> Int32? {
        if let index = slab.popFront(&free) { return index }
        guard preparedSlots < slab.capacity else { return nil }
        let index = preparedSlots
        slab.prepare(index)
        (parsers + index).initialize(to: ResponseParser())
        (scanners + index).initialize(to: Scanner(stats: stats))
        (digits + index * Self.digitsStride).initialize(repeating: UInt8(ascii: "0"), count: Self.digitsStride)
        preparedSlots += 1
        return Int32(index)
    }

    /// False when the generator's own limits refused the connection: the request stays queued.
    private mutating func openConnection(_ index: Int32, now: UInt64) -> Bool {
        let result = startConnect(to: config.address)
        let fd: Int32
        switch result {
        case .failed(let code):
            slab.pushBack(index, to: &free)
            if isGeneratorLimit(code) {
                noteGeneratorLimit(code, now: now)
                return false
            }
            failQueuedConnect(errno: code, now: now)
            return true
        case .connected(let descriptor), .inProgress(let descriptor):
            fd = descriptor
        }
        connectBackoffUntilNs = 0
        let slot = slab.slots + Int(index)
        slot.pointee.fd = fd
        slot.pointee.reused = false
        slot.pointee.peerClosed = false
        slot.pointee.handshaking = false
        slot.pointee.tlsSessionTaken = false
        slot.pointee.connectStartNs = now
        let token = UInt64(slot.pointee.generation) << 32 | UInt64(UInt32(index))
        let registerError = poller.register(fd, events: Poller.socketEvents, token: token)
        if registerError != 0 {
            closeDescriptor(fd)
            slot.pointee.fd = -1
            slab.pushBack(index, to: &free)
            if isGeneratorLimit(registerError) {
                noteGeneratorLimit(registerError, now: now)
                return false
            }
            failQueuedConnect(errno: registerError, now: now)
            return true
        }
        stats.live.add(LiveCounter.openConnections.rawValue)
        stats.live.add(LiveCounter.connectionsOpened.rawValue)
        if readHoldNs > 0 && clinux_enable_receive_stamps(fd) != 0 { readHoldNs = 0 }
        if case .connected = result {
            connectionEstablished(index, now: now)
        } else {
            slot.pointee.state = .connecting
            slot.pointee.deadlineNs = now &+ config.connectTimeoutNs
            slab.pushBack(index, to: &connecting)
        }
        return true
    }

    /// Out of descriptors, ports or kernel memory: the generator's limit, not the server's failure.
    private func isGeneratorLimit(_ code: Int32) -> Bool {
        code == EMFILE || code == ENFILE || code == EADDRNOTAVAIL || code == ENOBUFS || code == ENOMEM || code == ENOSPC
    }

    /// The queued requests wait for a connection to close, or for a short back-off to pass.
    private mutating func noteGeneratorLimit(_ code: Int32, now: UInt64) {
        stats.live.add(LiveCounter.generatorLimitedConnects.rawValue)
        stats.live.set(LiveCounter.generatorLimitErrno.rawValue, UInt64(code))
        connectBackoffUntilNs = now &+ Self.generatorLimitBackoffNs
    }

    /// A connect failed: the request that asked for it (the queue's head) carries the failure.
    private mutating func failQueuedConnect(errno code: Int32, now: UInt64) {
        let outcome: Outcome = switch code {
        case ECONNREFUSED: .connectRefused
        case ETIMEDOUT: .connectTimeout
        default: .connectError
        }
        failQueued(outcome)
    }

    private mutating func failQueued(_ outcome: Outcome) {
        guard let request = takeQueued() else { return }
        stats.count(outcome, stage: Int(request.stage))
        log(request, outcome: outcome)
        requestEnded()
    }

    /// `readable`: the connect's event carried EPOLLIN, so bytes (or the end) came before any request.
    private mutating func connectFinished(_ index: Int32, now: UInt64, readable: Bool) {
        let slot = slab.slots + Int(index)
        let code = pendingSocketError(slot.pointee.fd)
        if code == EINPROGRESS || code == EALREADY { return }
        slab.remove(index, from: &connecting)
        if code != 0 {
            closeSlot(index)
            failQueuedConnect(errno: code, now: now)
            return
        }
        if readable && tls == nil {
            // The server spoke before it was asked: those bytes are no answer to the next request.
            switch readSome(slot.pointee.fd, readBuffer, Self.readBufferSize) {
            case .wouldBlock:
                break
            case .bytes:
                closeSlot(index)
                failQueued(.protocolError)
                return
            case .endOfFile, .failed:
                closeSlot(index)
                failQueuedConnect(errno: ECONNRESET, now: now)
                return
            }
        }
        connectionEstablished(index, now: now)
    }

    /// TCP is up: the connection is ready for a request, or (https://) its TLS handshake begins,
    /// bounded by --connect-timeout again.
    private mutating func connectionEstablished(_ index: Int32, now: UInt64) {
        let slot = slab.slots + Int(index)
        _ = stats.connectTime.record(now &- slot.pointee.connectStartNs)
        guard let tls else {
            becomeIdle(index, now: now)
            return
        }
        guard let connection = tls.connection(fd: slot.pointee.fd, resuming: tlsSession) else {
            closeSlot(index)
            tlsHandshakeFailed("OpenSSL could not make a TLS connection (out of memory)")
            return
        }
        slot.pointee.tls = connection
        slot.pointee.handshaking = true
        slot.pointee.state = .connecting
        slot.pointee.connectStartNs = now
        slot.pointee.deadlineNs = now &+ config.connectTimeoutNs
        slab.pushBack(index, to: &connecting)
        continueHandshake(index, now: now)
    }

    /// One step of the handshake; edge-triggered EPOLLIN/EPOLLOUT bring the next.
    private mutating func continueHandshake(_ index: Int32, now: UInt64) {
        let slot = slab.slots + Int(index)
        guard let library = tlsLibrary, let connection = slot.pointee.tls else { return }
        switch library.handshakeStep(connection) {
        case .wantRead, .wantWrite:
            return
        case .done:
            slab.remove(index, from: &connecting)
            slot.pointee.handshaking = false
            // A fresh clock: the step that finished spent its own time verifying the certificate.
            _ = stats.tlsHandshakeTime.record(monotonicNs() &- slot.pointee.connectStartNs)
            stats.live.add(LiveCounter.tlsHandshakes.rawValue)
            if library.sessionReused(connection) == 1 { stats.live.add(LiveCounter.tlsResumed.rawValue) }
            if tlsVersion == nil { tlsVersion = library.getVersion(connection) }
            becomeIdle(index, now: now)
        case .failed(let reason):
            slab.remove(index, from: &connecting)
            closeSlot(index)
            tlsHandshakeFailed(reason)
        }
    }

    /// Counted whether or not a request waits for the connection; the request at the queue's head,
    /// if any, ends as `tls_error`, and the reason goes to the failures table.
    @inline(never)
    private mutating func tlsHandshakeFailed(_ reason: String) {
        stats.live.add(LiveCounter.tlsHandshakeFailures.rawValue)
        noteTLSReason(reason)
        failQueued(.tlsError)
    }

    @inline(never)
    private func noteTLSReason(_ reason: String) {
        var text = reason
        text.withUTF8 { stats.failures.noteMessage(.tlsError, status: 0, message: UnsafeRawBufferPointer($0)) }
    }

    /// A TLS error on a connection carrying a request: OpenSSL's reason, from its error queue.
    @inline(never)
    private mutating func tlsBroke(_ index: Int32) {
        noteTLSReason(tlsLibrary?.takeErrorText().map { "TLS: " + TLSLibrary.shortReason($0) } ?? "TLS error")
        endBusy(index, outcome: .tlsError, close: true)
    }

    /// Once a connection's first answer is read (a TLS 1.3 ticket comes after the handshake), its
    /// session becomes the one new connections resume.
    @inline(never)
    private mutating func takeTLSSession(_ index: Int32) {
        let slot = slab.slots + Int(index)
        slot.pointee.tlsSessionTaken = true
        guard let tls, let connection = slot.pointee.tls, let session = tls.resumableSession(of: connection) else { return }
        if let old = tlsSession { tls.library.sessionFree(old) }
        tlsSession = session
    }

    /// A connection ready for a request takes the oldest waiting one, or joins the idle stack
    /// (LIFO, so the pool reuses warm connections and lets the rest expire on the server).
    private mutating func becomeIdle(_ index: Int32, now: UInt64) {
        if let request = takeQueued() {
            send(request, on: index)
        } else {
            slab.slots[Int(index)].state = .idle
            slab.slots[Int(index)].idleSinceNs = now
            slab.slots[Int(index)].deadlineNs = config.idleTimeoutNs > 0 ? now &+ config.idleTimeoutNs : .max
            slab.pushBack(index, to: &idle)
        }
    }

    /// https://: `notify`, a healthy idle connection says close_notify first (one write, no wait);
    /// `keepsSession`, one whose last answer was whole leaves its session resumable. Otherwise
    /// (a failure) OpenSSL retires the session, as TLS asks.
    private mutating func closeSlot(_ index: Int32, notify: Bool = false, keepsSession: Bool = false) {
        let slot = slab.slots + Int(index)
        if let connection = slot.pointee.tls, let library = tlsLibrary {
            if notify { library.closeQuietly(connection) } else if keepsSession { library.markEndedCleanly(connection) }
            library.free(connection)
            slot.pointee.tls = nil
            slot.pointee.handshaking = false
        }
        closeDescriptor(slot.pointee.fd)
        slot.pointee.fd = -1
        slot.pointee.state = .free
        slot.pointee.readPending = false
        slot.pointee.generation &+= 1
        slab.pushBack(index, to: &free)
        stats.live.subtract(LiveCounter.openConnections.rawValue)
        connectBackoffUntilNs = 0 // a descriptor came free: a connection refused for want of one may now open
    }

    // MARK: Requests

    private mutating func send(_ request: QueuedRequest, on index: Int32) {
        // A fresh `s`: in a burst after a stall, each request leaves a little after the one before.
        let now = monotonicNs()
        // Sent ahead within the horizon: its clock starts at its send, not later (see `SendHorizon`).
        let early = now < request.intendedNs
        let clockStartNs = early ? now : request.intendedNs
        let slot = slab.slots + Int(index)
        slot.pointee.state = .busy
        slot.pointee.intendedNs = request.intendedNs
        slot.pointee.sentNs = now
        slot.pointee.stage = request.stage
        slot.pointee.sequence = request.sequence
        slot.pointee.entry = requests.entry(forSequence: request.sequence)
        slot.pointee.written = 0
        slot.pointee.receivedBytes = 0
        slot.pointee.deadlineNs = now &+ config.requestTimeoutNs
        slab.pushBack(index, to: &busy)
        let width = requests.sequenceWidth(of: slot.pointee.entry)
        if width > 0 { writeSequence(request.sequence, width: width, slot: index) }
        parsers[Int(index)].begin(isHeadRequest: requests.isHeadRequest)
        scanners[Int(index)].begin(intendedNs: clockStartNs, sentNs: now, stage: Int(request.stage))
        stats.live.add(LiveCounter.inFlight.rawValue)
        if !request.isRetry {
            stats.add(.sent, stage: Int(request.stage))
            stats.recordSendLag(now &- clockStartNs, stage: Int(request.stage))
            if early { earlySends &+= 1 }
        }
        continueWriting(index, now: now)
    }

    private func writeSequence(_ sequence: UInt64, width: Int, slot index: Int32) {
        let field = digits + Int(index) * Self.digitsStride
        var value = sequence
        var position = width - 1
        while position >= 0 {
            field[position] = UInt8(truncatingIfNeeded: value % 10) &+ UInt8(ascii: "0")
            value /= 10
            position -= 1
        }
    }

    private mutating func continueWriting(_ index: Int32, now: UInt64) {
        let slot = slab.slots + Int(index)
        let field = UnsafeRawPointer(digits + Int(index) * Self.digitsStride)
        let total = requests.count(of: slot.pointee.entry)
        while slot.pointee.written < total {
            let count = requests.vectors(slot.pointee.entry, from: slot.pointee.written, digits: field, into: iovecs)
            let result = if let connection = slot.pointee.tls {
                tlsLibrary.unsafelyUnwrapped.writeSome(connection, tlsWriteBuffer.unsafelyUnwrapped, gatherForTLS(count))
            } else {
                writeSome(slot.pointee.fd, iovecs, count)
            }
            switch result {
            case .bytes(let n):
                slot.pointee.written += n
            case .wouldBlock, .endOfFile:
                return // EPOLLOUT (edge-triggered, registered once) resumes the write.
            case .failed(let code):
                // Nothing of this request went out on a reused connection: the server never had it.
                if slot.pointee.reused && slot.pointee.written == 0 && replay(index, now: now) { return }
                if code == TLSLibrary.protocolFailure {
                    tlsBroke(index)
                    return
                }
                endBusy(index, outcome: .reset, close: true)
                openConnectionsForQueue(now: now)
                return
            }
        }
    }

    /// Copies the request bytes of `iovecs` (up to one TLS record) into the TLS write buffer. A retry
    /// after `wouldBlock` copies the same bytes again: `written` has not moved.
    @inline(__always)
    private func gatherForTLS(_ count: Int32) -> Int {
        let buffer = tlsWriteBuffer.unsafelyUnwrapped
        var length = 0
        for position in 0..<Int(count) where length < Self.tlsWriteBufferSize {
            let take = min(iovecs[position].iov_len, Self.tlsWriteBufferSize - length)
            (buffer + length).copyMemory(from: iovecs[position].iov_base, byteCount: take)
            length += take
        }
        return length
    }

    /// `read`, or for https:// `SSL_read`; a close without close_notify is counted, then read as the end.
    @inline(__always)
    private func receive(_ slot: UnsafeMutablePointer<ConnectionSlot>) -> IOResult {
        guard let connection = slot.pointee.tls else { return readSome(slot.pointee.fd, readBuffer, Self.readBufferSize) }
        let result = tlsLibrary.unsafelyUnwrapped.readSome(connection, readBuffer, Self.readBufferSize)
        if case .failed(TLSLibrary.closedWithoutNotify) = result {
            stats.live.add(LiveCounter.tlsClosedWithoutNotify.rawValue)
            return .endOfFile
        }
        return result
    }

    /// After the peer's FIN (`slot.peerClosed`) no further edge comes, so a short read is not the end:
    /// read on to the end of file. At most `readsPerEvent` reads, then the slot waits in `ready`.
    private mutating func readResponse(_ index: Int32) {
        let slot = slab.slots + Int(index)
        var reads = 0
        while true {
            if reads == Self.readsPerEvent && deferRead(index) { return }
            reads += 1
            var stampNs: Int64 = 0
            let result = readHoldNs > 0 ? readSomeStamped(slot.pointee.fd, readBuffer, Self.readBufferSize, stampNs: &stampNs)
                                        : receive(slot)
            let stamped = stampNs != 0 ? receivedAt(stampNs: stampNs, sentNs: slot.pointee.sentNs) : nil
            let now = stamped ?? monotonicNs()
            switch result {
            case .bytes(let n):
                slot.pointee.receivedBytes += n
                var sink = ScannerSink(scanner: scanners + Int(index), nowNs: now, status: parsers[Int(index)].status)
                let step = parsers[Int(index)].parse(UnsafeRawBufferPointer(start: readBuffer, count: n), into: &sink)
                switch step {
                case .needMore:
                    // A short read drained the socket; edge-triggered epoll reports the next bytes.
                    // Not so for TLS: SSL_read returns one record (16 KiB at most) at a time.
                    if n < Self.readBufferSize && !slot.pointee.peerClosed && slot.pointee.tls == nil { return }
                case .complete(let consumed):
                    let reusable = parsers[Int(index)].keepAlive && consumed == n
                        && slot.pointee.written == requests.count(of: slot.pointee.entry) && !slot.pointee.peerClosed
                    if stamped != nil { kernelReceiveStamps &+= 1 }
                    completeResponse(index, now: now, reusable: reusable)
                    return
                case .failed:
                    endBusy(index, outcome: .protocolError, close: true)
                    return
                }
            case .wouldBlock:
                return
            case .endOfFile:
                // A body that ends at the close is complete only at the close, and the kernel stamps
                // data, not a FIN: such an answer is timed by this read, a bound it cannot beat.
                var sink = ScannerSink(scanner: scanners + Int(index), nowNs: now, status: parsers[Int(index)].status)
                if case .complete = parsers[Int(index)].endOfInput(into: &sink) {
                    completeResponse(index, now: now, reusable: false)
                } else {
                    closedUnderRequest(index, now: now)
                }
                return
            case .failed(let code):
                if code == TLSLibrary.protocolFailure { tlsBroke(index) } else { endBusy(index, outcome: .reset, close: true) }
                openConnectionsForQueue(now: now)
                return
            }
        }
    }

    /// A kernel receive stamp on the loop's clock; nil (the caller takes the read's own time) where
    /// the stamp cannot be taken (see `monotonicNs(ofReceiveStamp:)`) or falls before the send.
    @inline(__always)
    private func receivedAt(stampNs: Int64, sentNs: UInt64) -> UInt64? {
        guard let at = monotonicNs(ofReceiveStamp: stampNs), at >= sentNs else { return nil }
        return at
    }

    /// Whether the loop may sleep to `deadline` without waking for answers (`EngineConfig.readHoldNs`).
    /// Answers that come meanwhile end at their kernel receive time; the wake-up each would cost is
    /// saved. A connect in progress is waited for, so connect times stay exact, and so is an answer
    /// while requests queue for a connection: it frees one for them.
    @inline(__always)
    private func holdsReads(until deadline: UInt64, now: UInt64) -> Bool {
        readHoldNs > 0 && deadline > now && deadline &- now <= readHoldNs && busy.count > 0 && connecting.head < 0
            && queue.isEmpty
    }

    /// The read budget ran out: the slot is read again on the next turn. False if the list is full.
    private mutating func deferRead(_ index: Int32) -> Bool {
        let slot = slab.slots + Int(index)
        if slot.pointee.readPending { return true }
        let token = UInt64(slot.pointee.generation) << 32 | UInt64(UInt32(index))
        guard ready.pushBack(token) else { return false }
        slot.pointee.readPending = true
        stats.live.add(LiveCounter.readBudgetYields.rawValue)
        return true
    }

    /// Reads once more for every slot that was waiting at the start of this turn.
    private mutating func readDeferred() {
        var remaining = ready.count
        while remaining > 0, let token = ready.popFront() {
            remaining -= 1
            let index = Int32(truncatingIfNeeded: token & 0xFFFF_FFFF)
            let slot = slab.slots + Int(index)
            guard slot.pointee.generation == UInt32(truncatingIfNeeded: token >> 32), slot.pointee.readPending else { continue }
            slot.pointee.readPending = false
            if slot.pointee.state == .busy { readResponse(index) }
        }
    }

    private mutating func completeResponse(_ index: Int32, now: UInt64, reusable: Bool) {
        let slot = slab.slots + Int(index)
        let stage = Int(slot.pointee.stage)
        let status = parsers[Int(index)].status
        stats.add(.completed, stage: stage)
        stats.add(.responseBodyBytes, stage: stage, UInt64(parsers[Int(index)].bodyBytes))
        stats.statusCounts.add(min(max(status, 0), RunStats.statusCodeCount - 1))
        pacing.noteService(now &- slot.pointee.sentNs, atNs: now)
        if slot.pointee.tls != nil && !slot.pointee.tlsSessionTaken { takeTLSSession(index) }
        var outcome = Outcome.httpError
        if status >= 200 && status < 300 {
            outcome = scanners[Int(index)].finishSuccess(nowNs: now)
            if outcome == .success {
                stats.recordSuccess(latencyNs: now &- min(slot.pointee.intendedNs, slot.pointee.sentNs), serviceNs: now &- slot.pointee.sentNs,
                                    ttftNs: scanners[Int(index)].requestTTFTNs, tpotNs: scanners[Int(index)].requestTPOTNs,
                                    intendedOffsetNs: slot.pointee.intendedNs &- startNs, stage: stage)
            }
        } else {
            scanners[Int(index)].finishHTTPError(status: status)
        }
        endBusy(index, outcome: outcome, close: !reusable, status: status, completedNs: now)
        if reusable {
            slot.pointee.reused = true
            becomeIdle(index, now: now)
        }
    }

    /// The server closed the connection (FIN) before the response was complete. With no byte of an
    /// answer the request may still have reached the server, so it is not re-sent.
    private mutating func closedUnderRequest(_ index: Int32, now: UInt64) {
        let slot = slab.slots + Int(index)
        if slot.pointee.receivedBytes == 0 {
            if slot.pointee.reused { stats.live.add(LiveCounter.replaysRefused.rawValue) }
            endBusy(index, outcome: .closedBeforeResponse, close: true)
        } else {
            endBusy(index, outcome: .closedEarly, close: true)
        }
        openConnectionsForQueue(now: now)
    }

    /// A request none of whose bytes went out goes back to the head of the queue with its intended
    /// time kept, on a new connection. False when the queue has no room (then it fails).
    private mutating func replay(_ index: Int32, now: UInt64) -> Bool {
        guard !queue.isFull else { return false }
        let slot = slab.slots + Int(index)
        let request = QueuedRequest(intendedNs: slot.pointee.intendedNs, sequence: slot.pointee.sequence, stage: slot.pointee.stage,
                                    isRetry: true)
        slab.remove(index, from: &busy)
        stats.live.subtract(LiveCounter.inFlight.rawValue)
        stats.live.add(LiveCounter.staleConnectionRetries.rawValue)
        closeSlot(index)
        queue.pushFront(request)
        stats.live.add(LiveCounter.queued.rawValue)
        openConnectionsForQueue(now: now)
        return true
    }

    private mutating func endBusy(_ index: Int32, outcome: Outcome, close: Bool, status: Int = 0, completedNs: UInt64 = 0) {
        let slot = slab.slots + Int(index)
        let stage = Int(slot.pointee.stage)
        slab.remove(index, from: &busy)
        stats.live.subtract(LiveCounter.inFlight.rawValue)
        stats.count(outcome, stage: stage, status: status)
        if let requestLog {
            requestLog.append(startNs: startNs, slot: slot.pointee, scanner: scanners + Int(index), outcome: outcome,
                              status: status > 0 ? status : parsers[Int(index)].status, completedNs: completedNs)
        }
        if close { closeSlot(index, keepsSession: completedNs > 0) }
        requestEnded()
    }

    // MARK: Time

    private mutating func expireTimeouts(_ now: UInt64) {
        while connecting.head >= 0 && slab.slots[Int(connecting.head)].deadlineNs <= now {
            let index = connecting.head
            let handshaking = slab.slots[Int(index)].handshaking
            slab.remove(index, from: &connecting)
            closeSlot(index)
            if handshaking {
                tlsHandshakeFailed("no TLS handshake within --connect-timeout")
            } else {
                failQueuedConnect(errno: ETIMEDOUT, now: now)
            }
        }
        while busy.head >= 0 && slab.slots[Int(busy.head)].deadlineNs <= now {
            endBusy(busy.head, outcome: .timeout, close: true)
        }
        expireIdle(now)
        if connecting.count < queue.count { openConnectionsForQueue(now: now) }
    }

    /// Idle connections past `--idle-timeout`, oldest first (the idle stack's bottom is its oldest).
    private mutating func expireIdle(_ now: UInt64) {
        while idle.head >= 0 && slab.slots[Int(idle.head)].deadlineNs <= now {
            let index = idle.head
            slab.remove(index, from: &idle)
            closeSlot(index, notify: true)
            stats.live.add(LiveCounter.idleClosedByClient.rawValue)
        }
    }

    /// The earliest moment the loop must act without I/O: the next arrival, a timeout, the drain's end.
    private func nextDeadline() -> UInt64 {
        var deadline = nextSecondNs
        if !planDone, let due = nextArrivalNs { deadline = min(deadline, due) }
        if !planDone && closedLoop != nil { deadline = min(deadline, startNs &+ config.plan.totalDurationNs) }
        if connecting.head >= 0 { deadline = min(deadline, slab.slots[Int(connecting.head)].deadlineNs) }
        if busy.head >= 0 { deadline = min(deadline, slab.slots[Int(busy.head)].deadlineNs) }
        if idle.head >= 0 { deadline = min(deadline, slab.slots[Int(idle.head)].deadlineNs) }
        if !queue.isEmpty && connectBackoffUntilNs > 0 { deadline = min(deadline, connectBackoffUntilNs) }
        if !ready.isEmpty { deadline = 0 }
        if planDone { deadline = min(deadline, max(planEndNs, queue.isEmpty && busy.count == 0 ? planEndNs : drainDeadlineNs)) }
        return deadline
    }

    /// Sleeps in epoll until I/O or the next deadline: one epoll call per turn. Arrivals that fell
    /// due while the turn ran are sent first, instead of a zero-timeout poll and another turn for them.
    private mutating func waitForEvents() {
        let now = monotonicNs()
        if !planDone { dispatchDue(now) }
        let deadline = nextDeadline()
        pollWaits &+= 1
        let count: Int
        if holdsReads(until: deadline, now: now) {
            sleepUntil(deadline)
            readsHeld &+= 1
            // Arrivals first: the answers waiting were stamped as they came, so reading them after the
            // sends costs no truth, and the send lag is the sleep's alone.
            if !planDone { dispatchDue(monotonicNs()) }
            count = poller.wait(untilNs: deadline, nowNs: deadline)
        } else {
            count = poller.wait(untilNs: deadline, nowNs: now)
        }
        for position in 0..<count {
            handle(poller.event(at: position))
        }
        if !ready.isEmpty { readDeferred() }
    }

    private mutating func handle(_ event: PollEvent) {
        if event.token == Poller.timerToken {
            poller.acknowledgeTimer()
            return
        }
        if event.token == Poller.signalToken {
            if let signal = poller.takeSignal() { interrupt(signal: signal) }
            return
        }
        let index = Int32(truncatingIfNeeded: event.token & 0xFFFF_FFFF)
        let slot = slab.slots + Int(index)
        guard slot.pointee.generation == UInt32(truncatingIfNeeded: event.token >> 32) else { return }
        switch slot.pointee.state {
        case .free:
            return
        case .connecting:
            if slot.pointee.handshaking {
                continueHandshake(index, now: monotonicNs())
            } else {
                connectFinished(index, now: monotonicNs(), readable: event.hasInput)
            }
        case .busy:
            if event.isPeerClosed { slot.pointee.peerClosed = true }
            if event.isWritable && slot.pointee.written < requests.count(of: slot.pointee.entry) && !event.isError {
                continueWriting(index, now: monotonicNs())
            }
            if slot.pointee.state == .busy && slot.pointee.generation == UInt32(truncatingIfNeeded: event.token >> 32)
                && event.isReadable {
                readResponse(index)
            }
        case .idle:
            if event.isReadable { checkIdle(index) }
        }
    }

    /// Whether an idle connection can no longer carry a request (`idleConnectionIsSpent`); over
    /// https:// waiting bytes may be a session ticket, which one `SSL_read` takes in.
    private func idleConnectionIsSpent(_ slot: UnsafeMutablePointer<ConnectionSlot>) -> Bool {
        guard MetronomeCore.idleConnectionIsSpent(slot.pointee.fd) else { return false }
        guard slot.pointee.tls != nil else { return true }
        if case .wouldBlock = receive(slot) { return false }
        return true
    }

    /// An idle connection became readable: the server closed it (keep-alive timeout) or sent bytes
    /// nobody asked for. Either way it cannot carry a request any more.
    /// For https:// the bytes may be TLS's own (a session ticket), read and kept by OpenSSL.
    private mutating func checkIdle(_ index: Int32) {
        let result = receive(slab.slots + Int(index))
        if case .wouldBlock = result { return }
        slab.remove(index, from: &idle)
        closeSlot(index, keepsSession: result == .endOfFile)
        stats.live.add(LiveCounter.idleClosedByServer.rawValue)
    }

    /// A command from the web view: stop ends the plan now (a normal end); a rate change swaps in the
    /// replaced plan (`RatePlan.replacingRest`) and retimes the arrival already drawn.
    @inline(never)
    private mutating func apply(_ command: EngineCommand?, now: UInt64) {
        guard !planDone, let command, let commands = config.commands else { return }
        switch command {
        case .stop:
            nextArrivalNs = nil
            endPlan(atNs: now)
        case .rate(let perSec, let rampNs):
            guard closedLoop == nil, let plan = try? config.plan.replacingRest(atNs: now &- startNs, ratePerSec: perSec, rampNs: rampNs),
                  plan.stages.count <= stats.stages.count else { return }
            config.plan = plan
            commands.publish(plan)
            nextArrivalNs = schedule.replacePlan(plan).map { startNs &+ $0 }
            horizonRecheckNs = 0
            if nextArrivalNs == nil { endPlan(atNs: startNs &+ plan.totalDurationNs) }
        }
    }

    private mutating func interrupt(signal: Int32) {
        let now = monotonicNs()
        if interruptedBy == nil {
            interruptedBy = signal
            if !planDone {
                nextArrivalNs = nil
                endPlan(atNs: now)
            }
            drainDeadlineNs = min(drainDeadlineNs, now &+ min(config.drainNs, config.interruptDrainNs))
        } else {
            drainDeadlineNs = now // a second signal: stop draining
        }
    }

    // MARK: End

    private func publishLoopFigures() {
        stats.live.set(LiveCounter.earlySends.rawValue, earlySends)
        stats.live.set(LiveCounter.sendHorizonUs.rawValue, horizonUsedNs / 1000)
        stats.live.set(LiveCounter.poolGrowthPaced.rawValue, poolHeldEpisodes)
        stats.live.set(LiveCounter.pollWaits.rawValue, pollWaits)
        stats.live.set(LiveCounter.readsHeld.rawValue, readsHeld)
        stats.live.set(LiveCounter.kernelReceiveStamps.rawValue, kernelReceiveStamps)
    }

    private mutating func countUnfinished() {
        var index = busy.head
        while index >= 0 {
            let slot = slab.slots[Int(index)]
            stats.count(.unfinished, stage: Int(slot.stage))
            requestLog?.append(startNs: startNs, slot: slot, scanner: scanners + Int(index), outcome: .unfinished, status: 0, completedNs: 0)
            index = slot.next
        }
        queue.forEach { request in
            stats.count(.unfinished, stage: Int(request.stage))
            log(request, outcome: .unfinished)
        }
        requestLog?.flush()
    }

    /// A request that never got a connection: its id, stage, intended time and outcome.
    private func log(_ request: QueuedRequest, outcome: Outcome) {
        requestLog?.append(startNs: startNs, request: request, outcome: outcome)
    }

    private func releaseEverything() {
        for index in 0..<preparedSlots where slab.slots[index].fd >= 0 {
            if let connection = slab.slots[index].tls { tlsLibrary?.free(connection) }
            closeDescriptor(slab.slots[index].fd)
        }
        if let tlsSession { tlsLibrary?.sessionFree(tlsSession) }
        tlsWriteBuffer?.deallocate()
        stats.live.set(LiveCounter.openConnections.rawValue, 0)
        stats.live.set(LiveCounter.inFlight.rawValue, 0)
        stats.live.set(LiveCounter.queued.rawValue, 0)
        slab.deallocate()
        parsers.deinitialize(count: preparedSlots)
        parsers.deallocate()
        for index in 0..<preparedSlots { scanners[index].release() }
        scanners.deinitialize(count: preparedSlots)
        scanners.deallocate()
        digits.deallocate()
        iovecs.deallocate()
        readBuffer.deallocate()
        queue.deallocate()
        ready.deallocate()
    }
}
