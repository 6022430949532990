// The summary as one JSON object (`--json`): snake_case keys, times in ms, rates per second.

public enum JSONReport {
    public static func render(_ summary: RunSummary, pretty: Bool = true) -> String {
        var json = JSONWriter(pretty: pretty)
        json.beginObject()
        json.string("metronome_version", metronomeVersion)
        json.string("target", summary.target)
        json.string("address", summary.address)
        json.string("workload", summary.workload)
        json.string("arrival", summary.arrival)
        json.int("seed", summary.seed)
        json.int("max_connections", summary.maxConnections)
        json.number("planned_duration_s", summary.plannedDurationS)
        json.number("ran_s", summary.ranS)
        json.number("elapsed_s", summary.elapsedS)
        json.bool("interrupted", summary.interrupted)
        json.bool("target_unreachable", summary.targetUnreachable)
        if summary.isLLM {
            json.bool("stream", summary.stream)
            json.int("max_tokens", summary.maxTokens)
            json.string("prompt_mode", summary.uniquePrompts ? "unique" : "same")
            json.string("usage_source", summary.usageSource)
        }
        phaseFields(summary.total, into: &json, llm: summary.isLLM)
        json.int("connections_opened", summary.connectionsOpened)
        json.int("stale_connection_retries", summary.staleConnectionRetries)
        json.beginObject("status_codes")
        for (status, count) in summary.statusCounts { json.int(String(status), count) }
        json.endObject()
        json.number("generator_cpu_s", summary.loopCPUSeconds)
        json.beginArray("stages")
        for stage in summary.stages {
            json.beginObject()
            json.string("name", stage.name)
            json.number("start_s", stage.startS)
            json.number("end_s", stage.endS)
            json.number("start_rate", stage.startRate)
            json.number("end_rate", stage.endRate)
            phaseFields(stage, into: &json, llm: summary.isLLM)
            json.endObject()
        }
        json.endArray()
        if !summary.sloChecks.isEmpty {
            json.beginObject("slo")
            json.string("scope", summary.sloScope)
            json.bool("passed", summary.sloPassed)
            if let goodput = summary.goodputRps { json.number("goodput_rps", goodput) } else { json.null("goodput_rps") }
            json.beginArray("checks")
            for check in summary.sloChecks {
                json.beginObject()
                json.string("expression", check.expression)
                json.string("metric", check.metric)
                json.string("comparison", check.comparison)
                json.number("limit", check.limit)
                json.number("measured", check.measured)
                json.string("unit", check.unit)
                json.bool("passed", check.passed)
                json.endObject()
            }
            json.endArray()
            json.endObject()
        }
        json.beginArray("warnings")
        for warning in summary.warnings { json.string(nil, warning) }
        json.endArray()
        json.endObject()
        return json.text + "\n"
    }

    static func phaseFields(_ phase: PhaseSummary, into json: inout JSONWriter, llm: Bool) {
        json.int("scheduled", phase.scheduled)
        json.int("sent", phase.sent)
        json.int("completed", phase.completed)
        json.int("succeeded", phase.succeeded)
        json.int("failed", phase.failed)
        json.int("dropped", phase.dropped)
        json.int("unfinished", phase.unfinished)
        json.number("offered_rps", phase.offeredRps)
        json.number("achieved_rps", phase.achievedRps)
        json.number("error_rate", phase.errorRate, decimals: 6)
        percentiles("latency_ms", phase.latency, into: &json)
        percentiles("service_time_ms", phase.serviceTime, into: &json)
        percentiles("send_lag_ms", phase.sendLag, into: &json)
        if llm {
            percentiles("ttft_ms", phase.ttft, into: &json)
            percentiles("itl_ms", phase.itl, into: &json)
            percentiles("tpot_ms", phase.tpot, into: &json)
            json.number("output_tokens_per_s", phase.outputTokensPerS)
            tokens("prompt_tokens", phase.promptTokens, into: &json)
            tokens("completion_tokens", phase.completionTokens, into: &json)
        }
        json.beginObject("errors")
        for (kind, count) in phase.errors { json.int(kind, count) }
        json.endObject()
    }

    static func tokens(_ name: String, _ value: TokenStats?, into json: inout JSONWriter) {
        guard let value else { return json.null(name) }
        json.beginObject(name)
        json.number("mean", value.mean, decimals: 2)
        json.int("min", value.min)
        json.int("max", value.max)
        json.endObject()
    }

    static func percentiles(_ name: String, _ value: Percentiles, into json: inout JSONWriter) {
        json.beginObject(name)
        json.int("count", value.count)
        json.number("p50", value.p50)
        json.number("p90", value.p90)
        json.number("p95", value.p95)
        json.number("p99", value.p99)
        json.number("p999", value.p999)
        json.number("max", value.max)
        json.number("mean", value.mean)
        json.endObject()
    }
}
