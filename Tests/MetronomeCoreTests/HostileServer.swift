// Small servers that misbehave on purpose (trickle, flood, close mid-answer, reset, hold and close),
// started in-process on a free loopback port and counting every request they fully received.
import Foundation
import Glibc
import Synchronization
@testable import MetronomeCore

/// Blocking sockets, a thread per connection: the tests' loads are tiny, and plain code is easy to trust.
final class HostileServer: @unchecked Sendable {
    enum Behaviour: Sendable {
        /// 200 "ok", keep-alive, to every request.
        case answer
        /// Answers the first `n - 1` requests of each connection; reads the n-th and closes unanswered.
        case closeAfter(requests: Int)
        /// Answers the first request of each connection; holds every later one `holdMs`, then closes.
        case holdThenClose(holdMs: Int)
        /// Answers after `delayMs` (a slow but honest server).
        case answerAfter(delayMs: Int)
        /// 200 with a chunked event stream that never ends, written as fast as the socket takes it.
        case floodEvents
        /// A chunked 200 whose last chunk is followed by trailer fields without end.
        case floodTrailers
        /// The head (Content-Length: 100) and then a FIN.
        case closeAfterHeaders
        /// The head and 10 of 100 body bytes, then a FIN.
        case closeMidBody
        /// The head, then an RST (SO_LINGER 0).
        case resetAfterHeaders
        /// A status line with this code (any three digits), Content-Length 0.
        case status(Int)
        /// A 100-byte answer, one byte every `everyMs`: each read is short, none is the last.
        case trickle(everyMs: Int)
        /// 200 "ok" with neither length nor chunking (`Connection: close`), the close `closeAfterMs`
        /// after the body: the answer is complete only at the close.
        case closeDelimited(closeAfterMs: Int)
    }

    let listener: Listener
    let behaviour: Behaviour
    private let received = Atomic<Int>(0)
    private let accepted = Atomic<Int>(0)
    private let stopping = Atomic<Bool>(false)
    private let live = Atomic<Int>(0)

    /// Requests whose head (and body, by Content-Length) arrived whole.
    var requestsReceived: Int { received.load(ordering: .relaxed) }
    var connectionsAccepted: Int { accepted.load(ordering: .relaxed) }
    var port: UInt16 { listener.boundPort }
    var url: String { "http://127.0.0.1:\(port)/" }

    init(_ behaviour: Behaviour) throws {
        self.behaviour = behaviour
        ignoreSIGPIPE() // a client that goes away mid-flood must not end the test process
        listener = try Listener(host: "127.0.0.1", port: 0)
        Thread.detachNewThread { [self] in acceptLoop() }
    }

    /// Stops accepting and ends every connection's thread within about 50 ms.
    func stop() {
        stopping.store(true, ordering: .relaxed)
        let deadline = Date().addingTimeInterval(5)
        while live.load(ordering: .relaxed) > 0 && Date() < deadline { usleep(5_000) }
        listener.close()
    }

    private var isStopping: Bool { stopping.load(ordering: .relaxed) }

    private func acceptLoop() {
        live.wrappingAdd(1, ordering: .relaxed)
        defer { live.wrappingSubtract(1, ordering: .relaxed) }
        var pollDescriptor = pollfd(fd: listener.fd, events: Int16(POLLIN), revents: 0)
        while !isStopping {
            // EMFILE here (a test lowering the descriptor limit) is retried on the next poll.
            guard poll(&pollDescriptor, 1, 20) > 0, case .connection(let fd) = listener.acceptOne() else { continue }
            accepted.wrappingAdd(1, ordering: .relaxed)
            live.wrappingAdd(1, ordering: .relaxed)
            Thread.detachNewThread { [self] in
                serve(fd)
                live.wrappingSubtract(1, ordering: .relaxed)
            }
        }
    }

    private func serve(_ fd: Int32) {
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags & ~O_NONBLOCK)
        var timeout = timeval(tv_sec: 0, tv_usec: 20_000) // reads wake up to see `stop()`
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var pending: [UInt8] = []
        var requestsOnConnection = 0
        defer { close(fd) }
        while !isStopping {
            guard readRequest(fd, &pending) else { return }
            received.wrappingAdd(1, ordering: .relaxed)
            requestsOnConnection += 1
            switch behaviour {
            case .answer:
                guard send(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok") else { return }
            case .closeAfter(let n):
                if requestsOnConnection >= n { return }
                guard send(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok") else { return }
            case .holdThenClose(let holdMs):
                if requestsOnConnection > 1 {
                    pause(ms: holdMs)
                    return
                }
                guard send(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok") else { return }
            case .answerAfter(let delayMs):
                pause(ms: delayMs)
                guard send(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok") else { return }
            case .floodEvents:
                guard send(fd, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n") else { return }
                let event = "data: {\"choices\":[{\"delta\":{\"content\":\"x\"}}]}\n\n"
                let chunk = String(event.utf8.count * 4096, radix: 16) + "\r\n" + String(repeating: event, count: 4096) + "\r\n"
                flood(fd, chunk)
                return
            case .floodTrailers:
                guard send(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n") else { return }
                flood(fd, String(repeating: "X-Trailer: more and more and more\r\n", count: 8192))
                return
            case .closeAfterHeaders:
                _ = send(fd, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n")
                pause(ms: 20)
                return
            case .closeMidBody:
                _ = send(fd, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789")
                pause(ms: 20)
                return
            case .resetAfterHeaders:
                _ = send(fd, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n")
                pause(ms: 20)
                var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
                setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
                return
            case .status(let code):
                guard send(fd, "HTTP/1.1 \(code) Odd\r\nContent-Length: 0\r\n\r\n") else { return }
            case .closeDelimited(let closeAfterMs):
                _ = send(fd, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nok")
                pause(ms: closeAfterMs)
                return
            case .trickle(let everyMs):
                for byte in Array("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n".utf8) + Array(repeating: UInt8(ascii: "x"), count: 100) {
                    guard !isStopping, send(fd, String(decoding: [byte], as: UTF8.self)) else { return }
                    pause(ms: everyMs)
                }
            }
        }
    }

    /// Reads until one whole request (head, and body by Content-Length) is in `pending`, and takes
    /// it off. False on end of file, error, or `stop()`.
    private func readRequest(_ fd: Int32, _ pending: inout [UInt8]) -> Bool {
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        while !isStopping {
            if let headEnd = pending.firstRange(of: [13, 10, 13, 10])?.upperBound {
                let head = String(decoding: pending[..<headEnd], as: UTF8.self).lowercased()
                var bodyLength = 0
                if let line = head.split(separator: "\r\n").first(where: { $0.hasPrefix("content-length:") }) {
                    bodyLength = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) ?? 0
                }
                if pending.count >= headEnd + bodyLength {
                    pending.removeFirst(headEnd + bodyLength)
                    return true
                }
            }
            let n = read(fd, &buffer, buffer.count)
            if n > 0 {
                pending += buffer[0..<n]
            } else if n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                return false
            }
        }
        return false
    }

    private func send(_ fd: Int32, _ text: String) -> Bool {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty && !isStopping {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n > 0 { bytes = bytes.dropFirst(n) } else if n < 0 && errno != EAGAIN && errno != EINTR { return false }
        }
        return bytes.isEmpty
    }

    /// Writes `text` (a few hundred KiB) again and again, as fast as the socket takes it, until the
    /// client goes away or the server stops: each of the client's reads then fills its buffer.
    private func flood(_ fd: Int32, _ text: String) {
        let bytes = Array(text.utf8)
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while !isStopping {
                let n = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if n > 0 {
                    offset += n
                    if offset == buffer.count { offset = 0 }
                } else if n < 0 && errno != EAGAIN && errno != EINTR {
                    return
                }
            }
        }
    }

    private func pause(ms: Int) {
        let deadline = Date().addingTimeInterval(Double(ms) / 1000)
        while !isStopping && Date() < deadline { usleep(5_000) }
    }
}
