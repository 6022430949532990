// Parses and prints the units users type: durations ("500ms", "1h30m"), rates ("2.5", "2k"), counts.

public enum Units {
    /// `500ms`, `10s`, `2m`, `1h30m`, `1.5s`, `250us`; a bare number is seconds. Returns nanoseconds.
    /// Numbers are plain decimals (see `parseDecimal`): no sign, exponent, hex, `inf` or spaces.
    public static func parseDuration(_ text: String) -> UInt64? {
        guard !text.isEmpty else { return nil }
        if let seconds = parseDecimal(text) {
            guard seconds < 1e9 else { return nil }
            return UInt64((seconds * 1e9).rounded())
        }
        var totalNs = 0.0
        var number = ""
        var unit = ""
        func flush() -> Bool {
            guard let value = parseDecimal(number) else { return false }
            let scale: Double
            switch unit {
            case "ns": scale = 1
            case "us", "µs": scale = 1e3
            case "ms": scale = 1e6
            case "s": scale = 1e9
            case "m": scale = 60e9
            case "h": scale = 3600e9
            case "d": scale = 86400e9
            default: return false
            }
            totalNs += value * scale
            number = ""
            unit = ""
            return true
        }
        for character in text {
            if character.isASCII && (character.isNumber || character == ".") {
                if !unit.isEmpty { guard flush() else { return nil } }
                number.append(character)
            } else if character.isLetter {
                guard !number.isEmpty else { return nil }
                unit.append(character)
            } else {
                return nil
            }
        }
        guard !number.isEmpty, !unit.isEmpty, flush(), totalNs < 1e18 else { return nil }
        return UInt64(totalNs.rounded())
    }

    /// A rate per second: `20`, `0.5`, `2k` (2000), `20/s`. Non-negative and finite.
    public static func parseRate(_ text: String) -> Double? {
        var body = text.lowercased()
        var scale = 1.0
        if body.hasSuffix("/s") { body.removeLast(2) }
        if body.hasSuffix("k") { scale = 1e3; body.removeLast() } else if body.hasSuffix("m") { scale = 1e6; body.removeLast() }
        guard let value = parseDecimal(body) else { return nil }
        return value * scale
    }

    /// A whole count: `100`, `10k`, `1m`.
    public static func parseCount(_ text: String) -> Int? {
        guard let value = parseRate(text), value == value.rounded(), value <= Double(Int32.max) else { return nil }
        return Int(value)
    }

    /// A plain decimal number as people type it: digits with at most one `.` (`20`, `0.5`, `.5`, `2.`).
    /// Swift's `Double(_:)` also takes `0x10`, `0x1p4`, `1e3`, `+5`, `nan` and `inf`; a load
    /// generator must not read `--rate 0x10` as 16, so those are refused here, before `Double`.
    public static func parseDecimal(_ text: String) -> Double? {
        var digits = 0
        var dots = 0
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digits += 1
            case UInt8(ascii: "."): dots += 1
            default: return nil
            }
        }
        guard digits > 0, dots <= 1, let value = Double(text), value.isFinite else { return nil }
        return value
    }

    /// A whole number of plain decimal digits (no sign, no spaces, no `_`), as `UInt64(_:)` alone
    /// would also take `+5`.
    public static func parseWhole(_ text: String) -> UInt64? {
        guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else { return nil }
        return UInt64(text)
    }

    /// The shortest exact spelling in the units above: `1h30m`, `10s`, `500ms`, `1.5s`.
    public static func formatDuration(_ ns: UInt64) -> String {
        if ns == 0 { return "0s" }
        if ns % 1_000_000_000 == 0 {
            var seconds = ns / 1_000_000_000
            var text = ""
            if seconds >= 3600 { text += "\(seconds / 3600)h"; seconds %= 3600 }
            if seconds >= 60 { text += "\(seconds / 60)m"; seconds %= 60 }
            if seconds > 0 { text += "\(seconds)s" }
            return text
        }
        if ns >= 1_000_000_000 { return Format.trimmed(Double(ns) / 1e9, decimals: 3) + "s" }
        if ns % 1_000_000 == 0 { return "\(ns / 1_000_000)ms" }
        if ns >= 1_000_000 { return Format.trimmed(Double(ns) / 1e6, decimals: 3) + "ms" }
        return Format.trimmed(Double(ns) / 1e3, decimals: 3) + "us"
    }
}

extension String {
    func trimmingSpaces() -> String {
        var scalars = Substring(self)
        while let first = scalars.first, first == " " || first == "\t" { scalars.removeFirst() }
        while let last = scalars.last, last == " " || last == "\t" { scalars.removeLast() }
        return String(scalars)
    }
}
