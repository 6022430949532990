// The prepared requests of a run: every request's bytes in one buffer, picked by sequence number.
import Glibc

/// Immutable after init. A workload of many bodies (a dataset, synthetic lengths, prefix groups)
/// is serialised before the run into one contiguous buffer; request `k` of the run is entry
/// `k mod entryCount`, so the send order is the order of the entries (shuffled, if asked, when the
/// set was built). The loop reaches an entry through plain offsets in an unsafe buffer: no array
/// of class references, no retain or release per request.
public final class RequestSet: @unchecked Sendable {
    /// One request inside `bytes`; `fieldCount` 0 means it carries no sequence field.
    struct Entry {
        var start: Int
        var count: Int
        /// Offset of the sequence field from `start`.
        var fieldStart: Int
        var fieldCount: Int
    }

    let bytes: UnsafeMutableRawBufferPointer
    let entries: UnsafeMutablePointer<Entry>
    public let entryCount: Int
    public let isHeadRequest: Bool
    public let method: String
    public let target: String

    /// - Parameter templates: in send order; at least one, all with the same method and target.
    public init(_ templates: [RequestTemplate]) {
        precondition(!templates.isEmpty, "a request set needs at least one request")
        method = templates[0].method
        target = templates[0].target
        isHeadRequest = templates[0].isHeadRequest
        entryCount = templates.count
        let total = templates.reduce(0) { $0 + $1.count }
        bytes = .allocate(byteCount: max(total, 1), alignment: 16)
        entries = .allocate(capacity: templates.count)
        var position = 0
        for (index, template) in templates.enumerated() {
            (bytes.baseAddress! + position).copyMemory(from: template.bytes.baseAddress!, byteCount: template.count)
            let field = template.sequenceField
            (entries + index).initialize(to: Entry(start: position, count: template.count, fieldStart: field?.lowerBound ?? 0,
                                                   fieldCount: field?.count ?? 0))
            position += template.count
        }
    }

    /// A set of one request: what every fixed workload sends.
    public convenience init(_ template: RequestTemplate) { self.init([template]) }

    deinit {
        entries.deinitialize(count: entryCount)
        entries.deallocate()
        bytes.deallocate()
    }

    /// The entry request `sequence` of the run sends.
    @inline(__always)
    func entry(forSequence sequence: UInt64) -> Int32 {
        entryCount == 1 ? 0 : Int32(truncatingIfNeeded: sequence % UInt64(entryCount))
    }

    @inline(__always)
    func count(of entry: Int32) -> Int { entries[Int(entry)].count }

    /// Width of the entry's sequence field; 0 when it has none.
    @inline(__always)
    func sequenceWidth(of entry: Int32) -> Int { entries[Int(entry)].fieldCount }

    /// The bytes of one entry, for tests and reports (allocates).
    public func request(_ entry: Int) -> [UInt8] {
        Array(UnsafeRawBufferPointer(rebasing: bytes[entries[entry].start..<(entries[entry].start + entries[entry].count)]))
    }

    /// Fills up to three iovecs for entry `entry`'s bytes from `offset` on: the part before the
    /// sequence field, the connection's own digits, and the part after. Returns how many it filled.
    @inline(__always)
    func vectors(_ entry: Int32, from offset: Int, digits: UnsafeRawPointer, into vectors: UnsafeMutablePointer<iovec>) -> Int32 {
        let item = entries[Int(entry)]
        let base = bytes.baseAddress! + item.start
        guard item.fieldCount > 0 else {
            vectors[0] = iovec(iov_base: UnsafeMutableRawPointer(mutating: base + offset), iov_len: item.count - offset)
            return 1
        }
        let fieldEnd = item.fieldStart + item.fieldCount
        var used: Int32 = 0
        var position = offset
        if position < item.fieldStart {
            vectors[Int(used)] = iovec(iov_base: UnsafeMutableRawPointer(mutating: base + position), iov_len: item.fieldStart - position)
            used += 1
            position = item.fieldStart
        }
        if position < fieldEnd {
            let skip = position - item.fieldStart
            vectors[Int(used)] = iovec(iov_base: UnsafeMutableRawPointer(mutating: digits + skip), iov_len: item.fieldCount - skip)
            used += 1
            position = fieldEnd
        }
        if position < item.count {
            vectors[Int(used)] = iovec(iov_base: UnsafeMutableRawPointer(mutating: base + position), iov_len: item.count - position)
            used += 1
        }
        return used
    }
}
