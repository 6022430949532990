// A response sink that keeps everything it is given, so two parses of the same bytes can be compared.
import MetronomeCore

public struct BodyRecorder: ResponseSink {
    public private(set) var statuses: [Int] = []
    public private(set) var body: [UInt8] = []

    public init() {}

    public mutating func responseHead(status: Int) { statuses.append(status) }

    public mutating func responseBody(_ bytes: UnsafeRawBufferPointer) { body.append(contentsOf: bytes) }

    /// The body bytes since the last call.
    public mutating func takeBody() -> [UInt8] {
        defer { body.removeAll() }
        return body
    }
}
