// Reads the CLI's durations ("500ms", "1h30m", bare seconds "0.1") and fractions ("0.01", "1%").

import MetronomeCore

/// Durations are read and printed exactly as `metronome` reads them (`Units`): a bare number is
/// seconds; otherwise number-unit pairs such as `1h30m`, `1.5s`, `250us`.
func parseDurationNs(_ text: String) -> UInt64? { Units.parseDuration(text) }

/// A fraction in [0, 1], written `0.05` or `5%`.
/// Plain decimal only: Swift's `Double("0x1p-2")` would read hex, and `nan`/`inf` are no fractions.
func parseFraction(_ text: String) -> Double? {
    let digits = text.hasSuffix("%") ? text.dropLast() : Substring(text)
    guard isPlainDecimal(digits) else { return nil }
    let value = Double(digits).map { text.hasSuffix("%") ? $0 / 100 : $0 }
    guard let value, value >= 0, value <= 1 else { return nil }
    return value
}

/// Digits, point, sign and exponent only: what `Double(_:)` reads beyond that (hex, `nan`, `inf`)
/// is no number a user means on a command line.
func isPlainDecimal(_ text: Substring) -> Bool {
    !text.isEmpty && text.utf8.allSatisfy { $0 &- 0x30 < 10 || $0 == 0x2E || $0 == 0x65 || $0 == 0x45 || $0 == 0x2B || $0 == 0x2D }
}

/// Formats nanoseconds the way the flags take them, for `--help` defaults.
func formatDuration(_ ns: UInt64) -> String { Units.formatDuration(ns) }
