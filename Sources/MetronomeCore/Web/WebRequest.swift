// One HTTP/1.1 request as the web view reads it: bounded, Connection: close, nothing kept after.

struct WebRequest {
    var method: String
    var path: String
    var headers: [String: String]
    var body: [UInt8]

    enum Parse: Equatable {
        case incomplete
        case tooLarge
        case bad
        case request
    }

    static let maxHeaderBytes = 8 * 1024
    static let maxBodyBytes = 4 * 1024

    /// Reads a request from the bytes received so far. `.incomplete` asks for more; the caller
    /// stops reading at `maxHeaderBytes + maxBodyBytes`.
    static func parse(_ input: [UInt8]) -> (Parse, WebRequest?) {
        guard let end = headerEnd(input) else {
            return (input.count > maxHeaderBytes ? .tooLarge : .incomplete, nil)
        }
        guard end <= maxHeaderBytes, let head = String(validating: input[..<end], as: UTF8.self) else {
            return (end > maxHeaderBytes ? .tooLarge : .bad, nil)
        }
        var lines = head.split(separator: "\r\n", omittingEmptySubsequences: false)
        let requestLine = lines.removeFirst().split(separator: " ", omittingEmptySubsequences: false)
        guard requestLine.count == 3, requestLine[2].hasPrefix("HTTP/1.") else { return (.bad, nil) }
        var headers: [String: String] = [:]
        for line in lines where !line.isEmpty {
            guard let colon = line.firstIndex(of: ":") else { return (.bad, nil) }
            let name = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].trimmingSpaces()
            headers[name] = value
        }
        var length = 0
        if let text = headers["content-length"] {
            guard let value = Int(text), value >= 0 else { return (.bad, nil) }
            guard value <= maxBodyBytes else { return (.tooLarge, nil) }
            length = value
        }
        if headers["transfer-encoding"] != nil { return (.bad, nil) }
        let bodyStart = end + 4
        guard input.count >= bodyStart + length else { return (.incomplete, nil) }
        var path = String(requestLine[1])
        if let query = path.firstIndex(of: "?") { path = String(path[..<query]) }
        return (.request, WebRequest(method: String(requestLine[0]), path: path, headers: headers,
                                     body: Array(input[bodyStart..<bodyStart + length])))
    }

    /// A control sent by a page of another origin (a cross-site form or fetch): browsers name the
    /// page's origin on every POST, so one that is not this server's is refused.
    var isCrossOrigin: Bool {
        guard let origin = headers["origin"] else { return false }
        return origin != "http://\(headers["host"] ?? "")"
    }

    private static func headerEnd(_ input: [UInt8]) -> Int? {
        guard input.count >= 4 else { return nil }
        for index in 0...(input.count - 4)
        where input[index] == 13 && input[index + 1] == 10 && input[index + 2] == 13 && input[index + 3] == 10 {
            return index
        }
        return nil
    }

    /// The bytes of a whole response; every response closes the connection except `/events`.
    static func response(_ status: Int, _ reason: String, type: String, body: String) -> [UInt8] {
        let bytes = Array(body.utf8)
        let head = "HTTP/1.1 \(status) \(reason)\r\nContent-Type: \(type)\r\nContent-Length: \(bytes.count)\r\n"
            + "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n"
        return Array(head.utf8) + bytes
    }

    static func json(_ status: Int, _ reason: String, _ body: String) -> [UInt8] {
        response(status, reason, type: "application/json", body: body + "\n")
    }

    static func error(_ status: Int, _ reason: String, _ message: String) -> [UInt8] {
        json(status, reason, "{\"ok\":false,\"error\":\(JSONWriter.quote(message))}")
    }
}

extension Substring {
    func trimmingSpaces() -> String {
        var text = self
        while text.first == " " || text.first == "\t" { text.removeFirst() }
        while text.last == " " || text.last == "\t" { text.removeLast() }
        return String(text)
    }
}
