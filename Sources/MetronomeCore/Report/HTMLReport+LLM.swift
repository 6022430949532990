// The HTML report's LLM section: token timing tables, TTFT and ITL over time and as distributions, tokens.

extension HTMLReport {
    static func llm(_ summary: RunSummary, phases: [PhaseSummary]) -> String {
        var out = "<section id=\"llm\">\n<h2>LLM metrics</h2>\n"
        if summary.stream {
            var rows: [[String]] = []
            for (metric, pick) in [("TTFT", \PhaseSummary.ttft), ("TTFT from send", \PhaseSummary.ttftSent), ("ITL", \PhaseSummary.itl),
                                   ("TPOT", \PhaseSummary.tpot)] {
                for phase in phases {
                    let p = phase[keyPath: pick]
                    rows.append([metric, esc(phase.name), "\(p.count)"] + [p.p50, p.p90, p.p95, p.p99, p.p999, p.max, p.mean].map { fixed($0, 2) })
                }
            }
            out += summary.closedLoop == nil ? "<h3>Token timing, ms</h3>\n" : "<h3>Token timing, ms <span class=\"warn\">(\(esc(ClosedLoopMode.tableTag)))</span></h3>\n"
            out += table(["metric", "stage", "count", "p50", "p90", "p95", "p99", "p99.9", "max", "mean"], rows, textColumns: 2)
            out += "<p class=\"note\">TTFT: time to first token, from the intended start. TTFT from send: from the first byte sent, as vLLM's <code>bench serve</code> counts it (no send lag or queue wait). ITL: gaps between content events. TPOT: time per output token after the first.</p>\n"
            out += tokenTimingCharts(summary)
        } else {
            out += "<p class=\"note\">Not streamed: time to first token and inter-token latency were not measured.</p>\n"
        }
        func tokens(_ value: TokenStats?) -> [String] {
            guard let value else { return ["–", "–", "–"] }
            return [fixed(value.mean, 1), "\(value.min)", "\(value.max)"]
        }
        out += "<h3>Tokens</h3>\n"
        out += table(["stage", "output tokens/s", "prompt mean", "prompt min", "prompt max", "completion mean", "completion min", "completion max"],
                     phases.map { [esc($0.name), fixed($0.outputTokensPerS, 1)] + tokens($0.promptTokens) + tokens($0.completionTokens) },
                     totalRow: phases.count > 1)
        let source = summary.usageSource == "usage" ? "the server's usage" : summary.usageSource == "events" ? "content events (the server sent no usage)" : summary.usageSource
        out += "<p class=\"note\">Token counts from \(esc(source)).</p>\n"
        let endS = max(summary.plannedDurationS, summary.series.last?.endS ?? 0, summary.ranS)
        let chart = SVGChart(label: "Output tokens per second", xTitle: "time since start, s", yTitle: "tokens/s", xDomain: (0, max(endS, 1)), integerY: true,
                             series: [SVGChart.Series(name: "output tokens", color: green, area: true,
                                                      points: summary.series.map { ($0.endS, Double($0.outputTokens)) })],
                             bands: summary.stages.map { SVGChart.Band(startX: $0.startS, endX: $0.endS, label: $0.name) })
        out += figure(id: "chart-tokens", title: "Output tokens per second",
                      caption: "Completion tokens of the requests that finished in each second.", chart)
        return out + "</section>\n"
    }

    /// TTFT and ITL per second (p50, p95) and as distributions over the whole run.
    static func tokenTimingCharts(_ summary: RunSummary) -> String {
        let series = summary.series
        let endS = max(summary.plannedDurationS, series.last?.endS ?? 0, summary.ranS)
        let bands = summary.stages.map { SVGChart.Band(startX: $0.startS, endX: $0.endS, label: $0.name) }
        func perSecond(_ label: String, y: String, p50: KeyPath<SecondSample, Double>, p95: KeyPath<SecondSample, Double>) -> SVGChart {
            // 0 ms means the second had none: a gap, not a value.
            func points(_ pick: KeyPath<SecondSample, Double>) -> [(x: Double, y: Double?)] {
                series.map { ($0.endS, $0[keyPath: pick] > 0 ? $0[keyPath: pick] : nil) }
            }
            return SVGChart(label: label, xTitle: "time since start, s", yTitle: y, xDomain: (0, max(endS, 1)), series: [
                SVGChart.Series(name: "p50", color: blue, points: points(p50)),
                SVGChart.Series(name: "p95", color: orange, dash: "9 5", points: points(p95)),
            ], bands: bands)
        }
        func distribution(_ label: String, y: String, _ lines: [SVGChart.Series]) -> SVGChart {
            SVGChart(label: label, xTitle: "percentile (log scale of 1/(1 − p))", yTitle: y, xScale: .percentile, series: lines)
        }
        var out = figure(id: "chart-ttft-time", title: "Time to first token per second",
                         caption: "Percentiles of the TTFT (from the intended start) of the streams that succeeded in each second. Seconds with none leave a gap.",
                         perSecond("TTFT percentiles per second", y: "TTFT, ms", p50: \.ttftP50Ms, p95: \.ttftP95Ms))
        out += figure(id: "chart-itl-time", title: "Inter-token latency per second",
                      caption: "Percentiles of the gaps between content events that arrived in each second.",
                      perSecond("ITL percentiles per second", y: "ITL, ms", p50: \.itlP50Ms, p95: \.itlP95Ms))
        out += figure(id: "chart-ttft-distribution", title: "TTFT distribution, whole run",
                      caption: "Each decade of nines gets the same width. From the intended start (Metronome's TTFT) and from the first byte sent (vLLM's): the gap between the curves is the time requests waited to be sent.",
                      distribution("TTFT by percentile", y: "TTFT, ms", [
                          SVGChart.Series(name: "from the intended start", color: vermillion, strokeWidth: 2.5,
                                          points: summary.ttftDistribution.map { ($0.percentile, $0.ms) }),
                          SVGChart.Series(name: "from the first byte sent", color: blue, dash: "9 5", strokeWidth: 2.5,
                                          points: summary.ttftSentDistribution.map { ($0.percentile, $0.ms) }),
                      ]))
        out += figure(id: "chart-itl-distribution", title: "ITL distribution, whole run",
                      caption: "Every gap between content events of the run, by percentile: the tail shows the stalls a reader of the stream sees.",
                      distribution("ITL by percentile", y: "ITL, ms", [
                          SVGChart.Series(name: "inter-token latency", color: green, strokeWidth: 2.5,
                                          points: summary.itlDistribution.map { ($0.percentile, $0.ms) }),
                      ]))
        return out
    }
}
