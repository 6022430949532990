// metronome: parse, run, report, exit. Everything else lives in MetronomeCore.
import Glibc
import MetronomeCore

func fail(_ message: String, code: Int32) -> Never {
    writeStandardError("error: \(message)\n")
    exit(code)
}

let arguments = Array(CommandLine.arguments.dropFirst())
switch arguments.first {
case nil, "-h", "--help", "help":
    print(HelpText.overview, terminator: "")
    exit(arguments.isEmpty ? 64 : 0)
case "--version":
    print("metronome \(metronomeVersion)")
    exit(0)
case "help-options":
    print(HelpText.markdown, terminator: "")
    exit(0)
case "run":
    break
default:
    fail("unknown command '\(arguments[0])'; see metronome --help", code: 64)
}

let runArguments = Array(arguments.dropFirst())
if runArguments.contains("-h") || runArguments.contains("--help") {
    print(HelpText.run, terminator: "")
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

if !options.quiet && !options.json {
    for note in load.notes { writeStandardError("note: \(note)\n") }
    writeStandardError("metronome: \(TextReport.describe(load.plan)) against \(load.url) (\(load.address)), \(load.arrivalDescription) arrivals, seed \(options.seed)\n")
}
let progress = options.quiet ? nil : ProgressLine(stats: load.stats, plan: load.plan)
progress?.start()
let summary: RunSummary
let result: EngineResult
do {
    (summary, result) = try load.execute(handlesSignals: true)
} catch {
    progress?.finish()
    fail("\(error)", code: 1)
}
progress?.finish()

if options.json {
    print(JSONReport.render(summary), terminator: "")
} else {
    print(TextReport.render(summary, planDescription: TextReport.describe(load.plan)), terminator: "")
}
if result.interruptedBySignal != nil { exit(130) }
if summary.targetUnreachable { exit(1) }
exit(summary.sloPassed ? 0 : 3)
