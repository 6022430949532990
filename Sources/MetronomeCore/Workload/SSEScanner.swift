// Server-sent events framing (lines, fields, events) over decoded body bytes, handing data to the JSON matcher.

import Glibc

/// Follows the WHATWG event-stream grammar a byte at a time, so input may be split anywhere (inside
/// a field name, inside JSON, between CR and LF). Data bytes are never buffered: each `data` line is
/// handed straight to a `CompletionJSONScanner`, with the "\n" the spec puts between the lines of
/// one event, and matched against `[DONE]` on the way.
///
/// Departures from the spec, all for truthful load-test outcomes: an event is delivered when it had
/// any `data` or `event` line (so `event: error` without data still counts), and `finish` delivers an
/// event left open at the end of the body, its last line unterminated or not.
public struct SSEScanner {
    private enum State: UInt8 {
        case bom         // at the very start: a byte order mark is skipped
        case lineStart
        case field       // in a field name
        case dataSpace   // after `data:`, where one space is dropped
        case data
        case eventSpace  // after `event:`
        case event
        case ignoreLine  // a comment or a field nobody reads
    }

    private static let dataField: UInt8 = 1
    private static let eventField: UInt8 = 2

    private var state = State.bom
    /// A CR ended the last line, so an LF right after it belongs to that line end.
    private var skipLF = false
    private var bomMatched = 0
    private var fieldLength = 0
    /// `dataField | eventField`: the names the field read so far may still be.
    private var fieldCandidates: UInt8 = 0
    /// A `data` or `event` line was seen since the last event was delivered.
    private var eventOpen = false
    private var hasData = false
    /// Bytes of `[DONE]` the event's data has matched, or -1 once it cannot be `[DONE]`.
    private var doneMatched = 0
    /// Bytes of `error` the current `event:` value has matched, or -1.
    private var eventMatched = 0
    private var eventIsError = false
    private var json = CompletionJSONScanner()
    private(set) var lastError = MessageBuffer()

    public init() {}

    public mutating func reset() {
        self = SSEScanner()
    }

    /// The first ≤ 200 bytes of the latest error event's "message" string (JSON escapes undone), or
    /// of its data when that is not JSON. Allocates: for the failures report.
    public var lastErrorMessage: String { lastError.string }

    /// Feeds decoded body bytes; calls the sink once per complete event (an event ends at a blank line).
    /// Comment lines (starting with ':') and fields other than `data` and `event` are ignored; the
    /// `data` lines of one event are one JSON value (joined by "\n"); LF, CRLF and CR line ends; an
    /// optional single space after the colon; a BOM at the very start is skipped.
    public mutating func scan<Sink: CompletionEventSink>(_ bytes: UnsafeRawBufferPointer, into sink: inout Sink) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        let p = base.assumingMemoryBound(to: UInt8.self)
        let n = bytes.count
        var i = 0
        while i < n {
            switch state {
            case .data:
                let end = Self.lineEnd(p, from: i, to: n)
                if end > i { feedData(p + i, count: end - i) }
                guard end < n else { return }
                endLine(p[end])
                i = end + 1
            case .lineStart:
                let b = p[i]
                if skipLF {
                    skipLF = false
                    if b == ASCII.lf { i += 1; continue }
                }
                if b == ASCII.lf || b == ASCII.cr {
                    skipLF = b == ASCII.cr
                    if eventOpen { deliver(into: &sink) }
                    i += 1
                } else if b == ASCII.colon {
                    state = .ignoreLine
                    i += 1
                } else {
                    state = .field  // the byte is read again as the field name's first
                    fieldLength = 0
                    fieldCandidates = Self.dataField | Self.eventField
                }
            case .field:
                let b = p[i]
                i += 1
                if b == ASCII.colon {
                    if fieldCandidates & Self.dataField != 0, fieldLength == 4 {
                        beginDataLine()
                        state = .dataSpace
                    } else if fieldCandidates & Self.eventField != 0, fieldLength == 5 {
                        beginEventLine()
                        state = .eventSpace
                    } else {
                        state = .ignoreLine
                    }
                } else if b == ASCII.lf || b == ASCII.cr {
                    endLine(b)
                } else {
                    if fieldLength >= 4 || b != Self.byte(of: "data", at: fieldLength) {
                        fieldCandidates &= ~Self.dataField
                    }
                    if fieldLength >= 5 || b != Self.byte(of: "event", at: fieldLength) {
                        fieldCandidates &= ~Self.eventField
                    }
                    fieldLength += 1
                    if fieldCandidates == 0 { state = .ignoreLine }
                }
            case .dataSpace:
                if p[i] == ASCII.space { i += 1 }
                state = .data
            case .eventSpace:
                if p[i] == ASCII.space { i += 1 }
                state = .event
            case .event:
                let b = p[i]
                i += 1
                if b == ASCII.lf || b == ASCII.cr {
                    endLine(b)
                } else if eventMatched >= 0 {
                    eventMatched = eventMatched < 5 && b == Self.byte(of: "error", at: eventMatched) ? eventMatched + 1 : -1
                }
            case .ignoreLine:
                let end = Self.lineEnd(p, from: i, to: n)
                guard end < n else { return }
                endLine(p[end])
                i = end + 1
            case .bom:
                let b = p[i]
                if b == Self.byteOrderMark(at: bomMatched) {
                    i += 1
                    bomMatched += 1
                    if bomMatched == 3 { state = .lineStart }
                } else {
                    state = .lineStart  // no BOM (a partial one is dropped): the byte is read again
                }
            }
        }
    }

    /// End of body: an event still open (data lines without the closing blank line) is delivered.
    /// The scanner is then ready for another body; `lastErrorMessage` is kept until `reset`.
    public mutating func finish<Sink: CompletionEventSink>(into sink: inout Sink) {
        if state != .lineStart, state != .bom, state != .ignoreLine { endLine(ASCII.lf) }
        if eventOpen { deliver(into: &sink) }
        let error = lastError
        self = SSEScanner()
        lastError = error
    }

    // MARK: Lines and events

    /// Completes the line the scanner is in; `b` is the CR or LF that ended it.
    private mutating func endLine(_ b: UInt8) {
        switch state {
        case .field:
            // A line with no colon is a field with an empty value.
            if fieldCandidates & Self.dataField != 0, fieldLength == 4 {
                beginDataLine()
            } else if fieldCandidates & Self.eventField != 0, fieldLength == 5 {
                beginEventLine()
                eventIsError = false
            }
        case .event, .eventSpace:
            eventIsError = eventMatched == 5
        default:
            break
        }
        state = .lineStart
        skipLF = b == ASCII.cr
    }

    private mutating func beginDataLine() {
        eventOpen = true
        if hasData {
            var newline = ASCII.lf
            feedData(&newline, count: 1)
        }
        hasData = true
    }

    private mutating func beginEventLine() {
        eventOpen = true
        eventMatched = 0
    }

    private mutating func feedData(_ p: UnsafePointer<UInt8>, count n: Int) {
        if doneMatched >= 0 {
            for k in 0..<n {
                guard doneMatched < 6, p[k] == Self.byte(of: "[DONE]", at: doneMatched) else {
                    doneMatched = -1
                    break
                }
                doneMatched += 1
            }
        }
        json.scan(p, count: n)
    }

    private mutating func deliver<Sink: CompletionEventSink>(into sink: inout Sink) {
        var event = json.event
        if doneMatched == 6 { event.isDone = true }
        if eventIsError { event.isError = true }
        if event.isError { lastError = json.message }
        json.beginEvent()
        eventOpen = false
        hasData = false
        doneMatched = 0
        eventIsError = false
        sink.completionEvent(event)
    }

    /// The index of the first CR or LF in `p[start..<end]`, or `end`.
    private static func lineEnd(_ p: UnsafePointer<UInt8>, from start: Int, to end: Int) -> Int {
        var stop = end
        if let lf = memchr(p + start, Int32(ASCII.lf), end - start) {
            stop = UnsafeRawPointer(p).distance(to: UnsafeRawPointer(lf))
        }
        if stop > start, let cr = memchr(p + start, Int32(ASCII.cr), stop - start) {
            stop = UnsafeRawPointer(p).distance(to: UnsafeRawPointer(cr))
        }
        return stop
    }

    /// U+FEFF in UTF-8.
    private static func byteOrderMark(at index: Int) -> UInt8 {
        index == 0 ? 0xEF : index == 1 ? 0xBB : 0xBF
    }

    private static func byte(of literal: StaticString, at index: Int) -> UInt8 {
        literal.utf8Start[index]
    }
}
