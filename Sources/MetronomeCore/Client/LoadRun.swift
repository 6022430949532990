// Turns validated options into a running engine and its summary: the setup tier, which may throw.
import Glibc

/// Everything prepared before the first request: a setup failure throws here, never mid-run.
public struct LoadRun {
    public let options: RunOptions
    public let url: TargetURL
    public let address: SocketAddress
    public let plan: RatePlan
    public let template: RequestTemplate
    public let stats: RunStats
    public let openFileLimit: OpenFileLimit
    public var notes: [String] = []

    public init(options: RunOptions) throws {
        self.options = options
        do {
            url = try TargetURL(parsing: options.url)
        } catch {
            throw UsageError("URL", "'\(options.url)': \(error)")
        }
        plan = try options.ratePlan()
        address = try SocketAddress.resolve(host: url.host, port: url.port)
        var body: [UInt8]?
        if let path = options.bodyFile {
            body = try readFile(path)
        }
        let method = options.method ?? (body == nil ? "GET" : "POST")
        template = RequestTemplate(method: method, target: url.target, hostHeader: url.hostHeader, headers: options.headers, body: body)
        stats = RunStats(stageCount: plan.stages.count)
        openFileLimit = raiseOpenFileLimit()
        // Three descriptors a process starts with, plus epoll, timerfd and signalfd.
        let usable = openFileLimit.soft > 16 ? openFileLimit.soft - 16 : 0
        if UInt64(options.maxConnections) > usable {
            notes.append("--max-connections \(options.maxConnections) exceeds the open-file limit (\(openFileLimit.soft), hard \(openFileLimit.hard)); connections past it will fail as connect errors")
        }
    }

    public var engineConfig: EngineConfig {
        var config = EngineConfig(address: address, plan: plan, process: options.arrivalProcess, seed: options.seed)
        config.maxConnections = options.maxConnections
        config.maxQueue = options.maxQueue
        config.connectTimeoutNs = options.connectTimeoutNs
        config.requestTimeoutNs = options.timeoutNs
        config.drainNs = options.effectiveDrainNs
        return config
    }

    public var arrivalDescription: String {
        switch options.arrivalProcess {
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
            let engine = try OpenLoopEngine<PlainResponseScanner>(config: config, template: template, stats: stats)
            result = engine.run()
        }
        let summary = RunSummary(target: "\(template.method) \(url)", address: address.description, workload: options.workload.rawValue,
                                 arrival: arrivalDescription, seed: options.seed, maxConnections: options.maxConnections,
                                 plan: plan, stats: stats, result: result)
        return (summary, result)
    }
}

public struct FileError: Error, CustomStringConvertible {
    public let path: String
    public let reason: String
    public var description: String { "cannot read '\(path)': \(reason)" }
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
