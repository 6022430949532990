// Test helpers: a blocking raw HTTP client, a response reader, and server start/stop.
import Foundation
import Glibc
import XCTest
@testable import LLMSim
import MetronomeCore

/// A response as read off the wire. `complete` is false when the peer closed before its end.
struct WireResponse {
    var status = 0
    var headers: [String: String] = [:]
    var body: [UInt8] = []
    var raw: [UInt8] = []
    var complete = false
    var peerClosed = false

    var bodyText: String { String(decoding: body, as: UTF8.self) }

    func json(file: StaticString = #filePath, line: UInt = #line) -> [String: Any] {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
            XCTFail("body is not a JSON object: \(bodyText)", file: file, line: line)
            return [:]
        }
        return object
    }

    /// The SSE `data:` payloads of a streaming body, in order.
    var events: [String] {
        bodyText.components(separatedBy: "\n\n").compactMap { $0.hasPrefix("data: ") ? String($0.dropFirst(6)) : nil }
    }
}

/// Blocking loopback client with a receive timeout, so a broken server fails a test instead of hanging it.
final class RawClient {
    let fd: Int32
    private var pending: [UInt8] = []

    init(port: UInt16, timeoutMs: Int = 5000) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let status = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard status == 0 else {
            Glibc.close(fd)
            throw SystemError("connect", errno: errno)
        }
        var timeout = timeval(tv_sec: timeoutMs / 1000, tv_usec: (timeoutMs % 1000) * 1000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    deinit { Glibc.close(fd) }

    func send(_ text: String) { send(Array(text.utf8)) }

    func send(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            offset += n
        }
    }

    /// Next bytes from the socket; empty at end of stream, on reset or on timeout.
    func receive() -> [UInt8] {
        if !pending.isEmpty {
            defer { pending = [] }
            return pending
        }
        var buffer = [UInt8](repeating: 0, count: 65536)
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
        return n > 0 ? Array(buffer[0..<n]) : []
    }

    /// Everything until the peer closes (or the timeout).
    func receiveUntilClosed() -> [UInt8] {
        var all: [UInt8] = []
        while true {
            let chunk = receive()
            if chunk.isEmpty { return all }
            all += chunk
        }
    }

    /// Reads one response, framed by Content-Length, chunked encoding, or the connection's end.
    func readResponse() -> WireResponse {
        var response = WireResponse()
        var buffer: [UInt8] = []
        func more() -> Bool {
            let chunk = receive()
            if chunk.isEmpty {
                response.peerClosed = true
                return false
            }
            buffer += chunk
            return true
        }
        var headEnd: Int?
        while headEnd == nil {
            headEnd = find(buffer, Array("\r\n\r\n".utf8))
            if headEnd == nil && !more() {
                response.raw = buffer
                return response
            }
        }
        let head = String(decoding: buffer[0..<headEnd!], as: UTF8.self).components(separatedBy: "\r\n")
        response.status = Int(head[0].split(separator: " ")[1]) ?? 0
        for line in head.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            response.headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        var at = headEnd! + 4
        if response.status < 200 || response.status == 204 || response.status == 304 {
            response.complete = true
        } else if response.headers["transfer-encoding"] == "chunked" {
            while true {
                var lineEnd = find(buffer, Array("\r\n".utf8), from: at)
                while lineEnd == nil {
                    guard more() else { break }
                    lineEnd = find(buffer, Array("\r\n".utf8), from: at)
                }
                guard let sizeEnd = lineEnd, let size = Int(String(decoding: buffer[at..<sizeEnd], as: UTF8.self), radix: 16) else { break }
                let dataStart = sizeEnd + 2
                while buffer.count < dataStart + size + 2 { guard more() else { break } }
                guard buffer.count >= dataStart + size + 2 else { break }
                if size == 0 {
                    response.complete = true
                    at = dataStart + 2
                    break
                }
                response.body += buffer[dataStart..<dataStart + size]
                at = dataStart + size + 2
            }
        } else if let length = response.headers["content-length"].flatMap({ Int($0) }) {
            while buffer.count < at + length { guard more() else { break } }
            response.body = Array(buffer[at..<min(buffer.count, at + length)])
            response.complete = buffer.count >= at + length
            at = min(buffer.count, at + length)
        } else {
            while more() {}
            response.body = Array(buffer[at...])
            response.complete = true
            at = buffer.count
        }
        response.raw = Array(buffer[0..<at])
        pending = Array(buffer[at...])
        return response
    }
}

func find(_ haystack: [UInt8], _ needle: [UInt8], from start: Int = 0) -> Int? {
    guard haystack.count >= needle.count, start <= haystack.count - needle.count else { return nil }
    for i in start...(haystack.count - needle.count) where haystack[i] == needle[0] {
        if Array(haystack[i..<i + needle.count]) == needle { return i }
    }
    return nil
}

func post(_ path: String, _ body: String, headers: String = "") -> String {
    "POST \(path) HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n\(headers)Content-Length: \(body.utf8.count)\r\n\r\n\(body)"
}

func chatBody(maxTokens: Int = 5, stream: Bool = false, usage: Bool = false, content: String = "hello") -> String {
    var fields = [#""messages":[{"role":"user","content":"\#(content)"}]"#, #""max_tokens":\#(maxTokens)"#, #""ignore_eos":true"#]
    if stream { fields.append(#""stream":true"#) }
    if usage { fields.append(#""stream_options":{"include_usage":true}"#) }
    return "{" + fields.joined(separator: ",") + "}"
}

/// A config with no delays to speak of, for tests that check behaviour rather than time.
func quickConfig(_ change: (inout SimConfig) -> Void = { _ in }) -> SimConfig {
    var config = SimConfig()
    config.port = 0
    config.ttftNs = 1_000_000
    config.prefillPerTokenNs = 0
    config.itlNs = 1_000_000
    change(&config)
    return config
}

func withServer(_ config: SimConfig, _ body: (SimServer) throws -> Void) throws {
    let server = try SimServer.startInBackground(config: config)
    defer { server.stopAndWait() }
    try body(server)
}

func sleepMs(_ ms: Double) {
    usleep(UInt32(ms * 1000))
}

/// Token events (non-empty content) in a stream's bytes so far.
func tokenEventCount(_ bytes: [UInt8]) -> Int {
    let markers = [Array(#""delta":{"content":""#.utf8), Array(#""text":""#.utf8)]
    var count = 0
    for marker in markers {
        var from = 0
        while let at = find(bytes, marker, from: from) {
            if at + marker.count < bytes.count && bytes[at + marker.count] != 0x22 { count += 1 }
            from = at + marker.count
        }
    }
    return count
}

/// Sends each request at its own time on its own connection and records, per request, the
/// arrival time of each token event and all bytes received. Uses poll(2): few connections.
func tokenArrivals(port: UInt16, requests: [(bytes: [UInt8], atNs: UInt64)], timeoutNs: UInt64 = 10_000_000_000) throws
    -> (arrivals: [[UInt64]], sentNs: [UInt64], bytes: [[UInt8]], closed: [Bool]) {
    let clients = try requests.map { _ in try RawClient(port: port) }
    for client in clients { _ = fcntl(client.fd, F_SETFL, fcntl(client.fd, F_GETFL) | O_NONBLOCK) }
    var arrivals = [[UInt64]](repeating: [], count: requests.count)
    var sent = [UInt64](repeating: 0, count: requests.count)
    var bytes = [[UInt8]](repeating: [], count: requests.count)
    var closed = [Bool](repeating: false, count: requests.count)
    var done = [Bool](repeating: false, count: requests.count)
    var isSent = [Bool](repeating: false, count: requests.count)
    let deadline = monotonicNs() + timeoutNs
    var buffer = [UInt8](repeating: 0, count: 65536)
    while done.contains(false) && monotonicNs() < deadline {
        for (i, request) in requests.enumerated() where !isSent[i] && request.atNs <= monotonicNs() {
            sent[i] = monotonicNs()
            clients[i].send(request.bytes)
            isSent[i] = true
        }
        var fds = clients.map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
        _ = poll(&fds, nfds_t(fds.count), 1)
        for i in 0..<clients.count where isSent[i] && !done[i] {
            while true {
                let n = buffer.withUnsafeMutableBytes { recv(clients[i].fd, $0.baseAddress!, $0.count, 0) }
                if n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
                    closed[i] = true
                    done[i] = true
                    break
                }
                if n < 0 { break }
                let now = monotonicNs()
                bytes[i] += buffer[0..<n]
                let count = tokenEventCount(bytes[i])
                while arrivals[i].count < count { arrivals[i].append(now) }
                if find(bytes[i], Array("data: [DONE]".utf8)) != nil { done[i] = true }
            }
        }
    }
    return (arrivals, sent, bytes, closed)
}
