// Reads a PREFIX_summary.json back into a RunSummary, so `metronome report` can render a run again.
import Foundation

/// A summary file that is not JSON, or lacks a member a report needs.
public struct SummaryDecodeError: Error, CustomStringConvertible, Sendable {
    public let description: String
}

extension RunSummary {
    /// Decodes what `SummaryFile.render` wrote. The sections only the file carries (config, series,
    /// failures, SLO, distributions) may be missing, so a `--json` output also decodes; members of the
    /// `--json` object may not. Off the hot path: Foundation's JSONSerialization does the parsing.
    public init(summaryJSON bytes: [UInt8]) throws {
        let parsed: Any
        do {
            parsed = try JSONSerialization.jsonObject(with: Data(bytes))
        } catch {
            throw SummaryDecodeError(description: "not JSON: \(error.localizedDescription)")
        }
        guard let dictionary = parsed as? [String: Any] else {
            throw SummaryDecodeError(description: "not a JSON object")
        }
        let root = JSONFields(dictionary, path: "")
        var reader = SummaryReader(fields: root)
        try codeTarget(&reader)
        try codeSchedule(&reader)
        try codeDurations(&reader)
        try codeGenerator(&reader)
        // Files written before tags have none.
        if let tagObject = try root.optionalObject("tags") {
            tags = try tagObject.keysInFileOrder(bytes, section: "tags").map { key in (key, try tagObject.string(key)) }
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
            guard let text = item as? String else { throw root.fail("warnings", "not a string") }
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
            config = try configObject.configEntries(orderedBy: bytes)
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

/// Typed, throwing access to one parsed JSON object; `path` names it in errors.
struct JSONFields {
    let dictionary: [String: Any]
    let path: String

    init(_ dictionary: [String: Any], path: String) {
        self.dictionary = dictionary
        self.path = path
    }

    var keys: [String] { Array(dictionary.keys) }
    func has(_ key: String) -> Bool { dictionary[key] != nil }

    func fail(_ key: String, _ what: String) -> SummaryDecodeError {
        SummaryDecodeError(description: "\(path.isEmpty ? "" : path + ".")\(key): \(what)")
    }

    private func value(_ key: String) throws -> Any {
        guard let value = dictionary[key] else { throw fail(key, "missing") }
        return value
    }

    func string(_ key: String) throws -> String {
        guard let text = try value(key) as? String else { throw fail(key, "not a string") }
        return text
    }

    func bool(_ key: String) throws -> Bool {
        let raw = try value(key)
        guard JSONFields.isBoolean(raw), let flag = raw as? Bool else { throw fail(key, "not true or false") }
        return flag
    }

    /// JSONSerialization gives numbers and booleans alike as NSNumber, and 0 and 1 cast to Bool;
    /// only a boolean's NSNumber has the `c` (char) type.
    static func isBoolean(_ raw: Any) -> Bool {
        guard let number = raw as? NSNumber else { return raw is Bool }
        return String(cString: number.objCType) == "c"
    }

    func optionalBool(_ key: String) throws -> Bool? {
        has(key) ? try bool(key) : nil
    }

    /// A number; null (how the writer spells NaN and infinity) reads as NaN.
    func number(_ key: String) throws -> Double {
        let raw = try value(key)
        if raw is NSNull { return .nan }
        guard let number = JSONFields.double(raw) else { throw fail(key, "not a number") }
        return number
    }

    /// Missing or null → nil.
    func optionalNumber(_ key: String) throws -> Double? {
        guard let raw = dictionary[key], !(raw is NSNull) else { return nil }
        guard let number = JSONFields.double(raw) else { throw fail(key, "not a number") }
        return number
    }

    func unsigned(_ key: String) throws -> UInt64 {
        let raw = try value(key)
        guard !JSONFields.isBoolean(raw), let number = raw as? NSNumber else { throw fail(key, "not a non-negative integer") }
        switch String(cString: number.objCType) {
        case "Q":
            return number.uint64Value
        case "d", "f":
            let value = number.doubleValue
            guard value >= 0, value < 0x1p64, value == value.rounded() else { throw fail(key, "not a non-negative integer") }
            return UInt64(value)
        default:
            guard number.int64Value >= 0 else { throw fail(key, "not a non-negative integer") }
            return UInt64(number.int64Value)
        }
    }

    func integer(_ key: String) throws -> Int {
        let value = try number(key)
        guard value == value.rounded(), abs(value) < 0x1p53 else { throw fail(key, "not an integer") }
        return Int(value)
    }

    static func double(_ raw: Any) -> Double? {
        guard !isBoolean(raw), let number = raw as? NSNumber else { return nil }
        return number.doubleValue
    }

    func object(_ key: String) throws -> JSONFields {
        guard let inner = try value(key) as? [String: Any] else { throw fail(key, "not an object") }
        return JSONFields(inner, path: path.isEmpty ? key : path + "." + key)
    }

    func optionalObject(_ key: String) throws -> JSONFields? {
        guard let raw = dictionary[key], !(raw is NSNull) else { return nil }
        return try object(key)
    }

    func array(_ key: String) throws -> [Any] {
        guard let items = try value(key) as? [Any] else { throw fail(key, "not an array") }
        return items
    }

    func objects(_ key: String) throws -> [JSONFields] {
        try array(key).enumerated().map { index, item in
            guard let inner = item as? [String: Any] else { throw fail("\(key)[\(index)]", "not an object") }
            return JSONFields(inner, path: "\(path.isEmpty ? "" : path + ".")\(key)[\(index)]")
        }
    }

    func optionalObjects(_ key: String) throws -> [JSONFields]? {
        has(key) ? try objects(key) : nil
    }

    /// Count, minimum, every level of `Percentiles.levels`, max and mean; the `--json` output's
    /// levels alone also decode (the others read 0).
    func percentiles(_ key: String) throws -> Percentiles {
        let object = try object(key)
        var result = Percentiles()
        result.count = try object.unsigned("count")
        result.min = try object.optionalNumber("min") ?? 0
        result.values = try JSONReport.levelKeys.map { try object.optionalNumber($0) ?? 0 }
        result.max = try object.number("max")
        result.mean = try object.number("mean")
        return result
    }

    func tokens(_ key: String) throws -> TokenStats? {
        guard let object = try optionalObject(key) else { return nil }
        return TokenStats(mean: try object.number("mean"), min: try object.unsigned("min"), max: try object.unsigned("max"))
    }

    func distribution(_ key: String) throws -> [(percentile: Double, ms: Double)] {
        guard has(key) else { return [] }
        return try array(key).enumerated().map { index, item in
            guard let pair = item as? [Any], pair.count == 2, let percentile = JSONFields.double(pair[0]),
                  let ms = JSONFields.double(pair[1]) else { throw fail("\(key)[\(index)]", "not a [percentile, ms] pair") }
            return (percentile, ms)
        }
    }

    /// The `checks` of an `slo` object (the run's, or a stage's).
    func sloChecks() throws -> [SLOCheckResult] {
        try objects("checks").map { check in
            SLOCheckResult(expression: try check.string("expression"), metric: try check.string("metric"),
                           comparison: try check.string("comparison"), limit: try check.number("limit"),
                           measured: try check.number("measured"), unit: try check.string("unit"), passed: try check.bool("passed"))
        }
    }

    /// This object's keys in the order the file lists them. JSONSerialization forgets key order, so
    /// it is read back from where each key first appears, as `"key":`, after `"section":` in the
    /// text (a quote inside a string is escaped, so only keys match); keys not found there (a
    /// hand-written file) follow in alphabetical order.
    func keysInFileOrder(_ bytes: [UInt8], section name: String) -> [String] {
        let text = String(decoding: bytes, as: UTF8.self)
        let section = text.range(of: JSONWriter.quote(name) + ":").map { text[$0.upperBound...] } ?? text[text.endIndex...]
        func position(_ key: String) -> String.Index {
            section.range(of: JSONWriter.quote(key) + ":")?.lowerBound ?? text.endIndex
        }
        return keys.map { ($0, position($0)) }.sorted { $0.1 != $1.1 ? $0.1 < $1.1 : $0.0 < $1.0 }.map(\.0)
    }

    /// The config's entries in the order the file lists them.
    func configEntries(orderedBy bytes: [UInt8]) throws -> [(key: String, value: String)] {
        let ordered = keysInFileOrder(bytes, section: "config")
        return try ordered.flatMap { key -> [(key: String, value: String)] in
            if let value = dictionary[key] as? String { return [(key, value)] }
            guard let values = dictionary[key] as? [Any] else { throw fail(key, "not a string or an array of strings") }
            return try values.map { item in
                guard let value = item as? String else { throw fail(key, "not a string or an array of strings") }
                return (key, value)
            }
        }
    }
}
