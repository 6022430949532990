// Reads HdrHistogram interval logs (`.hlog`): ours, and those of HdrHistogram's tools, wrk2 and jHiccup.

/// A line of an interval log that could not be read.
public struct HistogramLogError: Error, CustomStringConvertible, Sendable {
    public let line: Int
    public let reason: String
    public var description: String { "interval log line \(line): \(reason)" }
}

/// An interval log, read the way HdrHistogram's HistogramLogReader reads it: `#[StartTime: S …]` and
/// `#[BaseTime: S …]` comments set the clock (without BaseTime, timestamps more than a year before
/// StartTime are taken as relative to it, as the references do), other `#` lines and the CSV legend are
/// skipped, and each other line is `[Tag=T,]start,length,max,base64 histogram`.
public struct HistogramLog: Sendable {
    public var startTimeS: Double?
    public var baseTimeS: Double?
    /// From `#[MaxValueDivisor: D]` (ours: 1000, µs → ms in the max column); nil when absent.
    public var maxValueDivisor: Double?
    public var intervals: [Interval] = []

    public struct Interval: Sendable {
        /// nil for untagged lines (ours: latency).
        public var tag: String?
        /// As written: seconds from BaseTime (ours: from the plan's zero).
        public var startS: Double
        public var lengthS: Double
        /// The line's max column, as written (ours: ms).
        public var max: Double
        /// The histogram as encoded (ours: microseconds); `HdrV2.nanoseconds(histogram)` for ns.
        public var histogram: HdrV2.Decoded
        /// Unix seconds of the interval's start.
        public var absoluteStartS: Double
    }

    /// The intervals of one tag (nil: the untagged lines).
    public func intervals(tag: String?) -> [Interval] {
        intervals.filter { $0.tag == tag }
    }

    public init(parsing text: String) throws {
        var lineNumber = 0
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let line = rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine[...]
            if line.isEmpty { continue }
            if line.hasPrefix("#") {
                if let value = Self.commentNumber(line, key: "#[StartTime:") { startTimeS = value }
                else if let value = Self.commentNumber(line, key: "#[BaseTime:") { baseTimeS = value }
                else if let value = Self.commentNumber(line, key: "#[MaxValueDivisor:") { maxValueDivisor = value }
                continue
            }
            if line.hasPrefix("\"StartTimestamp\"") { continue }
            var body = line
            var tag: String?
            if line.hasPrefix("Tag=") {
                guard let comma = line.firstIndex(of: ",") else {
                    throw HistogramLogError(line: lineNumber, reason: "a Tag= without a comma")
                }
                tag = String(line[line.index(line.startIndex, offsetBy: 4)..<comma])
                body = line[line.index(after: comma)...]
            }
            let fields = body.split(separator: ",", maxSplits: 3, omittingEmptySubsequences: false)
            guard fields.count == 4, let start = Double(fields[0]), let length = Double(fields[1]), let max = Double(fields[2]) else {
                throw HistogramLogError(line: lineNumber, reason: "expected start,length,max,histogram (got '\(body.prefix(80))')")
            }
            let histogram: HdrV2.Decoded
            do { histogram = try HdrV2.decodeAsRecorded(base64: String(fields[3])) } catch {
                throw HistogramLogError(line: lineNumber, reason: "\(error)")
            }
            if startTimeS == nil { startTimeS = start }
            if baseTimeS == nil {
                // The references' rule: a timestamp over a year before StartTime is relative to it.
                baseTimeS = start < startTimeS! - 365 * 24 * 3600 ? startTimeS! : 0
            }
            intervals.append(Interval(tag: tag, startS: start, lengthS: length, max: max, histogram: histogram,
                                      absoluteStartS: start + baseTimeS!))
        }
    }

    /// The number after `key` in a `#[Key: N …]` comment.
    private static func commentNumber(_ line: Substring, key: String) -> Double? {
        guard line.hasPrefix(key) else { return nil }
        let rest = line.dropFirst(key.count).drop { $0 == " " }
        return Double(rest.prefix { $0.isNumber || $0 == "." || $0 == "-" || $0 == "e" || $0 == "E" || $0 == "+" })
    }
}
