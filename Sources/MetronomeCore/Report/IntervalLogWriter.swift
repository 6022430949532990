// `<name>.hlog`: HdrHistogram's interval log of a run, one line per second (and per tag), from the capture.

/// Renders a run's `IntervalCapture` as HdrHistogram's interval log (format version 1.3, as Java's
/// HistogramLogWriter, Python's `hdrh.log` and the Rust crate write it):
///
///     #[Histogram log format version 1.3]
///     #[StartTime: 1764564552.123 (seconds since epoch), 2026-12-01T04:49:12.123Z]
///     #[BaseTime: 1764564552.123 (seconds since epoch)]
///     #[MaxValueDivisor: 1000.0]
///     "StartTimestamp","Interval_Length","Interval_Max","Interval_Compressed_Histogram"
///     0.000,1.000,12.345,HISTFAAAA…
///     Tag=ttft,0.000,1.000,80.123,HISTFAAAA…
///
/// Timestamps are seconds from the plan's zero (StartTime = BaseTime = its wall clock), the max is the
/// interval's in milliseconds (microseconds / MaxValueDivisor), and each histogram is base64 of the V2
/// compressed encoding in microseconds (`HdrV2`). Untagged lines: latency from the intended start of the
/// requests that succeeded in that second (the per-second series' histogram: they add up to the run's
/// latency count). LLM runs add `Tag=ttft` (time to first token from the intended start) and `Tag=itl`
/// (inter-token gaps) lines for every interval, empty ones included.
public enum IntervalLogWriter {
    public static let maxValueDivisor = 1000.0

    public static func render(_ capture: IntervalCapture, startedAtUnixS: Double) -> String {
        render(capture, startedAtUnixS: startedAtUnixS, zlib: .shared)
    }

    static func render(_ capture: IntervalCapture, startedAtUnixS: Double, zlib: Zlib) -> String {
        // To the millisecond, truncated like the ISO date beside it, so the two agree.
        let startMs = (startedAtUnixS * 1000).rounded(.down) / 1000
        let start = Format.fixed(startMs, decimals: 3)
        var text = "#[Histogram log format version 1.3]\n"
        text += "#[Written by Metronome: latency from the intended start in microseconds; Tag=ttft and Tag=itl lines for LLM workloads]\n"
        text += "#[StartTime: \(start) (seconds since epoch), \(isoTimestampMillis(unixS: startMs))]\n"
        text += "#[BaseTime: \(start) (seconds since epoch)]\n"
        text += "#[MaxValueDivisor: \(Format.fixed(maxValueDivisor, decimals: 1))]\n"
        text += "\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_Histogram\"\n"
        let layout = Histogram()
        let microseconds = HdrV2.microsecondHistogram()
        var kinds: [(IntervalCapture.Kind, String)] = [(.latency, "")]
        if capture.hasTTFT { kinds.append((.ttft, "Tag=ttft,")) }
        if capture.hasITL { kinds.append((.itl, "Tag=itl,")) }
        for (number, interval) in capture.intervals.enumerated() {
            let startS = Format.fixed(Double(interval.startNs) / 1e9, decimals: 3)
            let lengthS = Format.fixed(Double(interval.endNs &- interval.startNs) / 1e9, decimals: 3)
            for (kind, prefix) in kinds {
                microseconds.reset()
                capture.forEachSlot(interval: number, kind) { index, count in
                    microseconds.record(HdrV2.microsecondValue(ofSlot: index, in: layout), count: count)
                }
                let encoded = HdrV2.compress(HdrV2.encodeAsRecorded(microseconds), zlib: zlib)
                let maxMs = Format.fixed(Double(microseconds.maxValue) / maxValueDivisor, decimals: 3)
                text += "\(prefix)\(startS),\(lengthS),\(maxMs),\(Base64.encode(encoded))\n"
            }
        }
        return text
    }
}
