// Percentile iteration and the .hgrm percentile-distribution text, with printf-exact number formatting.
import Glibc

/// One row of HdrHistogram's percentile iteration.
public struct PercentileStep: Sendable, Equatable {
    /// Highest equivalent value of the slot the iteration stopped in.
    public let value: UInt64
    /// The percentile level iterated to (0...100): what the `.hgrm` text prints, divided by 100.
    public let percentileLevel: Double
    /// Count of all samples at or below `value`.
    public let totalCountToValue: UInt64
}

/// HdrHistogram's percentile iterator. Levels start at 0 % and advance by `100 / (ticks · 2^(k+1))`, where
/// `k = ⌊log2(100 / (100 − level))⌋` counts the halvings of the distance to 100 % already passed, so each
/// half-distance gets `ticksPerHalfDistance` rows. A level is reported at the first occupied slot whose
/// cumulative percentile reaches it (the same slot may serve several levels); one last row at exactly
/// 100 % follows the slot that completes the count. Iterate a `copy()`, not a histogram being written.
public struct PercentileIterator: IteratorProtocol, Sequence {
    private let histogram: Histogram
    private let ticksPerHalfDistance: Int64
    private let totalCount: UInt64
    private var index = 0
    private var countAtIndex: UInt64 = 0
    private var indexCounted = false
    private var countToIndex: UInt64 = 0
    private var levelToIterateTo = 0.0
    private var reachedLastRecordedValue = false

    init(histogram: Histogram, ticksPerHalfDistance: Int) {
        precondition(ticksPerHalfDistance >= 1, "ticksPerHalfDistance must be >= 1")
        self.histogram = histogram
        self.ticksPerHalfDistance = Int64(ticksPerHalfDistance)
        totalCount = histogram.totalCount
    }

    public mutating func next() -> PercentileStep? {
        if countToIndex >= totalCount {
            if reachedLastRecordedValue || totalCount == 0 { return nil }
            levelToIterateTo = 100
            reachedLastRecordedValue = true
        }
        while index < histogram.countsLength {
            if !indexCounted {
                countAtIndex = histogram.count(atIndex: index)
                countToIndex &+= countAtIndex
                indexCounted = true
            }
            if countAtIndex != 0 && 100.0 * Double(countToIndex) / Double(totalCount) >= levelToIterateTo {
                let step = PercentileStep(
                    value: histogram.highestEquivalentValue(histogram.valueFromIndex(index)),
                    percentileLevel: levelToIterateTo,
                    totalCountToValue: countToIndex)
                advanceLevel()
                return step
            }
            index += 1
            indexCounted = false
        }
        return nil
    }

    private mutating func advanceLevel() {
        if levelToIterateTo == 100 { return }
        // log()/log(2) and truncation exactly as HdrHistogram_c and Java write it, so rows match byte for byte.
        let halvings = Int64(log(100.0 / (100.0 - levelToIterateTo)) / log(2.0)) + 1
        let halfDistance = Int64(pow(2.0, Double(halvings)))
        let reportingTicks = ticksPerHalfDistance * halfDistance
        levelToIterateTo += 100.0 / Double(reportingTicks)
    }
}

extension Histogram {
    /// Iterates percentile levels like HdrHistogram's `percentiles(ticksPerHalfDistance)`.
    public func percentiles(ticksPerHalfDistance: Int = 5) -> PercentileIterator {
        PercentileIterator(histogram: self, ticksPerHalfDistance: ticksPerHalfDistance)
    }

    /// HdrHistogram's `outputPercentileDistribution` text (the `.hgrm` format its plotter reads): Java's
    /// header and row layout (`%12.<figures>f %2.12f %10d %14.2f`), C printf number rendering, and on the
    /// last (100 %) row `1/(1-Percentile)` printed as `inf` the way wrk2 prints it. Values are divided by
    /// `unitScale` (1e6 turns nanoseconds into milliseconds). Works on a snapshot, so it is safe to call
    /// while the writer records. An empty histogram gives the header, no rows and a zero footer.
    public func percentileDistribution(unitScale: Double, ticksPerHalfDistance: Int = 5) -> String {
        let snapshot = copy()
        let figures = significantFigures
        var out: [UInt8] = []
        out.reserveCapacity(8192)
        NumberText.append("       Value     Percentile TotalCount 1/(1-Percentile)\n\n", to: &out)
        for step in snapshot.percentiles(ticksPerHalfDistance: ticksPerHalfDistance) {
            let percentile = step.percentileLevel / 100.0
            NumberText.appendFixed(Double(step.value) / unitScale, decimals: figures, width: 12, to: &out)
            out.append(UInt8(ascii: " "))
            NumberText.appendFixed(percentile, decimals: 12, width: 2, to: &out)
            out.append(UInt8(ascii: " "))
            NumberText.appendUnsigned(step.totalCountToValue, width: 10, to: &out)
            out.append(UInt8(ascii: " "))
            NumberText.appendFixed(1.0 / (1.0 - percentile), decimals: 2, width: 14, to: &out)
            out.append(UInt8(ascii: "\n"))
        }
        let moments = snapshot.moments()
        NumberText.append("#[Mean    = ", to: &out)
        NumberText.appendFixed(moments.mean / unitScale, decimals: figures, width: 12, to: &out)
        NumberText.append(", StdDeviation   = ", to: &out)
        NumberText.appendFixed(moments.stdDeviation / unitScale, decimals: figures, width: 12, to: &out)
        NumberText.append("]\n#[Max     = ", to: &out)
        NumberText.appendFixed(Double(snapshot.maxValue) / unitScale, decimals: figures, width: 12, to: &out)
        NumberText.append(", Total count    = ", to: &out)
        NumberText.appendUnsigned(snapshot.totalCount, width: 12, to: &out)
        NumberText.append("]\n#[Buckets = ", to: &out)
        NumberText.appendUnsigned(UInt64(bucketCount), width: 12, to: &out)
        NumberText.append(", SubBuckets     = ", to: &out)
        NumberText.appendUnsigned(UInt64(subBucketCount), width: 12, to: &out)
        NumberText.append("]\n", to: &out)
        return String(decoding: out, as: UTF8.self)
    }
}

/// Number rendering identical to glibc printf, without Foundation (variadic snprintf is not callable
/// from Swift). Off the hot path: these allocate.
enum NumberText {
    static func append(_ text: String, to out: inout [UInt8]) {
        out.append(contentsOf: text.utf8)
    }

    /// `printf("%<width>llu", value)`.
    static func appendUnsigned(_ value: UInt64, width: Int, to out: inout [UInt8]) {
        var digits: [UInt8] = []
        var rest = value
        repeat {
            digits.append(UInt8(ascii: "0") + UInt8(rest % 10))
            rest /= 10
        } while rest != 0
        appendPadding(width - digits.count, to: &out)
        out.append(contentsOf: digits.reversed())
    }

    /// `printf("%<width>.<decimals>f", value)` as glibc renders it: the exact binary value rounded to
    /// `decimals` places, ties to even; `inf`/`nan` with their sign; `-0.000` for negative values that
    /// round to zero. `decimals` is limited to 0...22 so that the scaled mantissa fits in 128 bits.
    static func appendFixed(_ value: Double, decimals: Int, width: Int, to out: inout [UInt8]) {
        precondition((0...22).contains(decimals), "decimals must be in 0...22")
        var body: [UInt8] = []
        if value.sign == .minus { body.append(UInt8(ascii: "-")) }
        if value.isNaN {
            body.append(contentsOf: "nan".utf8)
        } else if value.isInfinite {
            body.append(contentsOf: "inf".utf8)
        } else {
            var digits = scaledDigits(value.magnitude, decimals: decimals)
            // At least one digit before the point.
            if digits.count <= decimals {
                digits.insert(contentsOf: repeatElement(UInt8(ascii: "0"), count: decimals + 1 - digits.count), at: 0)
            }
            let integerDigits = digits.count - decimals
            body.append(contentsOf: digits[0..<integerDigits])
            if decimals > 0 {
                body.append(UInt8(ascii: "."))
                body.append(contentsOf: digits[integerDigits...])
            }
        }
        appendPadding(width - body.count, to: &out)
        out.append(contentsOf: body)
    }

    private static func appendPadding(_ count: Int, to out: inout [UInt8]) {
        if count > 0 { out.append(contentsOf: repeatElement(UInt8(ascii: " "), count: count)) }
    }

    /// Decimal digits of `round(value · 10^decimals)` (ties to even), most significant first, no leading
    /// zeros ("0" for zero). `value` is finite and non-negative.
    private static func scaledDigits(_ value: Double, decimals: Int) -> [UInt8] {
        // value = mantissa · 2^exponent exactly.
        let exponentField = Int((value.bitPattern >> 52) & 0x7FF)
        let fraction = value.bitPattern & ((1 << 52) - 1)
        let mantissa = exponentField == 0 ? fraction : fraction | (1 << 52)
        let exponent = exponentField == 0 ? -1074 : exponentField - 1075
        if mantissa == 0 { return [UInt8(ascii: "0")] }

        if exponent >= 0 {
            // An integer: its digits, then the (zero) decimals.
            var digits = bigIntegerDigits(mantissa: mantissa, shift: exponent)
            digits.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: decimals))
            return digits
        }
        // mantissa < 2^53 and 10^22 < 2^74, so the product fits below 2^127.
        var scale: UInt128 = 1
        for _ in 0..<decimals { scale *= 10 }
        let scaled = UInt128(mantissa) * scale
        let shift = -exponent
        var quotient: UInt128 = 0
        var remainder = scaled
        var half: UInt128 = 0
        if shift < 128 {
            quotient = scaled >> UInt128(shift)
            remainder = scaled & ((1 << UInt128(shift)) - 1)
            half = 1 << UInt128(shift - 1)
        } else {
            // scaled < 2^127 <= 2^(shift-1): below half, rounds to zero.
            half = 1 << 127
        }
        if remainder > half || (remainder == half && quotient & 1 == 1) {
            quotient += 1
        }
        var digits: [UInt8] = []
        repeat {
            digits.append(UInt8(ascii: "0") + UInt8(quotient % 10))
            quotient /= 10
        } while quotient != 0
        digits.reverse()
        return digits
    }

    /// Decimal digits of `mantissa << shift`, which can be as large as 2^1024.
    private static func bigIntegerDigits(mantissa: UInt64, shift: Int) -> [UInt8] {
        // Little-endian 32-bit limbs.
        var limbs = [UInt32](repeating: 0, count: shift / 32)
        let bitShift = shift % 32
        let shifted = (UInt128(mantissa) << UInt128(bitShift))
        for limbIndex in 0..<3 {
            limbs.append(UInt32(truncatingIfNeeded: shifted >> UInt128(32 * limbIndex)))
        }
        while limbs.last == 0 { limbs.removeLast() }

        // Peel off base-10^9 chunks, least significant first.
        var chunks: [UInt32] = []
        while !limbs.isEmpty {
            var remainder: UInt64 = 0
            for i in stride(from: limbs.count - 1, through: 0, by: -1) {
                let current = (remainder << 32) | UInt64(limbs[i])
                limbs[i] = UInt32(current / 1_000_000_000)
                remainder = current % 1_000_000_000
            }
            chunks.append(UInt32(remainder))
            while limbs.last == 0 { limbs.removeLast() }
        }
        var digits: [UInt8] = []
        for (position, chunk) in chunks.reversed().enumerated() {
            var chunkDigits: [UInt8] = []
            var rest = chunk
            repeat {
                chunkDigits.append(UInt8(ascii: "0") + UInt8(rest % 10))
                rest /= 10
            } while rest != 0
            // Inner chunks keep their leading zeros.
            if position > 0 {
                chunkDigits.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: 9 - chunkDigits.count))
            }
            digits.append(contentsOf: chunkDigits.reversed())
        }
        return digits
    }
}
