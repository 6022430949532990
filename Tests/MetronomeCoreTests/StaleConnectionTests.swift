// A server that closes a kept-alive connection as the next request arrives: the request was written,
// so the server may have taken it, and Metronome does not send it again (it fails on its own line).
import Foundation
import Glibc
import Synchronization
import XCTest
@testable import MetronomeCore

final class StaleConnectionTests: XCTestCase {
    /// Answers every request with a 2-byte 200, except that the first connection is closed, unanswered,
    /// when its second request arrives. Blocking sockets on one thread: the test's load is tiny.
    final class ClosingServer: @unchecked Sendable {
        let listener: Listener
        private let connections = Atomic<Int>(0)
        private let requests = Atomic<Int>(0)
        var requestsReceived: Int { requests.load(ordering: .relaxed) }
        private let stop = Atomic<Bool>(false)
        private let acceptLoopEnded = Atomic<Bool>(false)

        init() throws { listener = try Listener(host: "127.0.0.1", port: 0) }

        func start() {
            Thread.detachNewThread { [self] in
                var pollDescriptor = pollfd(fd: listener.fd, events: Int16(POLLIN), revents: 0)
                while !stop.load(ordering: .relaxed) {
                    guard poll(&pollDescriptor, 1, 50) > 0, case .connection(let fd) = listener.acceptOne() else { continue }
                    let number = connections.wrappingAdd(1, ordering: .relaxed).newValue
                    Thread.detachNewThread { self.serve(fd, closeOnSecondRequest: number == 1) }
                }
                acceptLoopEnded.store(true, ordering: .releasing)
            }
        }

        func serve(_ fd: Int32, closeOnSecondRequest: Bool) {
            let flags = fcntl(fd, F_GETFL)
            _ = fcntl(fd, F_SETFL, flags & ~O_NONBLOCK)
            var buffer = [UInt8](repeating: 0, count: 4096)
            var pending: [UInt8] = []
            var requests = 0
            while true {
                let n = read(fd, &buffer, buffer.count)
                if n <= 0 { break }
                pending += buffer[0..<n]
                // GET requests without bodies: each ends at the blank line.
                while let end = pending.indices.dropLast(3).first(where: { pending[$0...$0 + 3] == [13, 10, 13, 10] }) {
                    pending.removeFirst(end + 4)
                    requests += 1
                    self.requests.wrappingAdd(1, ordering: .relaxed)
                    if closeOnSecondRequest && requests == 2 {
                        close(fd)
                        return
                    }
                    let response = Array("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".utf8)
                    _ = response.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                }
            }
            close(fd)
        }

        /// The listener closes after the accept loop left, so its descriptor cannot go to another
        /// test's listener while this loop still polls it.
        func shutdown() {
            stop.store(true, ordering: .relaxed)
            while !acceptLoopEnded.load(ordering: .acquiring) { usleep(1_000) }
            listener.close()
        }
    }

    func testRequestOnAConnectionClosedUnderItIsNotResent() throws {
        let server = try ClosingServer()
        server.start()
        defer { server.shutdown() }
        let options = try OptionTable.parse(["http://127.0.0.1:\(server.listener.boundPort)/", "--workload", "http", "--rate", "5",
                                             "--duration", "1s", "--arrival", "constant", "--quiet", "--no-files"])
        let (summary, _) = try LoadRun(options: options).execute(handlesSignals: false)
        XCTAssertEqual(summary.total.scheduled, 5)
        XCTAssertEqual(summary.total.succeeded, 4, "\(summary.total.errors)")
        XCTAssertEqual(summary.total.errors.map(\.kind), ["closed_before_response"])
        XCTAssertEqual(summary.staleConnectionRetries, 0)
        XCTAssertEqual(summary.total.sent, 5)
        XCTAssertEqual(server.requestsReceived, 5, "what the server received is what the report sent")
        XCTAssertEqual(summary.connectionsOpened, 2)
    }
}
