// metronome: parse, run, report, exit. Everything else lives in MetronomeCore.
import Glibc
import MetronomeCore

/// Secret values on the command line (`--api-key`, credential `--header`s, and those of a
/// `--config` file): no message printed below may show them.
nonisolated(unsafe) var secrets: [String] = []

func fail(_ message: String, code: Int32) -> Never {
    writeStandardError("error: \(SecretMask.mask(message, secrets: secrets))\n")
    exit(code)
}

/// `metronome report PREFIX_summary.json [--out DIR] [--name PREFIX]`: the text and HTML again from a
/// saved summary. The HTML goes next to the summary unless --out/--name say otherwise, as for `run`.
func report(_ arguments: [String]) -> Never {
    if arguments.contains("--grid") { exit(GridReport.main(arguments)) }
    let parsed: FileCommandArguments
    do {
        parsed = try FileCommandArguments(arguments, command: "metronome report")
    } catch {
        fail("\(error)", code: 64)
    }
    if parsed.wantsHelp {
        writeStandardOutput(HelpText.report)
        exit(0)
    }
    guard parsed.paths.count <= 1 else { fail("\(parsed.paths[1]) is not an option of metronome report; see metronome report --help", code: 64) }
    let path = parsed.paths.first
    let outDirectory = parsed.outDirectory
    let name = parsed.name
    guard let path else { fail("report needs a PREFIX_summary.json file", code: 64) }
    var summary: RunSummary
    do {
        summary = try RunSummary(summaryJSON: try readFile(path))
    } catch {
        fail("\(error)", code: 1)
    }
    let stem = path.hasSuffix("_summary.json") ? String(path.dropLast("_summary.json".count)) : path
    let slash = stem.lastIndex(of: "/")
    let directory = outDirectory ?? slash.map { String(stem[...$0]) } ?? ""
    let prefix = name ?? slash.map { String(stem[stem.index(after: $0)...]) } ?? stem
    let htmlPath = (directory.isEmpty || directory.hasSuffix("/") ? directory : directory + "/") + prefix + "_report.html"
    do {
        try ReportFiles.checkWritable(directory: directory, prefix: prefix)
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
case "merge":
    exit(MergeCommand.main(Array(arguments.dropFirst())))
case "compare":
    exit(CompareCommand.main(Array(arguments.dropFirst())))
case "sweep":
    exit(CapacityCommand.main(Array(arguments.dropFirst()), command: .sweep, handlesSignals: true))
case "find-max":
    exit(CapacityCommand.main(Array(arguments.dropFirst()), command: .findMax, handlesSignals: true))
case "ui":
    exit(UICommand.main(Array(arguments.dropFirst())))
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
secrets = SecretMask.secrets(inArguments: runArguments)

let options: RunOptions
let load: LoadRun
let prefix: String
var startLateS = 0.0
do {
    options = try OptionTable.parse(runArguments)
    if let processes = options.processes, processes > 1 {
        _ = try options.ratePlan()
        let prefix = options.name ?? ReportFiles.defaultPrefix(unixS: wallClockSeconds())
        if !options.noFiles {
            do { try ReportFiles.checkWritable(directory: options.outDirectory, prefix: prefix) } catch {
                throw UsageError("--out", "'\(options.outDirectory)' cannot hold the report files: \(error)")
            }
        }
        exit(ShardProcesses(options: options, arguments: runArguments, prefix: prefix).run())
    }
    // SIGINT/SIGTERM go to the loop's signalfd; they are blocked here, before any other thread
    // exists, and until the engine runs a watcher ends setup on them with 130.
    let watch = try SetupSignalWatch()
    defer { watch.stop() }
    ignoreSIGPIPE()
    tightenTimerSlack()
    prefix = options.name ?? ReportFiles.defaultPrefix(unixS: wallClockSeconds())
    if !options.noFiles {
        do { try ReportFiles.checkWritable(directory: options.outDirectory, prefix: prefix) } catch {
            throw UsageError("--out", "'\(options.outDirectory)' cannot hold the report files: \(error)")
        }
    }
    load = try LoadRun(options: options)
    if let startAt = options.startAtUnixS { startLateS = StartTime.wait(untilUnixS: startAt) }
} catch let error as UsageError {
    fail(error.description, code: ExitCode.usage)
} catch {
    fail("\(error)", code: ExitCode.failed)
}

if !options.quiet && !options.json {
    for note in load.notes { writeStandardError("note: \(SecretMask.mask(note, secrets: secrets))\n") }
    var line = "metronome: \(TextReport.describe(load.plan, closedLoop: options.isClosedLoop)) against \(load.url) (\(load.address)), \(load.arrivalDescription) arrivals, seed \(options.seed)"
    if let model = load.resolvedModel { line += ", model \(SecretMask.mask(model, secrets: secrets))" }
    writeStandardError(line + "\n")
}
var web: WebServer?
if let address = options.web {
    do {
        web = try WebServer(address: address, token: options.webToken, stats: load.stats, plan: load.plan, commands: load.commands,
                            closedLoop: options.isClosedLoop, isLLM: options.workload.isOpenAI, title: "\(load.template.method) \(load.url)",
                            slo: options.slo)
    } catch {
        fail("--web \(address): cannot listen there: \(error)", code: ExitCode.usage)
    }
    web?.start()
    if !options.quiet { writeStandardError("metronome: live web view at \(web!.url)\n") }
}
let progress = options.quiet || options.json ? nil : ProgressLine(stats: load.stats, plan: load.plan, commands: load.commands)
progress?.start()
var summary: RunSummary
let result: EngineResult
do {
    (summary, result) = try load.execute(handlesSignals: true)
} catch {
    progress?.finish()
    web?.finish()
    fail("\(error)", code: ExitCode.failed)
}
progress?.finish()
summary.recordStart(startAtUnixS: options.startAtUnixS, lateS: startLateS)

var written: [String] = []
var fileErrors: [String] = []
if !options.noFiles {
    do {
        written = try ReportFiles.write(summary, latency: load.stats.total.latency, serviceTime: load.stats.total.serviceTime,
                                        directory: options.outDirectory, prefix: prefix,
                                        html: HTMLReport.render(summary, title: "Metronome: \(summary.target)"),
                                        intervalLog: load.stats.series.intervalCapture.map {
                                            IntervalLogWriter.render($0, startedAtUnixS: result.startedAtUnixS)
                                        })
    } catch {
        fileErrors.append("report files could not be written: \(error)")
        summary.warnings.append("report files could not be written: \(error)")
    }
}
if let log = load.requestLog, log.failedWrites > 0 {
    fileErrors.append("the request log \(options.requestLogPath ?? "") could not be written completely (\(log.failedWrites) failed writes)")
}

if options.json {
    writeStandardOutput(JSONReport.render(summary))
} else {
    writeStandardOutput(TextReport.render(summary, planDescription: TextReport.describe(load.finalPlan, closedLoop: options.isClosedLoop)))
    if let html = written.first(where: { $0.hasSuffix("_report.html") }) {
        writeStandardOutput("\nReports: \(options.outDirectory)/\(prefix)_* (\(written.count) files; open \(html))\n")
    }
    if let path = options.requestLogPath { writeStandardOutput("Request log: \(path)\n") }
    if let path = written.first(where: { $0.hasSuffix(".hlog") }) { writeStandardOutput("Interval log: \(path)\n") }
}
let verdict = RunVerdict.judge(summary, interrupted: result.interruptedBySignal != nil, fileErrors: fileErrors)
for reason in verdict.reasons { writeStandardError("error: \(SecretMask.mask(reason, secrets: secrets)) (exit \(verdict.code))\n") }
if let web {
    let html = written.first { $0.hasSuffix("_report.html") }
    web.runEnded(report: html, html: html.flatMap { try? String(decoding: readFile($0), as: UTF8.self) })
    if options.webKeep {
        if !options.quiet { writeStandardError("metronome: the web view stays at \(web.url) until Ctrl-C or POST /stop\n") }
        web.waitForStop()
    }
    web.finish()
}
exit(verdict.code)
