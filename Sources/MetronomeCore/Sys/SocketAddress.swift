// A resolved IPv4 or IPv6 address, looked up once at start and reused for every connection.
import CLinux
import Glibc

public struct SocketAddress: Sendable, CustomStringConvertible {
    public var storage: sockaddr_storage
    public var length: socklen_t

    public var family: Int32 { Int32(storage.ss_family) }

    /// Resolves `host` (a name, an IPv4 literal, or an IPv6 literal without brackets) for TCP.
    /// Prefers the first address getaddrinfo returns, as curl and wrk do.
    public static func resolve(host: String, port: UInt16) throws -> SocketAddress {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_protocol = Int32(IPPROTO_TCP)
        hints.ai_flags = AI_ADDRCONFIG
        var result: UnsafeMutablePointer<addrinfo>?
        var status = getaddrinfo(host, String(port), &hints, &result)
        if status == EAI_NONAME || status == EAI_FAIL {
            // AI_ADDRCONFIG hides ::1 on hosts whose only IPv6 address is loopback.
            hints.ai_flags = 0
            status = getaddrinfo(host, String(port), &hints, &result)
        }
        guard status == 0, let first = result else {
            let reason = status == 0 ? "no address" : String(cString: gai_strerror(status))
            throw ResolveError(host: host, reason: reason)
        }
        defer { freeaddrinfo(result) }
        var address = SocketAddress(storage: sockaddr_storage(), length: first.pointee.ai_addrlen)
        withUnsafeMutableBytes(of: &address.storage) { raw in
            raw.copyMemory(from: UnsafeRawBufferPointer(start: first.pointee.ai_addr, count: Int(first.pointee.ai_addrlen)))
        }
        return address
    }

    /// The numeric form, e.g. `127.0.0.1:8000` or `[::1]:8000`.
    public var description: String {
        var copy = storage
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        return withUnsafePointer(to: &copy) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                var service = [CChar](repeating: 0, count: 16)
                let status = getnameinfo(sa, length, &text, socklen_t(text.count), &service, socklen_t(service.count),
                                         NI_NUMERICHOST | NI_NUMERICSERV)
                guard status == 0 else { return "?" }
                let host = stringFromCBuffer(text)
                let port = stringFromCBuffer(service)
                return family == AF_INET6 ? "[\(host)]:\(port)" : "\(host):\(port)"
            }
        }
    }

    public var port: UInt16 {
        var copy = storage
        return withUnsafePointer(to: &copy) { pointer in
            if family == AF_INET6 {
                return pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin6_port) }
            }
            return pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin_port) }
        }
    }
}

public struct ResolveError: Error, CustomStringConvertible, Sendable {
    public let host: String
    public let reason: String
    public var description: String { "cannot resolve host '\(host)': \(reason)" }
}
