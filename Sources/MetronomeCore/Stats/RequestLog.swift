// `--request-log FILE`: one CSV line per request, formatted into a fixed buffer with no allocation.
import Glibc

/// Written by the loop thread only (hence unchecked Sendable). Times are ns since the plan's zero; an empty field is a moment
/// the request never reached (not sent, no first token, not completed).
public final class RequestLog: @unchecked Sendable {
    public static let header = "intended_ns,sent_ns,first_token_ns,completed_ns,status,outcome,bytes,tokens\n"

    private let fd: Int32
    private let buffer: UnsafeMutablePointer<UInt8>
    private let capacity = 1 << 20
    private var used = 0
    /// Set when a write fails (disk full): counted and reported rather than silently lost.
    public private(set) var failedWrites = 0
    public private(set) var lines: UInt64 = 0

    public init(path: String) throws {
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw SystemError("--request-log: cannot create '\(path)'", errno: errno) }
        buffer = .allocate(capacity: capacity)
        for byte in RequestLog.header.utf8 { buffer[used] = byte; used += 1 }
    }

    deinit {
        flush()
        closeDescriptor(fd)
        buffer.deallocate()
    }

    /// `startNs` converts absolute monotonic times; 0 means "did not happen".
    @inline(__always)
    func append(startNs: UInt64, intendedNs: UInt64, sentNs: UInt64, firstTokenNs: UInt64, completedNs: UInt64,
                status: Int, outcome: Outcome, bytes: Int, tokens: UInt64) {
        if capacity - used < 256 { flush() }
        putTime(intendedNs, startNs)
        putTime(sentNs, startNs)
        putTime(firstTokenNs, startNs)
        putTime(completedNs, startNs)
        if status > 0 { putNumber(UInt64(status)) }
        putByte(UInt8(ascii: ","))
        for byte in outcome.key.utf8 { putByte(byte) }
        putByte(UInt8(ascii: ","))
        putNumber(UInt64(max(bytes, 0)))
        putByte(UInt8(ascii: ","))
        if tokens > 0 { putNumber(tokens) }
        putByte(UInt8(ascii: "\n"))
        lines &+= 1
    }

    @inline(__always) private func putByte(_ byte: UInt8) {
        buffer[used] = byte
        used += 1
    }

    @inline(__always) private func putTime(_ ns: UInt64, _ startNs: UInt64) {
        if ns != 0 { putNumber(ns &- startNs) }
        putByte(UInt8(ascii: ","))
    }

    @inline(__always) private func putNumber(_ value: UInt64) {
        var digits = 1
        var probe = value
        while probe >= 10 { probe /= 10; digits += 1 }
        var rest = value
        for position in stride(from: used + digits - 1, through: used, by: -1) {
            buffer[position] = UInt8(truncatingIfNeeded: rest % 10) &+ UInt8(ascii: "0")
            rest /= 10
        }
        used += digits
    }

    public func flush() {
        var offset = 0
        while offset < used {
            guard case .bytes(let n) = writeSome(fd, buffer + offset, used - offset) else {
                failedWrites += 1
                break
            }
            offset += n
        }
        used = 0
    }
}
