// `metronome sweep` and `metronome find-max` from arguments to exit code: parse, run the steps, report.
import Glibc

public enum CapacityCommand {
    /// 130 when interrupted, 1 when the target became unreachable, 3 when find-max found no passing
    /// rate, else 0 (a sweep's failing steps are data, not an error).
    public static func exitCode(_ result: SweepResult) -> Int32 {
        if result.interrupted { return ExitCode.interrupted }
        if result.abortReason != nil { return ExitCode.failed }
        return result.command == .findMax && result.maxRate == nil ? ExitCode.sloFailed : ExitCode.completed
    }

    /// Runs the command and returns its exit code: 0 (a sweep that ran to its end; a find-max that
    /// found a rate), 3 (find-max: even --min-rate fails), 1 (setup failed, the target became
    /// unreachable, files not written), 64 (bad usage), 130 (interrupted; what was measured is kept).
    /// `handlesSignals`: SIGINT/SIGTERM end a step early (the process's main thread only).
    public static func main(_ arguments: [String], command: CapacityOptions.Command, handlesSignals: Bool) -> Int32 {
        if arguments.contains("-h") || arguments.contains("--help") {
            writeStandardOutput(command == .sweep ? HelpText.sweep : HelpText.findMax)
            return 0
        }
        let secrets = SecretMask.secrets(inArguments: arguments)
        func fail(_ message: String, code: Int32) -> Int32 {
            writeStandardError("error: \(SecretMask.mask(message, secrets: secrets))\n")
            return code
        }
        let options: CapacityOptions
        do { options = try CapacityOptionTable.parse(arguments, command: command) } catch {
            return fail(error.description, code: ExitCode.usage)
        }
        let run = options.run
        let prefix = run.name ?? ReportFiles.defaultPrefix(unixS: wallClockSeconds())
        let stem = command == .sweep ? "sweep" : "find_max"
        let chatty = !run.quiet && !run.json
        var watch: SetupSignalWatch?
        if handlesSignals {
            // As for `run`: blocked before any other thread exists; the engine's signalfd takes them.
            do { watch = try SetupSignalWatch() } catch { return fail("\(error)", code: ExitCode.failed) }
            ignoreSIGPIPE()
            tightenTimerSlack()
        }
        if !run.noFiles {
            do { try ReportFiles.checkWritable(directory: run.outDirectory, prefix: prefix) } catch {
                watch?.stop()
                return fail("--out '\(run.outDirectory)' cannot hold the report files: \(error)", code: ExitCode.usage)
            }
        }
        let runner = SweepRunner(options: options)
        var watching = watch != nil
        runner.afterFirstSetup = {
            // The engine's signalfd takes SIGINT/SIGTERM from here on.
            if watching { watch?.stop() }
            watching = false
            if chatty {
                for note in runner.notes { writeStandardError("note: \(SecretMask.mask(note, secrets: secrets))\n") }
            }
        }
        var result: SweepResult
        do {
            defer { if watching { watch?.stop() } }
            result = try CapacitySearch.run(runner, handlesSignals: handlesSignals, progress: chatty) { step, number in
                guard chatty else { return }
                let verdict = step.interrupted ? "interrupted" : step.passed ? "pass" : "fail"
                let p95 = step.hold.latency.count > 0 ? Format.trimmed(step.hold.latency.p95, decimals: 1) + " ms" : "-"
                writeStandardError("step \(number): \(Format.rate(step.rate)) rps\(step.repeated ? " (repeat)" : ""): achieved \(Format.trimmed(step.hold.achievedRps, decimals: 2)), p95 \(p95), errors \(Format.trimmed(step.hold.errorRate * 100, decimals: 2)) % -> \(verdict)\n")
            }
        } catch let usage as UsageError {
            return fail(usage.description, code: ExitCode.usage)
        } catch {
            return fail("\(error)", code: ExitCode.failed)
        }
        var code = exitCode(result)
        var written: [String] = []
        if !run.noFiles {
            let base = (run.outDirectory.hasSuffix("/") ? run.outDirectory : run.outDirectory + "/") + prefix + "_" + stem
            do {
                try ReportFiles.writeFile(base + ".csv", SecretMask.mask(SweepReport.csv(result), secrets: secrets))
                try ReportFiles.writeFile(base + ".json", SecretMask.mask(SweepReport.json(result), secrets: secrets))
                let title = "Metronome \(command == .sweep ? "sweep" : "find-max"): \(result.target)"
                try ReportFiles.writeFile(base + ".html", SecretMask.mask(SweepHTML.render(result, title: title), secrets: secrets))
                written = [base + ".csv", base + ".json", base + ".html"]
            } catch {
                result.warnings.append("report files could not be written: \(error)")
                if code == ExitCode.completed || code == ExitCode.sloFailed { code = ExitCode.failed }
            }
        }
        if run.json {
            writeStandardOutput(SecretMask.mask(SweepReport.json(result), secrets: secrets))
        } else {
            writeStandardOutput(SecretMask.mask(SweepReport.text(result), secrets: secrets))
            if !written.isEmpty { writeStandardOutput("\nFiles: \(written.joined(separator: ", "))\n") }
        }
        if let reason = result.abortReason { _ = fail(reason, code: code) }
        return code
    }
}
