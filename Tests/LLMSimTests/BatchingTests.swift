// Continuous batching: FIFO admission at max-num-seqs, the batch slope, 429 when too many wait.
import XCTest
@testable import LLMSim
import MetronomeCore

final class BatchingTests: XCTestCase {
    func streamRequest(tokens: Int) -> [UInt8] {
        Array(post("/v1/chat/completions", chatBody(maxTokens: tokens, stream: true)).utf8)
    }

    /// max-num-seqs 2, four requests at once, ttft 40 ms, itl 10 ms, 5 tokens (80 ms each):
    /// 1 and 2 run at once; 3 starts when 1 sends its last token, 4 when 2 does.
    func testRequestsBeyondCapacityWaitInFIFOOrder() throws {
        let config = quickConfig {
            $0.maxNumSeqs = 2
            $0.ttftNs = 40_000_000
            $0.itlNs = 10_000_000
        }
        try withServer(config) { server in
            let now = monotonicNs()
            let requests = (0..<4).map { (bytes: streamRequest(tokens: 5), atNs: now + UInt64($0) * 2_000_000) }
            let result = try tokenArrivals(port: server.port, requests: requests)
            XCTAssertEqual(result.arrivals.map(\.count), [5, 5, 5, 5])
            let firsts = result.arrivals.map { Double($0[0] - now) / 1e6 }
            let lasts = result.arrivals.map { Double($0[4] - now) / 1e6 }
            print("FIFO: first tokens at \(firsts) ms, last tokens at \(lasts) ms")
            XCTAssertEqual(firsts[0], 40, accuracy: 3)
            XCTAssertEqual(firsts[1], 42, accuracy: 3)
            // Admitted at the model time of the finishing request's last token, then ttft.
            XCTAssertEqual(firsts[2], lasts[0] + 40, accuracy: 3)
            XCTAssertEqual(firsts[3], lasts[1] + 40, accuracy: 3)
            XCTAssertEqual(firsts[2], 120, accuracy: 3)
            XCTAssertLessThan(firsts[2], firsts[3], "FIFO: the earlier request is admitted first")
            XCTAssertEqual(server.stats.completions, 4)
        }
    }

    func testWaitingCountIsVisibleWhileQueued() throws {
        let config = quickConfig {
            $0.maxNumSeqs = 1
            $0.ttftNs = 200_000_000
        }
        try withServer(config) { server in
            let clients = try (0..<3).map { _ in try RawClient(port: server.port) }
            for client in clients { client.send(post("/v1/chat/completions", chatBody(maxTokens: 1))) }
            let deadline = monotonicNs() + 1_000_000_000
            while server.stats.waiting < 2 && monotonicNs() < deadline { sleepMs(1) }
            XCTAssertEqual(server.stats.running, 1)
            XCTAssertEqual(server.stats.waiting, 2)
            for client in clients { XCTAssertEqual(client.readResponse().status, 200) }
            XCTAssertEqual(server.stats.waiting, 0)
        }
    }

    /// The batch slope: with two running, each gap is itl × (1 + slope).
    func testInterTokenDelayGrowsWithTheBatch() throws {
        let config = quickConfig {
            $0.ttftNs = 10_000_000
            $0.itlNs = 10_000_000
            $0.batchItlSlope = 1.0
        }
        try withServer(config) { server in
            let now = monotonicNs()
            let requests = (0..<2).map { _ in (bytes: streamRequest(tokens: 6), atNs: now) }
            let result = try tokenArrivals(port: server.port, requests: requests)
            let gaps = zip(result.arrivals[0].dropFirst(), result.arrivals[0]).map { Double($0 - $1) / 1e6 }
            print("gaps with two running and slope 1: \(gaps) ms")
            XCTAssertEqual(gaps.reduce(0, +) / Double(gaps.count), 20, accuracy: 1.5)
        }
    }

    func testRejectWhenWaitingAnswers429() throws {
        let config = quickConfig {
            $0.maxNumSeqs = 1
            $0.rejectWhenWaiting = 1
            $0.ttftNs = 150_000_000
        }
        try withServer(config) { server in
            let running = try RawClient(port: server.port)
            running.send(post("/v1/chat/completions", chatBody(maxTokens: 1)))
            let waiting = try RawClient(port: server.port)
            waiting.send(post("/v1/chat/completions", chatBody(maxTokens: 1)))
            let deadline = monotonicNs() + 1_000_000_000
            while server.stats.waiting < 1 && monotonicNs() < deadline { sleepMs(1) }
            let rejected = try RawClient(port: server.port)
            rejected.send(post("/v1/chat/completions", chatBody(maxTokens: 1)))
            let answer = rejected.readResponse()
            XCTAssertEqual(answer.status, 429)
            let error = answer.json()
            XCTAssertEqual(error["object"] as? String, "error")
            XCTAssertEqual(error["code"] as? Int, 429)
            XCTAssertEqual(running.readResponse().status, 200)
            XCTAssertEqual(waiting.readResponse().status, 200)
            XCTAssertEqual(server.stats.rejected, 1)
        }
    }
}
