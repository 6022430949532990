// Parses the target URL: http or https, host (name, IPv4, [IPv6]), port, path and query.

public struct TargetURL: Sendable, Equatable, CustomStringConvertible {
    /// Without brackets, as getaddrinfo takes it.
    public var host: String
    public var port: UInt16
    /// Path and query as sent on the request line; "/" when the URL has none.
    public var target: String
    public var isIPv6Literal: Bool
    /// `https://`: TLS over the connection (see `TLSClient`).
    public var isTLS: Bool

    public var scheme: String { isTLS ? "https" : "http" }

    /// The Host header value: brackets for IPv6 literals, port omitted when it is the scheme's (80, 443).
    public var hostHeader: String {
        let name = isIPv6Literal ? "[\(host)]" : host
        return port == (isTLS ? 443 : 80) ? name : "\(name):\(port)"
    }

    public var description: String { "\(scheme)://\(hostHeader)\(target)" }

    public init(host: String, port: UInt16, target: String = "/", isIPv6Literal: Bool = false, isTLS: Bool = false) {
        self.host = host
        self.port = port
        self.target = target
        self.isIPv6Literal = isIPv6Literal
        self.isTLS = isTLS
    }

    public init(parsing text: String) throws(TargetURLError) {
        let lower = text.lowercased()
        let isTLS = lower.hasPrefix("https://")
        guard lower.hasPrefix("http://") || isTLS else {
            if lower.contains("://") { throw .unsupportedScheme(String(text.prefix { $0 != ":" })) }
            throw .missingScheme
        }
        // Everything below goes onto the request line or into the Host header as given: a CR/LF
        // would inject headers, and raw bytes outside printable ASCII are not a valid request-target.
        if let bad = text.utf8.firstIndex(where: { $0 <= 0x20 || $0 >= 0x7F }) {
            throw .invalidByte(text.utf8[bad], at: text.utf8.distance(from: text.utf8.startIndex, to: bad))
        }
        let rest = text.dropFirst(isTLS ? "https://".count : "http://".count)
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
        } else if authority.filter({ $0 == ":" }).count > 1 {
            // `http://fe80::1/` would otherwise read as host `fe80:` and port `1`.
            throw .unbracketedIPv6(String(authority))
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            portText = authority[authority.index(after: colon)...]
        } else {
            host = authority
        }
        guard !host.isEmpty else { throw .badHost }
        var port: UInt16 = isTLS ? 443 : 80
        if let portText {
            guard portText.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }), let value = UInt16(portText), value > 0 else {
                throw .badPort(String(portText))
            }
            port = value
        }
        self.init(host: String(host), port: port, target: target, isIPv6Literal: ipv6, isTLS: isTLS)
    }
}

public enum TargetURLError: Error, Equatable, CustomStringConvertible {
    case missingScheme, unsupportedScheme(String), userInfoUnsupported, badHost, badPort(String), badTarget
    /// A control byte, space, DEL or raw non-ASCII byte at this UTF-8 offset of the URL.
    case invalidByte(UInt8, at: Int)
    /// An IPv6 literal without brackets (the authority as given).
    case unbracketedIPv6(String)

    public var description: String {
        switch self {
        case .missingScheme: "the URL must start with http:// or https:// (for example http://127.0.0.1:8000)"
        case .unsupportedScheme(let scheme): "unsupported scheme '\(scheme)'; only http:// and https:// are supported"
        case .userInfoUnsupported: "user:password@ in the URL is not supported; use --header 'Authorization: …'"
        case .badHost: "the URL has no valid host"
        case .badPort(let text): "'\(text)' is not a port (1-65535)"
        case .badTarget: "the URL's path contains a space; percent-encode it"
        case .invalidByte(let byte, let offset):
            byte >= 0x80
                ? "the URL has a raw non-ASCII byte (0x\(TargetURL.hex(byte))) at offset \(offset); percent-encode it (%\(TargetURL.hex(byte))), and give a host name in its ASCII (punycode) form"
                : "the URL has a \(TargetURL.byteName(byte)) at offset \(offset), which would be sent on the request line; percent-encode it (%\(TargetURL.hex(byte)))"
        case .unbracketedIPv6(let authority):
            "an IPv6 address in a URL needs brackets: write http://[\(authority)]/ (with a port: http://[\(authority)]:8000/)"
        }
    }
}

extension TargetURL {
    /// The URL as text safe for one line of an error message: control bytes and non-ASCII as `\xNN`.
    public static func printable(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case 0x0D: out += "\\r"
            case 0x0A: out += "\\n"
            case 0x09: out += "\\t"
            case 0x20...0x7E: out.append(Character(Unicode.Scalar(byte)))
            default: out += "\\x" + hex(byte)
            }
        }
        return out
    }

    static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789ABCDEF")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 15)]])
    }

    static func byteName(_ byte: UInt8) -> String {
        switch byte {
        case 0x0D: "carriage return (CR)"
        case 0x0A: "line feed (LF)"
        case 0x09: "tab"
        case 0x20: "space"
        case 0x7F: "DEL byte"
        default: "control byte 0x\(hex(byte))"
        }
    }
}
