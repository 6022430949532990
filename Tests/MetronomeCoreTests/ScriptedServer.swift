// A keep-alive HTTP/1.1 server for tests whose every answer a closure writes: hostile replies on demand.
import Foundation
import Glibc
import Synchronization
@testable import MetronomeCore

/// One thread per connection with blocking sockets: the tests' load is tiny. `respond` gets each
/// request (head and body) and its number over the server's life (from 0), and returns the bytes
/// to send back. The server stops accepting at `shutdown`; connection threads end when the client
/// closes, as the engine does at the end of its run.
final class ScriptedServer: @unchecked Sendable {
    struct Request {
        let head: String
        let body: [UInt8]

        /// The value of header `name` (any case), without surrounding spaces.
        func header(_ name: String) -> String? {
            for line in head.split(separator: "\r\n").dropFirst() {
                guard let colon = line.firstIndex(of: ":"), line[..<colon].lowercased() == name.lowercased() else { continue }
                return String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespaces)
            }
            return nil
        }
    }

    let listener: Listener
    private let respond: @Sendable (Request, Int) -> [UInt8]
    private let requests = Atomic<Int>(0)
    private let stop = Atomic<Bool>(false)
    private let acceptLoopEnded = Atomic<Bool>(false)

    init(respond: @escaping @Sendable (Request, Int) -> [UInt8]) throws {
        listener = try Listener(host: "127.0.0.1", port: 0)
        self.respond = respond
        Thread.detachNewThread { [self] in
            var pollDescriptor = pollfd(fd: listener.fd, events: Int16(POLLIN), revents: 0)
            while !stop.load(ordering: .relaxed) {
                guard poll(&pollDescriptor, 1, 50) > 0, case .connection(let fd) = listener.acceptOne() else { continue }
                Thread.detachNewThread { self.serve(fd) }
            }
            acceptLoopEnded.store(true, ordering: .releasing)
        }
    }

    var port: UInt16 { listener.boundPort }
    var requestCount: Int { requests.load(ordering: .relaxed) }

    private func serve(_ fd: Int32) {
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
        var buffer = [UInt8](repeating: 0, count: 65536)
        var pending: [UInt8] = []
        while true {
            while let request = Self.takeRequest(&pending) {
                let number = requests.wrappingAdd(1, ordering: .relaxed).oldValue
                let response = respond(request, number)
                _ = response.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            }
            let n = read(fd, &buffer, buffer.count)
            if n <= 0 { break }
            pending += buffer[0..<n]
        }
        close(fd)
    }

    /// The first complete request in `pending` (head up to the blank line, then Content-Length bytes).
    private static func takeRequest(_ pending: inout [UInt8]) -> Request? {
        guard let end = pending.indices.dropLast(3).first(where: { pending[$0...$0 + 3] == [13, 10, 13, 10] }) else { return nil }
        let head = String(decoding: pending[..<end], as: UTF8.self)
        let partial = Request(head: head, body: [])
        let length = Int(partial.header("content-length") ?? "0") ?? 0
        guard pending.count >= end + 4 + length else { return nil }
        let body = Array(pending[(end + 4)..<(end + 4 + length)])
        pending.removeFirst(end + 4 + length)
        return Request(head: head, body: body)
    }

    /// Closes the listener only once the accept loop has left: closed while it polls, its descriptor
    /// number could go to the next test's listener, and this server would answer that test.
    func shutdown() {
        stop.store(true, ordering: .relaxed)
        while !acceptLoopEnded.load(ordering: .acquiring) { usleep(1_000) }
        listener.close()
    }

    /// A complete response with a Content-Length body.
    static func response(status: Int, reason: String = "X", contentType: String = "application/json", body: String) -> [UInt8] {
        Array("HTTP/1.1 \(status) \(reason)\r\nContent-Type: \(contentType)\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)".utf8)
    }
}
