// Chunked transfer coding (RFC 9112 §7.1) removed a byte at a time; chunk data is handed on in place.

/// Sizes, extensions, CRLFs and trailers are read as the bytes arrive, so a read may end anywhere,
/// even between the two hex digits of a size or between CR and LF. Only data is passed on, as
/// slices of the input; extensions and trailers are skipped (nothing on the hot path reads them).
struct ChunkedDecoder {
    private enum State: UInt8 {
        case size          // hex digits of a chunk size
        case afterSize     // whitespace after the size, before `;` or the line end
        case extensions    // `;name=value` or `;name="quoted"`: skipped to the line end
        case sizeLF        // CR seen at the end of a size line
        case data          // `remaining` bytes of chunk data still to come
        case dataCR        // the CRLF that must follow chunk data
        case dataLF
        case trailerStart  // after the zero chunk: a trailer field, or the empty line that ends the body
        case trailerLine
        case trailerLF
    }

    private var state = State.size
    private var digits = 0
    /// The chunk size while its line is read, then the bytes of the chunk not yet handed on.
    private var remaining = 0

    mutating func reset() {
        self = ChunkedDecoder()
    }

    /// Decodes `bytes[start...]`. `.complete(consumed:)` counts from the start of `bytes`, up to and
    /// including the LF of the empty line after the trailers.
    mutating func decode<Sink: ResponseSink>(
        _ bytes: UnsafeRawBufferPointer, from start: Int, bodyBytes: inout Int, into sink: inout Sink
    ) -> ParseStep {
        let n = bytes.count
        var i = start
        while i < n {
            let b = bytes[i]
            switch state {
            case .size:
                let value = Self.hexValue(b)
                if value >= 0 {
                    // Leading zeros are allowed, so the guard is on the value, not the digit count.
                    guard remaining <= Int.max >> 4 else { return .failed(.badChunk) }
                    remaining = remaining << 4 | value
                    digits += 1
                } else {
                    guard digits > 0, endSizeByte(b) else { return .failed(.badChunk) }
                }
            case .afterSize:
                guard endSizeByte(b) else { return .failed(.badChunk) }
            case .extensions:
                // A quoted extension value cannot hold CR or LF, so the first one ends the line.
                if b == 0x0D {
                    state = .sizeLF
                } else if b == 0x0A {
                    endSizeLine()
                }
            case .sizeLF:
                guard b == 0x0A else { return .failed(.badChunk) }
                endSizeLine()
            case .data:
                let take = min(remaining, n - i)
                sink.responseBody(UnsafeRawBufferPointer(rebasing: bytes[i ..< i + take]))
                bodyBytes += take
                remaining -= take
                i += take
                if remaining == 0 { state = .dataCR }
                continue
            case .dataCR:
                if b == 0x0D {
                    state = .dataLF
                } else if b == 0x0A {
                    state = .size
                } else {
                    return .failed(.badChunk)
                }
            case .dataLF:
                guard b == 0x0A else { return .failed(.badChunk) }
                state = .size
            case .trailerStart:
                if b == 0x0D {
                    state = .trailerLF
                } else if b == 0x0A {
                    return .complete(consumed: i + 1)
                } else {
                    state = .trailerLine
                }
            case .trailerLine:
                if b == 0x0A { state = .trailerStart }
            case .trailerLF:
                guard b == 0x0A else { return .failed(.badChunk) }
                return .complete(consumed: i + 1)
            }
            i += 1
        }
        return .needMore
    }

    /// A byte after at least one size digit: whitespace, `;`, CR or LF; false for anything else.
    private mutating func endSizeByte(_ b: UInt8) -> Bool {
        switch b {
        case 0x20, 0x09: state = .afterSize
        case 0x3B: state = .extensions
        case 0x0D: state = .sizeLF
        case 0x0A: endSizeLine()
        default: return false
        }
        return true
    }

    private mutating func endSizeLine() {
        digits = 0
        state = remaining == 0 ? .trailerStart : .data
    }

    private static func hexValue(_ b: UInt8) -> Int {
        switch b {
        case 0x30 ... 0x39: Int(b &- 0x30)
        case 0x41 ... 0x46: Int(b &- 0x37)
        case 0x61 ... 0x66: Int(b &- 0x57)
        default: -1
        }
    }
}
