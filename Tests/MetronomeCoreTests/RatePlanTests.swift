// Checks RatePlan's λ, Λ and Λ⁻¹ against hand-computed closed forms, and its validation.
import XCTest
@testable import MetronomeCore

private let nsPerSec = 1_000_000_000.0


private func ns(_ seconds: Double) -> UInt64 { UInt64((seconds * nsPerSec).rounded()) }

/// The plans of the hand-computed tables, with λ(t) and Λ(t) (t in seconds) written out.
private let constant100 = plan(100, (10, 100))                 // λ = 100, Λ = 100t
private let rampUp = plan(10, (10, 30))                        // λ = 10 + 2t, Λ = 10t + t²
private let rampDown = plan(30, (10, 10))                      // λ = 30 − 2t, Λ = 30t − t²
private let rampFromZero = plan(0, (10, 10))                   // λ = t, Λ = t²/2
/// 0 → 20 over 10 s (100), hold 20 for 30 s (600), 20 → 0 over 5 s (50): Λ(45 s) = 750.
private let multiStage = plan(0, (10, 20), (30, 20), (5, 0))
/// A pause, then 0 → 10 over 10 s (50), hold 10 for 5 s (50).
private let pauseFirst = plan(0, (5, 0), (10, 10), (5, 10))
/// 10 → 0 over 10 s (50), pause 10 s, 0 → 10 over 10 s (50).
private let pauseBetween = plan(10, (10, 0), (10, 0), (10, 10))

final class RatePlanTests: XCTestCase {
    /// (plan, t in seconds, Λ(t)) — each Λ worked out by hand from the formulas above.
    private let integralTable: [(String, RatePlan, Double, Double)] = [
        ("constant", constant100, 0, 0), ("constant", constant100, 1, 100),
        ("constant", constant100, 2.5, 250), ("constant", constant100, 10, 1000),
        ("constant past end", constant100, 20, 1000),
        ("ramp up", rampUp, 1, 11), ("ramp up", rampUp, 5, 75), ("ramp up", rampUp, 10, 200),
        ("ramp down", rampDown, 1, 29), ("ramp down", rampDown, 5, 125), ("ramp down", rampDown, 10, 200),
        ("ramp from 0", rampFromZero, 1, 0.5), ("ramp from 0", rampFromZero, 4, 8),
        ("ramp from 0", rampFromZero, 10, 50),
        ("multi", multiStage, 5, 25), ("multi", multiStage, 10, 100), ("multi", multiStage, 25, 400),
        ("multi", multiStage, 40, 700), ("multi", multiStage, 42, 732), ("multi", multiStage, 45, 750),
        ("pause first", pauseFirst, 3, 0), ("pause first", pauseFirst, 5, 0),
        ("pause first", pauseFirst, 10, 12.5), ("pause first", pauseFirst, 15, 50),
        ("pause first", pauseFirst, 17, 70), ("pause first", pauseFirst, 20, 100),
        ("pause between", pauseBetween, 10, 50), ("pause between", pauseBetween, 15, 50),
        ("pause between", pauseBetween, 20, 50), ("pause between", pauseBetween, 25, 62.5),
        ("pause between", pauseBetween, 30, 100),
    ]

    func testExpectedArrivalsMatchClosedForms() {
        for (name, plan, seconds, expected) in integralTable {
            let got = plan.expectedArrivals(byNs: ns(seconds))
            XCTAssertEqual(got, expected, accuracy: 1e-9 * max(1, expected), "\(name) at \(seconds) s")
        }
    }

    func testInverseMatchesClosedForms() {
        // (plan, u, Λ⁻¹(u) in seconds): where Λ is flat, the earliest time reaching u.
        let table: [(String, RatePlan, Double, Double)] = [
            ("constant", constant100, 1, 0.01), ("constant", constant100, 250, 2.5),
            ("constant", constant100, 1000, 10),
            ("ramp up", rampUp, 11, 1), ("ramp up", rampUp, 75, 5), ("ramp up", rampUp, 200, 10),
            ("ramp down", rampDown, 29, 1), ("ramp down", rampDown, 125, 5), ("ramp down", rampDown, 200, 10),
            ("ramp from 0", rampFromZero, 0.5, 1), ("ramp from 0", rampFromZero, 8, 4),
            ("ramp from 0", rampFromZero, 50, 10),
            ("multi", multiStage, 100, 10), ("multi", multiStage, 400, 25), ("multi", multiStage, 732, 42),
            ("multi", multiStage, 750, 45),
            ("pause first", pauseFirst, 0, 0), ("pause first", pauseFirst, 12.5, 10),
            ("pause first", pauseFirst, 70, 17),
            ("pause between", pauseBetween, 50, 10), ("pause between", pauseBetween, 62.5, 25),
        ]
        for (name, plan, u, seconds) in table {
            guard let got = plan.time(ofUnitArrival: u) else {
                XCTFail("\(name): no time for u = \(u)")
                continue
            }
            XCTAssertLessThanOrEqual(distance(got, ns(seconds)), 1, "\(name) u = \(u): \(got) ns")
        }
    }

    func testInverseOfTheTotalIsExactlyTheEnd() {
        // Where a ramp ends at 0 the root loses precision (7.7 → 0 over 13 s: 142 ns early).
        let plans = [constant100, rampUp, rampDown, multiStage, pauseFirst, pauseBetween,
                     plan(7.7, (13, 0)), plan(0, (2, 7.7), (13, 0)), plan(123.4, (3.3, 0)), plan(0, (3.7, 1e-3))]
        for (p, plan) in plans.enumerated() {
            XCTAssertEqual(plan.time(ofUnitArrival: plan.totalExpectedArrivals), plan.totalDurationNs, "plan \(p)")
        }
    }

    func testInverseIsNilPastTheEndAndZeroAtTheStart() {
        XCTAssertNil(constant100.time(ofUnitArrival: 1000.000001))
        XCTAssertNil(rampUp.time(ofUnitArrival: .infinity))
        XCTAssertNil(rampUp.time(ofUnitArrival: .nan))
        XCTAssertEqual(rampUp.time(ofUnitArrival: 0), 0)
        // Just past the pause: the arrival lands after it, not inside it.
        XCTAssertGreaterThan(pauseBetween.time(ofUnitArrival: 50.001)!, ns(20))
        XCTAssertGreaterThan(pauseFirst.time(ofUnitArrival: 1e-9)!, ns(5))
    }

    func testInverseUndoesIntegralWithinOneNanosecond() {
        let plans = [constant100, rampUp, rampDown, rampFromZero, multiStage, pauseFirst, pauseBetween,
                     plan(0.5, (3600, 50_000), (7, 33.3), (1e-6, 1e6)),
                     plan(50_000, (3600, 50_000.001), (60, 49_999.999))]  // nearly flat: a ≈ 3e-7
        for (p, plan) in plans.enumerated() {
            let totalNs = plan.totalDurationNs
            for i in 0...2_000 {
                // A grid plus an odd stride, so times land on and off stage boundaries.
                let t = i <= 1_000 ? totalNs / 1_000 * UInt64(i) : (UInt64(i) &* 7_919_113_117) % totalNs
                let arrivals = plan.expectedArrivals(byNs: t)
                guard let back = plan.time(ofUnitArrival: arrivals) else {
                    XCTFail("plan \(p): Λ(\(t)) = \(arrivals) not invertible")
                    continue
                }
                let rate = plan.rate(atNs: t)
                if rate * 1e-9 >= arrivals.ulp {
                    XCTAssertLessThanOrEqual(distance(back, t), 1, "plan \(p) at \(t) ns")
                } else {
                    // Where a nanosecond is worth less than one ulp of Λ, t is not recoverable
                    // from Λ(t) (in a pause not at all: Λ⁻¹ gives the pause's start); Λ must be.
                    let again = plan.expectedArrivals(byNs: back)
                    XCTAssertLessThanOrEqual(abs(again - arrivals), 4 * arrivals.ulp, "plan \(p) at \(t) ns")
                    if rate == 0 { XCTAssertLessThanOrEqual(back, t, "plan \(p) at \(t) ns") }
                }
            }
        }
    }

    func testIntegralAndInverseAreMonotonic() {
        for (p, plan) in [rampDown, multiStage, pauseFirst, pauseBetween].enumerated() {
            var lastArrivals = -1.0
            for t in stride(from: 0, through: plan.totalDurationNs, by: 1_000_003) {
                let arrivals = plan.expectedArrivals(byNs: t)
                XCTAssertGreaterThanOrEqual(arrivals, lastArrivals, "plan \(p) Λ at \(t)")
                lastArrivals = arrivals
            }
            var lastNs: UInt64 = 0
            for u in stride(from: 0.0, through: plan.totalExpectedArrivals, by: 0.0625) {
                let t = plan.time(ofUnitArrival: u)!
                XCTAssertGreaterThanOrEqual(t, lastNs, "plan \(p) Λ⁻¹ at \(u)")
                lastNs = t
            }
        }
    }

    func testRateFollowsStages() {
        // (plan, t in seconds, λ(t))
        let table: [(RatePlan, Double, Double)] = [
            (constant100, 0, 100), (constant100, 10, 100), (constant100, 10.000000001, 0),
            (rampUp, 0, 10), (rampUp, 2.5, 15), (rampUp, 10, 30), (rampDown, 7.5, 15),
            (multiStage, 5, 10), (multiStage, 10, 20), (multiStage, 30, 20), (multiStage, 42.5, 10),
            (multiStage, 45, 0), (pauseBetween, 12, 0), (pauseBetween, 25, 5),
        ]
        for (plan, seconds, expected) in table {
            XCTAssertEqual(plan.rate(atNs: ns(seconds)), expected, accuracy: 1e-9, "λ(\(seconds) s)")
        }
    }

    func testStageIndexPutsBoundariesInTheLaterStage() {
        // multiStage starts its stages at 0, 10 s and 40 s and ends at 45 s.
        let table: [(UInt64, Int)] = [
            (0, 0), (ns(10) - 1, 0), (ns(10), 1), (ns(10) + 1, 1), (ns(40) - 1, 1), (ns(40), 2),
            (ns(45) - 1, 2), (ns(45), 2), (ns(100), 2), (.max, 2),
        ]
        for (t, expected) in table {
            XCTAssertEqual(multiStage.stageIndex(atNs: t), expected, "t = \(t)")
        }
        XCTAssertEqual(constant100.stageIndex(atNs: ns(10)), 0)
        // The loop's forward cursor is the same rule, from any earlier stage.
        for plan in [multiStage, pauseFirst, pauseBetween, constant100] {
            var current = 0
            for (t, _) in table {
                current = plan.stageIndex(atNs: t, from: current)
                XCTAssertEqual(current, plan.stageIndex(atNs: t), "t = \(t)")
                XCTAssertEqual(plan.stageIndex(atNs: t, from: 0), plan.stageIndex(atNs: t), "t = \(t)")
            }
        }
    }

    /// 0 → 10 rps over 1 s (Λ = 5), then 10 rps for 1 s: constant arrival 5 lands exactly on the hold's
    /// start and belongs to the hold (its Λ⁻¹ is worked out on the ramp's piece, which ends there).
    func testAnArrivalOnAStageStartBelongsToThatStage() throws {
        let twoStages = plan(0, (1, 10), (1, 10))
        var schedule = ArrivalSchedule(plan: twoStages, process: .constant, seed: 1)
        var perStage = [0, 0]
        var onBoundary = 0
        while let t = schedule.next() {
            perStage[twoStages.stageIndex(atNs: t)] += 1
            if t == ns(1) { onBoundary += 1 }
        }
        XCTAssertEqual(onBoundary, 1)
        XCTAssertEqual(perStage, [4, 11])
    }

    func testStagesCarryRatesOffsetsAndNames() {
        let stages = multiStage.stages
        XCTAssertEqual(stages.map(\.startNs), [0, ns(10), ns(40)])
        XCTAssertEqual(stages.map(\.durationNs), [ns(10), ns(30), ns(5)])
        XCTAssertEqual(stages.map(\.startRatePerSec), [0, 20, 20])
        XCTAssertEqual(stages.map(\.endRatePerSec), [20, 20, 0])
        XCTAssertEqual(stages.map(\.name), ["stage 1", "stage 2", "stage 3"])
        XCTAssertEqual(multiStage.totalDurationNs, ns(45))
        XCTAssertEqual(multiStage.totalExpectedArrivals, 750)
    }

    func testDecimalRatesGiveTheWholeCountsUsersExpect() {
        // (start, seconds, target, Λ(T)): the products a user does in their head.
        let table: [(Double, Double, Double, Double)] = [
            (33.3, 10, 33.3, 333), (0.3, 10, 0.3, 3), (0.1, 30, 0.1, 3), (2.2, 5, 2.2, 11),
            (0, 60, 200, 6_000), (50_000, 3_600, 50_000, 180_000_000),
        ]
        for (start, seconds, target, expected) in table {
            XCTAssertEqual(plan(start, (seconds, target)).totalExpectedArrivals, expected, "\(start) → \(target)")
        }
    }

    func testInvalidPlansAreRefused() {
        let second: UInt64 = 1_000_000_000
        let table: [(String, Double, [(durationNs: UInt64, targetRatePerSec: Double, name: String)], RatePlanError)] = [
            ("no stages", 10, [], .noStages),
            ("negative start", -1, [(second, 10, "ramp")], .negativeRate),
            ("negative target", 10, [(second, 10, "hold"), (second, -0.5, "ramp")], .negativeRate),
            ("NaN start", .nan, [(second, 10, "ramp")], .nonFiniteRate),
            ("NaN target", 10, [(second, .nan, "ramp")], .nonFiniteRate),
            ("infinite target", 10, [(second, .infinity, "ramp")], .nonFiniteRate),
            ("minus infinity", -.infinity, [(second, 10, "ramp")], .nonFiniteRate),
            ("zero total duration", 10, [(0, 20, "jump")], .zeroDuration),
            ("only jumps", 10, [(0, 20, "jump"), (0, 5, "jump")], .zeroDuration),
            ("NaN jump", 10, [(0, .nan, "jump"), (second, 10, "hold")], .nonFiniteRate),
            ("too long", 10, [(.max / 2 + 1, 10, "hold"), (.max / 2 + 1, 10, "hold")], .durationOverflow),
            ("too many", 1e9, [(UInt64(1e16), 1e9, "hold")], .tooManyArrivals),
        ]
        for (name, start, targets, expected) in table {
            XCTAssertThrowsError(try RatePlan(startRatePerSec: start, targets: targets), name) { error in
                XCTAssertEqual(error as? RatePlanError, expected, name)
            }
        }
        let errors: [RatePlanError] = [
            .noStages, .negativeRate, .nonFiniteRate, .zeroDuration, .durationOverflow, .tooManyArrivals,
        ]
        let descriptions = Set(errors.map(\.description))
        XCTAssertEqual(descriptions.count, errors.count, "each error explains itself differently")
        XCTAssertFalse(descriptions.contains(""))
    }

    func testAllZeroPlanIsAllowedAndOffersNothing() throws {
        let zero = try RatePlan(startRatePerSec: 0, targets: [(1_000_000_000, 0, "hold")])
        XCTAssertEqual(zero.totalExpectedArrivals, 0)
        XCTAssertEqual(zero.expectedArrivals(byNs: 500_000_000), 0)
        XCTAssertEqual(zero.rate(atNs: 500_000_000), 0)
        XCTAssertNil(zero.time(ofUnitArrival: 1e-12))
    }

    /// A zero-length stage is a step (k6's instant jump): 1 rps, jump to 10 and hold 1 s, jump to 2
    /// and hold 1 s. λ = 10 on [0, 1 s), 2 on [1 s, 2 s]; Λ(1 s) = 10, Λ(2 s) = 12; Λ⁻¹ exact on both sides.
    func testZeroLengthStageIsAJump() throws {
        let second: UInt64 = 1_000_000_000
        let jumps = try RatePlan(startRatePerSec: 1, targets: [(0, 10, "jump"), (second, 10, "hold"), (0, 2, "jump"),
                                                                (second, 2, "hold-2"), (0, 50, "jump")])
        XCTAssertEqual(jumps.stages.map(\.name), ["hold", "hold-2"], "a jump is no stage of its own")
        XCTAssertEqual(jumps.stages.map(\.startRatePerSec), [10, 2])
        XCTAssertEqual(jumps.totalDurationNs, 2 * second)
        XCTAssertEqual(jumps.rate(atNs: 0), 10)
        XCTAssertEqual(jumps.rate(atNs: 999_999_999), 10)
        XCTAssertEqual(jumps.rate(atNs: second), 2)
        XCTAssertEqual(jumps.expectedArrivals(byNs: second / 2), 5)
        XCTAssertEqual(jumps.expectedArrivals(byNs: second), 10)
        XCTAssertEqual(jumps.totalExpectedArrivals, 12)
        let inverse: [(Double, UInt64)] = [(1, 100_000_000), (5, 500_000_000), (10, second), (10.5, 1_250_000_000),
                                           (11, 1_500_000_000), (12, 2 * second)]
        for (u, t) in inverse { XCTAssertEqual(jumps.time(ofUnitArrival: u), t, "Λ⁻¹(\(u))") }
        XCTAssertNil(jumps.time(ofUnitArrival: 12.000001))
        // A jump from a ramp: 0 → 10 over 2 s (Λ = 10), jump to 0 for 1 s (a pause), jump to 4 for 1 s.
        let rampJump = try RatePlan(startRatePerSec: 0, targets: [(2 * second, 10, "ramp"), (0, 0, "jump"), (second, 0, "pause"),
                                                                   (0, 4, "jump"), (second, 4, "hold")])
        XCTAssertEqual(rampJump.totalExpectedArrivals, 14)
        XCTAssertEqual(rampJump.time(ofUnitArrival: 10), 2 * second)
        XCTAssertEqual(rampJump.time(ofUnitArrival: 11), 3 * second + 250_000_000, "no arrival inside the pause")
        XCTAssertEqual(rampJump.time(ofUnitArrival: 2.5), second, "Λ(1 s) = 1 s² · 5/s² / 2 … = 2.5")
    }

    private func distance(_ a: UInt64, _ b: UInt64) -> UInt64 { a > b ? a - b : b - a }
}
