// Checks arrival schedules (counts, spacing, distributions) and the seeded random numbers under them.
import XCTest
@testable import MetronomeCore

private let nsPerSec = 1_000_000_000.0


/// Every arrival of a schedule, checking on the way that it is in order and inside (0, T].
private func arrivals(_ plan: RatePlan, _ process: ArrivalProcess, seed: UInt64 = 42,
                      file: StaticString = #filePath, line: UInt = #line) -> [UInt64] {
    var schedule = ArrivalSchedule(plan: plan, process: process, seed: seed)
    var times: [UInt64] = []
    var last: UInt64 = 0
    while let t = schedule.next() {
        if t < last || t > plan.totalDurationNs {
            XCTFail("arrival \(times.count) at \(t) ns after \(last) ns in a \(plan.totalDurationNs) ns plan",
                    file: file, line: line)
        }
        last = t
        times.append(t)
    }
    XCTAssertEqual(schedule.emitted, times.count, file: file, line: line)
    XCTAssertNil(schedule.next(), "stays over", file: file, line: line)
    return times
}

/// Gaps between successive arrivals in seconds, the first measured from the plan start.
private func gapsSec(_ times: [UInt64]) -> [Double] {
    zip([0] + times, times).map { Double($1 - $0) / nsPerSec }
}

private func meanAndVariance(_ xs: [Double]) -> (mean: Double, variance: Double) {
    let mean = xs.reduce(0, +) / Double(xs.count)
    let variance = xs.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(xs.count - 1)
    return (mean, variance)
}

final class ArrivalScheduleTests: XCTestCase {
    func testConstantGivesExactlyTheWholeExpectedCount() {
        // (name, plan, ⌊Λ(T)⌋ by hand)
        let table: [(String, RatePlan, Int)] = [
            ("100 rps 10 s", plan(100, (10, 100)), 1_000),
            ("0.5 rps 10 s", plan(0.5, (10, 0.5)), 5),
            ("33.3 rps 10 s", plan(33.3, (10, 33.3)), 333),
            ("0.3 rps 10 s", plan(0.3, (10, 0.3)), 3),
            ("0.05 rps 10 s", plan(0.05, (10, 0.05)), 0),
            ("0 → 10 over 10 s", plan(0, (10, 10)), 50),
            ("1 → 2 over 3 s", plan(1, (3, 2)), 4),
            ("10 → 0 over 10 s", plan(10, (10, 0)), 50),
            ("0 → 200 over 60 s", plan(0, (60, 200)), 6_000),
            ("ramp, hold, ramp down", plan(0, (10, 20), (30, 20), (5, 0)), 750),
            ("ramp down, pause, ramp up", plan(10, (10, 0), (10, 0), (10, 10)), 100),
            ("33.3 → 7.7 over 13 s, hold", plan(33.3, (13, 7.7), (2.5, 7.7)), 285),
            ("all zero", plan(0, (10, 0), (5, 0)), 0),
        ]
        for (name, plan, expected) in table {
            let count = arrivals(plan, .constant).count
            XCTAssertEqual(count, expected, name)
            XCTAssertEqual(count, Int(plan.totalExpectedArrivals.rounded(.down)), name)
        }
    }

    func testConstantHundredPerSecondStartsAtOneGapAndEndsAtTheEnd() {
        let times = arrivals(plan(100, (10, 100)), .constant)
        XCTAssertEqual(times.count, 1_000)
        XCTAssertEqual(times.first, 10_000_000)
        XCTAssertEqual(times.last, 10_000_000_000)
    }

    func testConstantGapOnAHoldIsOneOverTheRate() {
        for ratePerSec in [100, 33.3, 7, 0.5, 1_234.5, 50_000] {
            // A ramp first, so the hold starts at an awkward Λ.
            let times = arrivals(plan(0, (3.3, ratePerSec), (2_000 / ratePerSec, ratePerSec)), .constant)
            let holdStartNs: UInt64 = 3_300_000_000
            let hold = times.filter { $0 > holdStartNs }
            XCTAssertGreaterThan(hold.count, 1_000, "\(ratePerSec)")
            for (a, b) in zip(hold, hold.dropFirst()) {
                XCTAssertEqual(Double(b - a), nsPerSec / ratePerSec, accuracy: 1, "\(ratePerSec) rps at \(a) ns")
            }
        }
    }

    func testConstantDoesNotDriftOverAnHourAtFiftyThousandPerSecond() {
        // 0 → 50k over 60 s (1.5e6 arrivals) then an hour at 50k: arrival k of the hold is due at
        // exactly 60 s + (k − 1.5e6) · 20 µs, up to the last one (1.815e8) at 3660 s.
        let hour = plan(0, (60, 50_000), (3_600, 50_000))
        XCTAssertEqual(hour.totalExpectedArrivals, 181_500_000)
        var k = 1_500_000
        while k <= 181_500_000 {
            let expected = 60_000_000_000 + UInt64(k - 1_500_000) * 20_000
            XCTAssertEqual(hour.time(ofUnitArrival: Double(k)), expected, "arrival \(k)")
            k += 999_983
        }
        XCTAssertEqual(hour.time(ofUnitArrival: 181_500_000), 3_660_000_000_000)
        XCTAssertNil(hour.time(ofUnitArrival: 181_500_001))
        // The schedule itself over the first 400 s of the hold (2e7 arrivals).
        var schedule = ArrivalSchedule(plan: hour, process: .constant, seed: 1)
        var t: UInt64 = 0
        for _ in 0..<1_500_000 { t = schedule.next()! }
        XCTAssertEqual(t, 60_000_000_000)
        for _ in 0..<20_000_000 { t = schedule.next()! }
        XCTAssertEqual(t, 60_000_000_000 + 20_000_000 * 20_000)
        XCTAssertEqual(schedule.emitted, 21_500_000)
    }

    func testPoissonOnAHoldIsExponentialAtTheRate() {
        let ratePerSec = 1_000.0
        let times = arrivals(plan(ratePerSec, (100, ratePerSec)), .poisson)
        let n = Double(times.count)
        // Count ~ Poisson(Λ(T) = 1e5).
        XCTAssertLessThan(abs(n - 100_000), 4 * 100_000.0.squareRoot())

        let gaps = gapsSec(times)
        let (mean, variance) = meanAndVariance(gaps)
        // Exp(λ): mean 1/λ (s.e. 1/(λ√n)), variance 1/λ² (s.e. √8/(λ²√n), since μ₄ = 9/λ⁴).
        XCTAssertEqual(mean, 1 / ratePerSec, accuracy: 4 / (ratePerSec * n.squareRoot()))
        XCTAssertEqual(variance, 1 / (ratePerSec * ratePerSec),
                       accuracy: 4 * 8.0.squareRoot() / (ratePerSec * ratePerSec * n.squareRoot()))

        // Kolmogorov–Smirnov against Exp(λ), 1 % critical value 1.63/√n.
        let sorted = gaps.sorted()
        var d = 0.0
        for (i, x) in sorted.enumerated() {
            let cdf = 1 - exp(-ratePerSec * x)
            d = max(d, cdf - Double(i) / n, Double(i + 1) / n - cdf)
        }
        XCTAssertLessThan(d, 1.63 / n.squareRoot())
    }

    func testRampPerSecondCountsFollowTheRate() {
        let ramp = plan(0, (60, 200))
        for process in [ArrivalProcess.constant, .poisson, .gamma(shape: 2)] {
            var counts = [Int](repeating: 0, count: 60)
            // Arrivals lie in (0, T]: second s holds (s, s + 1].
            for t in arrivals(ramp, process) {
                counts[t == 0 ? 0 : Int((t - 1) / 1_000_000_000)] += 1
            }
            for second in 0..<60 {
                let expected = ramp.expectedArrivals(byNs: UInt64(second + 1) * 1_000_000_000)
                    - ramp.expectedArrivals(byNs: UInt64(second) * 1_000_000_000)
                let tolerance = process == .constant ? 1 : 4 * expected.squareRoot()
                XCTAssertEqual(Double(counts[second]), expected, accuracy: tolerance, "\(process) second \(second)")
            }
        }
    }

    func testGammaHasMeanGapOneOverRateAndCoefficientOfVariationOneOverRootShape() {
        let ratePerSec = 1_000.0
        for shape in [0.5, 4] {
            let gaps = gapsSec(arrivals(plan(ratePerSec, (100, ratePerSec)), .gamma(shape: shape), seed: 7))
            let n = Double(gaps.count)
            let (mean, variance) = meanAndVariance(gaps)
            let expectedCV = 1 / shape.squareRoot()
            XCTAssertEqual(mean, 1 / ratePerSec, accuracy: 4 * expectedCV / (ratePerSec * n.squareRoot()),
                           "shape \(shape)")
            // s.e. of the CV is under 1 % here (excess kurtosis 6/shape); 3 % is well clear of chance.
            XCTAssertEqual(variance.squareRoot() / mean, expectedCV, accuracy: 0.03 * expectedCV, "shape \(shape)")
        }
    }

    func testPausesGetNoArrivals() {
        // 10 → 0 over 10 s, pause 10 s, 0 → 10 over 10 s.
        let paused = plan(10, (10, 0), (10, 0), (10, 10))
        for process in [ArrivalProcess.constant, .poisson, .gamma(shape: 0.5)] {
            let inPause = arrivals(paused, process).filter { $0 > 10_000_000_000 && $0 < 20_000_000_000 }
            XCTAssertEqual(inPause, [], "\(process)")
        }
        // Constant: arrival 50 ends the ramp down; 51 comes √2 s into the ramp up (Λ = τ²/2 = 1).
        let times = arrivals(paused, .constant)
        XCTAssertEqual(times[49], 10_000_000_000)
        XCTAssertEqual(Double(times[50]), 20e9 + 2.0.squareRoot() * 1e9, accuracy: 1)
    }

    func testSameSeedSameScheduleOtherSeedOtherSchedule() {
        let ramp = plan(5, (20, 300), (10, 300))
        for process in [ArrivalProcess.poisson, .gamma(shape: 0.3)] {
            let first = arrivals(ramp, process, seed: 2024)
            XCTAssertEqual(first, arrivals(ramp, process, seed: 2024), "\(process)")
            XCTAssertNotEqual(first, arrivals(ramp, process, seed: 2025), "\(process)")
        }
        XCTAssertEqual(arrivals(ramp, .constant, seed: 1), arrivals(ramp, .constant, seed: 2))
    }

    func testPlanWithNoExpectedArrivalsProducesNone() throws {
        let zero = try RatePlan(startRatePerSec: 0, targets: [(1_000_000_000, 0, "hold"), (5, 0, "hold")])
        for process in [ArrivalProcess.constant, .poisson, .gamma(shape: 0.5), .gamma(shape: 4)] {
            var schedule = ArrivalSchedule(plan: zero, process: process, seed: 3)
            XCTAssertNil(schedule.next(), "\(process)")
            XCTAssertEqual(schedule.emitted, 0)
        }
    }
}

final class SeededRandomTests: XCTestCase {
    func testMatchesReferenceVectors() {
        // splitmix64 from 0 and xoshiro256** from state (1, 2, 3, 4), as published with the algorithms.
        var x: UInt64 = 0
        XCTAssertEqual((0..<4).map { _ in SeededRandom.splitMix64(&x) },
                       [0xE220_A839_7B1D_CDAF, 0x6E78_9E6A_A1B9_65F4, 0x06C4_5D18_8009_454F, 0xF88B_B8A8_724C_81EC])
        var random = SeededRandom(state: (1, 2, 3, 4))
        XCTAssertEqual((0..<10).map { _ in random.next() }, [
            11520, 0, 1509978240, 1215971899390074240, 1216172134540287360, 607988272756665600,
            16172922978634559625, 8476171486693032832, 10595114339597558777, 2904607092377533576,
        ])
        // The seeded constructor is splitmix64's first four outputs used as the state.
        var seeded = SeededRandom(seed: 0)
        var reference = SeededRandom(state: (0xE220_A839_7B1D_CDAF, 0x6E78_9E6A_A1B9_65F4,
                                             0x06C4_5D18_8009_454F, 0xF88B_B8A8_724C_81EC))
        XCTAssertEqual((0..<8).map { _ in seeded.next() }, (0..<8).map { _ in reference.next() })
    }

    func testSameSeedSameSequence() {
        var a = SeededRandom(seed: 99)
        var b = SeededRandom(seed: 99)
        var c = SeededRandom(seed: 100)
        let first = (0..<100).map { _ in a.next() }
        XCTAssertEqual(first, (0..<100).map { _ in b.next() })
        XCTAssertNotEqual(first, (0..<100).map { _ in c.next() })
    }

    func testUnitOpenNeverReachesZeroOrOne() {
        XCTAssertEqual(SeededRandom.unitOpen(0), 0x1p-53)
        XCTAssertEqual(SeededRandom.unitOpen(.max), 1 - 0x1p-53)
        XCTAssertLessThan(SeededRandom.unitOpen(.max), 1)
        XCTAssertEqual(SeededRandom.unitOpen(1 << 63), 0.5 + 0x1p-53)
        XCTAssertGreaterThan(-log(SeededRandom.unitOpen(.max)), 0)
        var random = SeededRandom(seed: 5)
        for _ in 0..<100_000 {
            let u = random.nextUnitOpen()
            XCTAssert(u > 0 && u < 1, "\(u)")
        }
    }

    /// Mean and variance of `n` draws against the distribution's, within 4 standard errors;
    /// `fourthCentralMoment` gives the standard error of the sample variance.
    private func checkMoments(_ name: String, n: Int, mean: Double, variance: Double,
                              fourthCentralMoment: Double, draw: () -> Double) {
        let xs = (0..<n).map { _ in draw() }
        let sample = meanAndVariance(xs)
        let count = Double(n)
        XCTAssertEqual(sample.mean, mean, accuracy: 4 * (variance / count).squareRoot(), "\(name) mean")
        XCTAssertEqual(sample.variance, variance,
                       accuracy: 4 * ((fourthCentralMoment - variance * variance) / count).squareRoot(), "\(name) variance")
    }

    func testExponentialNormalAndGammaMoments() {
        var random = SeededRandom(seed: 11)
        let n = 200_000
        checkMoments("Exp(1)", n: n, mean: 1, variance: 1, fourthCentralMoment: 9) { random.nextExponential() }
        checkMoments("N(0, 1)", n: n, mean: 0, variance: 1, fourthCentralMoment: 3) { random.nextNormal() }
        for shape in [0.3, 1, 5] {
            // Gamma(k, 1): mean k, variance k, fourth central moment 3k(k + 2).
            checkMoments("Gamma(\(shape))", n: n, mean: shape, variance: shape,
                         fourthCentralMoment: 3 * shape * (shape + 2)) { random.nextGamma(shape: shape) }
        }
    }

    func testGammaDrawsArePositiveAndFinite() {
        var random = SeededRandom(seed: 12)
        for shape in [0.05, 0.3, 1, 5, 1_000] {
            for _ in 0..<10_000 {
                let g = random.nextGamma(shape: shape)
                XCTAssert(g >= 0 && g.isFinite, "shape \(shape): \(g)")
            }
        }
    }
}
