// Turns validated options into a running engine and its summary: the setup tier, which may throw.
import Glibc

/// Everything prepared before the first request: a setup failure throws here, never mid-run.
public struct LoadRun {
    public let options: RunOptions
    public let url: TargetURL
    public let address: SocketAddress
    /// https://: the TLS settings every connection of the run uses; nil for http://.
    public let tls: TLSClient?
    public let plan: RatePlan
    /// `--web`: the web view's commands to the loop; nil without --web.
    public let commands: EngineCommands?
    /// The plan as it ran: `plan`, or the one the web view's rate changes made of it.
    public var finalPlan: RatePlan { commands?.currentPlan(or: plan) ?? plan }
    /// The first request (every request for a fixed workload); `requests` holds them all.
    public let template: RequestTemplate
    public let requests: RequestSet
    /// OpenAI workloads: what each prepared body asks (estimated prompt tokens, max_tokens), in send order.
    public private(set) var prompts: PromptSet?
    /// Bad dataset rows, cycling and --prompt-file warnings: said at setup (`notes`) and kept in the summary's warnings.
    public private(set) var workloadNotes: [String] = []
    public let stats: RunStats
    public let openFileLimit: OpenFileLimit
    public var notes: [String] = []
    /// OpenAI workloads: the model sent, and the prompt's length in characters.
    public private(set) var resolvedModel: String?
    public private(set) var promptCharacters = 0
    public private(set) var requestLog: RequestLog?

    public init(options: RunOptions) throws {
        self.options = options
        var url: TargetURL
        do {
            url = try TargetURL(parsing: options.url)
        } catch {
            throw UsageError("URL", "'\(TargetURL.printable(options.url))': \(error)")
        }
        if options.workload.isOpenAI {
            // vLLM users give the base URL (http://host:8000, or …/v1); the endpoint is implied.
            if url.target == "/" { url.target = options.workload.defaultPath }
            else if url.target.hasSuffix("/v1") || url.target.hasSuffix("/v1/") {
                url.target = String(url.target.prefix { $0 != "?" }).trimmingTrailingSlash() + options.workload.defaultPath.dropFirst(3)
            }
        }
        self.url = url
        plan = try options.ratePlan()
        try options.checkWeb()
        commands = options.web == nil ? nil : EngineCommands()
        let spareStages = commands?.spareStages ?? 0
        let planStages = plan.stages.count
        try options.checkWorkloadShape()
        if let path = options.datasetPath, access(path, R_OK) != 0 {
            throw UsageError("--dataset", "cannot read '\(path)': \(errnoDescription(errno))")
        }
        // Checked before the first request (and before discovery): a log that cannot be written is
        // a usage error, not a surprise at the end of the run.
        if options.logITL && options.requestLogPath == nil { throw UsageError("--log-itl", "needs --request-log FILE") }
        if options.hlog && options.noFiles { throw UsageError("--hlog", "writes PREFIX.hlog, a report file under --out; it cannot be combined with --no-files") }
        if let path = options.requestLogPath {
            do {
                requestLog = try RequestLog(path: path, stageNames: plan.stages.map(\.name) + (0..<spareStages).map { "web \(planStages + $0 + 1)" },
                                            mask: SecretMask(apiKey: options.apiKey, headers: options.headers), includesGaps: options.logITL)
            } catch let error as UsageError {
                throw error
            } catch {
                throw UsageError("--request-log", "cannot write '\(path)': \(errnoDescription((error as? SystemError)?.errno ?? EIO))")
            }
        }
        tls = try LoadRun.makeTLSClient(url: url, options: options)
        address = try SocketAddress.resolve(host: url.host, port: url.port, probeTimeoutNs: min(options.connectTimeoutNs, 2_000_000_000))
        var headers = options.headers
        if let key = options.apiKey { headers.append(("Authorization", "Bearer \(key)")) }
        if options.workload.isOpenAI {
            let model = try options.model ?? ModelDiscovery.firstModel(address: address, hostHeader: url.hostHeader, headers: headers,
                                                                       timeoutNs: options.connectTimeoutNs, tls: tls,
                                                                       url: "\(url.scheme)://\(url.hostHeader)/v1/models")
            let prompt: String
            if let path = options.promptFile {
                let bytes = try readFile(path)
                guard let text = String(validating: bytes, as: UTF8.self), !text.isEmpty else {
                    throw UsageError("--prompt-file", "'\(path)' must be non-empty UTF-8 text")
                }
                prompt = text.trimmingTrailingNewlines()
                if let note = LoadRun.promptFileNote(path: path, text: prompt) { workloadNotes.append(note) }
            } else {
                prompt = DefaultPrompt.text
            }
            resolvedModel = model
            promptCharacters = prompt.unicodeScalars.count
            let planned = LoadRun.plannedRequests(plan: plan, process: options.arrivalProcess, seed: options.seed)
            let prompts = try PromptSet.prepare(options: options, model: model, chat: options.workload == .openaiChat, basePrompt: prompt,
                                                plannedRequests: planned)
            notes += prompts.notes
            workloadNotes += prompts.warnings
            self.prompts = prompts
            if !headers.contains(where: { $0.name.lowercased() == "content-type" }) { headers.append(("Content-Type", "application/json")) }
            let marker = options.effectiveUniquePrompts ? OpenAIRequestBody.sequenceMarker : nil
            let templates = prompts.bodies.map { body in
                RequestTemplate(method: options.method ?? "POST", target: url.target, hostHeader: url.hostHeader, headers: headers,
                                body: body, sequenceMarker: marker)
            }
            template = templates[0]
            requests = RequestSet(templates)
        } else {
            var body: [UInt8]?
            if let path = options.bodyFile { body = try readFile(path) }
            template = RequestTemplate(method: options.method ?? (body == nil ? "GET" : "POST"), target: url.target,
                                       hostHeader: url.hostHeader, headers: headers, body: body)
            requests = RequestSet(template)
        }
        notes += workloadNotes
        let seconds = Int(plan.totalDurationNs / 1_000_000_000 + options.effectiveDrainNs / 1_000_000_000) + 2
        stats = RunStats(stageCount: plan.stages.count + spareStages, expectedSeconds: seconds, goodputLimits: GoodputLimits(options.slo),
                         secrets: SecretMask(apiKey: options.apiKey, headers: options.headers), keepsTokenGaps: options.logITL,
                         capturesIntervals: options.hlog)
        openFileLimit = raiseOpenFileLimit()
        // Three descriptors a process starts with, plus epoll, timerfd and signalfd.
        let usable = openFileLimit.soft > 16 ? openFileLimit.soft - 16 : 0
        if UInt64(options.maxConnections) > usable {
            notes.append("--max-connections \(options.maxConnections) exceeds the open-file limit (\(openFileLimit.soft), hard \(openFileLimit.hard)); requests past it wait in the queue for a free connection")
        }
    }

    public var engineConfig: EngineConfig {
        var config = EngineConfig(address: address, plan: plan, process: options.arrivalProcess, seed: options.seed)
        config.maxConnections = options.maxConnections
        config.maxQueue = options.maxQueue
        config.connectTimeoutNs = options.connectTimeoutNs
        config.requestTimeoutNs = options.timeoutNs
        config.drainNs = options.effectiveDrainNs
        config.idleTimeoutNs = options.idleTimeoutNs
        config.sendHorizonCapNs = options.sendHorizonNs
        config.readHoldNs = options.readHoldNs
        config.requestLog = requestLog
        config.closedLoop = options.closedLoopArrivals(plan: plan)
        config.shard = options.shard
        config.commands = commands
        config.tls = tls
        return config
    }

    public var arrivalDescription: String {
        if let workers = options.concurrency { return "closed-loop (\(workers) workers)" }
        return switch options.arrivalProcess {
        case .constant: "constant"
        case .poisson: "poisson"
        case .gamma(let shape): "gamma (burstiness \(Format.trimmed(shape, decimals: 3)))"
        }
    }

    /// Runs the plan on the calling thread. `handlesSignals` routes SIGINT/SIGTERM to the loop.
    public func execute(handlesSignals: Bool) throws -> (RunSummary, EngineResult) {
        var config = engineConfig
        config.handlesSignals = handlesSignals
        let result: EngineResult
        switch options.workload {
        case .http:
            result = try OpenLoopEngine<PlainResponseScanner>(config: config, requests: requests, stats: stats).run()
        case .openaiChat, .openaiCompletions:
            result = try OpenLoopEngine<OpenAIResponseScanner>(config: config, requests: requests, stats: stats).run()
        }
        var summary = RunSummary(target: "\(template.method) \(url)", address: address.description, workload: options.workload.rawValue,
                                 arrival: arrivalDescription, seed: options.seed, maxConnections: options.maxConnections,
                                 plan: finalPlan, stats: stats, result: result)
        summary.config = options.resolvedConfig()
        if tls != nil { summary.tlsVerify = options.insecure ? "off" : options.caFile == nil ? "system" : "cacert" }
        summary.tags = options.tags
        summary.shard = options.shard
        if let workers = options.concurrency {
            let rate = ClosedLoopMode.sustainedRate(summary)
            summary.closedLoop = ClosedLoopMode(workers: workers, spawnRatePerSec: options.spawnRate, thinkTimeMs: Double(options.thinkTimeNs ?? 0) / 1e6,
                                                openLoopRatePerSec: rate, openLoopCommand: options.openLoopCommand(ratePerSec: rate))
        }
        if let resolvedModel { summary.config.append(("resolved_model", resolvedModel)) }
        summary.environment = RunEnvironment.current(startedAtUnixS: result.startedAtUnixS)
        if options.workload.isOpenAI {
            let outputs = prompts?.maxTokens ?? []
            let varied = outputs.contains { $0 != outputs.first }
            summary.addTokenChecks(options: options, requestedOutputMean: varied ? Double(outputs.reduce(0, +)) / Double(outputs.count) : nil)
            summary.maxTokensMean = varied ? Double(outputs.reduce(0, +)) / Double(outputs.count) : nil
            summary.distinctPrompts = max(outputs.count, 1)
        }
        if let prompts { summary.addPromptCalibration(prompts, scheduled: stats.total[.scheduled], stats: stats.total) }
        summary.warnings += workloadNotes
        if !options.slo.isEmpty {
            let verdict = SLOJudge.judge(options.slo, scope: options.sloScope, stats: stats, plan: finalPlan, ranS: summary.ranS,
                                         goodput: !stats.goodputLimits.isEmpty)
            summary.setSLO(verdict)
        }
        requestLog?.flush()
        if let log = requestLog, log.failedWrites > 0 {
            summary.warnings.append("the request log could not be written completely (\(log.failedWrites) failed writes)")
        }
        return (summary, result)
    }
}

public struct FileError: Error, CustomStringConvertible {
    public let path: String
    public let reason: String
    public var description: String { "cannot read '\(path)': \(reason)" }
}

extension String {
    func trimmingTrailingSlash() -> String {
        var text = self
        while text.hasSuffix("/") { text.removeLast() }
        return text
    }

    func trimmingTrailingNewlines() -> String {
        var text = self
        while text.hasSuffix("\n") || text.hasSuffix("\r") { text.removeLast() }
        return text
    }
}

/// Reads a whole file at setup time.
public func readFile(_ path: String) throws -> [UInt8] {
    guard let file = fopen(path, "rb") else { throw FileError(path: path, reason: errnoDescription(errno)) }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = fread(&chunk, 1, chunk.count, file)
        if n > 0 { bytes += chunk[0..<n] }
        if n < chunk.count {
            if ferror(file) != 0 { throw FileError(path: path, reason: "read error") }
            break
        }
    }
    return bytes
}
