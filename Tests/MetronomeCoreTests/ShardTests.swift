// --shard I/N: the shards of one seeded schedule send exactly it between them, and merge into one run.
import Foundation
import Synchronization
import XCTest
@testable import MetronomeCore

final class ShardScheduleTests: XCTestCase {
    func plan() throws -> RatePlan {
        try RatePlan(startRatePerSec: 5, targets: [(2_000_000_000, 300, "ramp"), (3_000_000_000, 300, "hold")])
    }

    /// Every arrival of the whole schedule is in exactly one shard, at exactly its time, with its
    /// number: constant, Poisson and gamma, for several N.
    func testShardsPartitionTheScheduleExactly() throws {
        let plan = try plan()
        for process in [ArrivalProcess.constant, .poisson, .gamma(shape: 0.5)] {
            var whole = ArrivalSchedule(plan: plan, process: process, seed: 7)
            var expected: [UInt64: UInt64] = [:]
            while let time = whole.next() { expected[whole.lastIndex] = time }
            XCTAssertGreaterThan(expected.count, 900)
            for count in [1, 2, 3, 7] {
                var seen: [UInt64: UInt64] = [:]
                for index in 0..<count {
                    var shard = ArrivalSchedule(plan: plan, process: process, seed: 7, shard: try Shard(parsing: "\(index)/\(count)"))
                    var previous: UInt64 = 0
                    while let time = shard.next() {
                        XCTAssertEqual(shard.lastIndex % UInt64(count), UInt64(index))
                        XCTAssertNil(seen[shard.lastIndex], "arrival \(shard.lastIndex) sent twice")
                        XCTAssertGreaterThanOrEqual(time, previous)
                        previous = time
                        seen[shard.lastIndex] = time
                    }
                }
                XCTAssertEqual(seen, expected, "\(process) in \(count) shards")
            }
        }
    }

    func testShardOptionErrors() throws {
        for (text, fragment) in [("2/2", "I must be from 0 to N-1"), ("1", "takes I/N"), ("0/0", "N must be"), ("-1/2", "I must be"),
                                 ("a/b", "takes I/N"), ("0/5000", "N must be")] {
            XCTAssertThrowsError(try Shard(parsing: text), text) { error in
                XCTAssertTrue("\(error)".contains(fragment), "\(text): \(error)")
                XCTAssertTrue("\(error)".hasPrefix("--shard"), "\(error)")
            }
        }
        XCTAssertEqual(try Shard(parsing: "3/4"), Shard(uncheckedIndex: 3, count: 4))
        let base = ["http://127.0.0.1:9/", "--rate", "10", "--duration", "1s"]
        for (extra, flag) in [(["--start-at", "soon"], "--start-at"), (["--start-at", "1764571200000"], "--start-at"),
                              (["--processes", "0"], "--processes"), (["--processes", "2", "--shard", "0/2"], "--processes"),
                              (["--shard", "0/2", "--concurrency", "2"], "--shard"),
                              (["--processes", "2", "--request-log", "/tmp/x.jsonl"], "--processes"),
                              (["--processes", "2", "--web", "8089"], "--processes")] {
            XCTAssertThrowsError(try OptionTable.parse(base.filter { !(extra.contains("--concurrency") && ($0 == "--rate" || $0 == "10")) } + extra), "\(extra)") { error in
                XCTAssertTrue("\(error)".hasPrefix(flag), "\(extra): \(error)")
            }
        }
        let options = try OptionTable.parse(base + ["--shard", "1/3", "--start-at", "1764571200.25"])
        XCTAssertEqual(options.shard.description, "1/3")
        XCTAssertEqual(options.startAtUnixS, 1_764_571_200.25)
        XCTAssertTrue(options.resolvedConfig().contains { $0 == ("shard", "1/3") })
    }
}

/// A server that answers every completion at once and keeps, for each request, the number the
/// prompt carries (`--unique-prompts`: the arrival's number in the whole schedule) and when it came.
final class ArrivalRecorder: @unchecked Sendable {
    final class Log: Sendable {
        let arrivals = Mutex<[(number: Int, unixS: Double)]>([])
    }
    private let log = Log()
    private(set) var server: ScriptedServer!
    /// (number, Unix time) of every request received so far, in the order received.
    var arrivals: [(number: Int, unixS: Double)] { log.arrivals.withLock { $0 } }

    init() throws {
        let log = log
        server = try ScriptedServer { request, _ in
            let now = wallClockSeconds()
            let text = String(decoding: request.body, as: UTF8.self)
            if let open = text.firstIndex(of: "["), let close = text[open...].firstIndex(of: "]"),
               let number = Int(text[text.index(after: open)..<close]) {
                log.arrivals.withLock { $0.append((number, now)) }
            }
            return ScriptedServer.response(status: 200, body: #"{"choices":[{"index":0,"text":"ok","finish_reason":"stop"}],"usage":{"prompt_tokens":10,"completion_tokens":1,"total_tokens":11}}"#)
        }
    }

    var port: UInt16 { server.port }
}

final class ShardEndToEndTests: XCTestCase {
    func temporaryDirectory() throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("metronome-shards-\(getpid())-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url.path
    }

    func arguments(_ port: UInt16) -> [String] {
        ["run", "http://127.0.0.1:\(port)", "--workload", "openai-completions", "--model", "m", "--no-stream", "--max-tokens", "1",
         "--rate", "60", "--ramp", "500ms", "--duration", "1500ms", "--arrival", "poisson", "--seed", "11", "--timeout", "5s"]
    }

    /// The issue's truth: two shards started together send the single-process schedule between them:
    /// every request number once, each at its scheduled offset from the common start (within timing
    /// noise at the server), and their merge counts what the single run counted; its percentiles are
    /// those of the shards' pooled per-request records within the histograms' precision.
    func testTwoShardsSendTheSingleProcessScheduleAndMergeExactly() throws {
        let directory = try temporaryDirectory()
        let single = try ArrivalRecorder()
        addTeardownBlock { single.server.shutdown() }
        let whole = try runProcess(CLITests.binary, arguments(single.port) + ["--out", directory, "--name", "single", "--quiet"])
        XCTAssertEqual(whole.status, 0, whole.stderr)
        let singleSummary = try RunSummary(summaryJSON: try readFile(directory + "/single_summary.json"))

        let sharded = try ArrivalRecorder()
        addTeardownBlock { sharded.server.shutdown() }
        let startAt = wallClockSeconds() + 1.5
        let shards = try (0..<2).map { index in
            let process = Process()
            process.executableURL = CLITests.binary
            process.arguments = arguments(sharded.port) + ["--shard", "\(index)/2", "--start-at", String(format: "%.6f", startAt),
                                                           "--out", directory, "--name", "shard\(index)", "--quiet",
                                                           "--request-log", directory + "/shard\(index).csv"]
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            return process
        }
        for process in shards { process.waitUntilExit() }
        XCTAssertEqual(shards.map(\.terminationStatus), [0, 0])

        let expected = single.arrivals
        let got = sharded.arrivals
        XCTAssertEqual(expected.count, Int(singleSummary.total.scheduled))
        XCTAssertEqual(Set(got.map(\.number)).count, got.count, "a request number arrived twice")
        XCTAssertEqual(Set(got.map(\.number)), Set(expected.map(\.number)))
        // Offsets from each run's zero, number by number: the same schedule, give or take the send and the machine.
        let singleZero = singleSummary.startedAtUnixS
        let expectedOffset = Dictionary(uniqueKeysWithValues: expected.map { ($0.number, $0.unixS - singleZero) })
        let differencesMs = got.map { abs(($0.unixS - startAt) - expectedOffset[$0.number]!) * 1000 }.sorted()
        XCTAssertLessThan(differencesMs[differencesMs.count / 2], 10, "median offset difference, ms")
        XCTAssertLessThan(differencesMs.last!, 300, "largest offset difference, ms")

        let inputs = try (0..<2).map { index in
            let path = directory + "/shard\(index)_summary.json"
            return (file: path, summary: try RunSummary(summaryJSON: try readFile(path)))
        }
        XCTAssertEqual(inputs.map(\.summary.shard.description), ["0/2", "1/2"])
        for input in inputs { XCTAssertEqual(input.summary.startAtUnixS ?? 0, startAt, accuracy: 2e-6) }
        let merged = try SummaryMerge.merge(inputs)
        XCTAssertEqual(merged.total.scheduled, singleSummary.total.scheduled)
        XCTAssertEqual(merged.total.succeeded, singleSummary.total.succeeded)
        XCTAssertEqual(merged.stages.map(\.scheduled), singleSummary.stages.map(\.scheduled))
        XCTAssertEqual(merged.stages.map(\.endRate), singleSummary.stages.map(\.endRate), "shards keep the plan's rates")
        XCTAssertEqual(merged.mergedFrom.count, 2)

        // Pooled per-request latencies from the shards' request logs, sorted: the exact percentiles.
        var latenciesMs: [Double] = []
        for index in 0..<2 {
            let lines = try String(contentsOfFile: directory + "/shard\(index).csv", encoding: .utf8).split(separator: "\n")
            let header = lines[0].split(separator: ",").map(String.init)
            let intended = header.firstIndex(of: "intended_ns")!, completed = header.firstIndex(of: "completed_ns")!, outcome = header.firstIndex(of: "outcome")!
            for line in lines.dropFirst() {
                let fields = line.split(separator: ",", omittingEmptySubsequences: false)
                guard fields[outcome] == "success" else { continue }
                latenciesMs.append((Double(fields[completed])! - Double(fields[intended])!) / 1e6)
            }
        }
        latenciesMs.sort()
        XCTAssertEqual(UInt64(latenciesMs.count), merged.total.latency.count)
        for (level, value) in [(50.0, merged.total.latency.p50), (90, merged.total.latency.p90), (99, merged.total.latency.p99)] {
            let rank = max(Int((level / 100 * Double(latenciesMs.count)).rounded(.up)), 1) - 1
            let exact = latenciesMs[rank]
            // Two 3-figure histograms (ns, then µs in the file) and the log's µs rounding.
            XCTAssertEqual(value, exact, accuracy: exact * 0.002 + 0.002, "p\(level)")
        }
    }

    /// Merging one summary gives back its own figures; merging it twice doubles every count and
    /// keeps every percentile.
    func testMergeOfOneRunIsTheRunAndOfTwiceTheSameDoublesCounts() throws {
        let directory = try temporaryDirectory()
        let server = try ArrivalRecorder()
        addTeardownBlock { server.server.shutdown() }
        let run = try runProcess(CLITests.binary, arguments(server.port) + ["--out", directory, "--name", "one", "--quiet"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let path = directory + "/one_summary.json"
        let original = try RunSummary(summaryJSON: try readFile(path))
        let once = try SummaryMerge.merge([(path, original)])
        XCTAssertEqual(once.total.scheduled, original.total.scheduled)
        XCTAssertEqual(once.total.latency.count, original.total.latency.count)
        for (a, b) in zip(once.total.latency.values, original.total.latency.values) { XCTAssertEqual(a, b, accuracy: b * 0.002 + 0.002) }
        let twice = try SummaryMerge.merge([(path, original), (directory + "/again.json", original)])
        XCTAssertEqual(twice.total.scheduled, 2 * original.total.scheduled)
        XCTAssertEqual(twice.total.latency.count, 2 * original.total.latency.count)
        XCTAssertEqual(twice.stages.map(\.endRate), original.stages.map { 2 * $0.endRate }, "independent runs' rates add")
        for (a, b) in zip(twice.total.latency.values, original.total.latency.values) { XCTAssertEqual(a, b, accuracy: b * 0.002 + 0.002) }
        XCTAssertEqual(twice.series.map(\.scheduled).reduce(0, +), 2 * original.series.map(\.scheduled).reduce(0, +))

        // The CLI: files like a run's, exit 0; a file without raw stats, or a shard twice, is refused.
        let merge = try runProcess(CLITests.binary, ["merge", path, path, "--out", directory, "--name", "merged"])
        XCTAssertEqual(merge.status, 0, merge.stderr)
        XCTAssertTrue(merge.stdout.contains("Merged 2 runs"), merge.stdout)
        for suffix in ["_summary.json", "_report.html", "_stats.csv", "_stats_history.csv", "_failures.csv", "_latency.hgrm"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: directory + "/merged" + suffix), suffix)
        }
        let reread = try RunSummary(summaryJSON: try readFile(directory + "/merged_summary.json"))
        XCTAssertEqual(reread.total.scheduled, 2 * original.total.scheduled)
        XCTAssertEqual(reread.mergedFrom.count, 2)
        try Data(JSONReport.render(original).utf8).write(to: URL(fileURLWithPath: directory + "/brief.json"))
        let brief = try runProcess(CLITests.binary, ["merge", directory + "/brief.json", "--out", directory])
        XCTAssertEqual(brief.status, 64)
        XCTAssertTrue(brief.stderr.contains("no raw_stats"), brief.stderr)
        var shard = original
        shard.shard = try Shard(parsing: "0/2")
        XCTAssertThrowsError(try SummaryMerge.merge([("a", shard), ("b", shard)])) { error in
            XCTAssertTrue("\(error)".contains("given twice"), "\(error)")
        }
        var other = original
        other.stages[0].endS += 1
        XCTAssertThrowsError(try SummaryMerge.merge([("a", original), ("b", other)])) { error in
            XCTAssertTrue("\(error)".contains("same stages"), "\(error)")
        }
    }

    /// --processes 2: two shard processes, one merged run with the single run's schedule.
    func testProcessesRunsShardsAndMergesThem() throws {
        let directory = try temporaryDirectory()
        let server = try ArrivalRecorder()
        addTeardownBlock { server.server.shutdown() }
        let result = try runProcess(CLITests.binary, arguments(server.port) + ["--processes", "2", "--out", directory, "--name", "pair", "--json"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as! [String: Any]
        XCTAssertEqual(object["merged_runs"] as? Int, 2)
        let numbers = server.arrivals.map(\.number)
        XCTAssertEqual(Set(numbers).count, numbers.count)
        XCTAssertEqual(object["scheduled"] as? Int, numbers.count)
        var schedule = ArrivalSchedule(plan: try OptionTable.parse(Array(arguments(server.port).dropFirst())).ratePlan(), process: .poisson, seed: 11)
        var planned = 0
        while schedule.next() != nil { planned += 1 }
        XCTAssertEqual(numbers.count, planned)
        XCTAssertEqual(Set(numbers), Set(0..<planned))
        for index in 0..<2 {
            XCTAssertTrue(FileManager.default.fileExists(atPath: directory + "/pair_shards/shard-\(index)_summary.json"))
        }
        XCTAssertTrue(FileManager.default.fileExists(atPath: directory + "/pair_report.html"))
    }
}
