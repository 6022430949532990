// A comparison of two runs as text, JSON and one self-contained HTML page with both distributions.

enum CompareReport {
    static func value(_ value: Double, _ unit: String) -> String {
        guard value.isFinite else { return "–" }
        return unit == "%" ? Format.fixed(value, decimals: 3) : Format.fixed(value, decimals: unit == "ms" ? 1 : 2)
    }

    static func change(_ metric: ComparedMetric) -> String {
        guard metric.base.isFinite, metric.new.isFinite else { return "–" }
        let sign = metric.delta >= 0 ? "+" : "−"
        let absolute = sign + value(abs(metric.delta), metric.unit)
        guard let relative = metric.relative else { return absolute }
        return absolute + " (" + (relative >= 0 ? "+" : "−") + Format.fixed(abs(relative) * 100, decimals: 1) + " %)"
    }

    static func text(_ comparison: RunComparison, basePath: String, newPath: String) -> String {
        var out = "Compare (threshold \(Format.trimmed(comparison.threshold * 100, decimals: 2)) %)\n  base: \(basePath)\n  new:  \(newPath)\n\n"
        let header = ["metric", "unit", "base", "new", "change", "verdict"]
        let rows = comparison.metrics.map { [$0.label, $0.unit, value($0.base, $0.unit), value($0.new, $0.unit), change($0), $0.verdict.uppercased() == "WORSE" ? "WORSE" : $0.verdict] }
        let widths = header.indices.map { column in max(header[column].count, rows.map { $0[column].count }.max() ?? 0) }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { index, cell in index < 2 ? Format.padRight(cell, widths[index]) : Format.padLeft(cell, widths[index]) }
                .joined(separator: "  ") + "\n"
        }
        out += line(header)
        for row in rows { out += line(row) }
        out += "\n" + (comparison.regressions.isEmpty
            ? "Verdict: no regression past the threshold\n"
            : "Verdict: REGRESSION in \(comparison.regressions.map(\.label).joined(separator: ", "))\n")
        for note in comparison.notes { out += "note: \(note)\n" }
        return out
    }

    static func json(_ comparison: RunComparison, basePath: String, newPath: String) -> String {
        var json = JSONWriter(pretty: true)
        json.beginObject()
        json.string("metronome_version", metronomeVersion)
        json.string("base", basePath)
        json.string("new", newPath)
        json.number("threshold", comparison.threshold, decimals: 6)
        json.bool("regression", !comparison.regressions.isEmpty)
        json.beginArray("metrics")
        for metric in comparison.metrics {
            json.beginObject()
            json.string("key", metric.key)
            json.string("unit", metric.unit)
            json.bool("higher_is_better", metric.higherIsBetter)
            json.number("base", metric.base, decimals: 6)
            json.number("new", metric.new, decimals: 6)
            json.number("delta", metric.delta, decimals: 6)
            if let relative = metric.relative { json.number("relative", relative, decimals: 6) } else { json.null("relative") }
            json.string("verdict", metric.verdict)
            json.endObject()
        }
        json.endArray()
        json.beginArray("notes")
        for note in comparison.notes { json.string(nil, note) }
        json.endArray()
        json.endObject()
        return json.text + "\n"
    }

    static func html(_ comparison: RunComparison, base: RunSummary, new: RunSummary, basePath: String, newPath: String) -> String {
        let esc = HTMLReport.esc
        let base = base.maskingSecrets(), new = new.maskingSecrets()
        var out = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n"
        out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n"
        out += "<title>Metronome: compare \(esc(basePath)) → \(esc(newPath))</title>\n<style>\n\(HTMLReport.style)</style>\n</head>\n<body>\n"
        let regressed = !comparison.regressions.isEmpty
        let threshold = esc(Format.trimmed(comparison.threshold * 100, decimals: 2))
        out += "<header>\n<h1>Compare " + (regressed ? "<span class=\"badge fail\">REGRESSION</span>" : "<span class=\"badge pass\">NO REGRESSION</span>")
        out += " <span class=\"badge-note\">" + (regressed
            ? "worse past \(threshold) %: \(esc(comparison.regressions.map(\.label).joined(separator: ", ")))"
            : "no metric worse past \(threshold) %") + "</span></h1>\n</header>\n"
        out += HTMLReport.keyValues([("base", "<code>\(esc(basePath))</code> · \(esc(base.planDescription))"),
                                     ("new", "<code>\(esc(newPath))</code> · \(esc(new.planDescription))")])
        for note in comparison.notes { out += "<p class=\"note\">\(esc(note))</p>\n" }
        let rows = comparison.metrics.map { metric in
            [esc(metric.label), esc(metric.unit), esc(value(metric.base, metric.unit)), esc(value(metric.new, metric.unit)), esc(change(metric)),
             metric.isRegression ? "<strong>worse</strong>" : esc(metric.verdict)]
        }
        out += HTMLReport.table(["metric", "unit", "base", "new", "change", "verdict"], rows, textColumns: 2)
        func chart(_ label: String, _ title: String, _ a: [(percentile: Double, ms: Double)], _ b: [(percentile: Double, ms: Double)]) -> String {
            guard !a.isEmpty || !b.isEmpty else { return "" }
            let svg = SVGChart(label: label, xTitle: "percentile (log scale of 1/(1 − p))", yTitle: "ms", xScale: .percentile, series: [
                SVGChart.Series(name: "base", color: HTMLReport.blue, dash: "9 5", strokeWidth: 2.5, points: a.map { ($0.percentile, $0.ms) }),
                SVGChart.Series(name: "new", color: HTMLReport.vermillion, strokeWidth: 2.5, points: b.map { ($0.percentile, $0.ms) }),
            ])
            return HTMLReport.figure(id: "chart-\(label.lowercased().replacing(" ", with: "-"))", title: title,
                                     caption: "Both runs' whole-run distributions; each decade of nines gets the same width.", svg)
        }
        out += chart("Latency", "Latency by percentile (from the intended start)", base.latencyDistribution, new.latencyDistribution)
        out += chart("TTFT", "Time to first token by percentile", base.ttftDistribution, new.ttftDistribution)
        out += chart("ITL", "Inter-token latency by percentile", base.itlDistribution, new.itlDistribution)
        out += "<footer>Generated by Metronome \(esc(metronomeVersion)).</footer>\n</body>\n</html>\n"
        return out
    }
}
