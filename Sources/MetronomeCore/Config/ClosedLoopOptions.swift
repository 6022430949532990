// `--concurrency N` (a closed loop, for comparison only): its checks, its plan, and the open-loop command to try next.

extension RunOptions {
    /// Options that shape an open-loop schedule: a closed loop's workers make the arrivals instead.
    static let openLoopOnly = ["rate", "ramp", "stage", "start-rate", "arrival", "burstiness"]
    /// Options that only mean something with `--concurrency`.
    static let closedLoopOnly = ["spawn-rate", "think-time"]
    /// Longest `--think-time`: past an hour a worker is no longer a user.
    static let maxThinkTimeNs: UInt64 = 3_600_000_000_000

    public var isClosedLoop: Bool { concurrency != nil }

    /// Refuses mixes of the two modes, by the option names the command line (and `--config`) gave.
    static func checkClosedLoop(_ options: RunOptions, given names: [String]) throws(UsageError) {
        guard let workers = options.concurrency else {
            if let name = closedLoopOnly.first(where: names.contains) {
                throw UsageError("--\(name)", "only applies with --concurrency N (a closed loop)")
            }
            return
        }
        if let name = openLoopOnly.first(where: names.contains) {
            throw UsageError("--\(name)", "cannot be combined with --concurrency: a closed loop's workers set the rate (use one or the other)")
        }
        guard options.durationNs != nil else {
            throw UsageError("--duration", "is required with --concurrency (how long the workers run, counted from the start, spawning included)")
        }
        guard workers <= options.maxConnections else {
            throw UsageError("--concurrency", "\(workers) exceeds --max-connections \(options.maxConnections): each worker needs its own connection")
        }
    }

    /// The plan of a closed loop: its profile counts workers, not requests/s. A `spawn` stage while
    /// the workers start (worker k at k / --spawn-rate), then a `hold` with all of them, which SLOs judge.
    func closedLoopPlan(workers: Int) throws(UsageError) -> RatePlan {
        guard let durationNs, durationNs > 0 else {
            throw UsageError("--duration", "is required with --concurrency (how long the workers run, counted from the start, spawning included)")
        }
        var targets: [(durationNs: UInt64, targetRatePerSec: Double, name: String)] = []
        var first = Double(workers)
        if let spawnRate, workers > 1 {
            // The last worker starts at (N − 1) / R; from then on all N run.
            let spawnNs = UInt64((Double(workers - 1) / spawnRate * 1e9).rounded())
            first = 1
            if spawnNs >= durationNs {
                targets.append((durationNs, min(Double(workers), 1 + (Double(durationNs) / 1e9 * spawnRate).rounded(.down)), "spawn"))
            } else if spawnNs > 0 {
                targets.append((spawnNs, Double(workers), "spawn"))
                targets.append((durationNs - spawnNs, Double(workers), "hold"))
            }
        }
        if targets.isEmpty {
            first = Double(workers)
            targets.append((durationNs, Double(workers), "hold"))
        }
        do {
            return try RatePlan(startRatePerSec: first, targets: targets)
        } catch {
            throw UsageError("--concurrency", "\(error)")
        }
    }

    /// The workers' arrivals for the engine; nil for an open-loop run.
    func closedLoopArrivals(plan: RatePlan) -> ClosedLoopArrivals? {
        concurrency.map { ClosedLoopArrivals(workers: $0, spawnRatePerSec: spawnRate, thinkNs: thinkTimeNs ?? 0, endNs: plan.totalDurationNs) }
    }

    /// The same command as an open-loop run: `--rate R --duration D` in place of the closed loop's
    /// options, every other option as given (an `--api-key` value and secret headers as ***).
    public func openLoopCommand(ratePerSec: Double) -> String {
        var words = ["metronome", "run"]
        var index = 0
        let dropped = ["concurrency", "duration"] + RunOptions.closedLoopOnly
        while index < commandArguments.count {
            let argument = commandArguments[index]
            index += 1
            guard argument.hasPrefix("--") else { words.append(argument); continue }
            var name = String(argument.dropFirst(2))
            var inline: String?
            if let equals = name.firstIndex(of: "=") {
                inline = String(name[name.index(after: equals)...])
                name = String(name[..<equals])
            }
            let takesValue = OptionTable.run.first { $0.name == name }?.value != nil
            var value = inline
            if takesValue && inline == nil && index < commandArguments.count {
                value = commandArguments[index]
                index += 1
            }
            if dropped.contains(name) { continue }
            if name == "api-key" { value = SecretMask.replacement }
            if name == "header", let text = value, let colon = text.firstIndex(of: ":"), SecretMask.isSecretHeader(String(text[..<colon]).trimmingSpaces()) {
                value = SecretMask.maskedHeaderText(text)
            }
            words.append("--" + name)
            if takesValue, let value { words.append(value) }
        }
        words += ["--rate", Format.rate(ratePerSec), "--duration", Units.formatDuration(durationNs ?? 0)]
        return words.map(Self.shellQuoted).joined(separator: " ")
    }

    /// A word as a POSIX shell reads it back: bare when it is plain, else in single quotes.
    static func shellQuoted(_ word: String) -> String {
        let plain = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=,@%+"
        if !word.isEmpty && word.allSatisfy({ plain.contains($0) }) { return word }
        return "'" + word.replacingAll("'", with: "'\\''") + "'"
    }
}

extension String {
    fileprivate func replacingAll(_ target: Character, with replacement: String) -> String {
        var out = ""
        for character in self { if character == target { out += replacement } else { out.append(character) } }
        return out
    }
}
