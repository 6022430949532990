// Reads OpenAI-compatible responses as they arrive: TTFT, ITL, TPOT, token counts, stream errors.

/// One per connection. Streams (SSE) and whole JSON bodies are told apart by their first byte, so
/// a server that ignores `"stream": true` is still measured right.
public struct OpenAIResponseScanner: ResponseScanner {
    /// Keeps the stats alive as long as the scanner.
    private let statsOwner: RunStats
    /// The same object, lent to each use with no retain/release pair (a class read from a `mutating`
    /// method's `self`, or through `unowned(unsafe)`, is retained around each call); `statsOwner`
    /// keeps it alive.
    private let stats: Unmanaged<RunStats>
    private var sse = SSEScanner()
    private var json = CompletionJSONScanner()
    private var tally: EventTally
    private var intendedNs: UInt64 = 0
    private var sentNs: UInt64 = 0
    private var bodyKind = BodyKind.unknown
    public private(set) var requestTTFTNs: UInt64 = 0
    /// TTFT from the first byte sent (`f − s`), recorded beside `requestTTFTNs`.
    public private(set) var requestTTFTSentNs: UInt64 = 0
    public private(set) var requestTPOTNs: UInt64 = 0
    public private(set) var requestTokens: UInt64 = 0
    public private(set) var requestPromptTokens: UInt64? = nil
    public var requestFirstTokenNs: UInt64 { tally.firstContentNs }
    public var requestGapsNs: UnsafeBufferPointer<UInt64> { tally.gaps.recorded }

    enum BodyKind: UInt8 { case unknown, eventStream, json }

    public init(stats: RunStats) {
        statsOwner = stats
        self.stats = .passUnretained(stats)
        tally = EventTally(stats: stats)
    }

    @inline(__always)
    public mutating func begin(intendedNs: UInt64, sentNs: UInt64, stage: Int) {
        self.intendedNs = intendedNs
        self.sentNs = sentNs
        bodyKind = .unknown
        requestTTFTNs = 0
        requestTTFTSentNs = 0
        requestPromptTokens = nil
        requestTPOTNs = 0
        requestTokens = 0
        sse.reset()
        json.reset()
        tally.reset(stage: stage)
    }

    @inline(__always)
    public mutating func body(_ bytes: UnsafeRawBufferPointer, status: Int, nowNs: UInt64) {
        if bodyKind == .unknown {
            guard let first = bytes.first(where: { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }) else { return }
            bodyKind = status >= 200 && status < 300 && first != UInt8(ascii: "{") && first != UInt8(ascii: "[") ? .eventStream : .json
        }
        if bodyKind == .eventStream {
            tally.nowNs = nowNs
            sse.scan(bytes, into: &tally)
        } else {
            json.scan(bytes)
        }
    }

    public mutating func finishSuccess(nowNs: UInt64) -> Outcome {
        let stage = tally.stage
        var event = tally.merged
        if bodyKind == .eventStream {
            tally.nowNs = nowNs
            sse.finish(into: &tally)
            event = tally.merged
        } else {
            event = json.event
        }
        if event.isError {
            Self.keep(bodyKind == .eventStream ? sse.lastError : json.message, .streamError, status: 200, in: stats)
            return .streamError
        }
        if bodyKind == .eventStream && !event.isDone { return .incompleteStream }
        let streamed = bodyKind == .eventStream
        let counted = streamed ? tally.contentEvents : (event.hasContent ? 1 : 0)
        let completion = event.completionTokens.map { UInt64(max($0, 0)) } ?? counted
        requestPromptTokens = event.promptTokens.map { UInt64(max($0, 0)) }
        let prompt = requestPromptTokens
        stats._withUnsafeGuaranteedRef {
            $0.recordTokens(prompt: prompt, completion: completion, fromUsage: event.completionTokens != nil, stage: stage)
        }
        requestTokens = completion
        if streamed && tally.firstContentNs != 0 {
            requestTTFTNs = tally.firstContentNs &- intendedNs
            requestTTFTSentNs = tally.firstContentNs &- sentNs
            let (ttftNs, ttftSentNs) = (requestTTFTNs, requestTTFTSentNs)
            stats._withUnsafeGuaranteedRef { $0.recordTTFT(ttftNs, sentNs: ttftSentNs, stage: stage) }
            if completion > 1 {
                requestTPOTNs = (nowNs &- tally.firstContentNs) / (completion - 1)
                let tpotNs = requestTPOTNs
                stats._withUnsafeGuaranteedRef { $0.recordTPOT(tpotNs, stage: stage) }
            }
        }
        return .success
    }

    public mutating func finishHTTPError(status: Int) {
        Self.keep(json.message, .httpError, status: status, in: stats)
    }

    /// The error message this request's body carried (an error event of a stream, or a JSON or
    /// text error body), as received: the request log masks and escapes it.
    public func requestErrorText(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        bodyKind == .eventStream ? sse.lastError.copyBytes(into: buffer) : json.message.copyBytes(into: buffer)
    }

    public mutating func release() { tally.gaps.release() }

    /// Hands the message's bytes to the failure log in place: a repeat costs no allocation. Static,
    /// so that the closure captures no copy of the scanner.
    private static func keep(_ message: MessageBuffer, _ outcome: Outcome, status: Int, in stats: Unmanaged<RunStats>) {
        stats._withUnsafeGuaranteedRef { stats in
            message.withTrimmedBytes { stats.failures.noteMessage(outcome, status: status, message: $0) }
        }
    }
}

/// Folds a stream's events into what the request needs; records each inter-token gap as it happens.
struct EventTally: CompletionEventSink {
    /// Unretained: the scanner that holds this tally keeps the stats alive (`statsOwner`).
    unowned(unsafe) let stats: RunStats
    var stage = 0
    var nowNs: UInt64 = 0
    var firstContentNs: UInt64 = 0
    var lastContentNs: UInt64 = 0
    var contentEvents: UInt64 = 0
    /// The stream's facts so far: content seen, done, error, the last usage and finish reason.
    var merged = CompletionEvent()
    /// `--log-itl`: this request's gaps, for the request log.
    let keepsGaps: Bool
    var gaps = GapBuffer()

    init(stats: RunStats) {
        self.stats = stats
        keepsGaps = stats.keepsTokenGaps
    }

    mutating func reset(stage: Int) {
        self.stage = stage
        gaps.count = 0
        firstContentNs = 0
        lastContentNs = 0
        contentEvents = 0
        merged = CompletionEvent()
    }

    @inline(__always)
    mutating func completionEvent(_ event: CompletionEvent) {
        if event.hasContent {
            if firstContentNs == 0 {
                firstContentNs = nowNs
            } else {
                stats.recordITL(nowNs &- lastContentNs, stage: stage)
                if keepsGaps { gaps.append(nowNs &- lastContentNs) }
            }
            lastContentNs = nowNs
            contentEvents &+= 1
            merged.hasContent = true
        }
        if event.isDone { merged.isDone = true }
        if event.isError { merged.isError = true }
        if let prompt = event.promptTokens { merged.promptTokens = prompt }
        if let completion = event.completionTokens { merged.completionTokens = completion }
        if let reason = event.finishReason { merged.finishReason = reason }
    }
}

/// One connection's inter-token gaps of its current request: allocated at the first gap and grown
/// (doubling) only when a request streams more tokens than any before it on the connection, so a
/// run allocates a few times per connection, never per event. Freed by `release()`.
struct GapBuffer {
    private var base: UnsafeMutablePointer<UInt64>? = nil
    private var capacity = 0
    var count = 0

    var recorded: UnsafeBufferPointer<UInt64> { UnsafeBufferPointer(start: base, count: count) }

    @inline(__always)
    mutating func append(_ gapNs: UInt64) {
        if count == capacity { grow() }
        base.unsafelyUnwrapped[count] = gapNs
        count += 1
    }

    @inline(never)
    private mutating func grow() {
        let larger = max(256, capacity * 2)
        let storage = UnsafeMutablePointer<UInt64>.allocate(capacity: larger)
        if let base {
            storage.update(from: base, count: count)
            base.deallocate()
        }
        base = storage
        capacity = larger
    }

    mutating func release() {
        base?.deallocate()
        base = nil
        capacity = 0
        count = 0
    }
}
