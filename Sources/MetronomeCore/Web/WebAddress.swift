// `--web [HOST:]PORT`: where the live web view listens (IPv4; 127.0.0.1 unless a host is given).

public struct WebAddress: Sendable, Equatable, CustomStringConvertible {
    /// Dotted-quad IPv4 address.
    public var host: String
    /// 0 lets the system choose (the URL printed at the start names the port taken).
    public var port: UInt16
    public var octets: [UInt8]

    public static let defaultPort: UInt16 = 8089 // Locust's

    /// Controls (POST /rate, /stop) need `--web-token` unless the address is loopback.
    public var isLoopback: Bool { octets[0] == 127 }
    public var description: String { "\(host):\(port)" }

    public static func parse(_ text: String) throws(UsageError) -> WebAddress {
        let flag = "--web"
        var hostText = "127.0.0.1"
        var portText = text
        if let colon = text.lastIndex(of: ":") {
            hostText = String(text[..<colon])
            portText = String(text[text.index(after: colon)...])
            if hostText == "localhost" { hostText = "127.0.0.1" }
            if hostText == "*" || hostText.isEmpty { hostText = "0.0.0.0" }
        }
        guard let port = UInt16(portText) else {
            throw UsageError(flag, "takes [HOST:]PORT with PORT 0-65535, e.g. 8089 or 0.0.0.0:8089 (got '\(text)')")
        }
        let parts = hostText.split(separator: ".", omittingEmptySubsequences: false)
        let octets = parts.compactMap { UInt8($0) }
        guard parts.count == 4, octets.count == 4 else {
            throw UsageError(flag, "takes an IPv4 HOST (e.g. 127.0.0.1, 0.0.0.0 or localhost), got '\(hostText)'")
        }
        return WebAddress(host: octets.map(String.init).joined(separator: "."), port: port, octets: octets)
    }
}

extension WebAddress {
    /// DNS rebinding: on loopback, a page from another name that resolves to 127.0.0.1 must not read
    /// or drive the run, so the Host header must name the loopback address.
    func hostProblem(_ request: WebRequest) -> String? {
        guard let host = request.headers["host"] else { return "a Host header is required" }
        guard isLoopback else { return nil }
        let name = host.hasPrefix("[") ? String(host.prefix { $0 != "]" }) + "]" : String(host.prefix { $0 != ":" })
        return ["127.0.0.1", "localhost", self.host].contains(name) ? nil : "Host '\(host)' is not this loopback address"
    }
}

extension RunOptions {
    /// The web options' combinations, checked before the run as usage errors.
    public func checkWeb() throws(UsageError) {
        guard let web else {
            if webKeep { throw UsageError("--web-keep", "needs --web [HOST:]PORT") }
            if webToken != nil { throw UsageError("--web-token", "needs --web [HOST:]PORT") }
            return
        }
        if !web.isLoopback && webToken == nil {
            throw UsageError("--web", "on a non-loopback address (\(web.host)) needs --web-token TOKEN: anyone who reaches it could change the rate or stop the run")
        }
    }
}
