// The engine against servers that misbehave: nothing hangs, nothing is replayed, every request is
// counted once, and each way a connection can fail has its own outcome.
import Foundation
import Glibc
import Synchronization
import XCTest
@testable import MetronomeCore

final class HostileServerTests: XCTestCase {
    func server(_ behaviour: HostileServer.Behaviour) throws -> HostileServer {
        let server = try HostileServer(behaviour)
        addTeardownBlock { server.stop() }
        return server
    }

    /// Runs `metronome run` options against `url` on another thread; fails the test (and ends the
    /// server, which ends the run) if it has not returned within `limitS`: a hang is a failure, not a stall.
    func run(_ server: HostileServer, _ arguments: [String], limitS: Double = 30) throws -> (RunSummary, RunStats, Double) {
        let options = try OptionTable.parse([server.url, "--workload", "http", "--quiet", "--no-files"] + arguments)
        let load = try LoadRun(options: options)
        let finished = DispatchSemaphore(value: 0)
        let box = RunBox(load)
        let started = Date()
        Thread.detachNewThread {
            box.result = Result { try box.load.execute(handlesSignals: false).0 }
            finished.signal()
        }
        if finished.wait(timeout: .now() + limitS) == .timedOut {
            XCTFail("the run did not end within \(limitS) s")
            server.stop()
            finished.wait()
        }
        let elapsedS = Date().timeIntervalSince(started)
        let summary = try box.result!.get()
        let total = summary.total
        XCTAssertEqual(total.scheduled, total.succeeded + total.failed + total.dropped + total.unfinished, "outcomes must add up")
        return (summary, load.stats, elapsedS)
    }

    /// The run's thread writes `result` before it signals; the test reads it after the wait.
    final class RunBox: @unchecked Sendable {
        let load: LoadRun
        var result: Result<RunSummary, Error>?
        init(_ load: LoadRun) { self.load = load }
    }

    // MARK: A fast connection cannot starve the loop

    func testEndlessEventStreamDoesNotHoldOffScheduleOrTimeout() throws {
        let server = try server(.floodEvents)
        let (summary, stats, elapsedS) = try run(server, ["--rate", "4", "--duration", "1s", "--arrival", "constant",
                                                          "--timeout", "1s", "--drain", "2s"])
        XCTAssertEqual(summary.total.scheduled, 4)
        XCTAssertEqual(summary.total.sent, 4, "every scheduled request goes out while another connection floods")
        XCTAssertEqual(server.requestsReceived, 4)
        XCTAssertEqual(stats.total.count(.timeout), 4, "--timeout ends each endless response")
        XCTAssertGreaterThan(stats[.readBudgetYields], 0)
        XCTAssertLessThan(elapsedS, 15, "plan 1 s + timeout 1 s, far from the 30 s guard")
    }

    func testEndlessTrailersDoNotHoldOffScheduleOrTimeout() throws {
        let server = try server(.floodTrailers)
        let (summary, stats, _) = try run(server, ["--rate", "4", "--duration", "1s", "--arrival", "constant",
                                               "--timeout", "1s", "--drain", "2s"])
        XCTAssertEqual(summary.total.sent, 4)
        XCTAssertEqual(server.requestsReceived, 4)
        XCTAssertEqual(stats.total.count(.timeout), 4)
    }

    /// A server that answers a byte every 50 ms never goes quiet long enough for a per-read timeout:
    /// `--timeout` counts from the send, so each request ends at 1 s, and the schedule goes on beside them.
    func testTricklingAnswerEndsAtTheRequestTimeout() throws {
        let server = try server(.trickle(everyMs: 50))
        let (summary, stats, elapsedS) = try run(server, ["--rate", "4", "--duration", "1s", "--arrival", "constant",
                                                          "--timeout", "1s", "--drain", "3s"])
        XCTAssertEqual(summary.total.sent, 4, "every request went out while the others trickled")
        XCTAssertEqual(server.requestsReceived, 4)
        XCTAssertEqual(stats.total.count(.timeout), 4, "\(summary.total.errors)")
        XCTAssertEqual(summary.total.succeeded, 0, "an answer of 7 s cannot finish within a 1 s timeout")
        XCTAssertLessThan(elapsedS, 15, "plan 1 s + timeout 1 s, far from the 30 s guard")
    }

    // MARK: Nothing is replayed that the server may have taken

    func testRequestHeldThenClosedIsNotSentAgain() throws {
        let server = try server(.holdThenClose(holdMs: 1500))
        let (summary, stats, _) = try run(server, ["--rate", "4", "--duration", "2s", "--arrival", "constant",
                                                   "--max-connections", "1", "--drain", "5s"])
        XCTAssertEqual(summary.total.scheduled, 8)
        XCTAssertEqual(server.requestsReceived, Int(summary.total.sent), "the server never receives more than the report sent")
        XCTAssertEqual(summary.staleConnectionRetries, 0)
        XCTAssertGreaterThan(stats.total.count(.closedBeforeResponse), 0)
        XCTAssertEqual(stats[.replaysRefused], stats.total.count(.closedBeforeResponse))
    }

    func testPOSTsOnAServerThatClosesAfterTwoRequestsAreEachSentOnce() throws {
        let server = try server(.closeAfter(requests: 2))
        let body = FileManager.default.temporaryDirectory.appendingPathComponent("metronome-post-\(getpid()).json")
        try Data("{\"n\":1}".utf8).write(to: body)
        defer { try? FileManager.default.removeItem(at: body) }
        let (summary, stats, _) = try run(server, ["--rate", "200", "--duration", "1s", "--arrival", "constant",
                                               "--method", "POST", "--body", body.path, "--drain", "3s"])
        XCTAssertEqual(summary.total.scheduled, 200)
        XCTAssertEqual(server.requestsReceived, Int(summary.total.sent), "no POST reaches the server twice")
        XCTAssertEqual(summary.total.sent, 200)
        XCTAssertEqual(summary.total.succeeded + stats.total.count(.closedBeforeResponse), 200)
        XCTAssertGreaterThan(stats.total.count(.closedBeforeResponse), 0, "the unanswered ones are failures, not silently re-sent")
    }

    // MARK: Each way of failing is its own kind

    func testCloseAfterHeadersMidBodyAndResetAreTold() throws {
        let cases: [(HostileServer.Behaviour, Outcome)] = [(.closeAfterHeaders, .closedEarly), (.closeMidBody, .closedEarly),
                                                           (.resetAfterHeaders, .reset), (.closeAfter(requests: 1), .closedBeforeResponse)]
        for (behaviour, expected) in cases {
            let server = try server(behaviour)
            let (summary, stats, _) = try run(server, ["--rate", "5", "--duration", "1s", "--arrival", "constant"])
            XCTAssertEqual(stats.total.count(expected), 5, "\(behaviour): \(summary.total.errors)")
        }
    }

    // MARK: Held reads (the loop sleeping through answers, `--read-hold`)

    /// At 100 rps with `--read-hold 10ms` the next arrival is always within the hold, so the loop
    /// sleeps through answers and reads them late: each misbehaviour is still its own outcome, every
    /// request counted once.
    func testHeldReadsTellEachWayOfFailing() throws {
        let cases: [(HostileServer.Behaviour, Outcome)] = [(.closeAfterHeaders, .closedEarly), (.closeMidBody, .closedEarly),
                                                           (.resetAfterHeaders, .reset), (.closeAfter(requests: 1), .closedBeforeResponse)]
        for (behaviour, expected) in cases {
            let server = try server(behaviour)
            let (summary, stats, _) = try run(server, ["--rate", "100", "--duration", "500ms", "--arrival", "constant",
                                                       "--read-hold", "10ms", "--drain", "3s"])
            XCTAssertEqual(server.requestsReceived, 50, "\(behaviour)")
            XCTAssertEqual(stats.total.count(expected), 50, "\(behaviour): \(summary.total.errors)")
            XCTAssertGreaterThan(summary.connectionCounter(.readsHeld), 0, "\(behaviour): the loop held reads")
        }
    }

    /// A trickled answer (140 bytes, a byte a millisecond) read late in many pieces ends at the
    /// receive stamp of its last byte: never before the 139 pauses between the server's writes.
    func testHeldReadsOfATrickledAnswerEndAtItsLastByte() throws {
        let server = try server(.trickle(everyMs: 1))
        let (summary, _, _) = try run(server, ["--rate", "100", "--duration", "500ms", "--arrival", "constant",
                                               "--read-hold", "10ms", "--timeout", "5s", "--drain", "5s"])
        XCTAssertEqual(summary.total.succeeded, 50, "\(summary.total.errors)")
        XCTAssertEqual(summary.connectionCounter(.kernelReceiveStamps), 50)
        XCTAssertGreaterThan(summary.connectionCounter(.readsHeld), 0)
        XCTAssertGreaterThanOrEqual(summary.total.latency.min, 138.8, "139 pauses of a millisecond before the last byte (less the histogram's 0.1 %)")
    }

    /// An answer ended by the close is complete only at the close, which the kernel does not stamp:
    /// held or not, its latency includes the 30 ms the server waited before closing.
    func testAnAnswerEndedByTheCloseEndsAtTheCloseWhenReadsAreHeld() throws {
        let server = try server(.closeDelimited(closeAfterMs: 30))
        for hold in ["10ms", "0"] {
            let (summary, _, _) = try run(server, ["--rate", "100", "--duration", "500ms", "--arrival", "constant",
                                                   "--read-hold", hold, "--drain", "3s"])
            XCTAssertEqual(summary.total.succeeded, 50, "--read-hold \(hold): \(summary.total.errors)")
            XCTAssertGreaterThanOrEqual(summary.total.latency.min, 29.97, "--read-hold \(hold): timed before the close (less the histogram's 0.1 %)")
            XCTAssertEqual(summary.connectionCounter(.kernelReceiveStamps), 0, "--read-hold \(hold)")
        }
    }

    /// A flooding connection and held reads: the loop still sends on schedule and times each out.
    func testHeldReadsBesideAnEndlessStreamKeepScheduleAndTimeout() throws {
        let server = try server(.floodEvents)
        let (summary, stats, _) = try run(server, ["--rate", "20", "--duration", "500ms", "--arrival", "constant",
                                                   "--read-hold", "10ms", "--timeout", "500ms", "--drain", "2s"])
        XCTAssertEqual(summary.total.sent, 10)
        XCTAssertEqual(server.requestsReceived, 10)
        XCTAssertEqual(stats.total.count(.timeout), 10)
    }

    // MARK: Idle connections

    func testIdleConnectionsAreClosedByTheGeneratorAfterTheIdleTimeout() throws {
        let server = try server(.answer)
        let (summary, stats, _) = try run(server, ["--rate", "4", "--duration", "1s", "--arrival", "constant",
                                                   "--idle-timeout", "100ms"])
        XCTAssertEqual(summary.total.succeeded, 4)
        XCTAssertEqual(summary.connectionsOpened, 4, "250 ms gaps outlast a 100 ms idle timeout: a new connection each time")
        XCTAssertGreaterThanOrEqual(stats[.idleClosedByClient], 3)
        XCTAssertEqual(server.requestsReceived, 4)
    }

    func testIdleConnectionsAreKeptWithinTheIdleTimeout() throws {
        let server = try server(.answer)
        let (summary, stats, _) = try run(server, ["--rate", "4", "--duration", "1s", "--arrival", "constant"])
        XCTAssertEqual(summary.total.succeeded, 4)
        XCTAssertEqual(summary.connectionsOpened, 1)
        XCTAssertEqual(stats[.idleClosedByClient], 0)
    }
}

extension HostileServerTests {
    /// The check made before an idle connection, idle a while, carries a request.
    func testSpentIdleConnectionIsToldApart() throws {
        var pair: [Int32] = [0, 0]
        XCTAssertEqual(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0, &pair), 0)
        XCTAssertFalse(idleConnectionIsSpent(pair[0]), "open and quiet: usable")
        _ = write(pair[1], "x", 1)
        XCTAssertTrue(idleConnectionIsSpent(pair[0]), "bytes nobody asked for")
        var byte: UInt8 = 0
        XCTAssertEqual(read(pair[0], &byte, 1), 1, "the peek left the byte in place")
        close(pair[1])
        XCTAssertTrue(idleConnectionIsSpent(pair[0]), "the peer's end of file")
        close(pair[0])
    }
}
