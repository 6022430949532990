// The send horizon: zero below the rate that puts three arrivals under the cap, three arrivals above.
import XCTest
@testable import MetronomeCore

final class SendHorizonTests: XCTestCase {
    func testHorizonIsZeroAtLowRatesAndThreeArrivalsOnceTheyFitUnderTheCap() {
        let horizon = SendHorizon(capNs: 500_000)
        let table: [(Double, UInt64)] = [(0, 0), (10, 0), (1_000, 0), (5_999, 0), (6_000, 500_000), (10_000, 300_000),
                                         (30_000, 100_000), (50_000, 60_000), (1e9, 3)]
        for (rate, expected) in table {
            XCTAssertEqual(horizon.horizonNs(ratePerSec: rate), expected, "\(rate) rps")
        }
        for rate in stride(from: 6_000.0, through: 200_000, by: 1_237) {
            let ns = horizon.horizonNs(ratePerSec: rate)
            XCTAssertLessThanOrEqual(ns, horizon.capNs, "never beyond the cap at \(rate) rps")
            XCTAssertEqual(Double(ns) * rate / 1e9, 3, accuracy: 1e-3, "three arrivals at \(rate) rps")
        }
        XCTAssertEqual(SendHorizon(capNs: 0).horizonNs(ratePerSec: 1e9), 0, "a cap of 0 never sends ahead")
    }
}

/// `--send-horizon`: a duration from 0 to 10ms, into the options and the resolved config.
final class SendHorizonOptionTests: XCTestCase {
    func testTheFlagSetsTheCapAndRefusesBadValues() throws {
        let set = try OptionTable.parse(["http://x", "--rate", "1", "--duration", "1s", "--send-horizon", "250us"])
        XCTAssertEqual(set.sendHorizonNs, 250_000)
        XCTAssertTrue(set.resolvedConfig().contains { $0.key == "send_horizon" && $0.value == "250us" })
        XCTAssertEqual(try OptionTable.parse(["http://x", "--send-horizon", "0"]).sendHorizonNs, 0)
        XCTAssertEqual(RunOptions().sendHorizonNs, 500_000)
        for bad in ["11ms", "-1us", "soon", ""] {
            XCTAssertThrowsError(try OptionTable.parse(["http://x", "--send-horizon", bad]), bad) { error in
                XCTAssertTrue("\(error)".hasPrefix("--send-horizon"), "\(error)")
            }
        }
    }
}

/// `--read-hold`: a duration from 0 to 10ms, into the options, the resolved config and the engine's.
final class ReadHoldOptionTests: XCTestCase {
    func testTheFlagSetsTheHoldAndRefusesBadValues() throws {
        let set = try OptionTable.parse(["http://x", "--rate", "1", "--duration", "1s", "--read-hold", "2ms"])
        XCTAssertEqual(set.readHoldNs, 2_000_000)
        XCTAssertTrue(set.resolvedConfig().contains { $0.key == "read_hold" && $0.value == "2ms" })
        XCTAssertEqual(try OptionTable.parse(["http://x", "--read-hold", "0"]).readHoldNs, 0)
        XCTAssertEqual(RunOptions().readHoldNs, 1_000_000)
        for bad in ["11ms", "-1us", "later", ""] {
            XCTAssertThrowsError(try OptionTable.parse(["http://x", "--read-hold", bad]), bad) { error in
                XCTAssertTrue("\(error)".hasPrefix("--read-hold"), "\(error)")
            }
        }
    }
}
