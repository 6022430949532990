// One funnel for the syscalls on the hot path: EINTR retried inside, EAGAIN a value, errno read once.
import CLinux
import Glibc

/// A failed setup call, thrown up to `main`, which prints it and exits non-zero.
public struct SystemError: Error, CustomStringConvertible, Sendable {
    public let call: String
    public let errno: Int32
    public init(_ call: String, errno: Int32) {
        self.call = call
        self.errno = errno
    }
    public var description: String { "\(call): \(errnoDescription(errno))" }
}

/// The symbolic name of the errno values a user may have to act on; the number otherwise.
public func errnoName(_ code: Int32) -> String {
    switch code {
    case EMFILE: "EMFILE"
    case ENFILE: "ENFILE"
    case EADDRNOTAVAIL: "EADDRNOTAVAIL"
    case ENOBUFS: "ENOBUFS"
    case ENOMEM: "ENOMEM"
    case ENOSPC: "ENOSPC"
    default: "errno \(code)"
    }
}

public func errnoDescription(_ code: Int32) -> String {
    guard let text = strerror(code) else { return "errno \(code)" }
    return String(cString: text)
}

/// errno must be read right after the failing call, before anything else can overwrite it.
@inline(never)
func currentErrno() -> Int32 { clinux_errno() }

/// What a non-blocking read or write did. Failures are values: the loop counts them, never throws.
public enum IOResult: Equatable {
    case bytes(Int)
    case wouldBlock
    case endOfFile
    case failed(Int32)
}

/// `read(2)`, retried on EINTR.
@inline(__always)
public func readSome(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> IOResult {
    readResult { Glibc.read(fd, buffer, count) }
}

/// `readSome` that also gives the kernel's receive time (CLOCK_REALTIME ns, 0 if none came) of the
/// last segment the read took: see `clinux_read_stamped`.
@inline(__always)
public func readSomeStamped(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int, stampNs: inout Int64) -> IOResult {
    readResult { clinux_read_stamped(fd, buffer, count, &stampNs) }
}

/// A read's return value as an `IOResult`, the read retried on EINTR.
@inline(__always)
private func readResult(_ read: () -> Int) -> IOResult {
    while true {
        let n = read()
        if n > 0 { return .bytes(n) }
        if n == 0 { return .endOfFile }
        let code = currentErrno()
        if code == EINTR { continue }
        if code == EAGAIN || code == EWOULDBLOCK { return .wouldBlock }
        return .failed(code)
    }
}

/// `writev(2)` with MSG_NOSIGNAL semantics (SIGPIPE is ignored at start), retried on EINTR.
@inline(__always)
public func writeSome(_ fd: Int32, _ vectors: UnsafePointer<iovec>, _ vectorCount: Int32) -> IOResult {
    while true {
        let n = Glibc.writev(fd, vectors, vectorCount)
        if n >= 0 { return .bytes(n) }
        let code = currentErrno()
        if code == EINTR { continue }
        if code == EAGAIN || code == EWOULDBLOCK { return .wouldBlock }
        return .failed(code)
    }
}

/// One buffer, through the same `writev` funnel.
@inline(__always)
public func writeSome(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> IOResult {
    var vector = iovec(iov_base: UnsafeMutableRawPointer(mutating: buffer), iov_len: count)
    return withUnsafePointer(to: &vector) { writeSome(fd, $0, Int32(1)) }
}

/// `close(2)`. EBADF is a programmer error (a double close would close someone else's fd later).
@inline(__always)
public func closeDescriptor(_ fd: Int32) {
    if Glibc.close(fd) != 0 {
        let code = currentErrno()
        precondition(code != EBADF, "close on a bad file descriptor \(fd)")
    }
}

/// SIGPIPE would kill the process on a write to a reset socket; a reset must be a counted outcome.
public func ignoreSIGPIPE() {
    signal(SIGPIPE, SIG_IGN)
}

/// Timer wake-ups default to 50 µs of slack; a load generator wants its deadlines kept.
public func tightenTimerSlack() {
    _ = clinux_set_timer_slack_ns(1)
}
