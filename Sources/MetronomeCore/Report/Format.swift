// Number formatting for reports without Foundation: fixed decimals, trimmed decimals, padding.

public enum Format {
    /// `x` with exactly `decimals` digits after the point, rounded half away from zero.
    public static func fixed(_ x: Double, decimals: Int) -> String {
        if x.isNaN { return "nan" }
        if x.isInfinite { return x > 0 ? "inf" : "-inf" }
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let negative = x < 0
        let scaled = (abs(x) * scale).rounded()
        guard scaled < 9e18 else { return String(x) }
        let whole = UInt64(scaled)
        let divisor = UInt64(scale)
        var text = String(whole / divisor)
        if decimals > 0 {
            var fraction = String(whole % divisor)
            while fraction.count < decimals { fraction = "0" + fraction }
            text += "." + fraction
        }
        return negative && whole != 0 ? "-" + text : text
    }

    /// Like `fixed`, without trailing zeros (and without a bare point): `1.5`, `2`, `0.125`.
    public static func trimmed(_ x: Double, decimals: Int) -> String {
        var text = fixed(x, decimals: decimals)
        guard text.contains(".") else { return text }
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text
    }

    public static func padLeft(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : String(repeating: " ", count: width - text.count) + text
    }

    public static func padRight(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }

    /// A rate for display: `20`, `0.5`, `33.33`.
    public static func rate(_ perSec: Double) -> String { trimmed(perSec, decimals: 2) }
}
