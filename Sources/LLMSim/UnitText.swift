// Reads the CLI's durations ("500ms", "1h30m", bare seconds "0.1") and fractions ("0.01", "1%").

/// Parses a duration into nanoseconds. A bare number is seconds; otherwise one or more
/// number-unit pairs, units `ns`, `us` (or `µs`), `ms`, `s`, `m`, `h`: `1h30m`, `1.5s`, `250us`.
/// Returns nil for anything else, including negative values.
func parseDurationNs(_ text: String) -> UInt64? {
    if let seconds = Double(text) {
        guard seconds >= 0, seconds.isFinite, seconds < 1e9 else { return nil }
        return UInt64((seconds * 1e9).rounded())
    }
    let scalars = Array(text.unicodeScalars)
    var index = 0
    var totalNs = 0.0
    var sawPair = false
    while index < scalars.count {
        var number = ""
        while index < scalars.count, scalars[index] == "." || ("0"..."9").contains(scalars[index]) {
            number.unicodeScalars.append(scalars[index])
            index += 1
        }
        var unit = ""
        while index < scalars.count, scalars[index] != "." && !("0"..."9").contains(scalars[index]) {
            unit.unicodeScalars.append(scalars[index])
            index += 1
        }
        guard let value = Double(number), let scaleNs = nanosecondsPerUnit(unit) else { return nil }
        totalNs += value * scaleNs
        sawPair = true
    }
    guard sawPair, totalNs.isFinite, totalNs < 1e18 else { return nil }
    return UInt64(totalNs.rounded())
}

private func nanosecondsPerUnit(_ unit: String) -> Double? {
    switch unit {
    case "ns": return 1
    case "us", "µs": return 1e3
    case "ms": return 1e6
    case "s": return 1e9
    case "m": return 60e9
    case "h": return 3600e9
    default: return nil
    }
}

/// A fraction in [0, 1], written `0.05` or `5%`.
func parseFraction(_ text: String) -> Double? {
    let value: Double?
    if text.hasSuffix("%") {
        value = Double(text.dropLast()).map { $0 / 100 }
    } else {
        value = Double(text)
    }
    guard let value, value >= 0, value <= 1 else { return nil }
    return value
}

/// Formats nanoseconds the way the flags take them, for `--help` defaults.
func formatDuration(_ ns: UInt64) -> String {
    if ns == 0 { return "0" }
    if ns % 3_600_000_000_000 == 0 { return "\(ns / 3_600_000_000_000)h" }
    if ns % 60_000_000_000 == 0 { return "\(ns / 60_000_000_000)m" }
    if ns % 1_000_000_000 == 0 { return "\(ns / 1_000_000_000)s" }
    if ns % 1_000_000 == 0 { return "\(ns / 1_000_000)ms" }
    if ns % 1_000 == 0 { return "\(ns / 1_000)us" }
    return "\(ns)ns"
}
