// A sweep's or find-max's steps as a text table, CSV and JSON: pure functions of a `SweepResult`.

public enum SweepReport {
    /// One column of the table and the CSV: its header, and its text for a step ("" when not measured).
    struct Column: Sendable {
        let header: String
        let csvHeader: String
        let llmOnly: Bool
        let value: @Sendable (StepResult) -> String
    }

    static func ms(_ value: Double, count: UInt64) -> String {
        count == 0 ? "" : Format.trimmed(value, decimals: value >= 100 ? 0 : 1)
    }

    static func verdict(_ step: StepResult) -> String {
        step.interrupted ? "cut" : step.passed ? "pass" : "fail"
    }

    static let columns: [Column] = [
        Column(header: "rate", csvHeader: "rate", llmOnly: false) { Format.rate($0.rate) + ($0.repeated ? "*" : "") },
        Column(header: "offered", csvHeader: "offered_rps", llmOnly: false) { Format.trimmed($0.hold.offeredRps, decimals: 2) },
        Column(header: "achieved", csvHeader: "achieved_rps", llmOnly: false) { Format.trimmed($0.hold.achievedRps, decimals: 2) },
        Column(header: "p50 ms", csvHeader: "latency_p50_ms", llmOnly: false) { ms($0.hold.latency.p50, count: $0.hold.latency.count) },
        Column(header: "p90", csvHeader: "latency_p90_ms", llmOnly: false) { ms($0.hold.latency.p90, count: $0.hold.latency.count) },
        Column(header: "p95", csvHeader: "latency_p95_ms", llmOnly: false) { ms($0.hold.latency.p95, count: $0.hold.latency.count) },
        Column(header: "p99", csvHeader: "latency_p99_ms", llmOnly: false) { ms($0.hold.latency.p99, count: $0.hold.latency.count) },
        Column(header: "ttft p50", csvHeader: "ttft_p50_ms", llmOnly: true) { ms($0.hold.ttft.p50, count: $0.hold.ttft.count) },
        Column(header: "ttft p95", csvHeader: "ttft_p95_ms", llmOnly: true) { ms($0.hold.ttft.p95, count: $0.hold.ttft.count) },
        Column(header: "itl p50", csvHeader: "itl_p50_ms", llmOnly: true) { ms($0.hold.itl.p50, count: $0.hold.itl.count) },
        Column(header: "itl p95", csvHeader: "itl_p95_ms", llmOnly: true) { ms($0.hold.itl.p95, count: $0.hold.itl.count) },
        Column(header: "tpot p50", csvHeader: "tpot_p50_ms", llmOnly: true) { ms($0.hold.tpot.p50, count: $0.hold.tpot.count) },
        Column(header: "tpot p95", csvHeader: "tpot_p95_ms", llmOnly: true) { ms($0.hold.tpot.p95, count: $0.hold.tpot.count) },
        Column(header: "tok/s", csvHeader: "output_tokens_per_s", llmOnly: true) { Format.trimmed($0.hold.outputTokensPerS, decimals: 0) },
        Column(header: "err %", csvHeader: "error_rate_pct", llmOnly: false) { Format.trimmed($0.hold.errorRate * 100, decimals: 2) },
        Column(header: "goodput", csvHeader: "goodput_rps", llmOnly: false) { $0.goodputRps.map { Format.trimmed($0, decimals: 2) } ?? "" },
        Column(header: "lag p99", csvHeader: "send_lag_p99_ms", llmOnly: false) { ms($0.hold.sendLag.p99, count: $0.hold.sendLag.count) },
        Column(header: "verdict", csvHeader: "verdict", llmOnly: false) { verdict($0) },
    ]

    static func columns(for result: SweepResult) -> [Column] {
        columns.filter { !$0.llmOnly || result.isLLM }.filter { !$0.csvHeader.hasPrefix("ttft") && !$0.csvHeader.hasPrefix("itl") && !$0.csvHeader.hasPrefix("tpot") || result.isStreaming }
    }

    // MARK: Text

    public static func text(_ result: SweepResult) -> String {
        let name = result.command == .sweep ? "Sweep" : "Find-max"
        var out = "\(name): \(result.steps.count) steps against \(result.target)"
        if let model = result.model { out += ", model \(model)" }
        if !result.tags.isEmpty { out += " · tags " + result.tags.map { "\($0.key)=\($0.value)" }.joined(separator: ", ") }
        out += "\n  each step: ramp \(Units.formatDuration(result.stepRampNs)) (none before the first), hold \(Units.formatDuration(result.stepDurationNs)) (judged), cooldown up to \(Units.formatDuration(result.cooldownNs)); \(result.arrival) arrivals"
        out += result.sloText.isEmpty ? "\n" : "; SLO \(result.sloText)\n"
        out += "  figures of each hold; times in ms" + (result.steps.contains(where: \.repeated) ? "; * a repeated step near the boundary" : "") + "\n\n"
        let columns = columns(for: result)
        let cells = result.steps.map { step in columns.map { column in column.value(step).isEmpty ? "-" : column.value(step) } }
        let widths = columns.indices.map { index in max(columns[index].header.count, cells.map { $0[index].count }.max() ?? 0) }
        out += columns.indices.map { Format.padLeft(columns[$0].header, widths[$0]) }.joined(separator: "  ") + "\n"
        for row in cells {
            out += row.indices.map { Format.padLeft(row[$0], widths[$0]) }.joined(separator: "  ") + "\n"
        }
        for step in result.steps where !step.passed && !step.interrupted && !step.sloChecks.isEmpty {
            let failed = step.sloChecks.filter { !$0.passed }.map { "\($0.expression) (\($0.metric) \(Format.trimmed($0.measured, decimals: 2)) \($0.unit))" }
            if !failed.isEmpty { out += "\n  \(Format.rate(step.rate)) rps failed: \(failed.joined(separator: ", "))" }
        }
        if result.steps.contains(where: { !$0.passed && !$0.interrupted && !$0.sloChecks.isEmpty }) { out += "\n" }
        if result.command == .findMax {
            out += "\n"
            if let maxRate = result.maxRate {
                out += "Max rate: \(Format.rate(maxRate)) requests/s passes \(result.sloText)"
                if let fail = result.bracket.fail { out += " (bracket [\(Format.rate(maxRate)), \(Format.rate(fail))], precision \(Format.trimmed(result.precision * 100, decimals: 2)) %)" }
                out += "\n"
            } else if !result.interrupted && result.abortReason == nil {
                out += "Max rate: none: even \(Format.rate(result.steps.first?.rate ?? 0)) requests/s fails \(result.sloText)\n"
            }
        }
        if result.interrupted { out += "\nInterrupted: the last step is partial and not judged.\n" }
        if let reason = result.abortReason { out += "\nStopped: \(reason)\n" }
        for warning in result.warnings { out += "WARNING: \(warning)\n" }
        return out
    }

    // MARK: CSV

    public static func csv(_ result: SweepResult) -> String {
        let columns = columns(for: result)
        // Tags last, the same on every row, so sweeps over server settings concatenate and group.
        let tagHeaders = result.tags.map { csvField("tag_" + $0.key) }
        let tagValues = result.tags.map { csvField($0.value) }
        var out = (["step"] + columns.map(\.csvHeader) + ["repeated", "scheduled", "succeeded", "dropped", "unfinished"] + tagHeaders).joined(separator: ",") + "\n"
        for (index, step) in result.steps.enumerated() {
            var row = [String(index + 1)] + columns.map { $0.csvHeader == "rate" ? Format.trimmed(step.rate, decimals: 4) : $0.value(step) }
            row += [String(step.repeated), String(step.hold.scheduled), String(step.hold.succeeded), String(step.hold.dropped), String(step.hold.unfinished)]
            row += tagValues
            out += row.joined(separator: ",") + "\n"
        }
        return out
    }

    /// RFC 4180: a field holding a comma, quote or line break is quoted, its quotes doubled (a tag's
    /// value is free text).
    static func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacing("\"", with: "\"\"") + "\""
    }

    // MARK: JSON

    public static func json(_ result: SweepResult, pretty: Bool = true) -> String {
        var w = JSONWriter(pretty: pretty)
        w.beginObject()
        w.string("command", result.command.rawValue)
        // `report --grid` groups files by this object; always present, `{}` without --tag.
        w.beginObject("tags")
        for tag in result.tags { w.string(tag.key, tag.value) }
        w.endObject()
        w.string("target", result.target)
        if let model = result.model { w.string("model", model) } else { w.null("model") }
        w.string("arrival", result.arrival)
        if result.sloText.isEmpty { w.null("slo") } else { w.string("slo", result.sloText) }
        w.number("step_duration_s", Double(result.stepDurationNs) / 1e9)
        w.number("step_ramp_s", Double(result.stepRampNs) / 1e9)
        w.number("cooldown_s", Double(result.cooldownNs) / 1e9)
        if result.command == .findMax {
            if let maxRate = result.maxRate { w.number("max_rate", maxRate, decimals: 4) } else { w.null("max_rate") }
            w.beginArray("bracket")
            if let pass = result.bracket.pass { w.number(nil, pass, decimals: 4) } else { w.null(nil) }
            if let fail = result.bracket.fail { w.number(nil, fail, decimals: 4) } else { w.null(nil) }
            w.endArray()
            w.number("precision", result.precision, decimals: 6)
        }
        w.bool("interrupted", result.interrupted)
        if let reason = result.abortReason { w.string("stopped", reason) }
        w.beginArray("warnings")
        for warning in result.warnings { w.string(nil, warning) }
        w.endArray()
        w.beginArray("steps")
        for step in result.steps { stepJSON(step, llm: result.isLLM, streaming: result.isStreaming, into: &w) }
        w.endArray()
        w.endObject()
        return w.text + "\n"
    }

    static func stepJSON(_ step: StepResult, llm: Bool, streaming: Bool, into w: inout JSONWriter) {
        let hold = step.hold
        w.beginObject()
        w.number("rate", step.rate, decimals: 4)
        w.bool("repeated", step.repeated)
        w.number("offered_rps", hold.offeredRps)
        w.number("achieved_rps", hold.achievedRps)
        percentiles("latency_ms", hold.latency, into: &w)
        if streaming {
            percentiles("ttft_ms", hold.ttft, into: &w)
            percentiles("ttft_sent_ms", hold.ttftSent, into: &w)
            percentiles("itl_ms", hold.itl, into: &w)
            percentiles("tpot_ms", hold.tpot, into: &w)
        }
        if llm { w.number("output_tokens_per_s", hold.outputTokensPerS, decimals: 1) }
        w.number("error_rate", hold.errorRate, decimals: 6)
        if let goodput = step.goodputRps { w.number("goodput_rps", goodput) } else { w.null("goodput_rps") }
        if hold.sendLag.count > 0 { w.number("send_lag_p99_ms", hold.sendLag.p99) } else { w.null("send_lag_p99_ms") }
        w.int("scheduled", hold.scheduled)
        w.int("succeeded", hold.succeeded)
        w.int("failed", hold.failed)
        w.int("dropped", hold.dropped)
        w.int("unfinished", hold.unfinished)
        w.beginObject("errors")
        for error in hold.errors { w.int(error.kind, error.count) }
        w.endObject()
        JSONReport.sloChecks(step.sloChecks, into: &w, decimals: 3, named: "slo")
        if step.interrupted { w.null("verdict") } else { w.string("verdict", step.passed ? "pass" : "fail") }
        w.beginArray("warnings")
        for warning in step.warnings { w.string(nil, warning) }
        w.endArray()
        w.endObject()
    }

    static func percentiles(_ name: String, _ p: Percentiles, into w: inout JSONWriter) {
        w.beginObject(name)
        w.int("count", p.count)
        for (label, value) in [("p50", p.p50), ("p90", p.p90), ("p95", p.p95), ("p99", p.p99), ("max", p.max), ("mean", p.mean)] {
            if p.count > 0 { w.number(label, value) } else { w.null(label) }
        }
        w.endObject()
    }
}
