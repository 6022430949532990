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

/// `--send-horizon` and `--read-hold`: a duration from 0 to 10ms, into the options and the resolved
/// config; a bad value is a usage error naming the flag.
final class SendHorizonOptionTests: XCTestCase {
    func checkHoldLikeFlag(_ flag: String, key: String, _ value: KeyPath<RunOptions, UInt64>, defaultNs: UInt64) throws {
        let set = try OptionTable.parse(["http://x", "--rate", "1", "--duration", "1s", flag, "250us"])
        XCTAssertEqual(set[keyPath: value], 250_000, flag)
        XCTAssertTrue(set.resolvedConfig().contains { $0.key == key && $0.value == "250us" }, flag)
        XCTAssertEqual(try OptionTable.parse(["http://x", flag, "0"])[keyPath: value], 0, flag)
        XCTAssertEqual(try OptionTable.parse(["http://x", flag, "10ms"])[keyPath: value], 10_000_000, flag)
        XCTAssertEqual(RunOptions()[keyPath: value], defaultNs, flag)
        for bad in ["11ms", "-1us", "soon", ""] {
            XCTAssertThrowsError(try OptionTable.parse(["http://x", flag, bad]), "\(flag) \(bad)") { error in
                XCTAssertTrue("\(error)".hasPrefix(flag), "\(error)")
            }
        }
    }

    func testTheFlagSetsTheCapAndRefusesBadValues() throws {
        try checkHoldLikeFlag("--send-horizon", key: "send_horizon", \.sendHorizonNs, defaultNs: 500_000)
    }

    func testReadHoldSetsTheHoldAndRefusesBadValues() throws {
        try checkHoldLikeFlag("--read-hold", key: "read_hold", \.readHoldNs, defaultNs: 1_000_000)
    }
}
