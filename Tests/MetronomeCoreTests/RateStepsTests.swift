// `--rates` parsing: lists, geometric and linear ranges, and the errors.
import XCTest
@testable import MetronomeCore

final class RateStepsTests: XCTestCase {
    func testListsAndRanges() throws {
        let table: [(String, [Double])] = [
            ("5,10,20,40", [5, 10, 20, 40]),
            ("0.5, 1, 2k", [0.5, 1, 2000]),
            ("7", [7]),
            ("2..40+4", [2, 6, 10, 14, 18, 22, 26, 30, 34, 38]),
            ("10..100+10", [10, 20, 30, 40, 50, 60, 70, 80, 90, 100]),
            ("0.1..0.3+0.1", [0.1, 0.2, 0.3]),
            ("1..8x4", [1, 2, 4, 8]),
            ("2..40x2", [2, 40]),
        ]
        for (text, expected) in table {
            let rates = try RateSteps.parse(text)
            XCTAssertEqual(rates.count, expected.count, text)
            for (rate, want) in zip(rates, expected) { XCTAssertEqual(rate, want, accuracy: want * 1e-9, text) }
        }
        let geometric = try RateSteps.parse("2..40x8")
        XCTAssertEqual(geometric.count, 8)
        XCTAssertEqual(geometric.first, 2)
        XCTAssertEqual(geometric.last, 40)
        let ratio = pow(20.0, 1.0 / 7)
        for index in 1..<8 { XCTAssertEqual(geometric[index] / geometric[index - 1], ratio, accuracy: 1e-9) }
    }

    func testBadRatesNameTheFlagAndWhy() {
        let table: [(String, String)] = [
            ("", "not a rate"), ("5,,10", "not a rate"), ("10,5", "must go up"), ("5,5", "must go up"), ("0,5", "above 0"),
            ("-1,5", "above 0"), ("abc", "not a rate"), ("2..40", "xN"), ("40..2x4", "must go up"), ("2..40x1", "from 2 to 100"),
            ("2..40x101", "from 2 to 100"), ("1..1000+1", "more than 100"), ("2..40+0", "above 0"),
            ((1...101).map(String.init).joined(separator: ","), "at most 100"),
        ]
        for (text, message) in table {
            XCTAssertThrowsError(try RateSteps.parse(text), text) { error in
                XCTAssertEqual((error as? UsageError)?.flag, "--rates", text)
                XCTAssertTrue("\(error)".contains(message), "\(text): \(error)")
            }
        }
    }
}
