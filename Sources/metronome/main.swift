// metronome: parse, run, report, exit. Everything else lives in MetronomeCore.
import Glibc
import MetronomeCore

func fail(_ message: String, code: Int32) -> Never {
    writeStandardError("error: \(message)\n")
    exit(code)
}

/// `metronome report PREFIX_summary.json [--out DIR]`: the text and HTML again from a saved summary.
func report(_ arguments: [String]) -> Never {
    guard let path = arguments.first, !path.hasPrefix("-") else { fail("report needs a PREFIX_summary.json file", code: 64) }
    var summary: RunSummary
    do {
        summary = try RunSummary(summaryJSON: try readFile(path))
    } catch {
        fail("\(error)", code: 1)
    }
    let prefix = path.hasSuffix("_summary.json") ? String(path.dropLast("_summary.json".count)) : path
    let htmlPath = prefix + "_report.html"
    do {
        try ReportFiles.writeFile(htmlPath, HTMLReport.render(summary, title: "Metronome: \(summary.target)"))
    } catch {
        fail("\(error)", code: 1)
    }
    writeStandardOutput(TextReport.render(summary, planDescription: summary.planDescription))
    writeStandardOutput("\nReport: \(htmlPath)\n")
    exit(summary.sloPassed ? 0 : 3)
}

let arguments = Array(CommandLine.arguments.dropFirst())
switch arguments.first {
case nil, "-h", "--help", "help":
    writeStandardOutput(HelpText.overview)
    exit(arguments.isEmpty ? 64 : 0)
case "--version":
    writeStandardOutput("metronome \(metronomeVersion)\n")
    exit(0)
case "help-options":
    writeStandardOutput(HelpText.markdown)
    exit(0)
case "report":
    report(Array(arguments.dropFirst()))
case "run":
    break
default:
    fail("unknown command '\(arguments[0])'; see metronome --help", code: 64)
}

let runArguments = Array(arguments.dropFirst())
if runArguments.contains("-h") || runArguments.contains("--help") {
    writeStandardOutput(HelpText.run)
    exit(0)
}

let options: RunOptions
let load: LoadRun
do {
    options = try OptionTable.parse(runArguments)
    // SIGINT/SIGTERM go to the loop's signalfd; block them before any other thread exists.
    blockTerminationSignals()
    ignoreSIGPIPE()
    tightenTimerSlack()
    load = try LoadRun(options: options)
} catch let error as UsageError {
    fail(error.description, code: 64)
} catch {
    fail("\(error)", code: 1)
}

let prefix = options.name ?? ReportFiles.defaultPrefix(unixS: wallClockSeconds())
if !options.quiet && !options.json {
    for note in load.notes { writeStandardError("note: \(note)\n") }
    var line = "metronome: \(TextReport.describe(load.plan)) against \(load.url) (\(load.address)), \(load.arrivalDescription) arrivals, seed \(options.seed)"
    if let model = load.resolvedModel { line += ", model \(model)" }
    writeStandardError(line + "\n")
}
let progress = options.quiet || options.json ? nil : ProgressLine(stats: load.stats, plan: load.plan)
progress?.start()
var summary: RunSummary
let result: EngineResult
do {
    (summary, result) = try load.execute(handlesSignals: true)
} catch {
    progress?.finish()
    fail("\(error)", code: 1)
}
progress?.finish()

var written: [String] = []
if !options.noFiles {
    do {
        written = try ReportFiles.write(summary, latency: load.stats.total.latency, serviceTime: load.stats.total.serviceTime,
                                        directory: options.outDirectory, prefix: prefix,
                                        html: HTMLReport.render(summary, title: "Metronome: \(summary.target)"))
    } catch {
        summary.warnings.append("report files could not be written: \(error)")
    }
}

if options.json {
    writeStandardOutput(JSONReport.render(summary))
} else {
    writeStandardOutput(TextReport.render(summary, planDescription: TextReport.describe(load.plan)))
    if let html = written.first(where: { $0.hasSuffix("_report.html") }) {
        writeStandardOutput("\nReports: \(options.outDirectory)/\(prefix)_* (\(written.count) files; open \(html))\n")
    }
    if let path = options.requestLogPath { writeStandardOutput("Request log: \(path)\n") }
}
if result.interruptedBySignal != nil { exit(130) }
if summary.targetUnreachable { exit(1) }
exit(summary.sloPassed ? 0 : 3)
