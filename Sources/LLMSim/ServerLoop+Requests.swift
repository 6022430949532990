// From parsed request to response: routing, --fast, validation, faults, and entry to the engine.
import MetronomeCore

extension ServerLoop {
    /// Parses and answers buffered requests in order, stopping at one that takes time (a completion)
    /// or output the socket cannot take yet; the rest wait in the buffer (pipelining).
    /// `arrivalNs` is when the first of them arrived, the admission time of a completion.
    func processInput(_ slot: UInt32, arrivalNs: UInt64) {
        let c = slab.slot(slot)
        while c.pointee.phase == .reading && !c.pointee.input.isEmpty {
            switch c.pointee.parser.parse(c.pointee.input.bytes, decodedBody: &c.pointee.body) {
            case .needMore:
                if c.pointee.parser.continueOwed {
                    c.pointee.parser.continueSent()
                    HTTPResponses.appendContinue(&c.pointee.output)
                    flush(slot)
                }
                return
            case .failed(let failure):
                refuse(slot, HTTPResponses.parseError(failure))
                return
            case .complete(let consumed, let bodyOffset, let bodyLength):
                counters.add(.requests)
                let head = c.pointee.parser.head
                if bodyOffset >= 0 {
                    handle(slot, head, UnsafeRawBufferPointer(rebasing: c.pointee.input.bytes[bodyOffset ..< bodyOffset + bodyLength]), arrivalNs)
                } else {
                    handle(slot, head, c.pointee.body.bytes, arrivalNs)
                }
                c.pointee.input.consume(consumed)
                c.pointee.body.clear()
                c.pointee.parser.reset()
                let answeredAtOnce = c.pointee.phase == .draining
                if flush(slot) != .drained || !answeredAtOnce { return }
            }
        }
    }

    /// A request that cannot be framed: answer, then close (the next request's start is unknown).
    func refuse(_ slot: UInt32, _ error: APIError) {
        let c = slab.slot(slot)
        counters.add(.badRequests)
        c.pointee.input.clear()
        c.pointee.keepAlive = false
        c.pointee.closeAfterFlush = true
        c.pointee.dropAfterTokens = -1
        c.pointee.phase = .draining
        HTTPResponses.appendError(&c.pointee.output, scratch: &scratch, error, keepAlive: false)
        flush(slot)
    }

    private func handle(_ slot: UInt32, _ head: RequestHead, _ body: UnsafeRawBufferPointer, _ arrivalNs: UInt64) {
        let c = slab.slot(slot)
        c.pointee.keepAlive = head.keepAlive
        c.pointee.closeAfterFlush = !head.keepAlive
        c.pointee.dropAfterTokens = -1
        c.pointee.phase = .draining   // every answer given at once; a completion changes it
        if config.fast {
            answerFast(slot)
            return
        }
        switch head.route {
        case .chatCompletions, .completions:
            guard head.method == .post else { return answer(slot, HTTPResponses.methodNotAllowed, allow: "POST") }
            startCompletion(slot, isChat: head.route == .chatCompletions, http11: head.http11, body: body, arrivalNs: arrivalNs)
        case .models:
            guard head.method == .get else { return answer(slot, HTTPResponses.methodNotAllowed, allow: "GET") }
            responses.appendModels(&c.pointee.output, scratch: &scratch, created: createdSeconds(), keepAlive: head.keepAlive)
        case .health:
            guard head.method == .get else { return answer(slot, HTTPResponses.methodNotAllowed, allow: "GET") }
            HTTPResponses.appendHealth(&c.pointee.output, keepAlive: head.keepAlive)
        case .unknown:
            answer(slot, HTTPResponses.notFound)
        }
    }

    private func answer(_ slot: UInt32, _ error: APIError, allow: StaticString? = nil) {
        let c = slab.slot(slot)
        if error.status != 500 && error.status != 429 { counters.add(.badRequests) }
        HTTPResponses.appendError(&c.pointee.output, scratch: &scratch, error, keepAlive: c.pointee.keepAlive, allow: allow)
    }

    /// --fast: no routing, no JSON; the faults still apply.
    private func answerFast(_ slot: UInt32) {
        let c = slab.slot(slot)
        let injectError = faultRandom.chance(config.errorRate)
        let drop = faultRandom.chance(config.dropRate)
        if injectError {
            counters.add(.errorsInjected)
            answer(slot, HTTPResponses.injectedError)
        } else if drop {
            counters.add(.drops)
            c.pointee.dropAfterTokens = 0
            c.pointee.closeAfterFlush = true
            HTTPResponses.appendFastOK(&c.pointee.output, keepAlive: false, truncated: true)
        } else {
            HTTPResponses.appendFastOK(&c.pointee.output, keepAlive: c.pointee.keepAlive, truncated: false)
        }
    }

    /// Validates, draws this request's faults and length, writes a stream's head at once (as vLLM
    /// does), then admits the request or queues it behind `max-num-seqs`.
    private func startCompletion(_ slot: UInt32, isChat: Bool, http11: Bool, body: UnsafeRawBufferPointer, arrivalNs: UInt64) {
        let c = slab.slot(slot)
        let ask: CompletionAsk
        switch decodeCompletionRequest(isChat: isChat, body: body, model: config.model, maxModelLen: config.maxModelLen) {
        case .failure(let error): return answer(slot, error)
        case .success(let decoded): ask = decoded
        }
        // Always the same draws in the same order, so a request's faults depend only on its position.
        let injectError = faultRandom.chance(config.errorRate)
        let drop = faultRandom.chance(config.dropRate)
        let dropDraw = faultRandom.next()
        if injectError {
            counters.add(.errorsInjected)
            return answer(slot, HTTPResponses.injectedError)
        }
        if running >= config.maxNumSeqs, let limit = config.rejectWhenWaiting, waitingLive >= limit {
            counters.add(.rejected)
            return answer(slot, HTTPResponses.tooManyWaiting(limit))
        }
        let tokens = TimingModel.completionTokens(maxTokens: ask.maxTokens, minTokens: ask.minTokens, ignoreEos: ask.ignoreEos, &lengthRandom)
        c.pointee.isChat = isChat
        c.pointee.stream = ask.stream
        c.pointee.chunked = http11
        c.pointee.includeUsage = ask.includeUsage
        c.pointee.request = requestCounter
        requestCounter += 1
        c.pointee.created = createdSeconds()
        c.pointee.promptTokens = ask.promptTokens
        c.pointee.totalTokens = tokens
        c.pointee.reachedLength = tokens == ask.maxTokens
        c.pointee.sentTokens = 0
        if drop {
            // Streams are cut after 1…n−1 tokens (after the head alone when n is 1); other answers mid-body.
            c.pointee.dropAfterTokens = !ask.stream ? tokens : tokens >= 2 ? 1 + Int(dropDraw % UInt64(tokens - 1)) : 0
        }
        if ask.stream {
            if !http11 {
                c.pointee.keepAlive = false   // HTTP/1.0 cannot chunk: the events end with the connection
                c.pointee.closeAfterFlush = true
            }
            framing.buildEventHead(&c.pointee.eventHead, isChat: isChat, seed: config.seed, request: c.pointee.request, created: c.pointee.created)
            CompletionFraming.appendStreamHead(&c.pointee.output, chunked: http11)
        }
        counters.add(.completions)
        if running < config.maxNumSeqs {
            admit(slot, atNs: arrivalNs)
        } else {
            c.pointee.phase = .waiting
            waiting.push(slot: slot, generation: c.pointee.generation)
            waitingLive += 1
            counters.set(.waiting, waitingLive)
        }
    }

    func createdSeconds() -> UInt64 {
        config.fixedCreated ?? UInt64(wallClockSeconds())
    }
}
