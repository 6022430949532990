// PREFIX_summary.json: the `--json` object plus config, environment, series, failures, SLO and distributions.

/// Everything a run produced that a later `metronome report` needs to render it again. The members of
/// the `--json` object come first, with their keys, then the sections only the file carries. Numbers
/// keep nine decimals (the `--json` output rounds to three), so a summary read back renders the same
/// text; percentile objects carry every level of `Percentiles.levels` and the minimum.
public enum SummaryFile {
    public static func render(_ summary: RunSummary) -> String {
        let summary = summary.maskingSecrets()
        var json = JSONWriter(pretty: true)
        json.beginObject()
        JSONReport.fields(summary, into: &json, detail: .full)
        json.bool("llm", summary.isLLM)
        // Microseconds: Unix seconds near 2e9 have no room for more in a double.
        json.number("started_at_unix_s", summary.startedAtUnixS, decimals: 6)
        json.string("started_at", isoTimestampMillis(unixS: summary.startedAtUnixS))
        config(summary.config, into: &json)
        environment(summary.environment, into: &json)
        series(summary.series, into: &json)
        failures(summary, into: &json)
        slo(summary, into: &json)
        distribution("latency_distribution", summary.latencyDistribution, into: &json)
        distribution("service_distribution", summary.serviceDistribution, into: &json)
        if summary.isLLM {
            distribution("ttft_distribution", summary.ttftDistribution, into: &json)
            distribution("ttft_sent_distribution", summary.ttftSentDistribution, into: &json)
            distribution("itl_distribution", summary.itlDistribution, into: &json)
        }
        mergedFrom(summary.mergedFrom, into: &json)
        SummaryRawStats.write(summary, into: &json)
        json.endObject()
        return json.text + "\n"
    }

    static let decimals = JSONReport.Detail.full.decimals

    /// Key → value in table order; a key given more than once (`header`) → an array of its values.
    static func config(_ entries: [(key: String, value: String)], into json: inout JSONWriter) {
        var order: [String] = []
        var values: [String: [String]] = [:]
        for entry in entries {
            if values[entry.key] == nil { order.append(entry.key) }
            values[entry.key, default: []].append(SecretMask.maskedConfigValue(entry))
        }
        json.beginObject("config")
        for key in order {
            let list = values[key]!
            if list.count == 1 {
                json.string(key, list[0])
            } else {
                json.beginArray(key)
                for value in list { json.string(nil, value) }
                json.endArray()
            }
        }
        json.endObject()
    }

    static func environment(_ value: RunEnvironment?, into json: inout JSONWriter) {
        guard let value else { return json.null("environment") }
        json.beginObject("environment")
        json.string("host_name", value.hostName)
        json.int("cores", value.cores)
        json.string("kernel", value.kernel)
        json.string("clock_source", value.clockSource)
        json.string("metronome_version", value.metronomeVersion)
        json.string("started_at", value.startedAt)
        json.endObject()
    }

    /// One object per second: counts in the second ending at `end_s` (so per-second rates; the last
    /// window may be shorter), the gauges at its end, and latency, TTFT and ITL percentiles of that
    /// second; `achieved_by_intended` counts the successes whose intended start fell in it.
    static func series(_ samples: [SecondSample], into json: inout JSONWriter) {
        json.beginArray("series")
        withUnsafeMutablePointer(to: &json) { pointer in
            var writer = SummaryWriter(json: pointer, detail: .full)
            for var sample in samples {
                pointer.pointee.beginObject()
                try! sample.code(&writer)   // writing cannot fail
                pointer.pointee.endObject()
            }
        }
        json.endArray()
    }

    /// Each failure kind with its count and first/last seen (ns from the plan's zero, and UTC), then
    /// the first distinct messages servers sent.
    static func failures(_ summary: RunSummary, into json: inout JSONWriter) {
        json.beginObject("failures")
        json.beginArray("entries")
        for entry in summary.failures {
            json.beginObject()
            json.string("kind", entry.kind)
            json.int("status", entry.status)
            json.int("count", entry.count)
            json.int("first_seen_ns", entry.firstSeenNs)
            json.int("last_seen_ns", entry.lastSeenNs)
            json.string("first_seen", isoTimestampMillis(unixS: summary.startedAtUnixS + Double(entry.firstSeenNs) / 1e9))
            json.string("last_seen", isoTimestampMillis(unixS: summary.startedAtUnixS + Double(entry.lastSeenNs) / 1e9))
            json.endObject()
        }
        json.endArray()
        json.beginArray("messages")
        for message in summary.errorMessages {
            json.beginObject()
            json.string("kind", message.kind)
            json.int("status", message.status)
            json.string("message", message.message)
            json.int("count", message.count)
            json.endObject()
        }
        json.endArray()
        json.endObject()
    }

    static func slo(_ summary: RunSummary, into json: inout JSONWriter) {
        json.beginObject("slo")
        json.string("scope", summary.sloScope)
        json.bool("passed", summary.sloPassed)
        if let goodput = summary.goodputRps {
            json.number("goodput_rps", goodput, decimals: decimals)
        } else {
            json.null("goodput_rps")
        }
        JSONReport.sloChecks(summary.sloChecks, into: &json, decimals: decimals)
        json.endObject()
    }

    /// `[[percentile, ms], …]`: HdrHistogram's percentile iteration (percentile in 0…100).
    static func mergedFrom(_ sources: [MergeSource], into json: inout JSONWriter) {
        guard !sources.isEmpty else { return }
        json.beginArray("merged_from")
        for source in sources {
            json.beginObject()
            json.string("file", source.file)
            json.string("shard", source.shard)
            json.int("seed", source.seed)
            json.string("host_name", source.hostName)
            json.number("started_at_unix_s", source.startedAtUnixS, decimals: 6)
            json.int("scheduled", source.scheduled)
            json.int("succeeded", source.succeeded)
            json.endObject()
        }
        json.endArray()
    }

    static func distribution(_ name: String, _ points: [(percentile: Double, ms: Double)], into json: inout JSONWriter) {
        json.beginArray(name)
        for point in points {
            json.beginArray()
            json.number(nil, point.percentile, decimals: 12)
            json.number(nil, point.ms, decimals: decimals)
            json.endArray()
        }
        json.endArray()
    }
}
