// libFuzzer target: the SSE scanner delivers the same events and error message however the body is split.
import FuzzSupport
import MetronomeCore

private struct EventList: CompletionEventSink {
    var events: [CompletionEvent] = []
    mutating func completionEvent(_ event: CompletionEvent) { events.append(event) }
}

private struct Scan: Equatable {
    var events: [CompletionEvent]
    var lastErrorMessage: String
}

private func scanAll(_ scanner: inout SSEScanner, _ input: FuzzInput, _ pieces: [Range<Int>]) -> Scan {
    var sink = EventList()
    for piece in pieces {
        input.payload.withUnsafeBytes { all in
            scanner.scan(UnsafeRawBufferPointer(rebasing: all[piece]), into: &sink)
        }
    }
    scanner.finish(into: &sink)
    let message = scanner.lastErrorMessage
    // 200 bytes are kept; each invalid UTF-8 byte among them becomes one U+FFFD.
    guard message.unicodeScalars.count <= 200 else { fatalError("error message of \(message.unicodeScalars.count) characters kept") }
    return Scan(events: sink.events, lastErrorMessage: message)
}

@main
enum Fuzz {
    static func main() { runFuzzer { data, size in fuzzOne(data, size) } }
}

private func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let input = FuzzInput(data, size)
    var scanner = SSEScanner()
    let whole = scanAll(&scanner, input, input.whole)
    var fresh = SSEScanner()
    let split = scanAll(&fresh, input, input.pieces)
    if whole != split { violated("whole and split scans differ", whole, split, input) }
    // `finish` leaves the scanner ready for the next body: a second pass gives the same events.
    let again = scanAll(&scanner, input, input.pieces)
    if again.events != whole.events { violated("a reused scanner differs", whole, again, input) }
    return 0
}
