// Seeded randomness for token text, lengths, jitter and faults: SplitMix64, reproducible per seed.
import Glibc

/// SplitMix64 (Steele, Lea, Flood 2014): one 64-bit add and a finalizer per draw, and every
/// seed gives a full-period stream. Separate `stream` numbers give independent sequences, so
/// (say) turning jitter on does not change which requests the fault draws pick.
struct SimRandom {
    private var state: UInt64

    init(seed: UInt64, stream: UInt64) {
        state = mix64(seed &+ mix64(stream &+ 0x6A09_E667_F3BC_C909))
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return mix64(state)
    }

    /// Uniform in [0, 1), 53 bits.
    mutating func unit() -> Double {
        Double(next() >> 11) * 0x1p-53
    }

    /// Uniform in [0, n). The modulo bias is below 2⁻⁴⁰ for the small n used here.
    mutating func below(_ n: Int) -> Int {
        n <= 1 ? 0 : Int(next() % UInt64(n))
    }

    /// Standard normal by Box–Muller (one of the pair; draws are rare enough not to cache the other).
    mutating func normal() -> Double {
        let u1 = 1.0 - unit()   // (0, 1]: log stays finite
        let u2 = unit()
        return (-2.0 * log(u1)).squareRoot() * cos(2.0 * Double.pi * u2)
    }

    /// True with probability `p`, drawing once whatever `p` is, so streams stay aligned.
    mutating func chance(_ p: Double) -> Bool {
        unit() < p
    }
}

/// SplitMix64's finalizer: a bijective 64-bit mix, also used to hash (seed, request, token).
@inline(__always)
func mix64(_ value: UInt64) -> UInt64 {
    var z = value
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
}
