// libFuzzer target: the completion JSON scanner reads the same event and message however the body is split.
import FuzzSupport
import MetronomeCore

private struct Scan: Equatable {
    var event: CompletionEvent
    var errorMessage: String
}

private func scanAll(_ input: FuzzInput, _ pieces: [Range<Int>]) -> Scan {
    var scanner = CompletionJSONScanner()
    for piece in pieces {
        input.payload.withUnsafeBytes { all in scanner.scan(UnsafeRawBufferPointer(rebasing: all[piece])) }
    }
    let message = scanner.errorMessage
    // 200 bytes are kept; each invalid UTF-8 byte among them becomes one U+FFFD.
    guard message.unicodeScalars.count <= 200 else { fatalError("error message of \(message.unicodeScalars.count) characters kept") }
    let event = scanner.event
    for count in [event.promptTokens, event.completionTokens] {
        if let count, count < 0 { fatalError("negative token count \(count)") }
    }
    return Scan(event: event, errorMessage: message)
}

@main
enum Fuzz {
    static func main() { runFuzzer { data, size in fuzzOne(data, size) } }
}

private func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let input = FuzzInput(data, size)
    let whole = scanAll(input, input.whole)
    let split = scanAll(input, input.pieces)
    if whole != split { violated("whole and split scans differ", whole, split, input) }
    return 0
}
