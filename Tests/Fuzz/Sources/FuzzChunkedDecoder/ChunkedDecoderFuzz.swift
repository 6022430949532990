// libFuzzer target: the chunked decoder ends at the same byte with the same body however its input is split.
import FuzzSupport
@testable import MetronomeCore

private enum Outcome: Equatable {
    case complete(end: Int, body: [UInt8])
    case failed(ResponseParseError, body: [UInt8])
    case needMore(body: [UInt8])
}

/// Each read is handed over as the payload up to its end with `from` at its start, the way the
/// response parser hands over a read whose first bytes were the head.
private func decodeAll(_ input: FuzzInput, _ pieces: [Range<Int>]) -> Outcome {
    var decoder = ChunkedDecoder()
    var sink = BodyRecorder()
    var bodyBytes = 0
    for piece in pieces {
        let step = input.payload.withUnsafeBytes { all in
            decoder.decode(UnsafeRawBufferPointer(rebasing: all[0 ..< piece.upperBound]), from: piece.lowerBound,
                           bodyBytes: &bodyBytes, into: &sink)
        }
        guard bodyBytes == sink.body.count else { fatalError("bodyBytes \(bodyBytes) but \(sink.body.count) handed on") }
        switch step {
        case .needMore: continue
        case .complete(let consumed):
            // The decoder counts from the start of the buffer, so the end lies inside this read.
            guard consumed > piece.lowerBound, consumed <= piece.upperBound else {
                fatalError("consumed \(consumed) outside read \(piece)")
            }
            return .complete(end: consumed, body: sink.body)
        case .failed(let error): return .failed(error, body: sink.body)
        }
    }
    return .needMore(body: sink.body)
}

@main
enum Fuzz {
    static func main() { runFuzzer { data, size in fuzzOne(data, size) } }
}

private func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let input = FuzzInput(data, size)
    let whole = decodeAll(input, input.whole)
    let split = decodeAll(input, input.pieces)
    // Byte at a time inside, so even a failure comes at the same byte with the same body before it.
    if whole != split { violated("whole and split decodes differ", whole, split, input) }
    if case .complete(_, let body) = whole, body.count > input.payload.count { fatalError("more body than input") }
    return 0
}
