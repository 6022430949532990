// The server's life: start in the background, serve many connections, pipelining, stop cleanly.
import XCTest
@testable import LLMSim
import MetronomeCore

final class SimServerTests: XCTestCase {
    func openDescriptorCount() -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? -1
    }

    func testStopEndsRunAndClosesEveryDescriptor() throws {
        let before = openDescriptorCount()
        var clients: [RawClient] = []
        do {
            let server = try SimServer.startInBackground(config: quickConfig { $0.ttftNs = 5_000_000_000 })
            for _ in 0..<50 {
                let client = try RawClient(port: server.port, timeoutMs: 2000)
                client.send(post("/v1/chat/completions", chatBody(maxTokens: 5, stream: true)))
                clients.append(client)
            }
            let deadline = monotonicNs() + 2_000_000_000
            while server.stats.running < 50 && monotonicNs() < deadline { sleepMs(1) }
            XCTAssertEqual(server.stats.running, 50)
            server.stopAndWait()
            XCTAssertTrue(server.hasFinished)
        }
        for client in clients {
            let bytes = client.receiveUntilClosed()
            XCTAssertTrue(String(decoding: bytes, as: UTF8.self).hasPrefix("HTTP/1.1 200 OK"), "the head went out at once")
            XCTAssertEqual(tokenEventCount(bytes), 0)
        }
        clients.removeAll()
        XCTAssertEqual(openDescriptorCount(), before, "listener, epoll, timerfd, eventfd and connections all closed")
    }

    func testPipelinedRequestsAreAnsweredInOrder() throws {
        try withServer(quickConfig()) { server in
            let client = try RawClient(port: server.port)
            client.send(post("/v1/chat/completions", chatBody(maxTokens: 3, stream: true))
                + "GET /health HTTP/1.1\r\n\r\n"
                + post("/v1/completions", #"{"prompt":"x","max_tokens":2,"ignore_eos":true}"#)
                + "GET /nope HTTP/1.1\r\n\r\n")
            let stream = client.readResponse()
            XCTAssertEqual(stream.events.last, "[DONE]")
            XCTAssertEqual(client.readResponse().status, 200)
            XCTAssertEqual(client.readResponse().json()["object"] as? String, "text_completion")
            XCTAssertEqual(client.readResponse().status, 404)
        }
    }

    func testThousandsOfConnectionsAtOnce() throws {
        try withServer(quickConfig { $0.fast = true }) { server in
            var clients: [RawClient] = []
            for _ in 0..<3000 { clients.append(try RawClient(port: server.port)) }
            for client in clients { client.send("GET / HTTP/1.1\r\n\r\n") }
            for client in clients { XCTAssertEqual(client.readResponse().status, 200) }
            XCTAssertEqual(server.stats.connectionsAccepted, 3000)
        }
    }
}
