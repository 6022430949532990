// How request lengths vary around their nominal value: `--length-spread` and `--output-spread`.

/// `P%`: uniform within ±P % of N; `A:B`: uniform from A to B; `normal:MEAN,SD`: normal, clamped
/// to at least 1. The absolute forms give the distribution themselves: with a nominal N, N must lie
/// in A...B (or equal MEAN), so a command line never says two different things.
public enum LengthSpread: Sendable, Equatable, CustomStringConvertible {
    case none
    case percent(Double)
    case range(Int, Int)
    case normal(mean: Double, sd: Double)

    public static func parse(_ text: String, flag: String) throws(UsageError) -> LengthSpread {
        let syntax = "takes P% (uniform within ±P % of N), A:B (uniform from A to B) or normal:MEAN,SD"
        if text.hasSuffix("%") {
            guard let value = Units.parseDecimal(String(text.dropLast())), value >= 0, value < 100 else {
                throw UsageError(flag, "\(syntax); the percentage must be from 0 to below 100 (got '\(text)')")
            }
            return .percent(value / 100)
        }
        if text.hasPrefix("normal:") {
            let parts = text.dropFirst("normal:".count).split(separator: ",", omittingEmptySubsequences: false)
            guard parts.count == 2, let mean = Units.parseDecimal(String(parts[0])), let sd = Units.parseDecimal(String(parts[1])),
                  mean >= 1, mean <= 10_000_000, sd >= 0, sd <= 10_000_000 else {
                throw UsageError(flag, "\(syntax); MEAN at least 1, SD at least 0 (got '\(text)')")
            }
            return .normal(mean: mean, sd: sd)
        }
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let low = Units.parseCount(String(parts[0])), let high = Units.parseCount(String(parts[1])),
              low >= 1, high >= low, high <= 10_000_000 else {
            throw UsageError(flag, "\(syntax); A:B whole numbers with 1 ≤ A ≤ B (got '\(text)')")
        }
        return .range(low, high)
    }

    /// The nominal length this spread implies when no N is given (absolute forms only).
    public var nominal: Int? {
        switch self {
        case .none, .percent: nil
        case .range(let low, let high): (low + high) / 2
        case .normal(let mean, _): Int(mean.rounded())
        }
    }

    /// Checks the spread against a nominal N. `lengthFlag` names the option of N.
    public func check(nominal: Int, lengthFlag: String, flag: String) throws(UsageError) {
        switch self {
        case .none, .percent: return
        case .range(let low, let high):
            guard nominal >= low && nominal <= high else {
                throw UsageError(flag, "\(low):\(high) does not contain \(lengthFlag) \(nominal); give one or make them agree")
            }
        case .normal(let mean, _):
            guard Int(mean.rounded()) == nominal else {
                throw UsageError(flag, "normal mean \(Format.trimmed(mean, decimals: 3)) differs from \(lengthFlag) \(nominal); give one or make them agree")
            }
        }
    }

    /// One length drawn around `nominal`, at least 1.
    public func sample(nominal: Int, random: inout SeededRandom) -> Int {
        switch self {
        case .none:
            return max(nominal, 1)
        case .percent(let fraction):
            let low = max(1, Int((Double(nominal) * (1 - fraction)).rounded(.up)))
            let high = max(low, Int((Double(nominal) * (1 + fraction)).rounded(.down)))
            return low + Int(random.next() % UInt64(high - low + 1))
        case .range(let low, let high):
            return low + Int(random.next() % UInt64(high - low + 1))
        case .normal(let mean, let sd):
            return max(1, Int((mean + sd * random.nextNormal()).rounded()))
        }
    }

    public var description: String {
        switch self {
        case .none: "none"
        case .percent(let fraction): Format.trimmed(fraction * 100, decimals: 3) + "%"
        case .range(let low, let high): "\(low):\(high)"
        case .normal(let mean, let sd): "normal:\(Format.trimmed(mean, decimals: 3)),\(Format.trimmed(sd, decimals: 3))"
        }
    }
}
