// --keep-alive-timeout: idle keep-alive connections close after it, as uvicorn's do; busy ones never.
import Glibc
import XCTest
@testable import LLMSim
import MetronomeCore

final class KeepAliveTests: XCTestCase {
    let health = "GET /health HTTP/1.1\r\nHost: t\r\n\r\n"

    /// Milliseconds until the server closes `client` (the read returns end of stream), or nil
    /// when it is still open after `waitMs`.
    func msUntilClosed(_ client: RawClient, waitMs: Int32) -> Double? {
        let startNs = monotonicNs()
        var fds = [pollfd(fd: client.fd, events: Int16(POLLIN), revents: 0)]
        while true {
            let leftMs = Double(waitMs) - Double(monotonicNs() - startNs) / 1e6
            guard leftMs > 0 else { return nil }
            fds[0].revents = 0
            guard poll(&fds, 1, Int32(leftMs.rounded(.up))) > 0 else { continue }
            var byte: UInt8 = 0
            let n = recv(client.fd, &byte, 1, Int32(MSG_DONTWAIT))
            if n == 0 { return Double(monotonicNs() - startNs) / 1e6 }
            if n < 0 && errno != EAGAIN { return Double(monotonicNs() - startNs) / 1e6 }   // a reset also ends it
            if n > 0 { XCTFail("unexpected byte \(byte) on an idle connection") }
        }
    }

    func testAnIdleConnectionIsClosedAfterTheTimeout() throws {
        try withServer(quickConfig { $0.keepAliveTimeoutNs = 300_000_000 }) { server in
            let client = try RawClient(port: server.port)
            client.send(health)
            XCTAssertEqual(client.readResponse().status, 200)
            let closedAfterMs = msUntilClosed(client, waitMs: 4000)
            XCTAssertNotNil(closedAfterMs, "still open 4 s after its last response")
            XCTAssertGreaterThan(closedAfterMs ?? 0, 200, "closed before the timeout")
            let fresh = try RawClient(port: server.port)
            XCTAssertNotNil(msUntilClosed(fresh, waitMs: 4000), "a connection that never sent a request is idle too")
            XCTAssertEqual(server.stats.idleClosed, 2)
            XCTAssertFalse(server.hasFinished)
        }
    }

    /// The clock runs only while no request is in progress: a slow completion (600 ms to its first
    /// token) or a request head arriving in two parts 500 ms apart keeps the connection, and each
    /// response starts the clock again.
    func testARequestInProgressKeepsTheConnection() throws {
        try withServer(quickConfig { $0.keepAliveTimeoutNs = 200_000_000; $0.ttftNs = 600_000_000 }) { server in
            let client = try RawClient(port: server.port)
            client.send(post("/v1/chat/completions", chatBody(maxTokens: 2, stream: true)))
            let slow = client.readResponse()
            XCTAssertEqual(slow.status, 200)
            XCTAssertTrue(slow.complete, "the response was not cut by the keep-alive clock")
            client.send("GET /health HTTP/1.1\r\n")
            sleepMs(500)
            client.send("Host: t\r\n\r\n")
            XCTAssertEqual(client.readResponse().status, 200, "a half-sent head is a request in progress")
            for _ in 0..<4 {
                sleepMs(100)
                client.send(health)
                XCTAssertEqual(client.readResponse().status, 200, "each response restarts the clock")
            }
            XCTAssertEqual(server.stats.idleClosed, 0)
            XCTAssertNotNil(msUntilClosed(client, waitMs: 4000), "then idle, it closes")
            XCTAssertEqual(server.stats.idleClosed, 1)
        }
    }

    func testZeroNeverCloses() throws {
        try withServer(quickConfig { $0.keepAliveTimeoutNs = 0 }) { server in
            let client = try RawClient(port: server.port)
            client.send(health)
            XCTAssertEqual(client.readResponse().status, 200)
            XCTAssertNil(msUntilClosed(client, waitMs: 700))
            client.send(health)
            XCTAssertEqual(client.readResponse().status, 200)
            XCTAssertEqual(server.stats.idleClosed, 0)
        }
    }
}
