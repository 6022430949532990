// The simulated engine: continuous batching, token deadlines, the end of a response, freezes.
import MetronomeCore

extension ServerLoop {
    /// Starts generating at model time `admittedNs`: the first token is due after ttft and prefill.
    func admit(_ slot: UInt32, atNs admittedNs: UInt64) {
        let c = slab.slot(slot)
        running += 1
        counters.set(.running, running)
        c.pointee.phase = .running
        let delayNs = timing.jittered(timing.firstTokenDelayNs(promptTokens: c.pointee.promptTokens), &jitterRandom)
        schedule(slot, dueNs: admittedNs &+ delayNs)
    }

    /// Output due inside a freeze window is due at its end instead: the model's clock for this
    /// request shifts by the freeze, and later tokens follow from there.
    func schedule(_ slot: UInt32, dueNs: UInt64) {
        let c = slab.slot(slot)
        c.pointee.ticket &+= 1
        let releaseNs = freeze?.releaseNs(dueNs) ?? dueNs
        timers.push(TimerEntry(deadlineNs: releaseNs, slot: slot, ticket: c.pointee.ticket))
    }

    func fire(_ entry: TimerEntry) {
        if entry.slot == ServerLoop.freezeSlot {
            releaseHeld()
            return
        }
        let c = slab.slot(entry.slot)
        guard c.pointee.ticket == entry.ticket else { return }
        switch c.pointee.phase {
        case .running: emitToken(entry.slot, atNs: entry.deadlineNs)
        case .reading: closeIfIdle(entry.slot)
        case .handshaking: handshakeTimedOut(entry.slot)
        default: return
        }
    }

    /// Token `sentTokens` leaves at model time `tNs` (its deadline, not the clock, so lateness of
    /// one wake-up never accumulates into later tokens).
    private func emitToken(_ slot: UInt32, atNs tNs: UInt64) {
        let c = slab.slot(slot)
        let index = c.pointee.sentTokens
        if c.pointee.stream {
            if index == c.pointee.dropAfterTokens { return cut(slot, atNs: tNs) }
            if index == 0 && c.pointee.isChat {
                CompletionFraming.appendRoleEvent(&c.pointee.output, chunked: c.pointee.chunked, head: c.pointee.eventHead)
            }
            CompletionFraming.appendTokenEvent(&c.pointee.output, chunked: c.pointee.chunked, isChat: c.pointee.isChat,
                                               head: c.pointee.eventHead, token: vocabulary.token(request: c.pointee.request, index: index))
        }
        c.pointee.sentTokens = index + 1
        counters.add(.tokensSent)
        if index + 1 < c.pointee.totalTokens {
            let gapNs = timing.jittered(timing.interTokenDelayNs(running: running), &jitterRandom)
            schedule(slot, dueNs: tNs &+ gapNs)
            flush(slot)
            return
        }
        if c.pointee.stream {
            CompletionFraming.appendEnd(&c.pointee.output, chunked: c.pointee.chunked, isChat: c.pointee.isChat, head: c.pointee.eventHead,
                                        reachedLength: c.pointee.reachedLength,
                                        usage: c.pointee.includeUsage ? (c.pointee.promptTokens, c.pointee.totalTokens) : nil)
        } else {
            scratch.clear()
            framing.appendBody(&scratch, isChat: c.pointee.isChat, seed: config.seed, request: c.pointee.request, created: c.pointee.created,
                               vocabulary: vocabulary, tokens: c.pointee.totalTokens, promptTokens: c.pointee.promptTokens,
                               reachedLength: c.pointee.reachedLength)
            HTTPResponses.appendJSON(&c.pointee.output, status: 200, body: scratch, keepAlive: c.pointee.keepAlive)
            if c.pointee.dropAfterTokens >= 0 {
                c.pointee.output.dropLast(scratch.count - scratch.count / 2)   // the head and half the body
                c.pointee.closeAfterFlush = true
                counters.add(.drops)
            }
        }
        c.pointee.phase = .draining
        finishRunning(atNs: tNs)
        flushAndContinue(slot)
    }

    /// The drop fault on a stream: what was sent stays sent, then the connection closes.
    private func cut(_ slot: UInt32, atNs tNs: UInt64) {
        let c = slab.slot(slot)
        counters.add(.drops)
        c.pointee.closeAfterFlush = true
        c.pointee.phase = .draining
        finishRunning(atNs: tNs)
        flushAndContinue(slot)
    }

    /// A running request ended at model time `tNs`: the head of the queue takes its place then.
    func finishRunning(atNs tNs: UInt64) {
        running -= 1
        while running < config.maxNumSeqs, let next = waiting.pop() {
            guard let w = slab.lookup(slot: next.slot, generation: next.generation), w.pointee.phase == .waiting else { continue }
            waitingLive -= 1
            admit(next.slot, atNs: tNs)
        }
        counters.set(.running, running)
        counters.set(.waiting, waitingLive)
    }

    /// Output that would leave inside a freeze window waits for its end, with one timer for all.
    func hold(_ slot: UInt32) {
        let c = slab.slot(slot)
        if !c.pointee.held {
            c.pointee.held = true
            held.push(slot: slot, generation: c.pointee.generation)
            counters.add(.freezeHolds)
        }
        if !heldReleaseScheduled, let window = freeze?.window(containing: nowNs) {
            heldReleaseScheduled = true
            timers.push(TimerEntry(deadlineNs: window.endNs, slot: ServerLoop.freezeSlot, ticket: 0))
        }
    }

    private func releaseHeld() {
        heldReleaseScheduled = false
        var remaining = held.count   // a connection held again (still frozen) waits for the next release
        while remaining > 0, let entry = held.pop() {
            remaining -= 1
            guard let c = slab.lookup(slot: entry.slot, generation: entry.generation) else { continue }
            c.pointee.held = false
            flushAndContinue(entry.slot)
        }
    }
}
