// find-max's search as a table: verdict sequences in, steps tried, max rate and bracket out.
import XCTest
@testable import MetronomeCore

final class FindMaxTests: XCTestCase {
    /// Runs the search against a server that passes every rate at or below `capacity` (with the
    /// listed rates failing once, as noise would), and returns the rates tried.
    func search(capacity: Double, min: Double = 1, max: Double = 10_000, precision: Double = 0.05,
                flakyOnce: Set<Double> = []) -> FindMax {
        var search = FindMax(minRate: min, maxRate: max, precision: precision)
        var flaky = flakyOnce
        while let rate = search.nextRate() {
            var passed = rate <= capacity
            if flaky.contains(rate) {
                flaky.remove(rate)
                passed = false
            }
            search.record(rate, passed: passed)
        }
        return search
    }

    func testTable() {
        struct Case {
            var capacity: Double
            var min = 1.0, max = 10_000.0, precision = 0.05
            var flaky: Set<Double> = []
            var tried: [Double]
            var maxRate: Double?
            var bracket: (Double?, Double?)
        }
        let cases = [
            // Doubling 1..32, bisecting [16, 32]: 24 fails, 20 passes, 22 fails, 21 fails (within
            // 2 × 5 % of 20: repeated), then (21 − 20) / 20 = 5 % is not below 5 %: 20.5.
            Case(capacity: 20.7, tried: [1, 2, 4, 8, 16, 32, 24, 20, 22, 21, 21, 20.5], maxRate: 20.5, bracket: (20.5, 21)),
            // Even the minimum fails: one step, no maximum.
            Case(capacity: 0.5, tried: [1], maxRate: nil, bracket: (nil, 1)),
            // Everything passes up to --max-rate: the doubling stops there.
            Case(capacity: 1e9, min: 5, max: 30, tried: [5, 10, 20, 30], maxRate: 30, bracket: (30, nil)),
            // A noisy fail near the boundary is repeated, and its pass counts.
            Case(capacity: 100, min: 10, max: 100, precision: 0.2, flaky: [100], tried: [10, 20, 40, 80, 100, 100], maxRate: 100, bracket: (100, nil)),
            // A fail far from the last pass counts at once (80 after 40); those within 2 × 10 % are repeated.
            Case(capacity: 50, min: 10, max: 1000, precision: 0.1, tried: [10, 20, 40, 80, 60, 50, 55, 55, 52.5, 52.5], maxRate: 50, bracket: (50, 52.5)),
        ]
        for (number, test) in cases.enumerated() {
            let result = search(capacity: test.capacity, min: test.min, max: test.max, precision: test.precision, flakyOnce: test.flaky)
            XCTAssertEqual(result.steps.map(\.rate), test.tried, "case \(number)")
            XCTAssertEqual(result.maxPassingRate, test.maxRate, "case \(number)")
            XCTAssertEqual(result.highestPass, test.bracket.0, "case \(number)")
            XCTAssertEqual(result.lowestFail, test.bracket.1, "case \(number)")
            XCTAssertTrue(result.isDone)
        }
    }

    func testRepeatsAreMarkedAndTheAnswerIsWithinPrecision() {
        for capacity in [3.3, 17, 20, 41.5, 99, 1234] {
            let result = search(capacity: capacity, min: 2, precision: 0.05)
            let maxRate = try! XCTUnwrap(result.maxPassingRate)
            XCTAssertLessThanOrEqual(maxRate, capacity)
            XCTAssertGreaterThan(maxRate, capacity / 1.05 - 1e-9, "\(capacity)")
            let fail = try! XCTUnwrap(result.lowestFail)
            XCTAssertLessThan((fail - maxRate) / maxRate, 0.05)
            for (index, step) in result.steps.enumerated() where step.repeated {
                XCTAssertEqual(result.steps[index - 1].rate, step.rate)
                XCTAssertFalse(result.steps[index - 1].passed)
            }
        }
    }
}
