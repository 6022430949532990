// The tests' seeded random numbers: the project's own generator, with the helpers fuzz tests want.
@testable import MetronomeCore

/// Seeded, so a failing random iteration replays exactly.
struct TestRandom: RandomNumberGenerator {
    private var source: SeededRandom
    init(seed: UInt64) { source = SeededRandom(seed: seed) }

    mutating func next() -> UInt64 { source.next() }
    /// Uniform in [0, 1).
    mutating func nextUnit() -> Double { Double(next() >> 11) / 9_007_199_254_740_992 }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(n, 1))) }
    mutating func chance(_ percent: Int) -> Bool { below(100) < percent }
    mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }

    /// `count` sorted cut offsets in `0...length` (repeats allowed: an empty piece is a valid read).
    mutating func cuts(in length: Int, count: Int) -> [Int] {
        (0..<count).map { _ in below(length + 1) }.sorted()
    }
}

/// A plan from seconds and rates: `plan(0, (10, 20), (30, 20))` is "0 → 20 over 10 s, hold 30 s".
func plan(_ startRatePerSec: Double, _ targets: (seconds: Double, ratePerSec: Double)...) -> RatePlan {
    let stages = targets.enumerated().map { index, target in
        (durationNs: UInt64(target.seconds * 1e9), targetRatePerSec: target.ratePerSec, name: "stage \(index + 1)")
    }
    return try! RatePlan(startRatePerSec: startRatePerSec, targets: stages)
}
