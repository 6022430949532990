// Everything a user can set for `metronome run`, typed and validated; the plan is built from it.

public enum WorkloadKind: String, Sendable, CaseIterable {
    case openaiChat = "openai-chat"
    case openaiCompletions = "openai-completions"
    case http

    public var isOpenAI: Bool { self != .http }

    /// The endpoint path used when the URL names none (or only `/v1`).
    var defaultPath: String {
        switch self {
        case .openaiChat: "/v1/chat/completions"
        case .openaiCompletions: "/v1/completions"
        case .http: "/"
        }
    }
}

public enum ArrivalKind: String, Sendable, CaseIterable {
    case constant, poisson
}

public struct RunOptions: Sendable {
    public var url = "http://127.0.0.1:8000"
    public var rate: Double?
    public var rampNs: UInt64?
    public var durationNs: UInt64?
    public var startRate = 1.0
    public var stages: [(durationNs: UInt64, targetRatePerSec: Double)] = []
    public var arrival = ArrivalKind.poisson
    /// Gamma shape for Poisson-like arrivals (vLLM's `--burstiness`): 1 is Poisson, < 1 burstier.
    public var burstiness = 1.0
    public var seed: UInt64 = 42
    /// `--concurrency`: a closed loop of this many workers instead of an arrival schedule.
    public var concurrency: Int?
    /// Workers started per second; nil starts them all at once.
    public var spawnRate: Double?
    /// A worker's pause between the end of its request and its next send; nil is none.
    public var thinkTimeNs: UInt64?
    /// The arguments as parsed (a `--config` file's included), for the open-loop command a closed loop suggests.
    public var commandArguments: [String] = []
    public var maxConnections = 10_000
    public var maxQueue = 100_000
    public var connectTimeoutNs: UInt64 = 10_000_000_000
    /// https:// only: `--cacert`, `--insecure`, `--no-tls-resume`.
    public var caFile: String?
    public var insecure = false
    public var tlsResume = true
    public var timeoutNs: UInt64 = 120_000_000_000
    /// nil: the request timeout.
    public var drainNs: UInt64?
    public var idleTimeoutNs: UInt64 = 4_000_000_000
    /// The most a request may leave ahead of its intended start (`SendHorizon`, `--send-horizon`).
    public var sendHorizonNs: UInt64 = 500_000
    /// `--read-hold`: how near the next deadline must be for the loop to sleep through answers (`EngineConfig.readHoldNs`).
    public var readHoldNs: UInt64 = 1_000_000
    public var workload = WorkloadKind.openaiChat
    /// nil: ask the server (`GET /v1/models`) and take the first id.
    public var model: String?
    /// nil: the built-in 200-token prompt (configs/prompts/prompt_200.txt).
    public var promptFile: String?
    public var maxTokens = 200
    public var temperature = 0.0
    public var stream = true
    public var ignoreEOS = false
    public var apiKey: String?
    public var uniquePrompts = true
    /// `--unique-prompts` given: numbers dataset rows and synthetic prompts too (they go as written otherwise).
    public var uniquePromptsGiven = false
    /// `--dataset`: many prompts from a file (see `Dataset`).
    public var datasetPath: String?
    public var datasetFormat = DatasetFormat.auto
    public var datasetOrder = DatasetOrder.sequential
    public var datasetLimit: Int?
    /// A bad dataset row is a usage error instead of being skipped.
    public var strict = false
    /// Synthetic prompts of about this many tokens (`SyntheticText`), spread by `lengthSpread`.
    public var inputTokens: Int?
    /// max_tokens of every request, spread by `outputSpread`; replaces --max-tokens and dataset rows' own lengths.
    public var outputTokens: Int?
    public var lengthSpread = LengthSpread.none
    public var outputSpread = LengthSpread.none
    /// A shared prefix of about this many one-token words in front of every prompt; 0: none.
    public var prefixTokens = 0
    public var prefixGroups = 1
    public var expectPromptTokens: Int?
    public var method: String?
    public var headers: [(name: String, value: String)] = []
    public var bodyFile: String?
    public var slo: [SLOCheck] = []
    public var sloText = ""
    public var sloScope = "hold"
    public var outDirectory = "experiments/runs"
    /// File name prefix; nil: `metronome_YYYYmmdd-HHMMSS`.
    public var name: String?
    public var requestLogPath: String?
    /// `--log-itl`: the request log carries each request's inter-token gaps.
    public var logITL = false
    /// `--hlog`: write `<out>/<name>.hlog`, HdrHistogram's interval log (one interval a second).
    public var hlog = false
    public var quiet = false
    public var noFiles = false
    public var json = false
    /// `--web [HOST:]PORT`: serve the live web view there while the run goes on.
    public var web: WebAddress?
    /// `--web-keep`: keep serving after the run until SIGINT/SIGTERM or POST /stop.
    public var webKeep = false
    /// `--web-token`: the bearer token the controls need (required off loopback).
    public var webToken: String?
    /// `--tag key=value` labels in the order given (keys distinct), carried into every summary.
    public var tags: [(key: String, value: String)] = []
    /// `--shard I/N`: the arrivals of the seeded schedule this process sends.
    public var shard = Shard.whole
    /// `--start-at`: the plan's zero as a Unix time; nil starts when setup is done.
    public var startAtUnixS: Double?
    /// `--processes N`: run N shards of this command and merge them; nil runs in this process.
    public var processes: Int?

    public init() {}

    public var effectiveDrainNs: UInt64 { drainNs ?? timeoutNs }

    /// Prompts other than the single built-in or --prompt-file one: a dataset or synthetic lengths.
    public var hasPromptSet: Bool { datasetPath != nil || inputTokens != nil || lengthSpread.nominal != nil }

    /// The built-in prompt is numbered unless --same-prompt; dataset rows and synthetic prompts are
    /// sent as written unless --unique-prompts is given.
    public var effectiveUniquePrompts: Bool { hasPromptSet ? uniquePromptsGiven && uniquePrompts : uniquePrompts }

    public var arrivalProcess: ArrivalProcess {
        switch arrival {
        case .constant: .constant
        case .poisson: burstiness == 1 ? .poisson : .gamma(shape: burstiness)
        }
    }

    /// The rate plan: `--stage`s from `--start-rate`, or `--rate` with an optional `--ramp` and a
    /// hold of `--duration` after it.
    public func ratePlan() throws(UsageError) -> RatePlan {
        if let concurrency {
            if rate != nil || rampNs != nil || !stages.isEmpty {
                throw UsageError("--concurrency", "cannot be combined with --rate, --ramp or --stage: a closed loop's workers set the rate")
            }
            return try closedLoopPlan(workers: concurrency)
        }
        var targets: [(durationNs: UInt64, targetRatePerSec: Double, name: String)] = []
        if !stages.isEmpty {
            if rate != nil || rampNs != nil || durationNs != nil {
                throw UsageError("--stage", "cannot be combined with --rate, --ramp or --duration; use one form")
            }
            var previous = startRate
            var seen: [String: Int] = [:]
            for stage in stages {
                // A zero-length stage is a jump (k6): it names no stage, the next one starts from it.
                if stage.durationNs == 0 {
                    targets.append((0, stage.targetRatePerSec, "jump"))
                    previous = stage.targetRatePerSec
                    continue
                }
                var name = stage.targetRatePerSec == previous ? "hold" : stage.targetRatePerSec > previous ? "ramp" : "ramp-down"
                seen[name, default: 0] += 1
                if seen[name]! > 1 { name += "-\(seen[name]!)" }
                targets.append((stage.durationNs, stage.targetRatePerSec, name))
                previous = stage.targetRatePerSec
            }
        } else {
            guard let rate else {
                throw UsageError("--rate", "is required: give --rate R --duration D (optionally --ramp D), or one --stage D:R per stage")
            }
            guard let durationNs else { throw UsageError("--duration", "is required with --rate (how long to hold the rate, e.g. 10m)") }
            guard rate > 0 else { throw UsageError("--rate", "must be above 0") }
            if let rampNs, rampNs > 0 { targets.append((rampNs, rate, "ramp")) }
            if durationNs > 0 { targets.append((durationNs, rate, "hold")) }
            if targets.isEmpty { throw UsageError("--duration", "must be above 0") }
        }
        // Without a ramp the hold starts at its rate; --start-rate only shapes a ramp.
        let firstRate = stages.isEmpty && (rampNs ?? 0) == 0 ? rate! : startRate
        do {
            return try RatePlan(startRatePerSec: firstRate, targets: targets)
        } catch {
            throw UsageError("--stage", "\(error)")
        }
    }
}

/// A bad command line: one line naming the flag and what it allows; exit code 64.
public struct UsageError: Error, CustomStringConvertible, Sendable {
    public let flag: String
    public let message: String
    public init(_ flag: String, _ message: String) {
        self.flag = flag
        self.message = message
    }
    public var description: String { flag.isEmpty ? message : "\(flag) \(message)" }
}

extension RunOptions {
    public static func masked(_ header: (name: String, value: String)) -> String {
        SecretMask.isSecretHeader(header.name) ? "\(header.name): ***" : "\(header.name): \(header.value)"
    }

    /// The options in force, for the JSON summary and the HTML report: every value resolved, secrets masked.
    public func resolvedConfig() -> [(key: String, value: String)] {
        var list: [(key: String, value: String)] = [("url", url)]
        if let concurrency {
            list += [("mode", "closed-loop"), ("concurrency", String(concurrency)),
                     ("spawn_rate", spawnRate.map { Format.rate($0) } ?? "all at once"),
                     ("think_time", Units.formatDuration(thinkTimeNs ?? 0)),
                     ("duration", durationNs.map(Units.formatDuration) ?? "")]
        } else if stages.isEmpty {
            list.append(("rate", rate.map { Format.rate($0) } ?? ""))
            list.append(("ramp", Units.formatDuration(rampNs ?? 0)))
            list.append(("duration", durationNs.map(Units.formatDuration) ?? ""))
        } else {
            list.append(("stages", stages.map { "\(Units.formatDuration($0.durationNs)):\(Format.rate($0.targetRatePerSec))" }.joined(separator: " ")))
        }
        list += [
            ("start_rate", Format.rate(startRate)), ("arrival", arrival.rawValue), ("burstiness", Format.trimmed(burstiness, decimals: 3)),
            ("seed", String(seed)), ("max_connections", String(maxConnections)), ("max_queue", String(maxQueue)),
            ("connect_timeout", Units.formatDuration(connectTimeoutNs)), ("timeout", Units.formatDuration(timeoutNs)),
            ("idle_timeout", Units.formatDuration(idleTimeoutNs)),
            ("send_horizon", Units.formatDuration(sendHorizonNs)),
            ("read_hold", Units.formatDuration(readHoldNs)),
            ("drain", Units.formatDuration(effectiveDrainNs)), ("workload", workload.rawValue),
        ]
        if workload.isOpenAI {
            list += [("model", model ?? "(first of GET /v1/models)"), ("prompt_file", promptFile ?? (hasPromptSet ? "(none)" : "(built-in prompt_200)")),
                     ("max_tokens", String(maxTokens)), ("temperature", Format.trimmed(temperature, decimals: 6)),
                     ("stream", String(stream)), ("ignore_eos", String(ignoreEOS)), ("unique_prompts", String(effectiveUniquePrompts))]
            list += workloadShapeConfig()
            if apiKey != nil { list.append(("api_key", "***")) }
            if let expectPromptTokens { list.append(("expect_prompt_tokens", String(expectPromptTokens))) }
        }
        if let method { list.append(("method", method)) }
        if url.lowercased().hasPrefix("https://") {
            list += [("cacert", insecure ? "(not checked)" : caFile ?? "(system store)"), ("insecure", String(insecure)), ("tls_resume", String(tlsResume))]
        }
        if !sloText.isEmpty { list += [("slo", sloText), ("slo_scope", sloScope)] }
        list.append(("out", outDirectory))
        if let name { list.append(("name", name)) }
        if let requestLogPath { list.append(("request_log", requestLogPath)) }
        if logITL { list.append(("log_itl", "true")) }
        if hlog { list.append(("hlog", "true")) }
        for header in headers { list.append(("header", RunOptions.masked(header))) }
        if let bodyFile { list.append(("body", bodyFile)) }
        for tag in tags { list.append(("tag", "\(tag.key)=\(tag.value)")) }
        if !shard.isWhole { list.append(("shard", shard.description)) }
        if let startAtUnixS { list.append(("start_at", Format.trimmed(startAtUnixS, decimals: 6))) }
        if let processes { list.append(("processes", String(processes))) }
        return list
    }
}
