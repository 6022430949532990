// The pool's paced size: Little's law on a time-sampled running median of service times, robust to a stall.
import XCTest
@testable import MetronomeCore

final class ConnectionPacingTests: XCTestCase {
    let intervalNs = ConnectionPacing.sampleIntervalNs

    /// Feeds `count` samples of `serviceNs`, `spacingNs` apart, from `clock` on.
    func feed(_ pacing: inout ConnectionPacing, _ clock: inout UInt64, count: Int, serviceNs: UInt64, spacingNs: UInt64) {
        for _ in 0..<count {
            pacing.noteService(serviceNs, atNs: clock)
            clock += spacingNs
        }
    }

    /// No answer yet: a frozen server and a slow one look alike, so the pool starts at 10 ms of
    /// arrivals (or the floor) and doubles once a second; the first answer hands over to Little's law.
    func testBeforeAnyRequestFinishedThePoolDoublesOnceASecond() {
        var pacing = ConnectionPacing()
        let second = ConnectionPacing.unknownDoublingNs
        XCTAssertEqual(pacing.poolLimit(ratePerSec: 30_000, elapsedNs: 0, maxConnections: 10_000), 300)
        XCTAssertEqual(pacing.poolLimit(ratePerSec: 30_000, elapsedNs: second - 1, maxConnections: 10_000), 300)
        XCTAssertEqual(pacing.poolLimit(ratePerSec: 30_000, elapsedNs: 2 * second, maxConnections: 10_000), 1_200)
        XCTAssertEqual(pacing.poolLimit(ratePerSec: 30_000, elapsedNs: 10 * second, maxConnections: 10_000), 10_000)
        XCTAssertEqual(pacing.poolLimit(ratePerSec: 30_000, elapsedNs: UInt64.max, maxConnections: 10_000), 10_000)
        XCTAssertEqual(pacing.poolLimit(ratePerSec: 10, elapsedNs: second, maxConnections: 10_000), 2 * ConnectionPacing.poolFloor)
        XCTAssertEqual(pacing.connectLimit(ratePerSec: 30_000, maxConnections: 10_000), ConnectionPacing.connectFloor)
        // A server slow to start (first answer after 1.5 s) that then answers in 100 ms: at 5,000 rps
        // Little's law wants 500 in flight, and the pool may hold 4 × 500 + 50 at once.
        pacing.noteService(100_000_000, atNs: 1_500_000_000)
        XCTAssertEqual(pacing.poolLimit(ratePerSec: 5_000, elapsedNs: 1_500_000_000, maxConnections: 10_000), 2_050)
        XCTAssertEqual(pacing.connectLimit(ratePerSec: 5_000, maxConnections: 10_000), 500)
    }

    func testLimitsFollowLittlesLawWithAFloorAndTheCap() {
        var pacing = ConnectionPacing()
        var clock: UInt64 = 1
        feed(&pacing, &clock, count: 100, serviceNs: 5_000_000, spacingNs: intervalNs)   // 5 ms
        XCTAssertEqual(pacing.serviceEstimateNs, 5_000_000)
        // 30,000 rps × 5 ms = 150 in flight: the pool may hold 4 × 150 + 300 (10 ms of arrivals) = 900,
        // with 150 connects under way.
        XCTAssertEqual(pacing.poolLimit(ratePerSec: 30_000, elapsedNs: 0, maxConnections: 10_000), 900)
        XCTAssertEqual(pacing.connectLimit(ratePerSec: 30_000, maxConnections: 10_000), 150)
        XCTAssertEqual(pacing.poolLimit(ratePerSec: 10, elapsedNs: 0, maxConnections: 10_000), ConnectionPacing.poolFloor)
        XCTAssertEqual(pacing.connectLimit(ratePerSec: 10, maxConnections: 10_000), ConnectionPacing.connectFloor)
        XCTAssertEqual(pacing.poolLimit(ratePerSec: 1e9, elapsedNs: 0, maxConnections: 10_000), 10_000)
        XCTAssertEqual(pacing.poolLimit(ratePerSec: 10, elapsedNs: 0, maxConnections: 8), 8, "never above --max-connections")
    }

    /// Service times 1, 2, …, 9 ms in turn: the estimate settles near the median (5 ms).
    func testEstimateSettlesNearTheMedian() {
        var pacing = ConnectionPacing()
        var clock: UInt64 = 1
        for i in 0..<20_000 {
            pacing.noteService(UInt64(1 + i % 9) * 1_000_000, atNs: clock)
            clock += intervalNs
        }
        XCTAssertGreaterThan(pacing.serviceEstimateNs, 4_500_000)
        XCTAssertLessThan(pacing.serviceEstimateNs, 5_500_000)
    }

    /// The first requests pay for connects and warm-up: S starts from the shortest of the first interval.
    func testTheFirstIntervalKeepsItsShortestSample() {
        var pacing = ConnectionPacing()
        var clock: UInt64 = 1
        feed(&pacing, &clock, count: 5, serviceNs: 20_000_000, spacingNs: 1_000)
        feed(&pacing, &clock, count: 5, serviceNs: 500_000, spacingNs: 1_000)
        XCTAssertEqual(pacing.serviceEstimateNs, 500_000)
    }

    /// A stall: the thousands of requests that finish right after it, with service times of seconds,
    /// arrive within a few sample intervals and barely move the estimate; a real slowdown does.
    func testAStallDoesNotBlowUpTheEstimateButASlowerServerIsFollowed() {
        var pacing = ConnectionPacing()
        var clock: UInt64 = 1
        feed(&pacing, &clock, count: 1000, serviceNs: 1_000_000, spacingNs: intervalNs)
        XCTAssertEqual(pacing.serviceEstimateNs, 1_000_000)
        // 60,000 requests of 2 s finish over 200 ms (0.3 per µs): four or five samples.
        feed(&pacing, &clock, count: 60_000, serviceNs: 2_000_000_000, spacingNs: 3_333)
        XCTAssertLessThan(pacing.serviceEstimateNs, 1_100_000, "at most ×1.1 after the stall")
        // A server that really slowed down to 50 ms: followed within a few seconds.
        feed(&pacing, &clock, count: 300, serviceNs: 50_000_000, spacingNs: intervalNs)
        XCTAssertEqual(Double(pacing.serviceEstimateNs), 5e7, accuracy: 5e7 * 0.05)
    }
}
