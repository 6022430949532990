// A resolved IPv4 or IPv6 address, looked up once at start and reused for every connection.
import CLinux
import Glibc

public struct SocketAddress: Sendable, CustomStringConvertible {
    public var storage: sockaddr_storage
    public var length: socklen_t

    public var family: Int32 { Int32(storage.ss_family) }

    /// Resolves `host` (a name, an IPv4 literal, or an IPv6 literal without brackets) for TCP,
    /// once at start. Of several addresses (`localhost` → 127.0.0.1 and ::1) it takes the first that
    /// accepts a connection within `probeTimeoutNs`, as curl does; when none does, the first, and the
    /// run counts the connect errors.
    public static func resolve(host: String, port: UInt16, probeTimeoutNs: UInt64 = 0) throws -> SocketAddress {
        let all = try resolveAll(host: host, port: port)
        if all.count > 1 && probeTimeoutNs > 0 {
            for address in all where address.acceptsConnection(timeoutNs: probeTimeoutNs) { return address }
        }
        return all[0]
    }

    /// Every TCP address of `host`, in getaddrinfo's order.
    public static func resolveAll(host: String, port: UInt16) throws -> [SocketAddress] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_protocol = Int32(IPPROTO_TCP)
        // No AI_ADDRCONFIG: it hides ::1 on hosts whose only IPv6 address is loopback, and loopback
        // servers are a load generator's daily bread.
        var result: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &result)
        guard status == 0, result != nil else {
            let reason = status == 0 ? "no address" : String(cString: gai_strerror(status))
            throw ResolveError(host: host, reason: reason)
        }
        defer { freeaddrinfo(result) }
        var addresses: [SocketAddress] = []
        var entry = result
        while let info = entry {
            var address = SocketAddress(storage: sockaddr_storage(), length: info.pointee.ai_addrlen)
            withUnsafeMutableBytes(of: &address.storage) { raw in
                raw.copyMemory(from: UnsafeRawBufferPointer(start: info.pointee.ai_addr, count: Int(info.pointee.ai_addrlen)))
            }
            if !addresses.contains(where: { $0.description == address.description }) { addresses.append(address) }
            entry = info.pointee.ai_next
        }
        return addresses
    }

    /// One blocking connect attempt, bounded by `timeoutNs`; setup only.
    func acceptsConnection(timeoutNs: UInt64) -> Bool {
        let fd = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { closeDescriptor(fd) }
        var timeout = timeval(tv_sec: Int(timeoutNs / 1_000_000_000), tv_usec: Int(timeoutNs % 1_000_000_000 / 1000))
        _ = setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var copy = storage
        return withUnsafePointer(to: &copy) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, length) == 0 }
        }
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
