// Reads a PREFIX_summary.json back into a RunSummary, so `metronome report` can render a run again.

/// A summary file that is not JSON, or lacks a member a report needs.
public struct SummaryDecodeError: Error, CustomStringConvertible, Sendable {
    public let description: String
}

extension RunSummary {
    /// Decodes what `SummaryFile.render` wrote. The sections only the file carries (config, series,
    /// failures, SLO, distributions) may be missing, so a `--json` output also decodes; members of the
    /// `--json` object may not. Off the hot path: `JSONValue.parse` reads the whole file at once.
    public init(summaryJSON bytes: [UInt8]) throws {
        let parsed: JSONValue
        do {
            parsed = try JSONValue.parse(bytes)
        } catch {
            throw SummaryDecodeError(description: "not JSON: \(error)")
        }
        guard let members = parsed.objectValue else {
            throw SummaryDecodeError(description: "not a JSON object")
        }
        let root = JSONFields(members, path: "")
        var reader = SummaryReader(fields: root)
        try codeTarget(&reader)
        try codeSchedule(&reader)
        try codeDurations(&reader)
        try codeGenerator(&reader)
        // Files written before tags have none.
        if let tagObject = try root.optionalObject("tags") {
            tags = try tagObject.keys.map { key in (key, try tagObject.string(key)) }
        }
        stages = try root.objects("stages").map { stage in
            // A closed loop's stages count workers, under their own names.
            var phase = try PhaseSummary(decoding: stage, name: stage.string("name"), startS: stage.number("start_s"), endS: stage.number("end_s"),
                                         startRate: stage.optionalNumber("start_rate") ?? stage.number("start_workers"),
                                         endRate: stage.optionalNumber("end_rate") ?? stage.number("end_workers"))
            if let sloObject = try stage.optionalObject("slo") {
                phase.slo = StageSLO(checks: try sloObject.sloChecks(), goodputRps: try sloObject.optionalNumber("goodput_rps"))
            }
            return phase
        }
        total = try PhaseSummary(decoding: root, name: "total", startS: 0, endS: plannedDurationS,
                                 startRate: stages.first?.startRate ?? 0, endRate: stages.last?.endRate ?? 0)
        let opened = try root.unsigned("connections_opened")
        let staleRetries = try root.unsigned("stale_connection_retries")
        let statuses = try root.object("status_codes")
        statusCounts = try statuses.keys.map { key -> (status: Int, count: UInt64) in
            guard let status = Int(key) else { throw statuses.fail(key, "not a status code") }
            return (status, try statuses.unsigned(key))
        }.sorted { $0.status < $1.status }
        // Files written before the section: the two counters they had at the top level.
        if let section = try root.optionalObject("connections") {
            let known = LiveCounter.allCases.compactMap(\.summaryKey)
            let keys = known.filter(section.has) + section.keys.filter { !known.contains($0) }.sorted()
            connectionCounters = try keys.map { ($0, try section.unsigned($0)) }
        } else {
            connectionCounters = [(LiveCounter.connectionsOpened.summaryKey!, opened), (LiveCounter.staleConnectionRetries.summaryKey!, staleRetries)]
        }
        warnings = try root.array("warnings").map { item in
            guard let text = item.stringValue else { throw root.fail("warnings", "not a string") }
            return text
        }
        startedAtUnixS = try root.optionalNumber("started_at_unix_s") ?? 0
        series = try (root.optionalObjects("series") ?? []).map { item in
            var sample = SecondSample(endS: 0, wallClockS: 0)
            var reader = SummaryReader(fields: item)
            try sample.code(&reader)
            return sample
        }
        let failureSection = try root.optionalObject("failures")
        failures = try (failureSection?.objects("entries") ?? []).map { item in
            FailureLog.Entry(kind: try item.string("kind"), status: try item.integer("status"), count: try item.unsigned("count"),
                             firstSeenNs: try item.unsigned("first_seen_ns"), lastSeenNs: try item.unsigned("last_seen_ns"))
        }
        errorMessages = try (failureSection?.objects("messages") ?? []).map { item in
            (try item.string("kind"), try item.integer("status"), try item.string("message"), try item.unsigned("count"))
        }
        latencyDistribution = try root.distribution("latency_distribution")
        serviceDistribution = try root.distribution("service_distribution")
        ttftDistribution = try root.distribution("ttft_distribution")
        ttftSentDistribution = try root.distribution("ttft_sent_distribution")
        itlDistribution = try root.distribution("itl_distribution")
        if let configObject = try root.optionalObject("config") {
            config = try configObject.configEntries()
        }
        if let environmentObject = try root.optionalObject("environment") {
            environment = RunEnvironment(hostName: try environmentObject.string("host_name"), cores: try environmentObject.integer("cores"),
                                         kernel: try environmentObject.string("kernel"), clockSource: try environmentObject.string("clock_source"),
                                         metronomeVersion: try environmentObject.string("metronome_version"),
                                         startedAt: try environmentObject.string("started_at"))
        }
        if root.has("mode"), try root.string("mode") == ClosedLoopMode.modeName {
            closedLoop = try ClosedLoopMode(decoding: root.object("closed_loop"))
        }
        isLLM = try root.optionalBool("llm") ?? root.has("stream")
        if isLLM {
            stream = try root.bool("stream")
            maxTokens = try root.integer("max_tokens")
            maxTokensMean = try root.optionalNumber("max_tokens_mean")
            uniquePrompts = try root.string("prompt_mode") == "unique"
            distinctPrompts = Int(try root.optionalNumber("distinct_prompts") ?? 1)
            promptCalibration = try PromptCalibration(decoding: root)
        }
        if let sloObject = try root.optionalObject("slo") {
            sloScope = try sloObject.string("scope")
            goodputRps = try sloObject.optionalNumber("goodput_rps")
            sloChecks = try sloObject.sloChecks()
        }
        if root.has("shard") {
            do { shard = try Shard(parsing: try root.string("shard")) } catch { throw root.fail("shard", "\(error)") }
        }
        startAtUnixS = try root.optionalNumber("start_at_unix_s")
        mergedFrom = try (root.optionalObjects("merged_from") ?? []).map { item in
            MergeSource(file: try item.string("file"), shard: try item.string("shard"), seed: try item.unsigned("seed"),
                        hostName: try item.string("host_name"), startedAtUnixS: try item.number("started_at_unix_s"),
                        scheduled: try item.unsigned("scheduled"), succeeded: try item.unsigned("succeeded"))
        }
        if let raw = try SummaryRawStats.read(root) {
            guard raw.stages.count == stages.count else {
                throw root.fail("raw_stats.stages", "\(raw.stages.count) stages, but the plan has \(stages.count)")
            }
            rawTotal = raw.total
            rawStages = raw.stages
        }
    }

    /// `ramp 2 → 20 rps over 10s, hold 20 rps for 20s`: `TextReport.describe` of the plan, from the stages.
    public var planDescription: String {
        stages.map { stage in
            StageText.describe(name: stage.name, start: stage.startRate, end: stage.endRate,
                               durationNs: UInt64(max(0, ((stage.endS - stage.startS) * 1e9).rounded())), closedLoop: closedLoop != nil)
        }.joined(separator: ", ")
    }
}

extension PhaseSummary {
    init(decoding phase: JSONFields, name: String, startS: Double, endS: Double, startRate: Double, endRate: Double) throws {
        self.init(name: name, startS: startS, endS: endS, startRate: startRate, endRate: endRate)
        var reader = SummaryReader(fields: phase)
        try code(&reader, llm: phase.has("ttft_ms"))
    }
}
