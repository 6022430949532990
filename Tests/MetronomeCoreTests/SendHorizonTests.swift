// The send horizon: zero below the rate that puts an arrival in it, the cap above.
import XCTest
@testable import MetronomeCore

final class SendHorizonTests: XCTestCase {
    func testHorizonIsZeroAtLowRatesAndTheCapOnceAnArrivalFitsInIt() {
        let horizon = SendHorizon(capNs: 100_000)
        let table: [(Double, UInt64)] = [(0, 0), (10, 0), (1_000, 0), (9_999, 0), (10_000, 100_000), (30_000, 100_000), (1e9, 100_000)]
        for (rate, expected) in table {
            XCTAssertEqual(horizon.horizonNs(ratePerSec: rate), expected, "\(rate) rps")
        }
        XCTAssertEqual(SendHorizon(capNs: 0).horizonNs(ratePerSec: 1e9), 0, "a cap of 0 never sends ahead")
    }
}
