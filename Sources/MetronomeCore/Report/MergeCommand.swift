// `metronome merge SUMMARY.json… [--out DIR] [--name PREFIX] [--json]`: one run's report files from several.

public enum MergeCommand {
    public static func main(_ arguments: [String]) -> Int32 {
        let parsed: FileCommandArguments
        do {
            parsed = try FileCommandArguments(arguments, command: "metronome merge", flags: ["json"])
        } catch {
            writeStandardError("error: \(error)\n")
            return ExitCode.usage
        }
        if parsed.wantsHelp {
            writeStandardOutput(HelpText.merge)
            return ExitCode.completed
        }
        guard !parsed.paths.isEmpty else {
            writeStandardError("error: merge needs one or more PREFIX_summary.json files; see metronome merge --help\n")
            return ExitCode.usage
        }
        var inputs: [(file: String, summary: RunSummary)] = []
        for path in parsed.paths {
            do {
                inputs.append((path, try RunSummary(summaryJSON: try readFile(path))))
            } catch {
                writeStandardError("error: \(path): \(error)\n")
                return ExitCode.failed
            }
        }
        let merged: RunSummary
        do {
            merged = try SummaryMerge.merge(inputs)
        } catch {
            writeStandardError("error: \(error)\n")
            return ExitCode.usage
        }
        let directory = parsed.outDirectory ?? FileCommandArguments.stem(ofSummary: parsed.paths[0]).directory
        let prefix = parsed.name ?? "merged_" + ReportFiles.defaultPrefix(unixS: wallClockSeconds()).dropFirst("metronome_".count)
        var fileErrors: [String] = []
        var written: [String] = []
        do {
            try ReportFiles.checkWritable(directory: directory, prefix: prefix)
            written = try ReportFiles.write(merged, latency: merged.rawTotal?.latency, serviceTime: merged.rawTotal?.serviceTime,
                                            directory: directory, prefix: prefix,
                                            html: HTMLReport.render(merged, title: "Metronome: \(merged.target) (\(inputs.count) runs merged)"))
        } catch {
            fileErrors.append("report files could not be written: \(error)")
        }
        if parsed.flags.contains("json") {
            writeStandardOutput(JSONReport.render(merged))
        } else {
            writeStandardOutput("Merged \(inputs.count) runs: \(inputs.map { $0.summary.shard.isWhole ? $0.file : "shard \($0.summary.shard)" }.joined(separator: ", "))\n")
            writeStandardOutput(TextReport.render(merged, planDescription: merged.planDescription))
            if let html = written.first(where: { $0.hasSuffix("_report.html") }) {
                writeStandardOutput("\nReports: \(directory)\(directory.isEmpty || directory.hasSuffix("/") ? "" : "/")\(prefix)_* (\(written.count) files; open \(html))\n")
            }
        }
        let verdict = RunVerdict.judge(merged, interrupted: merged.interrupted, fileErrors: fileErrors)
        for reason in verdict.reasons { writeStandardError("error: \(reason) (exit \(verdict.code))\n") }
        return verdict.code
    }
}
