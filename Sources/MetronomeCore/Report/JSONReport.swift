// The summary as one JSON object (`--json`): snake_case keys, times in ms, rates per second.

public enum JSONReport {
    /// How much a rendering carries: `--json` keeps its short, rounded shape; the summary file adds
    /// every percentile level, the fields only a re-render needs, and near-exact numbers.
    enum Detail {
        case brief
        case full

        /// Digits after the point: `full` keeps nanoseconds of a millisecond value and then some,
        /// so that a value read back renders to the same text at every precision the reports use.
        var decimals: Int { self == .full ? 9 : 3 }
        var rateDecimals: Int { self == .full ? 9 : 6 }
    }

    public static func render(_ summary: RunSummary, pretty: Bool = true) -> String {
        let summary = summary.maskingSecrets()
        var json = JSONWriter(pretty: pretty)
        json.beginObject()
        fields(summary, into: &json, detail: .brief)
        json.endObject()
        return json.text + "\n"
    }

    /// The members of the `--json` object, in its order; the summary file writes them and more.
    static func fields(_ summary: RunSummary, into json: inout JSONWriter, detail: Detail) {
        let decimals = detail.decimals
        json.string("metronome_version", metronomeVersion)
        json.beginObject("tags")
        for tag in summary.tags { json.string(tag.key, tag.value) }
        json.endObject()
        var summary = summary
        withUnsafeMutablePointer(to: &json) { pointer in
            var writer = SummaryWriter(json: pointer, detail: detail)
            try! summary.codeTarget(&writer)   // writing cannot fail
            if let closedLoop = summary.closedLoop {
                pointer.pointee.string("mode", ClosedLoopMode.modeName)
                closedLoop.write(into: &pointer.pointee, decimals: decimals)
            }
            try! summary.codeSchedule(&writer)
            if !summary.shard.isWhole { pointer.pointee.string("shard", summary.shard.description) }
            if let startAt = summary.startAtUnixS { pointer.pointee.number("start_at_unix_s", startAt, decimals: 6) }
            if !summary.mergedFrom.isEmpty { pointer.pointee.int("merged_runs", summary.mergedFrom.count) }
            try! summary.codeDurations(&writer)
        }
        if summary.isLLM {
            json.bool("stream", summary.stream)
            json.int("max_tokens", summary.maxTokens)
            if let mean = summary.maxTokensMean { json.number("max_tokens_mean", mean, decimals: 2) }
            json.string("prompt_mode", summary.promptMode)
            json.int("distinct_prompts", summary.distinctPrompts)
            json.string("usage_source", summary.usageSource)
            summary.promptCalibration?.write(into: &json)
        }
        phaseFields(summary.total, into: &json, llm: summary.isLLM, detail: detail)
        json.int("connections_opened", summary.connectionsOpened)
        json.int("stale_connection_retries", summary.staleConnectionRetries)
        json.beginObject("connections")
        for (key, count) in summary.connectionCounters { json.int(key, count) }
        json.endObject()
        json.beginObject("status_codes")
        for (status, count) in summary.statusCounts { json.int(String(status), count) }
        json.endObject()
        withUnsafeMutablePointer(to: &json) { pointer in
            var writer = SummaryWriter(json: pointer, detail: detail)
            try! summary.codeGenerator(&writer)
        }
        json.beginArray("stages")
        for stage in summary.stages {
            json.beginObject()
            json.string("name", stage.name)
            json.number("start_s", stage.startS, decimals: decimals)
            json.number("end_s", stage.endS, decimals: decimals)
            // A closed loop's plan counts workers, not requests/s.
            let closed = summary.closedLoop != nil
            json.number(closed ? "start_workers" : "start_rate", stage.startRate, decimals: decimals)
            json.number(closed ? "end_workers" : "end_rate", stage.endRate, decimals: decimals)
            phaseFields(stage, into: &json, llm: summary.isLLM, detail: detail)
            if let slo = stage.slo { stageSLO(slo, into: &json, detail: detail) }
            json.endObject()
        }
        json.endArray()
        // The summary file writes its own, fuller `slo` section.
        if detail == .brief && !summary.sloChecks.isEmpty {
            json.beginObject("slo")
            json.string("scope", summary.sloScope)
            json.bool("passed", summary.sloPassed)
            if let goodput = summary.goodputRps { json.number("goodput_rps", goodput) } else { json.null("goodput_rps") }
            sloChecks(summary.sloChecks, into: &json, decimals: 3)
            json.endObject()
        }
        json.beginArray("warnings")
        for warning in summary.warnings { json.string(nil, warning) }
        json.endArray()
    }

    /// A stage's own verdict: the members of the top-level `slo` object but its scope.
    static func stageSLO(_ slo: StageSLO, into json: inout JSONWriter, detail: Detail) {
        let decimals = detail == .full ? detail.decimals : 3
        json.beginObject("slo")
        json.bool("passed", slo.passed)
        if let goodput = slo.goodputRps { json.number("goodput_rps", goodput, decimals: decimals) } else { json.null("goodput_rps") }
        sloChecks(slo.checks, into: &json, decimals: decimals)
        json.endObject()
    }

    /// An array of SLO check results: the `checks` of the run's pooled verdict and of each stage's,
    /// and each sweep step's `slo`, all with the same members.
    static func sloChecks(_ checks: [SLOCheckResult], into json: inout JSONWriter, decimals: Int, named name: String = "checks") {
        json.beginArray(name)
        for check in checks {
            json.beginObject()
            json.string("expression", check.expression)
            json.string("metric", check.metric)
            json.string("comparison", check.comparison)
            json.number("limit", check.limit, decimals: decimals)
            json.number("measured", check.measured, decimals: decimals)
            json.string("unit", check.unit)
            json.bool("passed", check.passed)
            json.endObject()
        }
        json.endArray()
    }

    /// A phase's members, as `PhaseSummary.code` lists them for both directions.
    static func phaseFields(_ phase: PhaseSummary, into json: inout JSONWriter, llm: Bool, detail: Detail) {
        var phase = phase
        withUnsafeMutablePointer(to: &json) { pointer in
            var writer = SummaryWriter(json: pointer, detail: detail)
            try! phase.code(&writer, llm: llm)   // writing cannot fail
        }
    }

    static func tokens(_ name: String, _ value: TokenStats?, into json: inout JSONWriter, detail: Detail) {
        guard let value else { return json.null(name) }
        json.beginObject(name)
        json.number("mean", value.mean, decimals: detail == .full ? detail.decimals : 2)
        json.int("min", value.min)
        json.int("max", value.max)
        json.endObject()
    }

    /// The keys of `Percentiles.levels`: `p999` is 99.9 %, `p9999` 99.99 %.
    static let levelKeys = ["p50", "p66", "p75", "p80", "p90", "p95", "p98", "p99", "p999", "p9999", "p100"]

    static func percentiles(_ name: String, _ value: Percentiles, into json: inout JSONWriter, detail: Detail) {
        json.beginObject(name)
        json.int("count", value.count)
        switch detail {
        case .brief:
            json.number("p50", value.p50)
            json.number("p90", value.p90)
            json.number("p95", value.p95)
            json.number("p99", value.p99)
            json.number("p999", value.p999)
        case .full:
            json.number("min", value.min, decimals: detail.decimals)
            for (key, ms) in zip(levelKeys, value.values) { json.number(key, ms, decimals: detail.decimals) }
        }
        json.number("max", value.max, decimals: detail.decimals)
        json.number("mean", value.mean, decimals: detail.decimals)
        json.endObject()
    }
}
