// Reproducible random numbers for arrival processes: xoshiro256** seeded through splitmix64.
import Glibc

/// xoshiro256** (Blackman & Vigna), its 256-bit state filled from the seed by splitmix64 as the
/// authors recommend, so nearby seeds give unrelated streams. The integer stream is the same on
/// every platform; the derived Doubles go through libm's `log`, which may differ in the last bit
/// between C libraries.
public struct SeededRandom: Sendable, RandomNumberGenerator {
    private var s0: UInt64
    private var s1: UInt64
    private var s2: UInt64
    private var s3: UInt64

    public init(seed: UInt64) {
        var x = seed
        s0 = Self.splitMix64(&x)
        s1 = Self.splitMix64(&x)
        s2 = Self.splitMix64(&x)
        s3 = Self.splitMix64(&x)
    }

    /// The raw state, for checking against the reference test vectors.
    init(state: (UInt64, UInt64, UInt64, UInt64)) {
        precondition(state != (0, 0, 0, 0), "xoshiro's state must not be all zero")
        (s0, s1, s2, s3) = state
    }

    static func splitMix64(_ x: inout UInt64) -> UInt64 {
        x &+= 0x9E37_79B9_7F4A_7C15
        var z = x
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    public mutating func next() -> UInt64 {
        let result = Self.rotateLeft(s1 &* 5, by: 7) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = Self.rotateLeft(s3, by: 45)
        return result
    }

    private static func rotateLeft(_ x: UInt64, by k: UInt64) -> UInt64 {
        (x << k) | (x >> (64 &- k))
    }

    /// Uniform in (0, 1), never 0 and never 1, so `-log` of it is finite and positive.
    public mutating func nextUnitOpen() -> Double {
        Self.unitOpen(next())
    }

    /// The top 52 bits, shifted by half a step: (m + ½)·2⁻⁵² for m in 0 ..< 2⁵², so from 2⁻⁵³ to
    /// 1 − 2⁻⁵³. All of these are exact Doubles; with 53 bits the top one would round up to 1.
    static func unitOpen(_ bits: UInt64) -> Double {
        (Double(bits >> 12) + 0.5) * 0x1p-52
    }

    /// Exp(1), by inversion.
    public mutating func nextExponential() -> Double {
        -log(nextUnitOpen())
    }

    /// N(0, 1), by Marsaglia's polar method (one of the pair is kept for nothing: simpler state).
    public mutating func nextNormal() -> Double {
        while true {
            let x = 2 * nextUnitOpen() - 1
            let y = 2 * nextUnitOpen() - 1
            let s = x * x + y * y
            if s > 0 && s < 1 {
                return x * (-2 * log(s) / s).squareRoot()
            }
        }
    }

    /// Gamma(shape, scale 1), mean and variance both `shape`. Marsaglia & Tsang (2000):
    /// d = shape − ⅓, c = 1/√(9d), accept d·(1 + c·x)³ for x ~ N(0, 1) by a squeeze then a log test.
    /// For shape < 1 they draw Gamma(shape + 1) and multiply by u^(1/shape).
    public mutating func nextGamma(shape: Double) -> Double {
        precondition(shape > 0 && shape.isFinite, "gamma shape must be positive and finite")
        if shape < 1 {
            let boost = pow(nextUnitOpen(), 1 / shape)
            return nextGamma(shape: shape + 1) * boost
        }
        let d = shape - 1.0 / 3.0
        let c = 1 / (9 * d).squareRoot()
        while true {
            let x = nextNormal()
            let cube = 1 + c * x
            guard cube > 0 else { continue }
            let v = cube * cube * cube
            let u = nextUnitOpen()
            let xSquared = x * x
            if u < 1 - 0.0331 * xSquared * xSquared { return d * v }
            if log(u) < 0.5 * xSquared + d * (1 - v + log(v)) { return d * v }
        }
    }
}
