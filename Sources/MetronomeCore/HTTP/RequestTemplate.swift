// The bytes of one workload's request, serialised once and written as they are for every request.
import Glibc

/// Immutable after init; a `RequestSet` copies it into the buffer the loop writes from with `writev`.
/// An optional fixed-width decimal field (`sequenceField`) is not taken from the buffer but from
/// each connection's own copy, so a request can carry a distinct number with no allocation and
/// without a partial write on one connection seeing another connection's number.
public final class RequestTemplate: @unchecked Sendable {
    public let bytes: UnsafeMutableRawBufferPointer
    /// Byte range in `bytes` that each request replaces with its zero-padded sequence number.
    public let sequenceField: Range<Int>?
    public let isHeadRequest: Bool
    public let method: String
    public let target: String

    public static let maxSequenceWidth = 20

    /// - Parameters:
    ///   - headers: sent in order after `Host`; a `Host`, `Content-Length` or `User-Agent` given here replaces ours.
    ///   - sequenceMarker: a byte string inside `body` to replace per request by the request's sequence number,
    ///     padded to the marker's width (at most 20).
    public init(method: String, target: String, hostHeader: String, headers: [(name: String, value: String)],
                body: [UInt8]?, sequenceMarker: [UInt8]? = nil) {
        self.method = method
        self.target = target
        isHeadRequest = method == "HEAD"
        func has(_ name: String) -> Bool { headers.contains { $0.name.lowercased() == name } }
        var head = "\(method) \(target) HTTP/1.1\r\n"
        if !has("host") { head += "Host: \(hostHeader)\r\n" }
        if !has("user-agent") { head += "User-Agent: metronome/\(metronomeVersion)\r\n" }
        if !has("accept") { head += "Accept: */*\r\n" }
        for header in headers { head += "\(header.name): \(header.value)\r\n" }
        if let body, !has("content-length") { head += "Content-Length: \(body.count)\r\n" }
        head += "\r\n"
        var all = Array(head.utf8)
        var field: Range<Int>?
        if let body {
            if let marker = sequenceMarker, !marker.isEmpty, marker.count <= RequestTemplate.maxSequenceWidth,
               let at = RequestTemplate.find(marker, in: body) {
                field = (all.count + at)..<(all.count + at + marker.count)
            }
            all += body
        }
        sequenceField = field
        bytes = .allocate(byteCount: all.count, alignment: 16)
        bytes.copyBytes(from: all)
    }

    deinit { bytes.deallocate() }

    public var count: Int { bytes.count }

    static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard needle.count <= haystack.count else { return nil }
        for start in 0...(haystack.count - needle.count) where haystack[start] == needle[0] {
            if haystack[start..<(start + needle.count)].elementsEqual(needle) { return start }
        }
        return nil
    }
}

public let metronomeVersion = "0.1.0"
