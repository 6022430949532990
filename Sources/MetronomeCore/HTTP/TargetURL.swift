// Parses the target URL: http only, host (name, IPv4, [IPv6]), port, path and query.

public struct TargetURL: Sendable, Equatable, CustomStringConvertible {
    /// Without brackets, as getaddrinfo takes it.
    public var host: String
    public var port: UInt16
    /// Path and query as sent on the request line; "/" when the URL has none.
    public var target: String
    public var isIPv6Literal: Bool

    /// The Host header value: brackets for IPv6 literals, port omitted when it is 80.
    public var hostHeader: String {
        let name = isIPv6Literal ? "[\(host)]" : host
        return port == 80 ? name : "\(name):\(port)"
    }

    public var description: String { "http://\(hostHeader)\(target)" }

    public init(host: String, port: UInt16, target: String = "/", isIPv6Literal: Bool = false) {
        self.host = host
        self.port = port
        self.target = target
        self.isIPv6Literal = isIPv6Literal
    }

    public init(parsing text: String) throws(TargetURLError) {
        let lower = text.lowercased()
        if lower.hasPrefix("https://") { throw .httpsUnsupported }
        guard lower.hasPrefix("http://") else {
            if lower.contains("://") { throw .unsupportedScheme(String(text.prefix { $0 != ":" })) }
            throw .missingScheme
        }
        let rest = text.dropFirst("http://".count)
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        var target = String(rest[authorityEnd...])
        if let fragment = target.firstIndex(of: "#") { target = String(target[..<fragment]) }
        if target.isEmpty { target = "/" } else if target.hasPrefix("?") { target = "/" + target }
        guard !authority.contains("@") else { throw .userInfoUnsupported }
        guard !target.contains(" ") else { throw .badTarget }

        var host: Substring
        var portText: Substring?
        var ipv6 = false
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw .badHost }
            host = authority[authority.index(after: authority.startIndex)..<close]
            ipv6 = true
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw .badHost }
                portText = after.dropFirst()
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            portText = authority[authority.index(after: colon)...]
        } else {
            host = authority
        }
        guard !host.isEmpty else { throw .badHost }
        var port: UInt16 = 80
        if let portText {
            guard let value = UInt16(portText), value > 0 else { throw .badPort(String(portText)) }
            port = value
        }
        self.init(host: String(host), port: port, target: target, isIPv6Literal: ipv6)
    }
}

public enum TargetURLError: Error, Equatable, CustomStringConvertible {
    case httpsUnsupported, missingScheme, unsupportedScheme(String), userInfoUnsupported, badHost, badPort(String), badTarget

    public var description: String {
        switch self {
        case .httpsUnsupported: "https:// is not supported yet; use http:// (put a TLS-terminating proxy in front if needed)"
        case .missingScheme: "the URL must start with http:// (for example http://127.0.0.1:8000)"
        case .unsupportedScheme(let scheme): "unsupported scheme '\(scheme)'; only http:// is supported"
        case .userInfoUnsupported: "user:password@ in the URL is not supported; use --header 'Authorization: …'"
        case .badHost: "the URL has no valid host"
        case .badPort(let text): "'\(text)' is not a port (1-65535)"
        case .badTarget: "the URL's path contains a space; percent-encode it"
        }
    }
}
