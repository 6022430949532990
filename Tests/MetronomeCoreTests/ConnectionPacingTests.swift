// The pool's paced size: Little's law on a running median of service times, robust to a stall.
import XCTest
@testable import MetronomeCore

final class ConnectionPacingTests: XCTestCase {
    func testNoLimitOnThePoolBeforeAnyRequestFinished() {
        let pacing = ConnectionPacing()
        XCTAssertEqual(pacing.poolLimit(ratePerSec: 30_000, maxConnections: 10_000), 10_000)
        XCTAssertEqual(pacing.connectLimit(ratePerSec: 30_000, maxConnections: 10_000), ConnectionPacing.floor)
    }

    func testLimitsFollowLittlesLawWithAFloorAndTheCap() {
        var pacing = ConnectionPacing()
        for _ in 0..<1000 { pacing.noteService(2_000_000) }   // 2 ms
        XCTAssertEqual(Double(pacing.serviceEstimateNs), 2e6, accuracy: 2e6 * 0.05)
        // 30,000 rps × 2 ms = 60 in flight: the pool may hold 4 × 60, connects in flight 60 → the floor.
        XCTAssertEqual(Double(pacing.poolLimit(ratePerSec: 30_000, maxConnections: 10_000)), 240, accuracy: 12)
        XCTAssertEqual(pacing.connectLimit(ratePerSec: 30_000, maxConnections: 10_000), ConnectionPacing.floor)
        XCTAssertEqual(pacing.poolLimit(ratePerSec: 10, maxConnections: 10_000), ConnectionPacing.floor)
        XCTAssertEqual(pacing.poolLimit(ratePerSec: 1e9, maxConnections: 10_000), 10_000)
        XCTAssertEqual(pacing.poolLimit(ratePerSec: 10, maxConnections: 8), 8, "never above --max-connections")
    }

    /// The requests caught in a 2 s stall finish with 2 s service times; a mean would jump 1000×,
    /// the running median moves by 1/64 of itself per sample.
    func testAFewStalledRequestsDoNotBlowUpTheEstimate() {
        var pacing = ConnectionPacing()
        for _ in 0..<1000 { pacing.noteService(1_000_000) }
        for _ in 0..<64 { pacing.noteService(2_000_000_000) }
        XCTAssertLessThan(pacing.serviceEstimateNs, 3_000_000, "64 stalled requests move it less than e ×")
        for _ in 0..<200 { pacing.noteService(1_000_000) }
        XCTAssertEqual(Double(pacing.serviceEstimateNs), 1e6, accuracy: 1e6 * 0.05, "and it comes back")
        // A server that really slowed down is followed: the pool grows with it.
        for _ in 0..<1000 { pacing.noteService(50_000_000) }
        XCTAssertEqual(Double(pacing.serviceEstimateNs), 5e7, accuracy: 5e7 * 0.05)
    }
}
