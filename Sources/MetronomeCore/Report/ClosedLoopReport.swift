// What every report says about a closed-loop run (`--concurrency`): the mode, its caveat, and the open-loop run to try next.

/// A closed loop's settings and the open-loop command it suggests; nil in an open-loop summary.
public struct ClosedLoopMode: Sendable, Equatable {
    public var workers: Int
    /// Workers started per second; nil: all at once.
    public var spawnRatePerSec: Double?
    public var thinkTimeMs: Double
    /// The rate the workers sustained (`sustainedRate`): the open-loop rate to try next.
    public var openLoopRatePerSec: Double
    /// `metronome run … --rate R --duration D`, secrets as ***.
    public var openLoopCommand: String

    public init(workers: Int, spawnRatePerSec: Double?, thinkTimeMs: Double, openLoopRatePerSec: Double, openLoopCommand: String) {
        self.workers = workers
        self.spawnRatePerSec = spawnRatePerSec
        self.thinkTimeMs = thinkTimeMs
        self.openLoopRatePerSec = openLoopRatePerSec
        self.openLoopCommand = openLoopCommand
    }

    /// The JSON's `mode` member (written only for a closed loop: a summary without it is open loop).
    public static let modeName = "closed-loop"
    /// The caveat every report carries, once in full.
    public static let note = "CLOSED LOOP, for comparison only: each worker sends its next request when its last one ends, so a slow server lowers the rate instead of building a queue; latency counts from the moment a worker was ready and excludes any waiting (coordinated omission by construction). Open-loop runs (--rate) measure what arrivals that do not wait would see."
    /// The short form on every latency table.
    public static let tableTag = "CLOSED LOOP: latency excludes waiting"

    /// Successes of the hold (every worker running; the whole run when spawning took all of it) over
    /// the time from the hold's start to the last completion, as vLLM's benchmark counts throughput.
    /// The achieved rate of the tables divides by the plan's duration instead, and so counts the last
    /// round of requests (sent before the end, finished in the drain) without its time: over a run
    /// only a few requests long it over-states the rate by up to N requests.
    public static func sustainedRate(_ summary: RunSummary) -> Double {
        let hold = summary.stages.first { $0.name == "hold" } ?? summary.total
        let seconds = summary.elapsedS - hold.startS
        return seconds > 0 ? Double(hold.succeeded) / seconds : 0
    }

    /// `8 workers, all at once, no think time`.
    public var settingsText: String {
        var text = "\(workers) worker\(workers == 1 ? "" : "s")"
        text += spawnRatePerSec.map { ", spawned at \(Format.rate($0))/s" } ?? ", all started at once"
        text += thinkTimeMs > 0 ? ", think time \(Format.trimmed(thinkTimeMs, decimals: 3)) ms" : ", no think time"
        return text
    }

    /// The lines the text summary ends with: the open-loop rate to try next and its command.
    public var nextRunText: String {
        guard openLoopRatePerSec > 0 else {
            return "No request succeeded: there is no open-loop rate to suggest.\n"
        }
        return "Open-loop rate to try next: \(Format.rate(openLoopRatePerSec)) requests/s (what the workers sustained: successes over the time to the last one), where latency counts the waiting too:\n  \(openLoopCommand)\n"
    }

    func write(into json: inout JSONWriter, decimals: Int) {
        json.beginObject("closed_loop")
        json.int("workers", workers)
        if let spawnRatePerSec { json.number("spawn_rate", spawnRatePerSec, decimals: decimals) } else { json.null("spawn_rate") }
        json.number("think_time_ms", thinkTimeMs, decimals: decimals)
        json.number("open_loop_rate", openLoopRatePerSec, decimals: decimals)
        json.string("open_loop_command", openLoopCommand)
        json.string("note", Self.note)
        json.endObject()
    }

    init(decoding fields: JSONFields) throws {
        workers = try fields.integer("workers")
        spawnRatePerSec = try fields.optionalNumber("spawn_rate")
        thinkTimeMs = try fields.number("think_time_ms")
        openLoopRatePerSec = try fields.number("open_loop_rate")
        openLoopCommand = try fields.string("open_loop_command")
    }
}

/// One stage of a plan in words: `ramp 2 → 20 rps over 10s`; a closed loop's stages count workers.
enum StageText {
    static func describe(name: String, start: Double, end: Double, durationNs: UInt64, closedLoop: Bool) -> String {
        let duration = Units.formatDuration(durationNs)
        let unit = closedLoop ? "workers" : "rps"
        if start == end { return "\(name) \(Format.rate(end)) \(unit) for \(duration)" }
        return "\(name) \(Format.rate(start)) → \(Format.rate(end)) \(unit) over \(duration)"
    }
}
