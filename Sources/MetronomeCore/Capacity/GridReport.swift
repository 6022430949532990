// `metronome report --grid`: several sweep/find-max JSON files as one table across their tags (decode, text, CSV, JSON).

/// One sweep or find-max file, as the grid needs it.
public struct GridFile: Sendable {
    public struct Step: Sendable {
        public var rate: Double
        public var offeredRps: Double
        public var achievedRps: Double
        /// nil when the step had no success to measure.
        public var latencyP95Ms: Double?
        public var ttftP95Ms: Double?
        public var errorRate: Double
        /// "pass", "fail", or nil for a step cut short.
        public var verdict: String?
    }

    public var path: String
    public var command: String
    public var target: String
    public var slo: String?
    /// In the order the file lists them.
    public var tags: [(key: String, value: String)]
    public var steps: [Step]
    /// find-max: the file's max_rate; sweep: the highest passing step's rate. nil when nothing passed.
    public var maxRate: Double?
    /// find-max: the file's bracket; sweep: that rate and the lowest failing rate above it.
    public var bracket: (pass: Double?, fail: Double?)

    /// The passing step at `maxRate` (the last one, if it was repeated): its p95 and achieved rate go in the row.
    public var maxStep: Step? {
        guard let maxRate else { return nil }
        return steps.last { $0.verdict == "pass" && abs($0.rate - maxRate) <= 1e-6 * max(1, maxRate) }
    }

    public func tag(_ key: String) -> String? { tags.first { $0.key == key }?.value }

    /// The settings as one label: `max_num_seqs=16, dtype=fp8`; the file name when it has no tags.
    public var label: String {
        tags.isEmpty ? String(path.split(separator: "/").last ?? Substring(path)) : tags.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")
    }
}

/// A file that cannot be read or is not a sweep or find-max result; the message names it.
public struct GridFileError: Error, CustomStringConvertible, Sendable {
    public let description: String
}

public enum GridReport {
    // MARK: Decode

    public static func load(_ paths: [String]) throws -> [GridFile] {
        try paths.map { path in
            let bytes: [UInt8]
            do { bytes = try readFile(path) } catch { throw GridFileError(description: "\(path): cannot be read: \(error)") }
            return try decode(bytes, path: path)
        }
    }

    public static func decode(_ bytes: [UInt8], path: String) throws -> GridFile {
        func failure(_ what: String) -> GridFileError { GridFileError(description: "\(path): \(what)") }
        guard let members = (try? JSONValue.parse(bytes))?.objectValue else {
            throw failure("not a JSON object (a sweep or find-max .json file is expected)")
        }
        let root = JSONFields(members, path: "")
        guard let command = root["command"]?.stringValue, command == "sweep" || command == "find-max" else {
            let hint = root.has("stages") ? "; a run's summary is read by metronome report FILE, without --grid" : ""
            throw failure("not a sweep or find-max file (no \"command\": \"sweep\" or \"find-max\")\(hint)")
        }
        do {
            var tags: [(key: String, value: String)] = []
            // Files written before tags have none.
            if let object = try root.optionalObject("tags") {
                tags = try object.keys.map { ($0, try object.string($0)) }
            }
            let steps = try root.objects("steps").map { step in
                GridFile.Step(rate: try step.number("rate"), offeredRps: try step.number("offered_rps"), achievedRps: try step.number("achieved_rps"),
                              latencyP95Ms: try step.object("latency_ms").optionalNumber("p95"),
                              ttftP95Ms: try step.optionalObject("ttft_ms")?.optionalNumber("p95"),
                              errorRate: try step.number("error_rate"), verdict: step["verdict"]?.stringValue)
            }
            var file = GridFile(path: path, command: command, target: try root.string("target"), slo: root["slo"]?.stringValue,
                                tags: tags, steps: steps, maxRate: nil, bracket: (nil, nil))
            if command == "find-max" {
                file.maxRate = try root.optionalNumber("max_rate")
                let bracket = try root.array("bracket")
                guard bracket.count == 2 else { throw root.fail("bracket", "not a [pass, fail] pair") }
                file.bracket = (bracket[0].doubleValue, bracket[1].doubleValue)
            } else {
                let passed = steps.filter { $0.verdict == "pass" }.map(\.rate).max()
                file.maxRate = passed
                file.bracket = (passed, steps.filter { $0.verdict == "fail" && $0.rate > (passed ?? -1) }.map(\.rate).min())
            }
            return file
        } catch let error as SummaryDecodeError {
            throw failure(error.description)
        }
    }

    // MARK: Table

    /// Every tag key across the files, in the order first seen.
    public static func tagKeys(_ files: [GridFile]) -> [String] {
        var keys: [String] = []
        for file in files { for tag in file.tags where !keys.contains(tag.key) { keys.append(tag.key) } }
        return keys
    }

    /// Rows sorted by their tags, key by key: numbers as numbers (`8` before `16`), a missing tag
    /// first; files with equal tags keep the order they were given in.
    public static func sorted(_ files: [GridFile]) -> [GridFile] {
        let keys = tagKeys(files)
        return files.enumerated().sorted { a, b in
            for key in keys {
                let x = a.element.tag(key), y = b.element.tag(key)
                if x == y { continue }
                guard let x else { return true }
                guard let y else { return false }
                if let m = Double(x), let n = Double(y), m != n { return m < n }
                return x < y
            }
            return a.offset < b.offset
        }.map(\.element)
    }

    struct Column {
        let header: String
        let csvHeader: String
        let value: (GridFile) -> String
    }

    static func columns(_ keys: [String]) -> [Column] {
        keys.map { key in Column(header: key, csvHeader: key) { $0.tag(key) ?? "" } } + [
            Column(header: "command", csvHeader: "command") { $0.command },
            Column(header: "max rate", csvHeader: "max_rate") { $0.maxRate.map(Format.rate) ?? "none" },
            Column(header: "bracket", csvHeader: "bracket") { bracket($0) },
            Column(header: "p95 ms", csvHeader: "latency_p95_ms") { $0.maxStep?.latencyP95Ms.map { Format.trimmed($0, decimals: $0 >= 100 ? 0 : 1) } ?? "" },
            Column(header: "achieved", csvHeader: "achieved_rps") { $0.maxStep.map { Format.trimmed($0.achievedRps, decimals: 2) } ?? "" },
            Column(header: "steps", csvHeader: "steps") { String($0.steps.count) },
            Column(header: "file", csvHeader: "file") { $0.path },
        ]
    }

    static func bracket(_ file: GridFile) -> String {
        "[\(file.bracket.pass.map(Format.rate) ?? "-"), \(file.bracket.fail.map(Format.rate) ?? "-")]"
    }

    public static func text(_ files: [GridFile]) -> String {
        let rows = sorted(files)
        let columns = columns(tagKeys(files))
        let cells = rows.map { row in columns.map { $0.value(row).isEmpty ? "-" : $0.value(row) } }
        let widths = columns.indices.map { index in max(columns[index].header.count, cells.map { $0[index].count }.max() ?? 0) }
        let slos = Array(Set(rows.compactMap(\.slo))).sorted()
        var out = "Grid: \(rows.count) file\(rows.count == 1 ? "" : "s")"
        out += slos.isEmpty ? "\n" : "; SLO \(slos.joined(separator: " | "))\n"
        out += "  max rate: find-max's answer, or a sweep's highest passing step; p95 and achieved: that step's hold\n\n"
        // Tags and the file name read left-aligned, numbers right-aligned.
        func pad(_ text: String, _ index: Int) -> String {
            index < columns.count - 6 || index == columns.count - 1 ? Format.padRight(text, widths[index]) : Format.padLeft(text, widths[index])
        }
        out += columns.indices.map { pad(columns[$0].header, $0) }.joined(separator: "  ").trimmedAtEnd + "\n"
        for row in cells { out += row.indices.map { pad(row[$0], $0) }.joined(separator: "  ").trimmedAtEnd + "\n" }
        return out
    }

    public static func csv(_ files: [GridFile]) -> String {
        let rows = sorted(files)
        let keys = tagKeys(files)
        var out = (keys + ["command", "max_rate", "bracket_pass", "bracket_fail", "latency_p95_ms", "ttft_p95_ms", "achieved_rps", "steps", "file"])
            .map(csvField).joined(separator: ",") + "\n"
        for row in rows {
            let step = row.maxStep
            var fields = keys.map { row.tag($0) ?? "" } + [row.command]
            fields += [row.maxRate, row.bracket.pass, row.bracket.fail, step?.latencyP95Ms, step?.ttftP95Ms, step?.achievedRps].map { $0.map { Format.trimmed($0, decimals: 4) } ?? "" }
            fields += [String(row.steps.count), row.path]
            out += fields.map(csvField).joined(separator: ",") + "\n"
        }
        return out
    }

    /// RFC 4180: a field with a comma, quote or line break is quoted, its quotes doubled.
    static func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacing("\"", with: "\"\"") + "\""
    }

    public static func json(_ files: [GridFile], pretty: Bool = true) -> String {
        let rows = sorted(files)
        var w = JSONWriter(pretty: pretty)
        func optional(_ name: String?, _ value: Double?) { if let value { w.number(name, value, decimals: 4) } else { w.null(name) } }
        w.beginObject()
        w.string("command", "grid")
        w.beginArray("tag_keys")
        for key in tagKeys(files) { w.string(nil, key) }
        w.endArray()
        w.beginArray("rows")
        for row in rows {
            let step = row.maxStep
            w.beginObject()
            w.beginObject("tags")
            for tag in row.tags { w.string(tag.key, tag.value) }
            w.endObject()
            w.string("command", row.command)
            w.string("file", row.path)
            w.string("target", row.target)
            if let slo = row.slo { w.string("slo", slo) } else { w.null("slo") }
            optional("max_rate", row.maxRate)
            w.beginArray("bracket")
            optional(nil, row.bracket.pass)
            optional(nil, row.bracket.fail)
            w.endArray()
            optional("latency_p95_ms", step?.latencyP95Ms)
            optional("ttft_p95_ms", step?.ttftP95Ms)
            optional("achieved_rps", step?.achievedRps)
            w.int("steps", row.steps.count)
            w.endObject()
        }
        w.endArray()
        w.endObject()
        return w.text + "\n"
    }
}

private extension String {
    /// Without the padding of a last left-aligned column.
    var trimmedAtEnd: String {
        var text = self
        while text.hasSuffix(" ") { text.removeLast() }
        return text
    }
}

// MARK: HTML

extension GridReport {
    /// Okabe–Ito colours (HTMLReport's, plus sky blue), then dash patterns: a second cue past six settings.
    static let colors = [HTMLReport.blue, HTMLReport.orange, HTMLReport.vermillion, HTMLReport.green, HTMLReport.purple, "#56B4E9", HTMLReport.black]
    static let dashes = ["", "9 5", "2 4", "12 4 2 4"]

    /// One self-contained page: the table, max rate per setting as bars, and latency (and TTFT)
    /// p95 against achieved rate with one curve per file.
    public static func html(_ files: [GridFile], title: String) -> String {
        let rows = sorted(files)
        let esc = HTMLReport.esc
        var out = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n"
        out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n"
        out += "<meta name=\"generator\" content=\"Metronome \(esc(metronomeVersion))\"/>\n"
        out += "<title>\(esc(title))</title>\n<style>\n\(HTMLReport.style).bar{fill:\(HTMLReport.blue)}\n</style>\n</head>\n<body>\n"
        out += "<header>\n<h1>\(esc(title))</h1>\n<dl class=\"facts\">\n"
        out += "<dt>settings</dt><dd>\(rows.count) files</dd>\n"
        let slos = Array(Set(rows.compactMap(\.slo))).sorted()
        out += "<dt>SLO</dt><dd>\(slos.isEmpty ? "none" : slos.map { "<code>\(esc($0))</code>" }.joined(separator: ", "))</dd>\n"
        let targets = Array(Set(rows.map(\.target))).sorted()
        out += "<dt>target</dt><dd>\(targets.map { "<code>\(esc($0))</code>" }.joined(separator: ", "))</dd>\n</dl>\n</header>\n"

        out += "<section id=\"table\">\n<h2>Max rate per setting</h2>\n"
        let columns = columns(tagKeys(files))
        out += HTMLReport.table(columns.map(\.header), rows.map { row in columns.map { esc($0.value(row)) } }, textColumns: columns.count - 6)
        out += "<p class=\"note\">Max rate: find-max's answer (the highest rate whose hold passed), or a sweep's highest passing step. "
        out += "Bracket: that rate and the lowest failing rate above it. p95 and achieved: the hold at that rate.</p>\n"
        out += "<figure id=\"chart-max-rate\">\n<h3>Max rate per setting</h3>\n\(barChart(rows))\n"
        out += "<figcaption>Requests/s within the SLO; a setting where even the lowest rate failed has no bar.</figcaption>\n</figure>\n</section>\n"

        out += "<section id=\"curves\">\n<h2>Latency against rate</h2>\n"
        out += HTMLReport.figure(id: "chart-latency", title: "Latency p95 against achieved rate",
                                 caption: "Each step's hold, one curve per file; latency from the intended start.",
                                 curves(rows, label: "Latency p95 against achieved rate", yTitle: "latency p95, ms", \.latencyP95Ms))
        if rows.contains(where: { $0.steps.contains { $0.ttftP95Ms != nil } }) {
            out += HTMLReport.figure(id: "chart-ttft", title: "TTFT p95 against achieved rate",
                                     caption: "Time to first token of each step's hold (streaming runs), one curve per file.",
                                     curves(rows, label: "TTFT p95 against achieved rate", yTitle: "TTFT p95, ms", \.ttftP95Ms))
        }
        out += "</section>\n<footer>Metronome \(esc(metronomeVersion)): metronome report --grid</footer>\n</body>\n</html>\n"
        return out
    }

    static func curves(_ rows: [GridFile], label: String, yTitle: String, _ value: KeyPath<GridFile.Step, Double?>) -> SVGChart {
        // Steps in rate order: find-max visits them out of order while it bisects.
        let series = rows.enumerated().map { index, row in
            SVGChart.Series(name: row.label, color: colors[index % colors.count], dash: dashes[(index / colors.count) % dashes.count], strokeWidth: 2.5,
                            points: row.steps.sorted { $0.rate < $1.rate }.map { (x: $0.achievedRps, y: $0[keyPath: value]) })
        }
        return SVGChart(label: label, xTitle: "achieved rate, requests/s", yTitle: yTitle, series: series)
    }

    /// Horizontal bars, one per file, labelled by its tags: long labels fit on the left.
    static func barChart(_ rows: [GridFile]) -> String {
        func n(_ value: Double) -> String { value.isFinite ? Format.trimmed(value, decimals: 1) : "0" }
        let esc = HTMLReport.esc
        let width = 900.0, rowHeight = 34.0, top = 12.0, bottom = 56.0
        let labels = rows.map { String($0.label.prefix(48)) }
        let left = min(420, 24 + Double(labels.map(\.count).max() ?? 4) * 8.2), right = 70.0
        let height = top + Double(max(1, rows.count)) * rowHeight + bottom
        let ticks = SVGChart.niceTicks(min: 0, max: rows.compactMap(\.maxRate).max() ?? 1, count: 6)
        let high = ticks.last ?? 1
        let plotW = width - left - right, base = height - bottom
        func px(_ x: Double) -> Double { left + (high > 0 ? min(1, max(0, x / high)) : 0) * plotW }
        var out = "<svg class=\"plot\" viewBox=\"0 0 \(n(width)) \(n(height))\" role=\"img\" aria-label=\"Max rate per setting\" font-size=\"14\">\n"
        out += "<title>Max rate per setting</title>\n"
        for tick in ticks {
            out += "<line class=\"grid\" x1=\"\(n(px(tick)))\" y1=\"\(n(top))\" x2=\"\(n(px(tick)))\" y2=\"\(n(base + 5))\"/>"
            out += "<text class=\"tick\" x=\"\(n(px(tick)))\" y=\"\(n(base + 24))\" text-anchor=\"middle\">\(SVGChart.tickLabel(tick))</text>\n"
        }
        for (index, row) in rows.enumerated() {
            let y = top + Double(index) * rowHeight
            out += "<text class=\"tick\" x=\"\(n(left - 8))\" y=\"\(n(y + rowHeight / 2))\" dy=\"0.35em\" text-anchor=\"end\">\(esc(labels[index]))</text>\n"
            if let rate = row.maxRate {
                out += "<rect class=\"bar\" x=\"\(n(left))\" y=\"\(n(y + 5))\" width=\"\(n(px(rate) - left))\" height=\"\(n(rowHeight - 10))\"/>"
                out += "<text class=\"tick\" x=\"\(n(px(rate) + 6))\" y=\"\(n(y + rowHeight / 2))\" dy=\"0.35em\">\(esc(Format.rate(rate)))</text>\n"
            } else {
                out += "<text class=\"tick\" x=\"\(n(left + 6))\" y=\"\(n(y + rowHeight / 2))\" dy=\"0.35em\">none</text>\n"
            }
        }
        out += "<line class=\"axis\" x1=\"\(n(left))\" y1=\"\(n(top))\" x2=\"\(n(left))\" y2=\"\(n(base))\"/>"
        out += "<line class=\"axis\" x1=\"\(n(left))\" y1=\"\(n(base))\" x2=\"\(n(left + plotW))\" y2=\"\(n(base))\"/>\n"
        out += "<text class=\"axis-title\" x=\"\(n(left + plotW / 2))\" y=\"\(n(height - 8))\" text-anchor=\"middle\">max rate, requests/s</text>\n"
        return out + "</svg>"
    }
}

// MARK: Command

extension GridReport {
    /// `metronome report --grid FILES… [--out DIR] [--name PREFIX] [--json]`: prints the table (or
    /// its JSON) and writes PREFIX_grid.{csv,json,html}. Returns the exit code: 64 for bad usage,
    /// 1 when a file cannot be read or written.
    public static func main(_ arguments: [String]) -> Int32 {
        func usage(_ message: String) -> Int32 {
            writeStandardError("error: \(message); see metronome report --help\n")
            return ExitCode.usage
        }
        let parsed: FileCommandArguments
        do {
            parsed = try FileCommandArguments(arguments, command: "metronome report --grid", flags: ["grid", "json"])
        } catch {
            return usage(error.description)
        }
        if parsed.wantsHelp {
            writeStandardOutput(HelpText.report)
            return ExitCode.completed
        }
        let paths = parsed.paths, outDirectory = parsed.outDirectory, name = parsed.name, json = parsed.flags.contains("json")
        guard !paths.isEmpty else { return usage("report --grid needs one or more sweep or find-max .json files") }
        let files: [GridFile]
        do { files = try load(paths) } catch {
            writeStandardError("error: \(error)\n")
            return ExitCode.failed
        }
        // Next to the first file, as `report FILE` writes next to its summary.
        let directory = outDirectory ?? paths[0].lastIndex(of: "/").map { String(paths[0][...$0]) } ?? ""
        let prefix = name ?? ReportFiles.defaultPrefix(unixS: wallClockSeconds())
        let base = (directory.isEmpty || directory.hasSuffix("/") ? directory : directory + "/") + prefix
        do {
            try ReportFiles.checkWritable(directory: directory, prefix: prefix)
            try ReportFiles.writeFile(base + "_grid.csv", csv(files))
            try ReportFiles.writeFile(base + "_grid.json", GridReport.json(files))
            try ReportFiles.writeFile(base + "_grid.html", html(files, title: "Metronome grid: \(files.count) settings"))
        } catch {
            writeStandardError("error: \(error)\n")
            return ExitCode.failed
        }
        if json {
            writeStandardOutput(GridReport.json(files))
        } else {
            writeStandardOutput(text(files) + "\nGrid: \(base)_grid.{csv,json,html}\n")
        }
        return ExitCode.completed
    }
}
