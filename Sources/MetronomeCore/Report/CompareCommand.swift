// `metronome compare BASE.json NEW.json [--threshold 5%] [--out DIR] [--name PREFIX] [--json]`.

public enum CompareCommand {
    public static func main(_ arguments: [String]) -> Int32 {
        let parsed: FileCommandArguments
        let threshold: Double
        do {
            parsed = try FileCommandArguments(arguments, command: "metronome compare", flags: ["json"], valued: ["threshold"])
            threshold = try parsed.values["threshold"].map(parseThreshold) ?? 0.05
        } catch {
            writeStandardError("error: \(error)\n")
            return ExitCode.usage
        }
        if parsed.wantsHelp {
            writeStandardOutput(HelpText.compare)
            return ExitCode.completed
        }
        guard parsed.paths.count == 2 else {
            writeStandardError("error: compare needs two summary files, BASE and NEW (got \(parsed.paths.count)); see metronome compare --help\n")
            return ExitCode.usage
        }
        var runs: [RunSummary] = []
        for path in parsed.paths {
            do {
                runs.append(try RunSummary(summaryJSON: try readFile(path)))
            } catch {
                writeStandardError("error: \(path): \(error)\n")
                return ExitCode.failed
            }
        }
        let comparison = RunComparison(base: runs[0], new: runs[1], threshold: threshold)
        var code = comparison.regressions.isEmpty ? ExitCode.completed : ExitCode.sloFailed
        if parsed.flags.contains("json") {
            writeStandardOutput(CompareReport.json(comparison, basePath: parsed.paths[0], newPath: parsed.paths[1]))
        } else {
            writeStandardOutput(CompareReport.text(comparison, basePath: parsed.paths[0], newPath: parsed.paths[1]))
        }
        if let directory = parsed.outDirectory ?? (parsed.name != nil ? FileCommandArguments.stem(ofSummary: parsed.paths[1]).directory : nil) {
            let prefix = parsed.name ?? "compare_" + ReportFiles.defaultPrefix(unixS: wallClockSeconds()).dropFirst("metronome_".count)
            do {
                let base = directory.isEmpty ? "" : directory.hasSuffix("/") ? directory : directory + "/"
                try ReportFiles.checkWritable(directory: directory, prefix: prefix)
                try ReportFiles.writeFile(base + prefix + "_compare.html",
                                          CompareReport.html(comparison, base: runs[0], new: runs[1], basePath: parsed.paths[0], newPath: parsed.paths[1]))
                try ReportFiles.writeFile(base + prefix + "_compare.json", CompareReport.json(comparison, basePath: parsed.paths[0], newPath: parsed.paths[1]))
                if !parsed.flags.contains("json") { writeStandardOutput("\nReport: \(base)\(prefix)_compare.html\n") }
            } catch {
                writeStandardError("error: compare files could not be written: \(error)\n")
                code = ExitCode.failed
            }
        }
        if !comparison.regressions.isEmpty {
            writeStandardError("error: \(comparison.regressions.count) metric(s) regressed past \(Format.trimmed(threshold * 100, decimals: 2)) %: "
                               + comparison.regressions.map(\.label).joined(separator: ", ") + " (exit 3)\n")
        }
        return code
    }

    /// `5%`, `5` (percent) or `0.05`? A bare number is percent, as the flag reads: `--threshold 5`.
    static func parseThreshold(_ text: String) throws(UsageError) -> Double {
        let number = text.hasSuffix("%") ? String(text.dropLast()) : text
        guard let value = Double(number), value.isFinite, value >= 0, value <= 1000 else {
            throw UsageError("--threshold", "must be a percentage from 0 to 1000, e.g. 5% or 5 (got '\(text)')")
        }
        return value / 100
    }
}
