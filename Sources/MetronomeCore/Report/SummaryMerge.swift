// `metronome merge`: several runs' summaries as one run: counters and histograms added, series aligned.

/// Summaries that cannot be added up; `description` is the one line the CLI prints.
public struct MergeError: Error, CustomStringConvertible, Sendable {
    public let description: String
}

public enum SummaryMerge {
    /// Adds runs of one plan: the shards of a `--shard I/N` run, or independent runs of the same
    /// stages (several machines, each its own rate). Counts and histograms add exactly, so every
    /// percentile of the result is that of all the requests pooled, within the histograms'
    /// precision; the stages and verdicts are then worked out as for a run. Per-second series are
    /// aligned on the wall clock: their counts add, their percentiles (kept per run only as
    /// figures) are the count-weighted mean of the runs' (exact only for the whole-run figures).
    public static func merge(_ inputs: [(file: String, summary: RunSummary)]) throws(MergeError) -> RunSummary {
        guard let first = inputs.first?.summary else { throw MergeError(description: "merge needs at least one summary") }
        for (file, summary) in inputs {
            guard summary.rawTotal != nil, summary.rawStages.count == summary.stages.count else {
                throw MergeError(description: "\(file) has no raw_stats: merge needs a PREFIX_summary.json written by metronome run (not --json output, nor a file from before this version)")
            }
            guard summary.closedLoop == nil else {
                throw MergeError(description: "\(file) is a closed-loop run (--concurrency): merge adds open-loop runs, whose latency counts from the schedule")
            }
            guard summary.workload == first.workload else {
                throw MergeError(description: "\(file) ran workload \(summary.workload), \(inputs[0].file) ran \(first.workload): merge adds runs of one workload")
            }
        }
        try checkSameStages(inputs)
        let shards = try shardsOfOnePlan(inputs)
        let plan = try mergedPlan(inputs, shards: shards)
        let stats = RunStats(stageCount: plan.stages.count, expectedSeconds: 1)
        for (_, summary) in inputs {
            for (index, stage) in summary.rawStages.enumerated() { stats.stages[index].merge(stage) }
            stats.total.merge(summary.rawTotal!)
            for (status, count) in summary.statusCounts where status >= 0 && status < RunStats.statusCodeCount {
                stats.statusCounts.add(status, count)
            }
        }
        for counter in LiveCounter.allCases {
            guard counter.summaryKey != nil else { continue }
            let values = inputs.map { $0.summary.connectionCounter(counter) }
            // An errno and a horizon are not amounts: the largest says what happened anywhere.
            let combined = counter == .generatorLimitErrno || counter == .sendHorizonUs ? values.max() ?? 0 : values.reduce(0, +)
            stats.live.set(counter.rawValue, combined)
        }
        let zero = inputs.map(\.summary.startedAtUnixS).min() ?? 0
        var result = EngineResult(startNs: 0, planElapsedNs: seconds(inputs.map(\.summary.ranS).max() ?? 0),
                                  totalElapsedNs: seconds(inputs.map(\.summary.elapsedS).max() ?? 0),
                                  interruptedBySignal: inputs.contains { $0.summary.interrupted } ? 2 : nil,
                                  loopCPUSeconds: inputs.reduce(0) { $0 + $1.summary.loopCPUSeconds }, startedAtUnixS: zero)
        result.loopInvoluntarySwitches = inputs.reduce(0) { $0 + $1.summary.loopInvoluntarySwitches }
        result.hostLoad = first.hostLoad
        let addresses = distinct(inputs.map(\.summary.address))
        var merged = RunSummary(target: first.target, address: addresses.joined(separator: ", "), workload: first.workload,
                                arrival: first.arrival, seed: first.seed, maxConnections: inputs.reduce(0) { $0 + $1.summary.maxConnections },
                                plan: plan, stats: stats, result: result)
        merged.series = mergedSeries(inputs, zero: zero)
        (merged.failures, merged.errorMessages) = mergedFailures(inputs, zero: zero)
        merged.config = first.config.filter { !["shard", "start_at", "processes", "seed"].contains($0.key) }
        merged.config.append(("merged_runs", String(inputs.count)))
        merged.config.append(("seed", distinct(inputs.map { String($0.summary.seed) }).joined(separator: ",")))
        // How TLS was spoken, when every run spoke it alike; handshake and connect times are not kept
        // in raw_stats, so a merge has none.
        if inputs.allSatisfy({ $0.summary.tlsVerify == first.tlsVerify }) { merged.tlsVerify = first.tlsVerify }
        if inputs.allSatisfy({ $0.summary.tlsVersion == first.tlsVersion }) { merged.tlsVersion = first.tlsVersion }
        merged.tags = first.tags.filter { tag in inputs.allSatisfy { $0.summary.tags.contains { $0 == tag } } }
        merged.secrets = first.secrets
        merged.environment = first.environment.map { environment in
            var combined = environment
            combined.hostName = distinct(inputs.compactMap { $0.summary.environment?.hostName }).joined(separator: ",")
            combined.cores = inputs.reduce(0) { $0 + ($1.summary.environment?.cores ?? 0) }
            return combined
        }
        merged.isLLM = first.isLLM
        merged.stream = first.stream
        merged.maxTokens = first.maxTokens
        merged.maxTokensMean = first.maxTokensMean
        merged.uniquePrompts = first.uniquePrompts
        merged.distinctPrompts = first.distinctPrompts
        merged.promptCalibration = pooledCalibration(inputs, total: stats.total)
        let startsAt = distinct(inputs.map { $0.summary.startAtUnixS.map { Format.trimmed($0, decimals: 6) } ?? "" })
        if startsAt.count == 1, let startAt = first.startAtUnixS { merged.startAtUnixS = startAt }
        merged.mergedFrom = inputs.map { file, summary in
            MergeSource(file: file, shard: summary.shard.description, seed: summary.seed, hostName: summary.environment?.hostName ?? "",
                        startedAtUnixS: summary.startedAtUnixS, scheduled: summary.total.scheduled, succeeded: summary.total.succeeded)
        }
        merged.warnings += mergeWarnings(inputs, shards: shards)
        try judgeSLO(&merged, inputs: inputs, stats: stats, plan: plan)
        return merged
    }

    // MARK: The plan

    /// Every run must have the same stages (names and lengths): their requests are then counted
    /// in the same stage whichever run sent them.
    static func checkSameStages(_ inputs: [(file: String, summary: RunSummary)]) throws(MergeError) {
        let first = inputs[0]
        for (file, summary) in inputs.dropFirst() {
            let same = summary.stages.count == first.summary.stages.count
                && zip(summary.stages, first.summary.stages).allSatisfy { a, b in
                    a.name == b.name && abs((a.endS - a.startS) - (b.endS - b.startS)) < 0.001
                }
            guard same else {
                throw MergeError(description: "\(file) ran stages \(describe(summary)), \(first.file) ran \(describe(first.summary)): merge adds runs of the same stages")
            }
        }
    }

    static func describe(_ summary: RunSummary) -> String {
        "[" + summary.stages.map { "\($0.name) \(Format.trimmed($0.endS - $0.startS, decimals: 3))s" }.joined(separator: ", ") + "]"
    }

    /// True when the inputs are distinct shards of one seeded schedule (same N, seed and arrival
    /// process): their plan's rates are the whole's already. A shard given twice is refused.
    static func shardsOfOnePlan(_ inputs: [(file: String, summary: RunSummary)]) throws(MergeError) -> Bool {
        let first = inputs[0].summary
        guard !first.shard.isWhole,
              inputs.allSatisfy({ $0.summary.shard.count == first.shard.count && $0.summary.seed == first.seed && $0.summary.arrival == first.arrival })
        else { return false }
        var seen: [Int: String] = [:]
        for (file, summary) in inputs {
            if let other = seen[summary.shard.index] {
                throw MergeError(description: "shard \(summary.shard) is given twice (\(other) and \(file)): each shard's requests would count twice")
            }
            seen[summary.shard.index] = file
        }
        return true
    }

    /// The shards' plan (each ran the whole plan's rates, sending its share), or the sum of the
    /// runs' rates stage by stage.
    static func mergedPlan(_ inputs: [(file: String, summary: RunSummary)], shards: Bool) throws(MergeError) -> RatePlan {
        let first = inputs[0].summary
        func rate(_ value: (PhaseSummary) -> Double, stage index: Int) -> Double {
            shards ? value(first.stages[index]) : inputs.reduce(0) { $0 + value($1.summary.stages[index]) }
        }
        var targets: [(durationNs: UInt64, targetRatePerSec: Double, name: String)] = []
        var previous = rate(\.startRate, stage: 0)
        for index in first.stages.indices {
            let start = rate(\.startRate, stage: index)
            // The stage started away from where the last one ended: a jump, as --stage 0s:R gives.
            if abs(start - previous) > 1e-9 { targets.append((0, start, "jump")) }
            let end = rate(\.endRate, stage: index)
            let stage = first.stages[index]
            targets.append((seconds(stage.endS - stage.startS), end, stage.name))
            previous = end
        }
        do {
            return try RatePlan(startRatePerSec: rate(\.startRate, stage: 0), targets: targets)
        } catch {
            throw MergeError(description: "the runs' stages make no plan: \(error)")
        }
    }

    // MARK: Series and failures

    /// Second k of a run that started `offset` whole seconds after the earliest is second k + offset
    /// of the merge. Runs started together (`--start-at`) differ by milliseconds and share seconds.
    static func mergedSeries(_ inputs: [(file: String, summary: RunSummary)], zero: Double) -> [SecondSample] {
        var merged: [SecondSample] = []
        var weights: [(latency: Double, itl: Double)] = []
        for (_, summary) in inputs {
            let offset = Int((summary.startedAtUnixS - zero).rounded())
            for (index, sample) in summary.series.enumerated() {
                let at = index + offset
                while merged.count <= at {
                    let endS = Double(merged.count + 1)
                    merged.append(SecondSample(endS: endS, wallClockS: zero + endS))
                    weights.append((0, 0))
                }
                add(sample, into: &merged[at], weights: &weights[at])
            }
        }
        return merged
    }

    /// Counts add; percentiles are averaged, weighted by what they were taken over (successes, or
    /// output tokens for the gaps); the run-so-far figures likewise.
    static func add(_ sample: SecondSample, into merged: inout SecondSample, weights: inout (latency: Double, itl: Double)) {
        let latencyWeight = Double(sample.succeeded)
        let itlWeight = Double(sample.outputTokens)
        func mean(_ old: Double, _ new: Double, _ oldWeight: Double, _ newWeight: Double) -> Double {
            oldWeight + newWeight > 0 ? (old * oldWeight + new * newWeight) / (oldWeight + newWeight) : 0
        }
        merged.p50Ms = mean(merged.p50Ms, sample.p50Ms, weights.latency, latencyWeight)
        merged.p95Ms = mean(merged.p95Ms, sample.p95Ms, weights.latency, latencyWeight)
        merged.p99Ms = mean(merged.p99Ms, sample.p99Ms, weights.latency, latencyWeight)
        merged.ttftP50Ms = mean(merged.ttftP50Ms, sample.ttftP50Ms, weights.latency, latencyWeight)
        merged.ttftP95Ms = mean(merged.ttftP95Ms, sample.ttftP95Ms, weights.latency, latencyWeight)
        merged.itlP50Ms = mean(merged.itlP50Ms, sample.itlP50Ms, weights.itl, itlWeight)
        merged.itlP95Ms = mean(merged.itlP95Ms, sample.itlP95Ms, weights.itl, itlWeight)
        let cumulativeOld = Double(merged.cumulativeSucceeded)
        let cumulativeNew = Double(sample.cumulativeSucceeded)
        if merged.cumulative.isEmpty {
            merged.cumulative = sample.cumulative
        } else if merged.cumulative.count == sample.cumulative.count {
            merged.cumulative = zip(merged.cumulative, sample.cumulative).map { mean($0, $1, cumulativeOld, cumulativeNew) }
        }
        merged.cumulativeMeanMs = mean(merged.cumulativeMeanMs, sample.cumulativeMeanMs, cumulativeOld, cumulativeNew)
        merged.cumulativeMeanBytes = mean(merged.cumulativeMeanBytes, sample.cumulativeMeanBytes, cumulativeOld, cumulativeNew)
        merged.cumulativeMinMs = cumulativeOld == 0 ? sample.cumulativeMinMs : cumulativeNew == 0 ? merged.cumulativeMinMs : min(merged.cumulativeMinMs, sample.cumulativeMinMs)
        merged.cumulativeMaxMs = max(merged.cumulativeMaxMs, sample.cumulativeMaxMs)
        weights.latency += latencyWeight
        weights.itl += itlWeight
        merged.scheduled += sample.scheduled
        merged.succeeded += sample.succeeded
        merged.failed += sample.failed
        merged.outputTokens += sample.outputTokens
        merged.inFlight += sample.inFlight
        merged.queued += sample.queued
        merged.succeededByIntended += sample.succeededByIntended
        merged.cumulativeSucceeded += sample.cumulativeSucceeded
        merged.cumulativeFailed += sample.cumulativeFailed
    }

    /// Failures of one kind and status add up; first and last seen are moved to the merge's zero.
    static func mergedFailures(_ inputs: [(file: String, summary: RunSummary)], zero: Double)
        -> ([FailureLog.Entry], [(kind: String, status: Int, message: String, count: UInt64)]) {
        var entries: [FailureLog.Entry] = []
        var messages: [(kind: String, status: Int, message: String, count: UInt64)] = []
        for (_, summary) in inputs {
            let shiftNs = UInt64(max(0, (summary.startedAtUnixS - zero) * 1e9).rounded())
            for var entry in summary.failures {
                entry.firstSeenNs &+= shiftNs
                entry.lastSeenNs &+= shiftNs
                if let index = entries.firstIndex(where: { $0.kind == entry.kind && $0.status == entry.status }) {
                    entries[index].count += entry.count
                    entries[index].firstSeenNs = min(entries[index].firstSeenNs, entry.firstSeenNs)
                    entries[index].lastSeenNs = max(entries[index].lastSeenNs, entry.lastSeenNs)
                } else {
                    entries.append(entry)
                }
            }
            for message in summary.errorMessages {
                if let index = messages.firstIndex(where: { $0.kind == message.kind && $0.status == message.status && $0.message == message.message }) {
                    messages[index].count += message.count
                } else {
                    messages.append(message)
                }
            }
        }
        return (entries, messages)
    }

    // MARK: Verdicts and notes

    /// The runs' own `--slo`, judged again on the merged stats (the runs' verdicts are each on a share).
    static func judgeSLO(_ merged: inout RunSummary, inputs: [(file: String, summary: RunSummary)], stats: RunStats, plan: RatePlan) throws(MergeError) {
        let texts = distinct(inputs.map { $0.summary.config.first { $0.key == "slo" }?.value ?? "" })
        guard let text = texts.first, !text.isEmpty else { return }
        if texts.count > 1 { merged.warnings.append("the runs had different --slo (\(texts.joined(separator: " | "))): judged on the first") }
        let checks: [SLOCheck]
        do { checks = try SLOParser.parse(text) } catch { throw MergeError(description: "the runs' --slo '\(text)' no longer parses: \(error)") }
        let scope = inputs[0].summary.config.first { $0.key == "slo_scope" }?.value ?? "hold"
        let verdict = SLOJudge.judge(checks, scope: scope, stats: stats, plan: plan, ranS: merged.ranS, goodput: !GoodputLimits(checks).isEmpty)
        merged.setSLO(verdict)
    }

    /// Requested prompt lengths pooled from each run's mean and SD (exact for the pooled mean and
    /// variance), the server's from the merged counters.
    static func pooledCalibration(_ inputs: [(file: String, summary: RunSummary)], total: StageStats) -> PromptCalibration? {
        let parts = inputs.compactMap { input in input.summary.promptCalibration.map { ($0, Double(input.summary.total.scheduled)) } }
        guard let first = parts.first?.0 else { return nil }
        let n = parts.reduce(0) { $0 + $1.1 }
        guard n > 0 else { return first }
        let mean = parts.reduce(0) { $0 + $1.0.requestedMean * $1.1 } / n
        let squares = parts.reduce(0) { $0 + ($1.0.requestedSD * $1.0.requestedSD + $1.0.requestedMean * $1.0.requestedMean) * $1.1 } / n
        var pooled = PromptCalibration(requestedMean: mean, requestedSD: max(0, squares - mean * mean).squareRoot(),
                                       actualMean: nil, actualSD: nil, exact: first.exact)
        let reported = Double(total[.promptCountedRequests])
        if reported > 0 {
            (pooled.actualMean, pooled.actualSD) = PromptCalibration.meanAndSD(sum: Double(total[.promptTokensSum]),
                                                                               squares: Double(total[.promptTokensSquaresSum]), count: reported)
        }
        return pooled
    }

    /// What the merge itself found, and each run's own warnings, labelled with the run.
    static func mergeWarnings(_ inputs: [(file: String, summary: RunSummary)], shards: Bool) -> [String] {
        var warnings: [String] = []
        let first = inputs[0].summary
        if shards && inputs.count < first.shard.count {
            let missing = (0..<first.shard.count).filter { index in !inputs.contains { $0.summary.shard.index == index } }
            warnings.append("merged \(inputs.count) of \(first.shard.count) shards (missing \(missing.map { "\($0)/\(first.shard.count)" }.joined(separator: ", "))): the rates are the whole plan's, the counts only these shards'")
        }
        let starts = inputs.map(\.summary.startedAtUnixS)
        if let earliest = starts.min(), let latest = starts.max(), latest - earliest > 0.5 {
            warnings.append("the runs started \(Format.trimmed(latest - earliest, decimals: 3)) s apart: their seconds are aligned on the wall clock, their stages on their own starts (use --start-at for one zero)")
        }
        for (file, summary) in inputs {
            let label = summary.shard.isWhole ? file : "shard \(summary.shard)"
            for warning in summary.warnings { warnings.append("[\(label)] \(warning)") }
        }
        return warnings
    }

    static func distinct(_ values: [String]) -> [String] {
        var seen: [String] = []
        for value in values where !seen.contains(value) { seen.append(value) }
        return seen
    }

    static func seconds(_ value: Double) -> UInt64 { UInt64(max(0, value * 1e9).rounded()) }
}
