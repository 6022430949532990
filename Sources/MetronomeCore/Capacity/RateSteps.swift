// `--rates 5,10,20,40`, `2..40x8` (geometric) or `2..40+4` (linear): the rates of a sweep's steps.
import Glibc

public enum RateSteps {
    /// A sweep is a handful of steps; a thousand would be a typo (and hours of load).
    public static var maxSteps: Int { 100 }

    public static let grammar = "a list such as 5,10,20,40, or A..BxN (N geometric steps from A to B, both included), or A..B+S (A, A+S, … up to B)"

    /// The rates in ascending order, each above 0; at most `maxSteps`.
    public static func parse(_ text: String) throws(UsageError) -> [Double] {
        let compact = text.filter { $0 != " " }
        let rates: [Double]
        if let dots = compact.firstRange(of: "..") {
            let from = try rate(String(compact[..<dots.lowerBound]), in: text)
            let rest = String(compact[dots.upperBound...])
            if let x = rest.firstIndex(where: { $0 == "x" || $0 == "X" }) {
                let to = try rate(String(rest[..<x]), in: text)
                guard let count = Units.parseCount(String(rest[rest.index(after: x)...])), count >= 2, count <= maxSteps else {
                    throw UsageError("--rates", "'\(text)': the step count after x must be a whole number from 2 to \(maxSteps)")
                }
                guard to > from else { throw UsageError("--rates", "'\(text)': the range must go up (A..B with B above A)") }
                rates = geometric(from: from, to: to, count: count)
            } else if let plus = rest.firstIndex(of: "+") {
                let to = try rate(String(rest[..<plus]), in: text)
                let step = try rate(String(rest[rest.index(after: plus)...]), in: text)
                guard to > from else { throw UsageError("--rates", "'\(text)': the range must go up (A..B with B above A)") }
                guard (to - from) / step < Double(maxSteps) else {
                    throw UsageError("--rates", "'\(text)' makes more than \(maxSteps) steps")
                }
                rates = linear(from: from, to: to, step: step)
            } else {
                throw UsageError("--rates", "'\(text)': a range needs xN (geometric steps) or +S (linear step); give \(grammar)")
            }
        } else {
            var list: [Double] = []
            for part in compact.split(separator: ",", omittingEmptySubsequences: false) {
                list.append(try rate(String(part), in: text))
            }
            rates = list
        }
        guard rates.count <= maxSteps else { throw UsageError("--rates", "'\(text)' makes \(rates.count) steps; at most \(maxSteps)") }
        for index in rates.indices.dropFirst() where rates[index] <= rates[index - 1] {
            throw UsageError("--rates", "must go up step by step ('\(text)': \(Format.rate(rates[index])) after \(Format.rate(rates[index - 1])))")
        }
        return rates
    }

    /// `count` rates from `from` to `to`, each the previous × (to/from)^(1/(count−1)); the ends exact.
    public static func geometric(from: Double, to: Double, count: Int) -> [Double] {
        let ratio = pow(to / from, 1 / Double(count - 1))
        return (0..<count).map { $0 == count - 1 ? to : from * pow(ratio, Double($0)) }
    }

    /// from, from+step, … while ≤ to (to itself when it falls on a step, within rounding).
    public static func linear(from: Double, to: Double, step: Double) -> [Double] {
        var rates: [Double] = []
        var index = 0.0
        while from + index * step <= to * (1 + 1e-9) {
            rates.append(min(from + index * step, to))
            index += 1
        }
        return rates
    }

    static func rate(_ text: String, in whole: String) throws(UsageError) -> Double {
        guard let value = Units.parseRate(text), value > 0, value <= 10_000_000 else {
            throw UsageError("--rates", "'\(whole)': '\(text)' is not a rate above 0; give \(grammar)")
        }
        return value
    }
}
