// A server that closes a kept-alive connection just as the next request arrives (uvicorn's keep-alive
// timeout race): the request never reached it, so Metronome re-sends it once on a new connection.
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
        private let stop = Atomic<Bool>(false)

        init() throws { listener = try Listener(host: "127.0.0.1", port: 0) }

        func start() {
            Thread.detachNewThread { [self] in
                var pollDescriptor = pollfd(fd: listener.fd, events: Int16(POLLIN), revents: 0)
                while !stop.load(ordering: .relaxed) {
                    guard poll(&pollDescriptor, 1, 50) > 0, case .connection(let fd) = listener.acceptOne() else { continue }
                    let number = connections.wrappingAdd(1, ordering: .relaxed).newValue
                    Thread.detachNewThread { self.serve(fd, closeOnSecondRequest: number == 1) }
                }
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

        func shutdown() {
            stop.store(true, ordering: .relaxed)
            listener.close()
        }
    }

    func testRequestOnAConnectionClosedUnderItIsResentOnce() throws {
        let server = try ClosingServer()
        server.start()
        defer { server.shutdown() }
        let options = try OptionTable.parse(["http://127.0.0.1:\(server.listener.boundPort)/", "--workload", "http", "--rate", "5",
                                             "--duration", "1s", "--arrival", "constant", "--quiet", "--no-files"])
        let (summary, _) = try LoadRun(options: options).execute(handlesSignals: false)
        XCTAssertEqual(summary.total.scheduled, 5)
        XCTAssertEqual(summary.total.succeeded, 5, "\(summary.total.errors)")
        XCTAssertEqual(summary.staleConnectionRetries, 1)
        XCTAssertEqual(summary.total.sent, 5, "the re-send is not counted as a second send")
        XCTAssertEqual(summary.connectionsOpened, 2)
    }
}
