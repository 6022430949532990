// Wall-clock labels for reports and file names, without Foundation: ISO 8601 (UTC) and local stamps.
import Glibc

/// The calendar fields of Unix second `unixS`, in UTC or in the local time zone.
func calendarFields(unixS: Double, local: Bool = false) -> tm {
    var seconds = time_t(unixS.rounded(.down))
    var fields = tm()
    if local { localtime_r(&seconds, &fields) } else { gmtime_r(&seconds, &fields) }
    return fields
}

/// Two digits, zero-padded: 9 → "09".
func twoDigits(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }

/// `2026-11-29T09:30:00Z` from Unix seconds (UTC).
public func isoTimestamp(unixS: Double) -> String {
    let t = calendarFields(unixS: unixS)
    return "\(t.tm_year + 1900)-\(twoDigits(t.tm_mon + 1))-\(twoDigits(t.tm_mday))T"
        + "\(twoDigits(t.tm_hour)):\(twoDigits(t.tm_min)):\(twoDigits(t.tm_sec))Z"
}

/// `2026-11-29T09:20:01.250Z` from Unix seconds (UTC, milliseconds truncated).
public func isoTimestampMillis(unixS: Double) -> String {
    let totalMs = (unixS * 1000).rounded(.down)
    let wholeS = (totalMs / 1000).rounded(.down)
    let ms = Int(totalMs - wholeS * 1000)
    var text = isoTimestamp(unixS: wholeS)
    text.removeLast()
    let digits = String(ms)
    return text + "." + String(repeating: "0", count: 3 - digits.count) + digits + "Z"
}
