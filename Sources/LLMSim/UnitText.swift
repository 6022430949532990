// Reads the CLI's durations ("500ms", "1h30m", bare seconds "0.1") and fractions ("0.01", "1%").

import MetronomeCore

/// Durations are read and printed exactly as `metronome` reads them (`Units`): a bare number is
/// seconds; otherwise number-unit pairs such as `1h30m`, `1.5s`, `250us`.
func parseDurationNs(_ text: String) -> UInt64? { Units.parseDuration(text) }

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
func formatDuration(_ ns: UInt64) -> String { Units.formatDuration(ns) }
