// libFuzzer target: the client's response parser gives the same answers however the bytes are split into reads.
import FuzzSupport
import MetronomeCore

/// What one parse of the payload produced, response by response (up to four back to back).
private enum Event: Equatable {
    case head(status: Int)
    case complete(end: Int, status: Int, keepAlive: Bool, headBytes: Int, body: [UInt8])
    case failed(ResponseParseError)
    case endOfInput(ParseStep, status: Int, body: [UInt8])
}

/// Options bit 4: a HEAD request (no body whatever the headers say); bit 5: a 200-byte head limit.
private func parseAll(_ input: FuzzInput, _ pieces: [Range<Int>]) -> [Event] {
    let isHead = input.flag(0)
    var parser = ResponseParser(maxHeadBytes: input.flag(1) ? 200 : 64 * 1024)
    parser.begin(isHeadRequest: isHead)
    var sink = BodyRecorder()
    var events: [Event] = []
    var responses = 0
    for piece in pieces {
        var start = piece.lowerBound
        repeat {
            let step = input.payload.withUnsafeBytes { all in
                parser.parse(UnsafeRawBufferPointer(rebasing: all[start ..< piece.upperBound]), into: &sink)
            }
            let given = piece.upperBound - start
            guard parser.bodyBytes == sink.body.count else {
                fatalError("bodyBytes \(parser.bodyBytes) but \(sink.body.count) bytes handed on, pieces \(pieces)")
            }
            switch step {
            case .needMore:
                start = piece.upperBound
            case .complete(let consumed):
                guard consumed > 0, consumed <= given else {
                    fatalError("consumed \(consumed) of \(given) bytes, pieces \(pieces)")
                }
                let status = parser.status
                guard (200 ... 999).contains(status) || status == 101 else { fatalError("complete with status \(status)") }
                let body = sink.takeBody()
                if isHead || status == 204 || status == 304, !body.isEmpty { fatalError("a body after HEAD/204/304") }
                events += sink.statuses.map { .head(status: $0) }
                events.append(.complete(end: start + consumed, status: status, keepAlive: parser.keepAlive,
                                        headBytes: parser.headBytes, body: body))
                start += consumed
                if start < piece.upperBound {
                    // Without `begin`, bytes after a complete response are refused, not parsed.
                    var again = parser
                    let extra = input.payload.withUnsafeBytes { all in
                        again.parse(UnsafeRawBufferPointer(rebasing: all[start ..< piece.upperBound]), into: &sink)
                    }
                    guard extra == .failed(.unexpectedBytes) else { fatalError("bytes after complete: \(extra)") }
                }
                responses += 1
                if responses == 4 { return events }
                parser.begin(isHeadRequest: isHead)
                sink = BodyRecorder()
            case .failed(let error):
                return events + sink.statuses.map { .head(status: $0) } + [.failed(error)]
            }
        } while start < piece.upperBound
    }
    let end = parser.endOfInput(into: &sink)
    return events + sink.statuses.map { .head(status: $0) } + [.endOfInput(end, status: parser.status, body: sink.takeBody())]
}

@main
enum Fuzz {
    static func main() { runFuzzer { data, size in fuzzOne(data, size) } }
}

private func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let input = FuzzInput(data, size)
    let whole = parseAll(input, input.whole)
    let split = parseAll(input, input.pieces)
    if whole != split { violated("whole and split parses differ", whole, split, input) }
    return 0
}
