// A slow, obvious reference for the SSE and completion scanners: split into lines and events, JSONSerialization each payload.
import Foundation
@testable import MetronomeCore

/// What the reference says one event (or body) is, plus its error-message candidate.
struct ReferenceEvent: Equatable {
    var event: CompletionEvent
    var message: String
}

enum SSEReference {
    /// Events of a whole body, by the SSE spec's line rules (LF, CRLF, CR; one BOM skipped; `:`
    /// comments; one space after the colon dropped; data lines joined by "\n"), delivering an event
    /// when it had a `data` or `event` line, and an open event (even an unterminated line) at the end.
    static func events(_ body: [UInt8]) -> [ReferenceEvent] {
        var bytes = body[...]
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes = bytes.dropFirst(3) }
        var lines: [ArraySlice<UInt8>] = []
        var start = bytes.startIndex
        var i = start
        while i < bytes.endIndex {
            let b = bytes[i]
            if b == 0x0A || b == 0x0D {
                lines.append(bytes[start..<i])
                if b == 0x0D, i + 1 < bytes.endIndex, bytes[i + 1] == 0x0A { i += 1 }
                start = i + 1
            }
            i += 1
        }
        if start < bytes.endIndex { lines.append(bytes[start...]) }

        var result: [ReferenceEvent] = []
        var data: [[UInt8]] = []
        var eventType = ""
        var open = false
        func deliver() {
            let payload = Array(data.joined(separator: [0x0A]))
            var reference = completion(payload)
            if payload == Array("[DONE]".utf8) { reference.event.isDone = true }
            if eventType == "error" { reference.event.isError = true }
            result.append(reference)
            data = []
            eventType = ""
            open = false
        }
        for line in lines {
            if line.isEmpty {
                if open { deliver() }
                continue
            }
            if line.first == 0x3A { continue }
            let colon = line.firstIndex(of: 0x3A) ?? line.endIndex
            let field = String(decoding: line[..<colon], as: UTF8.self)
            var value = colon < line.endIndex ? line[(colon + 1)...] : []
            if value.first == 0x20 { value = value.dropFirst() }
            if field == "data" {
                data.append(Array(value))
                open = true
            } else if field == "event" {
                eventType = String(decoding: value, as: UTF8.self)
                open = true
            }
        }
        if open { deliver() }
        return result
    }

    /// A whole JSON body (or one event's data): what it says, and its error message as the scanner
    /// should keep it (first 200 bytes, cut at a character, surrounding blanks trimmed).
    static func completion(_ payload: [UInt8]) -> ReferenceEvent {
        var result = ReferenceEvent(event: CompletionEvent(), message: "")
        let blanks: Set<UInt8> = [0x20, 0x09, 0x0A, 0x0D]
        guard let first = payload.first(where: { !blanks.contains($0) }) else { return result }
        guard first == 0x7B || first == 0x5B else {
            let text = Array(payload.drop { blanks.contains($0) })
            result.message = keptMessage(String(decoding: text, as: UTF8.self))
            return result
        }
        guard let value = try? JSONSerialization.jsonObject(with: Data(payload), options: []) else {
            return result
        }
        var message: String?
        walk(value, depth: 1, event: &result.event, message: &message)
        result.message = keptMessage(message ?? "")
        return result
    }

    static func keptMessage(_ text: String) -> String {
        var bytes = Array(text.utf8.prefix(MessageBuffer.capacity))
        while String(validating: bytes, as: UTF8.self) == nil { bytes.removeLast() }
        let blanks: Set<UInt8> = [0x20, 0x09, 0x0A, 0x0D]
        while let last = bytes.last, blanks.contains(last) { bytes.removeLast() }
        return String(decoding: bytes.drop { blanks.contains($0) }, as: UTF8.self)
    }

    /// `depth` is the depth of the members of `value` when it is a container (top level: 1).
    private static func walk(_ value: Any, depth: Int, event: inout CompletionEvent, message: inout String?) {
        if let array = value as? [Any] {
            for element in array { walk(element, depth: depth + 1, event: &event, message: &message) }
            return
        }
        guard let object = value as? [String: Any] else { return }
        for (key, member) in object {
            switch key {
            case "content", "text", "reasoning_content", "reasoning":
                if let text = member as? String, !text.isEmpty { event.hasContent = true }
            case "finish_reason":
                if let text = member as? String {
                    event.finishReason = text == "stop" ? .stop : text == "length" ? .length : .other
                } else if !(member is NSNull) {
                    event.finishReason = .other
                }
            case "usage":
                if let usage = member as? [String: Any] {
                    if let n = count(usage["prompt_tokens"]) { event.promptTokens = n }
                    if let n = count(usage["completion_tokens"]) { event.completionTokens = n }
                }
            case "error" where depth == 1:
                if !(member is NSNull), !isFalse(member) { event.isError = true }
                if let text = member as? String, message == nil { message = text }
                if let inner = member as? [String: Any], let text = inner["message"] as? String, message == nil {
                    message = text
                }
            case "object" where depth == 1:
                if member as? String == "error" { event.isError = true }
            case "message" where depth == 1, "detail" where depth == 1:
                if let text = member as? String, message == nil { message = text }
            default:
                break
            }
            walk(member, depth: depth + 1, event: &event, message: &message)
        }
    }

    private static func isBoolean(_ value: Any) -> Bool {
        guard let number = value as? NSNumber else { return false }
        return String(cString: number.objCType) == "c"
    }

    private static func isFalse(_ value: Any) -> Bool {
        isBoolean(value) && (value as? Bool) == false
    }

    private static func count(_ value: Any?) -> Int? {
        guard let value, let number = value as? NSNumber, !isBoolean(value) else { return nil }
        let type = String(cString: number.objCType)
        guard type != "d", type != "f" else { return nil }
        return number.intValue >= 0 ? number.intValue : nil
    }
}

/// Collects what the scanner delivers.
struct EventList: CompletionEventSink {
    var events: [CompletionEvent] = []
    mutating func completionEvent(_ event: CompletionEvent) { events.append(event) }
}

/// What a scan of a whole body produced: the events and the last error message.
struct ScanResult: Equatable {
    var events: [CompletionEvent]
    var lastErrorMessage: String
}

enum ScanHelpers {
    /// Scans `body` cut at `cuts` (sorted offsets), then finishes.
    static func scan(_ body: [UInt8], cuts: [Int]) -> ScanResult {
        var scanner = SSEScanner()
        var sink = EventList()
        body.withUnsafeBytes { raw in
            var start = 0
            for end in cuts + [raw.count] where end >= start {
                scanner.scan(UnsafeRawBufferPointer(rebasing: raw[start..<end]), into: &sink)
                start = end
            }
        }
        scanner.finish(into: &sink)
        return ScanResult(events: sink.events, lastErrorMessage: scanner.lastErrorMessage)
    }

    static func byteByByte(_ body: [UInt8]) -> ScanResult {
        scan(body, cuts: Array(0..<body.count))
    }

    /// The reference's answer for a stream: its events and the message of its last error event.
    static func reference(_ body: [UInt8]) -> ScanResult {
        let events = SSEReference.events(body)
        let lastError = events.last { $0.event.isError }?.message ?? ""
        return ScanResult(events: events.map(\.event), lastErrorMessage: lastError)
    }

    static func fixture(_ name: String) throws -> [UInt8] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/sse/\(name)")
        return Array(try Data(contentsOf: url))
    }
}
