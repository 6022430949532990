// With --tls-cert: each accepted connection's non-blocking TLS handshake, under a deadline.
import MetronomeCore

extension ServerLoop {
    /// The handshake must end by `tlsHandshakeTimeoutNs` from the accept; `fire` closes it if not.
    func armHandshakeTimer(_ slot: UInt32) {
        let c = slab.slot(slot)
        c.pointee.ticket &+= 1
        timers.push(TimerEntry(deadlineNs: nowNs &+ config.tlsHandshakeTimeoutNs, slot: slot, ticket: c.pointee.ticket))
    }

    /// One step on any event of the socket (readable or writable, whichever OpenSSL waits for:
    /// the socket is registered for both, edge-triggered, and a step goes as far as the bytes allow).
    /// When it ends, the request that may have come with the client's Finished is read at once:
    /// it raised its edge during the handshake.
    func continueHandshake(_ slot: UInt32) {
        let c = slab.slot(slot)
        guard let connection = c.pointee.tls, let tls else { return }
        switch tls.library.handshakeStep(connection) {
        case .done:
            c.pointee.phase = .reading
            c.pointee.ticket &+= 1   // cancels the handshake deadline, even with no keep-alive timer
            armIdleTimer(slot)
            onReadable(slot, untilBlocked: true)
        case .wantRead, .wantWrite:
            return
        case .failed:
            counters.add(.tlsHandshakeFailures)
            close(slot, cleanly: false)
        }
    }

    /// The deadline passed with the handshake unfinished (a client that connected and said nothing).
    func handshakeTimedOut(_ slot: UInt32) {
        counters.add(.tlsHandshakeFailures)
        close(slot, cleanly: false)
    }
}
