// Durations, rates and counts as users type them, and their printed forms.
import XCTest
@testable import MetronomeCore

final class UnitsTests: XCTestCase {
    func testDurations() {
        let table: [(String, UInt64?)] = [
            ("500ms", 500_000_000), ("10s", 10_000_000_000), ("2m", 120_000_000_000), ("1h30m", 5_400_000_000_000),
            ("1.5s", 1_500_000_000), ("250us", 250_000), ("0", 0), ("0s", 0), ("7", 7_000_000_000), ("0.25", 250_000_000),
            ("1m30s", 90_000_000_000), ("100ns", 100), ("", nil), ("ms", nil), ("10x", nil), ("-1s", nil), ("1s-", nil),
            ("abc", nil), ("1..5s", nil), ("inf", nil), ("nan", nil),
        ]
        for (text, expected) in table {
            XCTAssertEqual(Units.parseDuration(text), expected, text)
        }
    }

    func testRatesAndCounts() {
        XCTAssertEqual(Units.parseRate("20"), 20)
        XCTAssertEqual(Units.parseRate("0.5"), 0.5)
        XCTAssertEqual(Units.parseRate("2k"), 2000)
        XCTAssertEqual(Units.parseRate("2.5K"), 2500)
        XCTAssertEqual(Units.parseRate("20/s"), 20)
        XCTAssertNil(Units.parseRate("-1"))
        XCTAssertNil(Units.parseRate("fast"))
        XCTAssertNil(Units.parseRate("inf"))
        XCTAssertEqual(Units.parseCount("10k"), 10_000)
        XCTAssertNil(Units.parseCount("1.5"))
    }

    /// Only plain decimals: Swift's Double(_:) would read `0x10` as 16, `1e3` as 1000, and take
    /// `nan`, `inf`, `+5` and hex floats; none of those is what a user means by a rate or a duration.
    func testOnlyPlainDecimalNumbersAreAccepted() {
        let refused = ["0x10", "0X10", "0x1p4", "1e3", "1E3", "2e-1", "nan", "NaN", "inf", "infinity", "+5", "-5", " 5", "5 ", "1_000",
                       "١٢", "5.5.5", ".", "", "0x", "٣s", "1e3s", "+1s", " 1s", "1s ", "0x10s", "0b101", "1,5"]
        for text in refused {
            XCTAssertNil(Units.parseDecimal(text), text)
            XCTAssertNil(Units.parseRate(text), text)
            XCTAssertNil(Units.parseCount(text), text)
            XCTAssertNil(Units.parseDuration(text), text)
            XCTAssertNil(Units.parseWhole(text), text)
        }
        XCTAssertEqual(Units.parseDecimal(".5"), 0.5)
        XCTAssertEqual(Units.parseDecimal("2."), 2)
        XCTAssertEqual(Units.parseDecimal("007"), 7)
        XCTAssertEqual(Units.parseWhole("18446744073709551615"), .max)
        XCTAssertNil(Units.parseWhole("18446744073709551616"))
        XCTAssertNil(Units.parseWhole("1.0"))
        XCTAssertEqual(Units.parseRate("1.5k"), 1500)
        XCTAssertEqual(Units.parseDuration("1.5h"), 5_400_000_000_000)
    }

    func testFormatDurationRoundTrips() {
        for ns: UInt64 in [1_000_000_000, 90_000_000_000, 5_400_000_000_000, 500_000_000, 1_500_000_000, 250_000, 3_601_000_000_000] {
            XCTAssertEqual(Units.parseDuration(Units.formatDuration(ns)), ns, Units.formatDuration(ns))
        }
        XCTAssertEqual(Units.formatDuration(5_400_000_000_000), "1h30m")
        XCTAssertEqual(Units.formatDuration(500_000_000), "500ms")
    }

    func testFixedFormatting() {
        XCTAssertEqual(Format.fixed(1.005, decimals: 2), "1.00") // 1.005 is 1.00499… in binary
        XCTAssertEqual(Format.fixed(2.5, decimals: 0), "3")
        XCTAssertEqual(Format.fixed(-0.0001, decimals: 2), "0.00")
        XCTAssertEqual(Format.fixed(-1.25, decimals: 1), "-1.3")
        XCTAssertEqual(Format.fixed(1234.5678, decimals: 3), "1234.568")
        XCTAssertEqual(Format.fixed(0.05, decimals: 3), "0.050")
        XCTAssertEqual(Format.trimmed(2.0, decimals: 3), "2")
        XCTAssertEqual(Format.trimmed(0.125, decimals: 3), "0.125")
        XCTAssertEqual(Format.fixed(.nan, decimals: 2), "nan")
    }
}
