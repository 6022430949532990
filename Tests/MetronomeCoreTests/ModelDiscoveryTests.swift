// Model discovery against hostile servers: one overall deadline, a size cap, and a clear message.
import Foundation
import Glibc
import Synchronization
import XCTest
@testable import MetronomeCore

/// A loopback server that runs `script` on each connection (a blocking socket, its own thread) and
/// stops by itself after `lifetimeS`, so a test against old code that never gives up still ends.
final class DiscoveryServer: @unchecked Sendable {
    let listener: Listener
    let stopped = Atomic<Bool>(false)
    private let acceptLoopEnded = Atomic<Bool>(false)
    let bytesWritten = Atomic<Int>(0)
    private let script: @Sendable (Int32, DiscoveryServer) -> Void
    private let lifetimeS: Double

    init(lifetimeS: Double = 10, script: @escaping @Sendable (Int32, DiscoveryServer) -> Void) throws {
        listener = try Listener(host: "127.0.0.1", port: 0)
        self.script = script
        self.lifetimeS = lifetimeS
        let started = Date()
        Thread.detachNewThread { [self] in
            var descriptor = pollfd(fd: listener.fd, events: Int16(POLLIN), revents: 0)
            while !stopped.load(ordering: .relaxed) && Date().timeIntervalSince(started) < lifetimeS {
                guard poll(&descriptor, 1, 50) > 0, case .connection(let fd) = listener.acceptOne() else { continue }
                _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
                Thread.detachNewThread {
                    self.script(fd, self)
                    close(fd)
                }
            }
            stopped.store(true, ordering: .relaxed)
            acceptLoopEnded.store(true, ordering: .releasing)
        }
    }

    var port: UInt16 { listener.boundPort }
    var isStopped: Bool { stopped.load(ordering: .relaxed) }

    /// Reads up to the end of a request head (the blank line).
    static func readHead(_ fd: Int32) {
        var pending: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !(pending.count >= 4 && pending.suffix(4).elementsEqual([13, 10, 13, 10])) {
            let n = read(fd, &buffer, buffer.count)
            if n <= 0 { return }
            pending += buffer[0..<n]
        }
    }

    /// Writes all of `bytes`; false once the peer is gone.
    func send(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return false }
            offset += n
            bytesWritten.wrappingAdd(n, ordering: .relaxed)
        }
        return true
    }

    /// Closes the listener only once the accept loop has left: closed while it polls, its descriptor
    /// number could go to the next test's listener, and this server's script would answer that test.
    func shutdown() {
        stopped.store(true, ordering: .relaxed)
        while !acceptLoopEnded.load(ordering: .acquiring) { usleep(1_000) }
        listener.close()
    }
}

final class ModelDiscoveryTests: XCTestCase {
    func discover(_ server: DiscoveryServer, timeoutNs: UInt64) throws -> String {
        let address = try SocketAddress.resolve(host: "127.0.0.1", port: server.port)
        return try ModelDiscovery.firstModel(address: address, hostHeader: "127.0.0.1:\(server.port)", headers: [],
                                             timeoutNs: timeoutNs, url: "http://127.0.0.1:\(server.port)/v1/models")
    }

    func testAWellBehavedServerNamesItsModel() throws {
        let server = try DiscoveryServer { fd, server in
            DiscoveryServer.readHead(fd)
            let body = #"{"object":"list","data":[{"id":"m-1","object":"model"}]}"#
            _ = server.send(fd, Array("HTTP/1.1 200 OK\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)".utf8))
        }
        defer { server.shutdown() }
        XCTAssertEqual(try discover(server, timeoutNs: 5_000_000_000), "m-1")
    }

    /// Bodies a broken or hostile server may send with a 200: each ends in the one clear error, never
    /// a crash (a nesting bomb within the 1 MiB cap, invalid UTF-8) or a wrong model name.
    func testAnswersWithoutAModelIdAreRefusedWithTheSameMessage() throws {
        let bodies: [(String, [UInt8])] = [
            ("nesting bomb", Array(repeating: UInt8(ascii: "["), count: 200_000)),
            ("not an object", Array(#"[{"id":"m-1"}]"#.utf8)),
            ("data not objects", Array(#"{"data":["m-1"]}"#.utf8)),
            ("id not a string", Array(#"{"data":[{"id":true}]}"#.utf8)),
            ("empty id", Array(#"{"data":[{"id":""}]}"#.utf8)),
            ("invalid UTF-8", Array(#"{"data":[{"id":""#.utf8) + [0xFF, 0xFE] + Array(#""}]}"#.utf8)),
            ("truncated", Array(#"{"data":[{"id":"m-1"}"#.utf8)),
        ]
        for (name, body) in bodies {
            let server = try DiscoveryServer { fd, server in
                DiscoveryServer.readHead(fd)
                _ = server.send(fd, Array("HTTP/1.1 200 OK\r\nContent-Length: \(body.count)\r\n\r\n".utf8) + body)
            }
            defer { server.shutdown() }
            XCTAssertThrowsError(try discover(server, timeoutNs: 5_000_000_000), name) { error in
                XCTAssertTrue("\(error)".contains("did not list a model id"), "\(name): \(error)")
            }
        }
    }

    /// A server that trickles its answer a byte every 100 ms never lets a per-read timeout fire; the
    /// one deadline over the whole exchange must end discovery at --connect-timeout (1 s here).
    func testTricklingServerIsCutOffAtTheOverallDeadline() throws {
        let server = try DiscoveryServer(lifetimeS: 8) { fd, server in
            DiscoveryServer.readHead(fd)
            let head = Array("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n".utf8)
            var index = 0
            while !server.isStopped {
                guard server.send(fd, [index < head.count ? head[index] : UInt8(ascii: " ")]) else { return }
                index += 1
                usleep(100_000)
            }
        }
        defer { server.shutdown() }
        let started = Date()
        XCTAssertThrowsError(try discover(server, timeoutNs: 1_000_000_000)) { error in
            XCTAssertTrue("\(error)".contains("within 1s"), "\(error)")
            XCTAssertTrue("\(error)".contains("http://127.0.0.1:\(server.port)/v1/models"), "\(error)")
        }
        let elapsed = Date().timeIntervalSince(started)
        XCTAssertLessThan(elapsed, 4, "the deadline covers the whole exchange, not each read")
        XCTAssertGreaterThan(elapsed, 0.9)
    }

    /// A server that streams a body without end: discovery stops at 1 MiB with a message naming the
    /// URL and the cap, and the server saw the connection closed after little more than that.
    func testEndlessBodyIsCappedAtOneMebibyte() throws {
        let server = try DiscoveryServer(lifetimeS: 8) { fd, server in
            DiscoveryServer.readHead(fd)
            guard server.send(fd, Array("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".utf8)) else { return }
            let chunk = Array("10000\r\n".utf8) + [UInt8](repeating: UInt8(ascii: "x"), count: 0x10000) + [13, 10]
            // Bounded, so the old code (no cap) ends too: 256 MiB, or the lifetime.
            while !server.isStopped && server.bytesWritten.load(ordering: .relaxed) < 256 << 20 {
                guard server.send(fd, chunk) else { return }
            }
        }
        defer { server.shutdown() }
        XCTAssertThrowsError(try discover(server, timeoutNs: 30_000_000_000)) { error in
            XCTAssertTrue("\(error)".contains("exceeds 1024 KiB"), "\(error)")
            XCTAssertTrue("\(error)".contains("http://127.0.0.1:\(server.port)/v1/models"), "\(error)")
        }
        usleep(200_000)
        XCTAssertLessThan(server.bytesWritten.load(ordering: .relaxed), 32 << 20, "the client stopped reading near the cap")
    }

    /// A server that accepts and never answers: the deadline holds there too.
    func testSilentServerIsCutOffAtTheDeadline() throws {
        let server = try DiscoveryServer(lifetimeS: 8) { fd, server in
            DiscoveryServer.readHead(fd)
            while !server.isStopped { usleep(50_000) }
        }
        defer { server.shutdown() }
        let started = Date()
        XCTAssertThrowsError(try discover(server, timeoutNs: 500_000_000))
        XCTAssertLessThan(Date().timeIntervalSince(started), 3)
    }
}
