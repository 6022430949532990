// libFuzzer target: llmsim's request parser, fed a growing input as a connection is, agrees with one whole read.
import FuzzSupport
@testable import LLMSim

private enum Event: Equatable {
    case complete(end: Int, head: RequestHead, body: [UInt8])
    case failed(ParseFailure)
    case needMore
}

/// The parser is given the connection's unconsumed bytes, which grow read by read from the
/// request's first byte; after a request the next starts at the byte it did not consume.
/// Options bit 4: a 64-byte body limit instead of 1 MiB.
private func parseAll(_ input: FuzzInput, _ pieces: [Range<Int>]) -> [Event] {
    var parser = RequestParser(maxBodyBytes: input.flag(0) ? 64 : 1 << 20)
    var decoded = ByteBuffer()
    defer { decoded.release() }
    var events: [Event] = []
    var requestStart = 0
    var pieceIndex = 0
    var available = pieces.first?.upperBound ?? 0
    while true {
        let step = input.payload.withUnsafeBytes { all in
            parser.parse(UnsafeRawBufferPointer(rebasing: all[requestStart ..< available]), decodedBody: &decoded)
        }
        let given = available - requestStart
        switch step {
        case .needMore:
            pieceIndex += 1
            guard pieceIndex < pieces.count else { return events + [.needMore] }
            available = pieces[pieceIndex].upperBound
        case .complete(let consumed, let bodyOffset, let bodyLength):
            guard consumed > 0, consumed <= given, bodyLength >= 0 else {
                fatalError("consumed \(consumed) of \(given), body \(bodyLength), pieces \(pieces)")
            }
            let body: [UInt8]
            if bodyOffset < 0 {
                guard decoded.count == bodyLength else { fatalError("decoded \(decoded.count) but bodyLength \(bodyLength)") }
                body = Array(decoded.bytes)
            } else {
                guard bodyOffset + bodyLength == consumed, bodyLength == max(parser.head.contentLength, 0) else {
                    fatalError("body \(bodyOffset)+\(bodyLength) vs consumed \(consumed), head \(parser.head)")
                }
                body = Array(input.payload[requestStart + bodyOffset ..< requestStart + consumed])
            }
            events.append(.complete(end: requestStart + consumed, head: parser.head, body: body))
            guard events.count < 4 else { return events }
            requestStart += consumed
            parser.reset()
            decoded.clear()
        case .failed(let failure):
            return events + [.failed(failure)]
        }
    }
}

@main
enum Fuzz {
    static func main() { runFuzzer { data, size in fuzzOne(data, size) } }
}

private func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let input = FuzzInput(data, size)
    let whole = parseAll(input, input.whole)
    let split = parseAll(input, input.pieces)
    if whole != split { violated("whole and growing-input parses differ", whole, split, input) }
    return 0
}
