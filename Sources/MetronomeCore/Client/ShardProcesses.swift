// `run --processes N`: N shard processes of this command, one a core, merged into one run at the end.
import CLinux
import Glibc

/// Starts `metronome run … --shard i/N --start-at T` N times, pins each to one allowed CPU, shows
/// one progress line, forwards SIGINT/SIGTERM, and merges the shards' summaries into the files and
/// summary a single run would have written. The shards' own files stay in `<out>/<prefix>_shards/`.
public struct ShardProcesses {
    let options: RunOptions
    /// The command line after `run`, as the user gave it.
    let arguments: [String]
    let prefix: String
    /// Setup (model discovery, dataset) happens before the common start; this much is allowed for it.
    static let setupAllowanceS = 2.0

    public init(options: RunOptions, arguments: [String], prefix: String) {
        self.options = options
        self.arguments = arguments
        self.prefix = prefix
    }

    /// Where the shards write: beside the run's files, or a scratch folder removed at the end.
    var shardDirectory: String {
        options.noFiles ? "/tmp/metronome-shards-\(getpid())" : joinPath(options.outDirectory, prefix + "_shards")
    }

    /// The child's arguments: the user's, without the options the parent sets for each shard.
    func childArguments(index: Int, count: Int, startAt: Double) -> [String] {
        let replaced: Set<String> = ["processes", "out", "name", "json", "quiet", "no-files", "start-at"]
        var kept: [String] = []
        var position = 0
        while position < arguments.count {
            let argument = arguments[position]
            position += 1
            guard argument.hasPrefix("--") else { kept.append(argument); continue }
            let name = String(argument.dropFirst(2).prefix { $0 != "=" })
            let takesValue = !argument.contains("=") && OptionTable.run.first { $0.name == name }?.value != nil
            if replaced.contains(name) {
                if takesValue { position += 1 }
                continue
            }
            kept.append(argument)
            if takesValue && position < arguments.count {
                kept.append(arguments[position])
                position += 1
            }
        }
        return ["run"] + kept + ["--processes", "1", "--shard", "\(index)/\(count)", "--start-at", Format.fixed(startAt, decimals: 6),
                                 "--out", shardDirectory, "--name", "shard-\(index)", "--quiet"]
    }

    /// Runs the shards and returns the exit code of the whole.
    public func run() -> Int32 {
        let count = options.processes ?? 1
        let startAt = options.startAtUnixS ?? (wallClockSeconds() + Self.setupAllowanceS)
        do {
            try ReportFiles.makeDirectories(shardDirectory)
        } catch {
            writeStandardError("error: \(shardDirectory) cannot hold the shards' files: \(error)\n")
            return ExitCode.usage
        }
        var blocked = sigset_t()
        sigemptyset(&blocked)
        for signal in [SIGINT, SIGTERM, SIGCHLD] { sigaddset(&blocked, signal) }
        var previousMask = sigset_t()
        pthread_sigmask(SIG_BLOCK, &blocked, &previousMask)
        let cpus = Self.allowedCPUs()
        var children: [pid_t] = []
        for index in 0..<count {
            let arguments = childArguments(index: index, count: count, startAt: startAt)
            guard let pid = Self.spawn(arguments, stdoutPath: joinPath(shardDirectory, "shard-\(index).out"), signalMask: previousMask) else {
                writeStandardError("error: could not start shard \(index)/\(count): \(errnoDescription(clinux_errno()))\n")
                for child in children { kill(child, SIGTERM) }
                _ = Self.waitAll(children, blocked: blocked, progress: nil)
                return ExitCode.failed
            }
            if !cpus.isEmpty { Self.pin(pid, toCPU: cpus[index % cpus.count]) }
            children.append(pid)
        }
        let quiet = options.quiet || options.json
        if !quiet {
            writeStandardError("metronome: \(count) shard processes\(cpus.count >= count ? ", one a core" : "") (\(shardDirectory)/shard-*), starting at \(Format.fixed(startAt, decimals: 3))\n")
        }
        let plannedS = Double((try? options.ratePlan().totalDurationNs) ?? 0) / 1e9
        let progress: ((Int) -> Void)? = quiet ? nil : { running in
            let elapsed = wallClockSeconds() - startAt
            let when = elapsed < 0 ? "setting up, the plan starts in \(Format.fixed(-elapsed, decimals: 0)) s"
                : "\(Format.fixed(min(elapsed, plannedS), decimals: 0)) s of \(Format.fixed(plannedS, decimals: 0)) s"
            writeStandardError("\r\u{1B}[K[\(running)/\(count) shards running] \(when)")
        }
        let (codes, interrupted) = Self.waitAll(children, blocked: blocked, progress: progress)
        if !quiet { writeStandardError("\r\u{1B}[K") }
        pthread_sigmask(SIG_SETMASK, &previousMask, nil)
        return finish(codes: codes, interrupted: interrupted, count: count)
    }

    /// Merges what the shards wrote; a shard that could not run decides the exit code.
    func finish(codes: [Int32], interrupted: Bool, count: Int) -> Int32 {
        var inputs: [(file: String, summary: RunSummary)] = []
        for index in 0..<count {
            let path = joinPath(shardDirectory, "shard-\(index)_summary.json")
            guard let bytes = try? readFile(path), let summary = try? RunSummary(summaryJSON: bytes) else {
                let code = codes[index]
                writeStandardError("error: shard \(index)/\(count) wrote no summary (exit \(code)); its output: \(joinPath(shardDirectory, "shard-\(index).out"))\n")
                return code == ExitCode.completed ? ExitCode.failed : code
            }
            inputs.append((path, summary))
        }
        var merged: RunSummary
        do {
            merged = try SummaryMerge.merge(inputs)
        } catch {
            writeStandardError("error: \(error)\n")
            return ExitCode.failed
        }
        merged.config.append(("processes", String(count)))
        var fileErrors: [String] = []
        var written: [String] = []
        if !options.noFiles {
            do {
                written = try ReportFiles.write(merged, latency: merged.rawTotal?.latency, serviceTime: merged.rawTotal?.serviceTime,
                                                directory: options.outDirectory, prefix: prefix,
                                                html: HTMLReport.render(merged, title: "Metronome: \(merged.target)"))
            } catch {
                fileErrors.append("report files could not be written: \(error)")
            }
        } else {
            Self.removeDirectory(shardDirectory)
        }
        if options.json {
            writeStandardOutput(JSONReport.render(merged))
        } else {
            writeStandardOutput(TextReport.render(merged, planDescription: merged.planDescription))
            if let html = written.first(where: { $0.hasSuffix("_report.html") }) {
                writeStandardOutput("\nReports: \(options.outDirectory)/\(prefix)_* (\(written.count) files; open \(html)); each shard's in \(shardDirectory)\n")
            }
        }
        let verdict = RunVerdict.judge(merged, interrupted: interrupted, fileErrors: fileErrors)
        for reason in verdict.reasons { writeStandardError("error: \(reason) (exit \(verdict.code))\n") }
        return verdict.code
    }

    // MARK: Processes

    /// posix_spawn of this executable with `arguments`, stdout to `stdoutPath`, stderr shared.
    static func spawn(_ arguments: [String], stdoutPath: String, signalMask: sigset_t) -> pid_t? {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, stdoutPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // The child starts with the signals as the user's process had them, not blocked as here.
        var mask = signalMask
        posix_spawnattr_setsigmask(&attributes, &mask)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK))
        let executable = "/proc/self/exe"
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
        guard result == 0 else {
            clinux_set_errno(result)
            return nil
        }
        return pid
    }

    /// Waits for every child; SIGINT/SIGTERM to this process goes on to them (each drains and writes
    /// its summary, as a run does). Returns each child's exit code (128 + signal when killed).
    static func waitAll(_ children: [pid_t], blocked: sigset_t, progress: ((Int) -> Void)?) -> (codes: [Int32], interrupted: Bool) {
        var codes = [Int32](repeating: ExitCode.failed, count: children.count)
        var running = Set(children.indices)
        var interrupted = false
        var set = blocked
        var nextProgress = 0.0
        while !running.isEmpty {
            for index in running {
                var status: Int32 = 0
                guard waitpid(children[index], &status, WNOHANG) == children[index] else { continue }
                let signalled = status & 0x7f
                codes[index] = signalled == 0 ? (status >> 8) & 0xff : 128 + signalled
                running.remove(index)
            }
            if running.isEmpty { break }
            if let progress, wallClockSeconds() >= nextProgress {
                progress(running.count)
                nextProgress = wallClockSeconds() + 1
            }
            var timeout = timespec(tv_sec: 0, tv_nsec: 250_000_000)
            let signal = sigtimedwait(&set, nil, &timeout)
            if signal == SIGINT || signal == SIGTERM {
                interrupted = true
                for index in running { kill(children[index], signal) }
            }
        }
        return (codes, interrupted)
    }

    /// The CPUs this process may run on, in order (empty when the kernel does not say).
    static func allowedCPUs() -> [Int] {
        var mask = [UInt64](repeating: 0, count: 16)
        guard clinux_get_affinity(0, &mask, Int32(mask.count)) == 0 else { return [] }
        return (0..<(mask.count * 64)).filter { mask[$0 / 64] & (1 << UInt64($0 % 64)) != 0 }
    }

    /// Best effort: a container may forbid it, and the shard then runs where the scheduler puts it.
    static func pin(_ pid: pid_t, toCPU cpu: Int) {
        var mask = [UInt64](repeating: 0, count: 16)
        mask[cpu / 64] |= 1 << UInt64(cpu % 64)
        _ = clinux_set_affinity(pid, &mask, Int32(mask.count))
    }

    static func removeDirectory(_ path: String) {
        guard let directory = opendir(path) else { return }
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." { unlink(joinPath(path, name)) }
        }
        closedir(directory)
        rmdir(path)
    }
}

func joinPath(_ directory: String, _ name: String) -> String {
    directory.isEmpty ? name : directory.hasSuffix("/") ? directory + name : directory + "/" + name
}
