// What a scanned OpenAI-style event or body said, and the fixed inline buffer its error message is kept in.

/// What one server-sent event (or a whole non-streaming JSON body) said, as far as load testing needs.
public struct CompletionEvent: Equatable, Sendable {
    /// A generated-text field ("content", "text", "reasoning_content", "reasoning") with a non-empty
    /// string value; `"content":""` and `"content":null` are not content.
    public var hasContent = false
    /// The event's data is exactly `[DONE]`.
    public var isDone = false
    /// A top-level "error" key with a value other than null or false, a top-level `"object":"error"`,
    /// or an `event: error` field line.
    public var isError = false
    /// From `"usage":{…"prompt_tokens":N…}` when usage is an object.
    public var promptTokens: Int? = nil
    public var completionTokens: Int? = nil
    /// The last non-null "finish_reason" seen; a null one leaves it nil.
    public var finishReason: FinishReason? = nil

    public init() {}
}

public enum FinishReason: UInt8, Sendable {
    case stop, length, other
}

/// Receives each complete event from `SSEScanner`; generic, so the call is direct.
public protocol CompletionEventSink {
    mutating func completionEvent(_ event: CompletionEvent)
}

/// The first `capacity` bytes of an error message, stored inline so scanners never allocate.
struct MessageBuffer {
    static let capacity = 200

    // 25 × 8 = 200 bytes; a tuple because fixed-size arrays need a newer runtime on Apple platforms.
    private var storage: (
        UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
        UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
        UInt64, UInt64, UInt64, UInt64, UInt64
    ) = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    private(set) var count = 0
    /// Set when a character did not fit: nothing after it is kept, so the text stays a prefix.
    private(set) var isFull = false

    init() {}

    mutating func removeAll() {
        count = 0
        isFull = false
    }

    mutating func append(_ byte: UInt8) {
        guard !isFull else { return }
        guard count < Self.capacity else { isFull = true; return }
        let index = count
        withUnsafeMutableBytes(of: &storage) { $0[index] = byte }
        count += 1
    }

    mutating func append(_ bytes: UnsafePointer<UInt8>, count n: Int) {
        guard !isFull else { return }
        let take = min(n, Self.capacity - count)
        let start = count
        withUnsafeMutableBytes(of: &storage) { raw in
            raw.baseAddress!.advanced(by: start).copyMemory(from: bytes, byteCount: take)
        }
        count += take
        if take < n { isFull = true }
    }

    /// Appends the UTF-8 encoding of `scalar` only if all of it fits.
    mutating func append(scalar: UInt32) {
        guard !isFull else { return }
        let value = scalar > 0x10FFFF || (0xD800...0xDFFF).contains(scalar) ? 0xFFFD : scalar
        let length = value < 0x80 ? 1 : value < 0x800 ? 2 : value < 0x10000 ? 3 : 4
        guard count + length <= Self.capacity else { isFull = true; return }
        switch length {
        case 1:
            append(UInt8(value))
        case 2:
            append(UInt8(0xC0 | value >> 6))
            append(UInt8(0x80 | value & 0x3F))
        case 3:
            append(UInt8(0xE0 | value >> 12))
            append(UInt8(0x80 | value >> 6 & 0x3F))
            append(UInt8(0x80 | value & 0x3F))
        default:
            append(UInt8(0xF0 | value >> 18))
            append(UInt8(0x80 | value >> 12 & 0x3F))
            append(UInt8(0x80 | value >> 6 & 0x3F))
            append(UInt8(0x80 | value & 0x3F))
        }
    }

    /// Copies the kept bytes, as received (not trimmed), into `buffer`; returns how many. No allocation.
    func copyBytes(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        let n = Swift.min(count, buffer.count)
        guard n > 0, let destination = buffer.baseAddress else { return 0 }
        withUnsafeBytes(of: storage) { destination.copyMemory(from: $0.baseAddress!, byteCount: n) }
        return n
    }

    /// The kept text without surrounding ASCII whitespace. A UTF-8 sequence cut by the capacity is
    /// dropped rather than shown as U+FFFD. Allocates: for reports, not the hot path.
    var string: String {
        withTrimmedBytes { String(decoding: $0, as: UTF8.self) }
    }

    /// The bytes `string` decodes, lent to `body` in place: the failure log compares a repeated
    /// message with no allocation.
    func withTrimmedBytes<Result>(_ body: (UnsafeRawBufferPointer) -> Result) -> Result {
        withUnsafeBytes(of: storage) { raw in
            let bytes = UnsafeRawBufferPointer(rebasing: raw.prefix(count))
            var end = bytes.count
            // Walk back over continuation bytes to the last lead byte; drop its sequence if incomplete.
            var lead = end - 1
            while lead >= 0, bytes[lead] & 0xC0 == 0x80, end - lead < 4 { lead -= 1 }
            if lead >= 0, bytes[lead] >= 0xC0 {
                let needed = bytes[lead] >= 0xF0 ? 4 : bytes[lead] >= 0xE0 ? 3 : 2
                if end - lead < needed { end = lead }
            }
            while end > 0, Self.isBlank(bytes[end - 1]) { end -= 1 }
            var start = 0
            while start < end, Self.isBlank(bytes[start]) { start += 1 }
            return body(UnsafeRawBufferPointer(rebasing: bytes[start..<end]))
        }
    }

    private static func isBlank(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D }
}
