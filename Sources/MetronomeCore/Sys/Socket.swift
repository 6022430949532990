// Non-blocking TCP sockets: the client's connect and the server's listen/accept.
import CLinux
import Glibc

/// What a non-blocking connect did.
public enum ConnectResult: Equatable {
    case connected(Int32)
    case inProgress(Int32)
    case failed(Int32)   // errno; no descriptor is left open
}

/// Opens a non-blocking TCP socket with TCP_NODELAY and starts connecting to `address`.
/// Failures are values: an unreachable target is a counted outcome, not a crash.
public func startConnect(to address: SocketAddress) -> ConnectResult {
    let fd = socket(address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    if fd < 0 { return .failed(currentErrno()) }
    setNoDelay(fd)
    var storage = address.storage
    let status = withUnsafePointer(to: &storage) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, address.length) }
    }
    if status == 0 { return .connected(fd) }
    let code = currentErrno()
    if code == EINPROGRESS || code == EINTR { return .inProgress(fd) }
    closeDescriptor(fd)
    return .failed(code)
}

/// The outcome of a non-blocking connect once the socket reports writable or an error.
public func pendingSocketError(_ fd: Int32) -> Int32 {
    var code: Int32 = 0
    var length = socklen_t(MemoryLayout<Int32>.size)
    if getsockopt(fd, SOL_SOCKET, SO_ERROR, &code, &length) != 0 { return currentErrno() }
    return code
}

/// Whether an idle connection can no longer carry a request: the peer's FIN or RST, or bytes nobody
/// asked for, are waiting. One `recv(MSG_PEEK)`, which leaves the socket as it was.
public func idleConnectionIsSpent(_ fd: Int32) -> Bool {
    var byte: UInt8 = 0
    while true {
        let n = recv(fd, &byte, 1, Int32(MSG_PEEK) | Int32(MSG_DONTWAIT))
        if n != 0 && n != 1 {
            let code = currentErrno()
            if code == EINTR { continue }
            return !(code == EAGAIN || code == EWOULDBLOCK)
        }
        return true
    }
}

@inline(__always)
public func setNoDelay(_ fd: Int32) {
    var one: Int32 = 1
    _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
}

/// Makes `close` send RST instead of FIN: used to simulate a reset, and to avoid TIME_WAIT piles.
public func setLingerZero(_ fd: Int32) {
    var value = linger(l_onoff: 1, l_linger: 0)
    _ = setsockopt(fd, SOL_SOCKET, SO_LINGER, &value, socklen_t(MemoryLayout<linger>.size))
}

/// A listening, non-blocking TCP socket. `port` 0 takes a free port; read it back from `boundPort`.
public struct Listener: Sendable {
    public let fd: Int32
    public let boundPort: UInt16

    public init(host: String, port: UInt16, backlog: Int32 = 4096) throws {
        let address = try SocketAddress.resolve(host: host, port: port)
        let fd = socket(address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SystemError("socket", errno: currentErrno()) }
        var one: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var storage = address.storage
        let bound = withUnsafePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, address.length) }
        }
        guard bound == 0 else {
            let code = currentErrno()
            closeDescriptor(fd)
            throw SystemError("bind \(address)", errno: code)
        }
        guard listen(fd, backlog) == 0 else {
            let code = currentErrno()
            closeDescriptor(fd)
            throw SystemError("listen", errno: code)
        }
        var actual = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &actual) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        self.fd = fd
        self.boundPort = SocketAddress(storage: actual, length: length).port
    }

    public enum Accepted: Equatable {
        case connection(Int32)
        case wouldBlock
        case failed(Int32)
    }

    /// Accepts one pending connection as a non-blocking socket with TCP_NODELAY.
    public func acceptOne() -> Accepted {
        while true {
            let client = clinux_accept4(fd, Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue))
            if client >= 0 {
                setNoDelay(client)
                return .connection(client)
            }
            let code = currentErrno()
            if code == EINTR || code == ECONNABORTED { continue }
            if code == EAGAIN || code == EWOULDBLOCK { return .wouldBlock }
            return .failed(code)
        }
    }

    public func close() { closeDescriptor(fd) }
}
