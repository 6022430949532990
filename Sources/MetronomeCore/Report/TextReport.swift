// The human summary printed at the end of a run: the plan, counts and rates, percentiles, errors, warnings.

public enum TextReport {
    public static func render(_ summary: RunSummary, planDescription: String) -> String {
        let summary = summary.maskingSecrets()
        var out = ""
        out += "Metronome \(metronomeVersion) · \(summary.workload) workload · \(summary.target) (\(summary.address))"
        if !summary.tags.isEmpty { out += " · tags " + summary.tags.map { "\($0.key)=\($0.value)" }.joined(separator: ", ") }
        out += "\n"
        out += "Plan: \(planDescription) · \(summary.arrival) arrivals · seed \(summary.seed) · up to \(summary.maxConnections) connections\n"
        if let closedLoop = summary.closedLoop { out += "Mode: \(ClosedLoopMode.note)\n      \(closedLoop.settingsText)\n" }
        var ran = "Ran \(Format.fixed(summary.ranS, decimals: 1)) s of \(Format.fixed(summary.plannedDurationS, decimals: 1)) s"
        ran += " (\(Format.fixed(summary.elapsedS - summary.ranS, decimals: 1)) s drain)"
        if summary.interrupted { ran += " · INTERRUPTED" }
        ran += " · \(summary.connectionsOpened) connections opened · generator CPU \(Format.fixed(summary.loopCPUSeconds, decimals: 2)) s"
        out += ran + "\n"
        out += "Connections: " + connectionsLine(summary)
        if summary.connectTime.count > 0 {
            out += " · connect p50 \(Format.fixed(summary.connectTime.p50, decimals: 3)) ms, p95 \(Format.fixed(summary.connectTime.p95, decimals: 3)) ms"
        }
        out += "\n"
        if let tls = tlsLine(summary) { out += tls + "\n" }
        out += "\n"

        let phases = summary.stages.count > 1 ? summary.stages + [summary.total] : [summary.total]
        let nameWidth = max(8, phases.map(\.name.count).max() ?? 0) + 2
        out += table(header: ["scheduled", "succeeded", "failed", "dropped", "unfinished", "offered/s", "achieved/s", "error %"],
                     rows: phases.map { phase in
                         (phase.name, [String(phase.scheduled), String(phase.succeeded), String(phase.failed), String(phase.dropped),
                                       String(phase.unfinished), Format.fixed(phase.offeredRps, decimals: 2),
                                       Format.fixed(phase.achievedRps, decimals: 2), Format.fixed(phase.errorRate * 100, decimals: 2)])
                     }, nameWidth: nameWidth, title: "")
        out += "\n"
        let columns = ["p50", "p90", "p95", "p99", "p99.9", "max", "mean"]
        let closedTag = summary.closedLoop == nil ? "" : " [\(ClosedLoopMode.tableTag)]"
        out += table(header: columns, rows: phases.map { ($0.name, full($0.latency)) }, nameWidth: nameWidth,
                     title: "Latency, ms (from the intended start; successful requests)" + closedTag)
        out += "\n"
        out += table(header: columns, rows: phases.map { ($0.name, full($0.serviceTime)) }, nameWidth: nameWidth,
                     title: "Service time, ms (from the first byte sent; what a closed-loop tool would report)" + closedTag)
        out += "\n"
        out += table(header: ["p50", "p99", "max"],
                     rows: phases.map { ($0.name, [$0.sendLag.p50, $0.sendLag.p99, $0.sendLag.max].map { Format.fixed($0, decimals: 3) }) },
                     nameWidth: nameWidth, title: "Send lag, ms (first byte sent minus intended start: the generator's own delay)")
        if summary.isLLM {
            out += "\n" + llmSection(summary, phases: phases, nameWidth: nameWidth, columns: columns, closedTag: closedTag)
        }
        if !summary.total.errors.isEmpty {
            out += "\nOutcomes other than success:\n"
            for (kind, count) in summary.total.errors {
                out += "  " + Format.padRight(kind, 20) + Format.padLeft(String(count), 10) + "\n"
            }
            // A TLS failure is the generator's setting as often as the server's fault: say why, and how to change it.
            for message in summary.errorMessages where message.kind == Outcome.tlsError.key {
                out += "  tls_error × \(message.count): \(message.message)"
                out += message.message.hasPrefix("certificate verify failed") ? " (see --cacert, --insecure)\n" : "\n"
            }
            let failing = summary.statusCounts.filter { $0.status < 200 || $0.status >= 300 }
            if !failing.isEmpty {
                out += "  HTTP status: " + failing.map { "\($0.status) × \($0.count)" }.joined(separator: ", ") + "\n"
            }
        }
        if summary.staleConnectionRetries > 0 {
            out += "\n\(summary.staleConnectionRetries) requests were re-sent on a new connection after the server closed an idle keep-alive connection under them.\n"
        }
        for warning in summary.warnings { out += "\n!! " + warning + "\n" }
        if !summary.sloChecks.isEmpty { out += "\n" + sloSection(summary) }
        if let closedLoop = summary.closedLoop { out += "\n" + closedLoop.nextRunText }
        return out
    }

    /// `3 opened · 2 idle closed by server · 1 stale connection retries`: the connections opened, then
    /// each other counter of the `connections` section that is not zero, its key read as words (the
    /// errno of a generator limit is named by its warning instead).
    static func connectionsLine(_ summary: RunSummary) -> String {
        let openedKey = LiveCounter.connectionsOpened.summaryKey
        return summary.connectionCounters
            .filter { $0.key == openedKey || ($0.count > 0 && $0.key != LiveCounter.generatorLimitErrno.summaryKey) }
            .map { "\($0.count) " + String($0.key.map { $0 == "_" ? " " : $0 }) }.joined(separator: " · ")
    }

    /// https:// runs: the protocol, how the server's certificate was checked (loudly when it was
    /// not), and the handshake's times, which count in latency (a request waiting for a new
    /// connection) but never in service time.
    static func tlsLine(_ summary: RunSummary) -> String? {
        guard !summary.tlsVerify.isEmpty else { return nil }
        var line = "TLS: " + (summary.tlsVersion.isEmpty ? "no handshake succeeded" : summary.tlsVersion) + " · " + tlsVerifyText(summary.tlsVerify)
        if summary.tlsHandshakeTime.count > 0 {
            line += " · handshake p50 \(Format.fixed(summary.tlsHandshakeTime.p50, decimals: 3)) ms, p95 \(Format.fixed(summary.tlsHandshakeTime.p95, decimals: 3)) ms"
                + " (after connect; in latency, not in service time)"
        }
        return line
    }

    static func tlsVerifyText(_ verify: String) -> String {
        switch verify {
        case "off": "!! CERTIFICATE NOT CHECKED (--insecure): the server was not authenticated"
        case "cacert": "certificate checked against --cacert"
        default: "certificate checked against the system's store"
        }
    }

    static func sloSection(_ summary: RunSummary) -> String {
        var out = "SLO (judged on \(summary.sloScope == "hold" ? "the hold stages" : "the whole run")): \(summary.sloPassed ? "PASS" : "FAIL")\n"
        let width = summary.sloChecks.map(\.expression.count).max() ?? 0
        let metricWidth = summary.sloChecks.map(\.metric.count).max() ?? 0
        for check in summary.sloChecks {
            let measured = check.measured.isNaN ? "no data" : Format.fixed(check.measured, decimals: 2) + " " + check.unit
            out += "  " + (check.passed ? "PASS  " : "FAIL  ") + Format.padRight(check.expression, width + 2)
                + Format.padRight(check.metric, metricWidth + 2) + Format.padLeft(measured, 14)
                + "   (limit \(check.comparison) \(Format.trimmed(check.limit, decimals: 3)) \(check.unit))\n"
        }
        if let goodput = summary.goodputRps {
            out += "  goodput \(Format.fixed(goodput, decimals: 2)) requests/s met every per-request limit\n"
        }
        if summary.stages.count > 1 && summary.stages.contains(where: { $0.slo != nil }) { out += "\n" + stageSLOTable(summary) }
        return out
    }

    /// Each stage's own verdict, goodput and measured values (✗ marks a failed check): a stage at one
    /// rate judged on its requests alone, whatever the pooled scope.
    static func stageSLOTable(_ summary: RunSummary) -> String {
        let checks = summary.sloChecks
        let goodput = summary.stages.contains { $0.slo?.goodputRps != nil }
        let header = ["verdict"] + (goodput ? ["goodput/s"] : []) + checks.map(\.expression)
        let rows = summary.stages.map { stage -> (String, [String]) in
            guard let slo = stage.slo else { return (stage.name, header.map { _ in "-" }) }
            var cells = [slo.passed ? "PASS" : "FAIL"]
            if goodput { cells.append(slo.goodputRps.map { Format.fixed($0, decimals: 2) } ?? "-") }
            for index in checks.indices {
                guard index < slo.checks.count else { cells.append("-"); continue }
                let check = slo.checks[index]
                let measured = check.measured.isNaN ? "no data" : Format.fixed(check.measured, decimals: 2) + " " + check.unit
                cells.append((check.passed ? "" : "✗ ") + measured)
            }
            return (stage.name, cells)
        }
        let nameWidth = max(8, summary.stages.map(\.name.count).max() ?? 0) + 2
        return table(header: header, rows: rows, nameWidth: nameWidth, title: "SLO by stage (each judged on its own requests):")
    }

    static func llmSection(_ summary: RunSummary, phases: [PhaseSummary], nameWidth: Int, columns: [String], closedTag: String = "") -> String {
        var out = ""
        if summary.stream {
            out += table(header: columns, rows: phases.map { ($0.name, full($0.ttft)) }, nameWidth: nameWidth,
                         title: "Time to first token, ms (from the intended start)" + closedTag)
            out += table(header: columns, rows: phases.map { ($0.name, full($0.ttftSent)) }, nameWidth: nameWidth,
                         title: "TTFT from the first byte sent, ms (vLLM's definition: no send lag or queue wait)" + closedTag)
            out += "\n"
            out += table(header: columns, rows: phases.map { ($0.name, full($0.itl)) }, nameWidth: nameWidth,
                         title: "Inter-token latency, ms (gaps between content events)" + closedTag)
            out += "\n"
            out += table(header: columns, rows: phases.map { ($0.name, full($0.tpot)) }, nameWidth: nameWidth,
                         title: "Time per output token, ms (after the first)" + closedTag)
            out += "\n"
        }
        func tokens(_ value: TokenStats?) -> [String] {
            guard let value else { return ["-", "-", "-"] }
            return [Format.fixed(value.mean, decimals: 1), String(value.min), String(value.max)]
        }
        out += table(header: ["output tok/s", "prompt mean", "min", "max", "completion mean", "min", "max"],
                     rows: phases.map { ($0.name, [Format.fixed($0.outputTokensPerS, decimals: 1)] + tokens($0.promptTokens) + tokens($0.completionTokens)) },
                     nameWidth: nameWidth, title: "Tokens (as the server reported them)")
        out += "Token counts from: \(summary.usageSource == "usage" ? "the server's usage" : summary.usageSource == "events" ? "content events (the server sent no usage)" : summary.usageSource)"
        out += summary.maxTokensMean.map { " · max_tokens \(Format.fixed($0, decimals: 1)) on average" } ?? " · max_tokens \(summary.maxTokens)"
        out += " · prompts: " + (summary.uniquePrompts ? "unique per request (no prefix-cache hits)"
            : summary.distinctPrompts > 1 ? "\(summary.distinctPrompts) bodies sent in turn (a prefix cache may serve repeats)"
            : "identical (prefix cache may serve them)") + "\n"
        if let calibration = summary.promptCalibration { out += calibration.textLine + "\n" }
        return out
    }

    /// The columns of every time table: p50 p90 p95 p99 p99.9 max mean.
    static func full(_ p: Percentiles) -> [String] {
        [p.p50, p.p90, p.p95, p.p99, p.p999, p.max, p.mean].map { Format.fixed($0, decimals: 2) }
    }

    static func table(header: [String], rows: [(String, [String])], nameWidth: Int, title: String) -> String {
        var widths = header.map { max($0.count, 8) }
        for (_, cells) in rows {
            for (column, cell) in cells.enumerated() { widths[column] = max(widths[column], cell.count) }
        }
        var out = Format.padRight(title, nameWidth)
        if title.count >= nameWidth { out = title + "\n" + String(repeating: " ", count: nameWidth) }
        for (column, name) in header.enumerated() { out += Format.padLeft(name, widths[column] + 2) }
        out += "\n"
        for (name, cells) in rows {
            out += Format.padRight(name, nameWidth)
            for (column, cell) in cells.enumerated() { out += Format.padLeft(cell, widths[column] + 2) }
            out += "\n"
        }
        return out
    }

    /// `ramp 1 → 20 rps over 1m, hold 20 rps for 10m`.
    /// A closed loop's plan counts workers: `spawn 1 → 8 workers over 700ms, hold 8 workers for 19.3s`.
    public static func describe(_ plan: RatePlan, closedLoop: Bool = false) -> String {
        plan.stages.map { stage in
            StageText.describe(name: stage.name, start: stage.startRatePerSec, end: stage.endRatePerSec, durationNs: stage.durationNs,
                               closedLoop: closedLoop)
        }.joined(separator: ", ")
    }
}
