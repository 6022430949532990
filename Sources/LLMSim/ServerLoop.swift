// The server's one thread: epoll for sockets, one timerfd for every deadline; it never sleeps.
import CLinux
import Glibc
import MetronomeCore

/// Owns every descriptor and all mutable state of a running server; lives for one `run()`.
/// Requests are handled in ServerLoop+Requests.swift, generation and freezes in ServerLoop+Engine.swift,
/// the TLS handshake in ServerLoop+TLS.swift.
final class ServerLoop {
    static let listenerToken: UInt64 = .max - 2
    static let wakeToken: UInt64 = .max - 3
    /// The timer entry that releases output held by a freeze.
    static let freezeSlot: UInt32 = .max

    enum FlushResult { case drained, pending, closed }

    let config: SimConfig
    let poller: Poller
    let listener: Listener
    let wakeFD: Int32
    let counters: SimCounters
    let freeze: FreezeSchedule?
    let timing: TimingModel
    let framing: CompletionFraming
    let responses: HTTPResponses
    let vocabulary: TokenVocabulary
    let inputLimit: Int
    /// With --tls-cert: every connection speaks TLS (reads and writes through OpenSSL).
    let tls: TLSServer?

    var slab: ConnectionSlab
    var timers = TimerHeap()
    var waiting = SlotQueue()
    var held = SlotQueue()
    var heldReleaseScheduled = false
    var running = 0
    var waitingLive = 0
    var requestCounter: UInt64 = 0
    var faultRandom: SimRandom
    var lengthRandom: SimRandom
    var jitterRandom: SimRandom
    var scratch = ByteBuffer()
    var nowNs: UInt64 = 0
    var stopping = false

    init(config: SimConfig, listener: Listener, wakeFD: Int32, counters: SimCounters, freeze: FreezeSchedule?,
         tls: TLSServer?, watchSignals: Bool) throws {
        self.config = config
        self.tls = tls
        self.listener = listener
        self.wakeFD = wakeFD
        self.counters = counters
        self.freeze = freeze
        poller = try Poller(capacity: 1024)
        timing = TimingModel(config)
        framing = CompletionFraming(model: config.model)
        responses = HTTPResponses(modelName: config.model, maxModelLen: config.maxModelLen)
        vocabulary = TokenVocabulary(seed: config.seed)
        inputLimit = RequestParser.maxHeadBytes + 2 * config.maxBodyBytes + 64 * 1024
        slab = ConnectionSlab(capacity: 256, maxBodyBytes: config.maxBodyBytes)
        faultRandom = SimRandom(seed: config.seed, stream: 1)
        lengthRandom = SimRandom(seed: config.seed, stream: 2)
        jitterRandom = SimRandom(seed: config.seed, stream: 3)
        try poller.add(listener.fd, events: Poller.readEvents, token: ServerLoop.listenerToken)
        try poller.add(wakeFD, events: EPOLLIN.rawValue, token: ServerLoop.wakeToken)
        if watchSignals { try poller.watchTerminationSignals() }
    }

    func run() {
        tightenTimerSlack()
        nowNs = monotonicNs()
        while !stopping {
            let ready = poller.wait(timeoutMs: -1)
            nowNs = monotonicNs()
            runDueTimers()
            for index in 0..<ready {
                let event = poller.event(at: index)
                switch event.token {
                case Poller.timerToken: poller.acknowledgeTimer()
                case Poller.signalToken:
                    _ = poller.takeSignal()
                    stopping = true
                case ServerLoop.wakeToken:
                    var count: UInt64 = 0
                    _ = withUnsafeMutableBytes(of: &count) { readSome(wakeFD, $0.baseAddress!, 8) }
                    stopping = true
                case ServerLoop.listenerToken: acceptAll()
                default: connectionEvent(event)
                }
            }
            runDueTimers()
            if timers.earliestNs != 0 { poller.wake(byNs: timers.earliestNs, nowNs: nowNs) }
        }
        shutdown()
    }

    /// Fires every deadline already passed, re-reading the clock until none is due.
    private func runDueTimers() {
        while true {
            while let entry = timers.popDue(nowNs: nowNs) { fire(entry) }
            let now = monotonicNs()
            let earliest = timers.earliestNs
            nowNs = now
            if earliest == 0 || earliest > now { return }
        }
    }

    private func acceptAll() {
        while true {
            switch listener.acceptOne() {
            case .connection(let fd): open(fd)
            case .wouldBlock: return
            case .failed: return   // EMFILE and kin: the next connection's edge tries again
            }
        }
    }

    private func open(_ fd: Int32) {
        let slot = slab.allocate()
        let c = slab.slot(slot)
        c.pointee.fd = fd
        if let tls {
            // No receive stamps: OpenSSL reads the socket itself (see `onReadable`).
            c.pointee.tls = tls.connection(fd: fd)
            c.pointee.phase = .handshaking
        } else {
            c.pointee.phase = .reading
            _ = clinux_enable_receive_stamps(fd) // best effort: without stamps, arrival is the loop's clock
        }
        let token = UInt64(c.pointee.generation) << 32 | UInt64(slot)
        if (tls != nil && c.pointee.tls == nil) || poller.register(fd, events: Poller.socketEvents, token: token) != 0 {
            if let connection = c.pointee.tls { tls.unsafelyUnwrapped.finish(connection, notify: false) }
            closeDescriptor(fd)
            c.pointee.recycle()
            slab.free(slot)
            return
        }
        counters.add(.connectionsAccepted)
        if tls != nil {
            armHandshakeTimer(slot)   // the first event (writable at once) starts the handshake
        } else {
            armIdleTimer(slot)
        }
    }

    /// Starts the keep-alive clock of a connection with no request in progress: when it runs
    /// out and the connection is still idle, it is closed (`closeIfIdle`). Bumping the ticket
    /// cancels the previous idle deadline; a token deadline is never pending in `.reading`.
    func armIdleTimer(_ slot: UInt32) {
        guard config.keepAliveTimeoutNs > 0 else { return }
        let c = slab.slot(slot)
        c.pointee.ticket &+= 1
        timers.push(TimerEntry(deadlineNs: nowNs &+ config.keepAliveTimeoutNs, slot: slot, ticket: c.pointee.ticket))
    }

    /// Closes a connection whose keep-alive time ran out, unless a request has begun since:
    /// any byte of one (a partial head counts, as in uvicorn) keeps it open.
    func closeIfIdle(_ slot: UInt32) {
        let c = slab.slot(slot)
        guard c.pointee.phase == .reading, c.pointee.parser.isIdle, c.pointee.input.isEmpty, c.pointee.output.isEmpty else { return }
        counters.add(.idleClosed)
        close(slot, cleanly: true)
    }

    private func connectionEvent(_ event: PollEvent) {
        let slot = UInt32(truncatingIfNeeded: event.token)
        let generation = UInt32(truncatingIfNeeded: event.token >> 32)
        guard let c = slab.lookup(slot: slot, generation: generation) else { return }
        if c.pointee.phase == .handshaking { return continueHandshake(slot) }
        if event.isWritable && !c.pointee.output.isEmpty && !c.pointee.held {
            flushAndContinue(slot)
            guard slab.lookup(slot: slot, generation: generation) != nil else { return }
        }
        if event.isReadable {
            let hungUp = event.events & (EPOLLRDHUP.rawValue | EPOLLHUP.rawValue | EPOLLERR.rawValue) != 0
            onReadable(slot, untilBlocked: hungUp)
        } else if event.isWritable && c.pointee.tls != nil && c.pointee.phase == .reading && !c.pointee.readPaused {
            // An SSL_read that had to write first (a TLS 1.3 key update) said wouldBlock: retry it.
            onReadable(slot, untilBlocked: true)
        }
    }

    /// Reads all that is available. Bytes that arrive while a response is in progress wait in
    /// the buffer (a pipelined request); past the limit reading pauses until the response ends.
    /// A short read means the socket is drained, saving a read that would say EAGAIN, unless the
    /// peer has hung up: then its FIN may sit behind the data under the same edge, and only
    /// reading on to end-of-file finds it. A peer that hangs up abandons its request.
    /// TLS reads until wouldBlock: SSL_read returns one record at most (16 KiB), so a short read
    /// says nothing of the socket, and what OpenSSL holds raises no new edge. A close without
    /// close_notify, or a TLS protocol error, ends the connection as an end of file does.
    func onReadable(_ slot: UInt32, untilBlocked: Bool) {
        let c = slab.slot(slot)
        var peerGone = false
        var stampNs: Int64 = 0
        reading: while true {
            let room = inputLimit - c.pointee.input.count
            if room <= 0 {
                if c.pointee.phase == .reading {
                    refuse(slot, HTTPResponses.parseError(.bodyTooLarge))
                    return
                }
                c.pointee.readPaused = true
                break reading
            }
            c.pointee.input.reserve(min(16 * 1024, room))
            let want = min(c.pointee.input.spare, room)
            if let connection = c.pointee.tls {
                switch tls.unsafelyUnwrapped.library.readSome(connection, c.pointee.input.writePointer, want) {
                case .bytes(let n):
                    c.pointee.input.commit(n)
                    // No kernel stamp with TLS: a record is decrypted from bytes OpenSSL read itself,
                    // so arrival is the clock after SSL_read (late by the loop's lag and the decryption).
                    c.pointee.receivedNs = monotonicNs()
                case .wouldBlock:
                    break reading
                case .endOfFile, .failed:
                    peerGone = true
                    break reading
                }
                continue reading
            }
            // A request is admitted when its last byte reached the host, not when the loop got to it:
            // a late loop (busy, or descheduled) would otherwise shift the whole stream by its lateness.
            switch readSomeStamped(c.pointee.fd, c.pointee.input.writePointer, want, stampNs: &stampNs) {
            case .bytes(let n):
                c.pointee.input.commit(n)
                c.pointee.receivedNs = monotonicNs(ofReceiveStamp: stampNs) ?? nowNs
                if n < want && !untilBlocked { break reading }
            case .wouldBlock:
                break reading
            case .endOfFile, .failed:
                peerGone = true
                break reading
            }
        }
        if c.pointee.phase == .reading { processInput(slot, arrivalNs: c.pointee.receivedNs) }
        if peerGone && c.pointee.phase != .free {
            // What arrived before the hang-up was answered if it could be; the rest is abandoned.
            let idle = c.pointee.phase == .reading && c.pointee.parser.isIdle && c.pointee.input.isEmpty
            if !idle { counters.add(.clientAborts) }
            close(slot, cleanly: false)
        }
    }

    /// Writes what the output buffer holds, unless a freeze window is open.
    /// `.drained` with the phase back to `.reading` means the response is complete.
    @discardableResult
    func flush(_ slot: UInt32) -> FlushResult {
        let c = slab.slot(slot)
        if !c.pointee.output.isEmpty {
            if let freeze, freeze.window(containing: nowNs) != nil {
                hold(slot)
                return .pending
            }
            repeat {
                // A TLS write retried after wouldBlock offers the same bytes, perhaps more behind them,
                // perhaps moved (the context allows a moving buffer).
                let result: IOResult
                if let connection = c.pointee.tls {
                    result = tls.unsafelyUnwrapped.library.writeSome(connection, c.pointee.output.readPointer, c.pointee.output.count)
                } else {
                    result = writeSome(c.pointee.fd, c.pointee.output.readPointer, c.pointee.output.count)
                }
                switch result {
                case .bytes(let n): c.pointee.output.consume(n)
                case .wouldBlock: return .pending
                case .endOfFile, .failed:
                    counters.add(.clientAborts)
                    close(slot, cleanly: false)
                    return .closed
                }
            } while !c.pointee.output.isEmpty
        }
        guard c.pointee.phase == .draining else { return .drained }
        if c.pointee.dropAfterTokens < 0 { counters.add(.responses) }
        if c.pointee.closeAfterFlush {
            close(slot, cleanly: c.pointee.dropAfterTokens < 0)   // a drop fault cuts TLS without close_notify
            return .closed
        }
        c.pointee.phase = .reading
        armIdleTimer(slot)
        return .drained
    }

    /// Flushes, and when that completes a response, goes on to the next pipelined request.
    func flushAndContinue(_ slot: UInt32) {
        let wasDraining = slab.slot(slot).pointee.phase == .draining
        guard flush(slot) == .drained, wasDraining else { return }
        processInput(slot, arrivalNs: nowNs)   // a pipelined request starts when the last one ends
        let c = slab.slot(slot)
        if c.pointee.phase == .reading && c.pointee.readPaused {
            c.pointee.readPaused = false
            onReadable(slot, untilBlocked: true)
        }
    }

    /// `cleanly`: a close the server means (keep-alive timeout, Connection: close, a refused
    /// request), which over TLS sends close_notify first; faults and broken connections close
    /// without it, as a server that dies does, so the client's handling of that can be tested.
    func close(_ slot: UInt32, cleanly: Bool) {
        let c = slab.slot(slot)
        switch c.pointee.phase {
        case .running:
            c.pointee.phase = .free
            finishRunning(atNs: nowNs)
        case .waiting:
            waitingLive -= 1
            counters.set(.waiting, waitingLive)
        default: break
        }
        if let connection = c.pointee.tls { tls.unsafelyUnwrapped.finish(connection, notify: cleanly) }
        closeDescriptor(c.pointee.fd)
        c.pointee.recycle()
        slab.free(slot)
        counters.add(.connectionsClosed)
    }

    private func shutdown() {
        for index in 0..<slab.capacity where slab.slots[index].phase != .free {
            if let connection = slab.slots[index].tls {
                // Stopping: an idle connection ends cleanly, one mid-handshake or mid-response is cut.
                let idle = slab.slots[index].phase == .reading && slab.slots[index].output.isEmpty
                tls.unsafelyUnwrapped.finish(connection, notify: idle)
            }
            closeDescriptor(slab.slots[index].fd)
            slab.slots[index].recycle()
        }
        slab.deallocate()
        timers.deallocate()
        waiting.deallocate()
        held.deallocate()
        vocabulary.deallocate()
        scratch.release()
        listener.close()
    }
}
