// `--concurrency` (closed loop): the workers' arrivals, the options, the engine against servers that count, and the reports.
import Foundation
import Glibc
import Synchronization
import XCTest
@testable import MetronomeCore

/// What a test server saw: requests at once (the most of it), each request's arrival and hold.
final class ConcurrencyRecorder: Sendable {
    struct State {
        var inFlight = 0
        var maxInFlight = 0
        var arrivalsNs: [UInt64] = []
        var holdsNs: [UInt64] = []
    }
    let state = Mutex(State())
    let delayUs: UInt32

    init(delayMs: Int) { delayUs = UInt32(delayMs * 1000) }

    /// Answers after the delay; the count goes down before the answer is written, so a client that
    /// sends its next request as soon as it reads this one is never counted twice.
    func respond() -> [UInt8] {
        let arrived = monotonicNs()
        state.withLock { state in
            state.inFlight += 1
            state.maxInFlight = max(state.maxInFlight, state.inFlight)
            state.arrivalsNs.append(arrived)
        }
        usleep(delayUs)
        let held = monotonicNs() - arrived
        state.withLock { state in
            state.inFlight -= 1
            state.holdsNs.append(held)
        }
        return ScriptedServer.response(status: 200, body: "ok")
    }

    var snapshot: State { state.withLock { $0 } }
}

final class ClosedLoopTests: XCTestCase {
    // MARK: The workers' arrivals

    func testAllWorkersStartAtOnceThenReturnAfterTheirEndPlusThinkTime() {
        var arrivals = ClosedLoopArrivals(workers: 3, spawnRatePerSec: nil, thinkNs: 10, endNs: 1_000)
        for _ in 0..<3 {
            XCTAssertEqual(arrivals.peek(), 0)
            arrivals.take()
        }
        XCTAssertNil(arrivals.peek(), "every worker is busy: nothing is due")
        arrivals.workerFreed(atNs: 100)
        arrivals.workerFreed(atNs: 150)
        XCTAssertEqual(arrivals.peek(), 110)
        arrivals.take()
        XCTAssertEqual(arrivals.peek(), 160)
        arrivals.take()
        XCTAssertNil(arrivals.peek())
        XCTAssertEqual(arrivals.busy, 3)
        arrivals.workerFreed(atNs: 995)
        XCTAssertNil(arrivals.peek(), "ready at 1005, after the plan's end: no new request")
    }

    func testSpawnTimesMergeWithReturnsInTimeOrder() {
        // 4 workers at 10/s: spawns at 0, 100, 200, 300 ms.
        var arrivals = ClosedLoopArrivals(workers: 4, spawnRatePerSec: 10, thinkNs: 0, endNs: 10_000_000_000)
        var taken: [UInt64] = []
        func take() {
            taken.append(arrivals.peek()!)
            arrivals.take()
        }
        take()                                   // worker 0 at 0
        arrivals.workerFreed(atNs: 50_000_000)   // returns before the next spawn
        take()                                   // 50 ms: the return, not the 100 ms spawn
        take()                                   // 100 ms: worker 1
        arrivals.workerFreed(atNs: 250_000_000)
        take()                                   // 200 ms: worker 2
        take()                                   // 250 ms: the return
        take()                                   // 300 ms: worker 3
        XCTAssertEqual(taken, [0, 50_000_000, 100_000_000, 200_000_000, 250_000_000, 300_000_000])
        XCTAssertNil(arrivals.peek(), "four workers, four requests out")
        XCTAssertEqual(arrivals.busy, 4)
    }

    // MARK: Options

    func testOptionsAndTheirPlan() throws {
        let options = try OptionTable.parse(["http://x", "--concurrency", "8", "--spawn-rate", "4", "--think-time", "250ms", "--duration", "10s"])
        XCTAssertEqual(options.concurrency, 8)
        XCTAssertEqual(options.spawnRate, 4)
        XCTAssertEqual(options.thinkTimeNs, 250_000_000)
        let plan = try options.ratePlan()
        XCTAssertEqual(plan.stages.map(\.name), ["spawn", "hold"])
        XCTAssertEqual(plan.stages[0].durationNs, 1_750_000_000, "the last of 8 workers starts at 7/4 s")
        XCTAssertEqual(plan.totalDurationNs, 10_000_000_000, "--duration counts from the start, spawning included")
        XCTAssertEqual(TextReport.describe(plan, closedLoop: true), "spawn 1 → 8 workers over 1.75s, hold 8 workers for 8.25s")
        let config = Dictionary(options.resolvedConfig().map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
        XCTAssertEqual(config["mode"], "closed-loop")
        XCTAssertEqual(config["concurrency"], "8")
        XCTAssertEqual(config["spawn_rate"], "4")
        XCTAssertEqual(config["think_time"], "250ms")
        XCTAssertNil(config["rate"])

        let atOnce = try OptionTable.parse(["http://x", "--concurrency", "8", "--duration", "10s"]).ratePlan()
        XCTAssertEqual(atOnce.stages.map(\.name), ["hold"], "without --spawn-rate every worker starts at 0: all of it is the hold")
        let longSpawn = try OptionTable.parse(["http://x", "--concurrency", "100", "--spawn-rate", "1", "--duration", "10s"]).ratePlan()
        XCTAssertEqual(longSpawn.stages.map(\.name), ["spawn"], "spawning takes the whole run")
    }

    func testBadUsageIsOneLineNamingTheFlag() {
        let base = ["http://x", "--duration", "5s"]
        let table: [([String], String, String)] = [
            (["--concurrency", "4", "--rate", "5"], "--rate", "cannot be combined with --concurrency"),
            (["--concurrency", "4", "--ramp", "5s"], "--ramp", "cannot be combined"),
            (["--concurrency", "4", "--start-rate", "2"], "--start-rate", "cannot be combined"),
            (["--concurrency", "4", "--arrival", "constant"], "--arrival", "cannot be combined"),
            (["--concurrency", "4", "--burstiness", "2"], "--burstiness", "cannot be combined"),
            (["--concurrency", "0"], "--concurrency", "from 1 to"),
            (["--concurrency", "-3"], "--concurrency", "from 1 to"),
            (["--concurrency", "four"], "--concurrency", "from 1 to"),
            (["--concurrency", "2000000"], "--concurrency", "from 1 to"),
            (["--concurrency", "20", "--max-connections", "10"], "--concurrency", "exceeds --max-connections 10"),
            (["--concurrency", "4", "--spawn-rate", "0"], "--spawn-rate", "above 0"),
            (["--concurrency", "4", "--spawn-rate", "x"], "--spawn-rate", "rate"),
            (["--concurrency", "4", "--think-time", "-1s"], "--think-time", "duration"),
            (["--concurrency", "4", "--think-time", "2h"], "--think-time", "at most 1h"),
            (["--rate", "5", "--spawn-rate", "2"], "--spawn-rate", "only applies with --concurrency"),
            (["--rate", "5", "--think-time", "1s"], "--think-time", "only applies with --concurrency"),
        ]
        for (arguments, flag, message) in table {
            XCTAssertThrowsError(try OptionTable.parse(base + arguments), "\(arguments)") { error in
                XCTAssertEqual((error as? UsageError)?.flag, flag, "\(arguments): \(error)")
                XCTAssertTrue("\(error)".contains(message), "\(arguments): \(error)")
                XCTAssertFalse("\(error)".contains("\n"), "one line")
            }
        }
        XCTAssertThrowsError(try OptionTable.parse(["http://x", "--concurrency", "4", "--stage", "5s:5"])) { error in
            XCTAssertEqual((error as? UsageError)?.flag, "--stage", "\(error)")
        }
        XCTAssertThrowsError(try OptionTable.parse(["http://x", "--concurrency", "4"])) { error in
            XCTAssertEqual((error as? UsageError)?.flag, "--duration", "\(error)")
        }
    }

    func testTheBinaryExits64WithOneLine() throws {
        for arguments in [["run", "--concurrency", "4", "--rate", "5", "--duration", "1s"], ["run", "--concurrency", "4"],
                          ["find-max", "--slo", "p95<=1s", "--concurrency", "4"]] {
            let process = Process()
            process.executableURL = CLITests.binary
            process.arguments = arguments
            let err = Pipe()
            process.standardError = err
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            XCTAssertEqual(process.terminationStatus, 64, "\(arguments): \(text)")
            XCTAssertTrue(text.hasPrefix("error: --"), text)
            XCTAssertEqual(text.split(separator: "\n").count, 1, text)
        }
    }

    func testSweepAndFindMaxRefuseAClosedLoop() {
        for (command, extra) in [(CapacityOptions.Command.sweep, ["--rates", "5"]), (.findMax, ["--slo", "p95<=1s"])] {
            for option in [["--concurrency", "4"], ["--spawn-rate", "2"], ["--think-time", "1s"]] {
                XCTAssertThrowsError(try CapacityOptionTable.parse(extra + option, command: command)) { error in
                    XCTAssertEqual((error as? UsageError)?.flag, option[0], "\(error)")
                    XCTAssertTrue("\(error)".contains("not an option of metronome \(command.rawValue)"), "\(error)")
                }
            }
        }
    }

    func testTheOpenLoopCommandKeepsEveryOtherOptionAndHidesSecrets() throws {
        let options = try OptionTable.parse(["http://127.0.0.1:8000/v1", "--concurrency", "8", "--spawn-rate=2", "--max-tokens", "50",
                                             "--think-time", "1s", "--duration", "2m", "--api-key", "sk-secret", "--header", "X-Api-Key: hidden",
                                             "--tag", "note=two words", "--ignore-eos"])
        let command = options.openLoopCommand(ratePerSec: 12.345)
        XCTAssertEqual(command, "metronome run http://127.0.0.1:8000/v1 --max-tokens 50 --api-key '***' --header 'X-Api-Key: ***' --tag 'note=two words' --ignore-eos --rate 12.35 --duration 2m")
        XCTAssertNoThrow(try OptionTable.parse(["http://x", "--max-tokens", "50", "--rate", "12.35", "--duration", "2m"]), "the suggested form parses")
    }

    // MARK: Against servers

    func run(_ arguments: [String], port: UInt16) throws -> RunSummary {
        let options = try OptionTable.parse(["http://127.0.0.1:\(port)/", "--workload", "http", "--quiet", "--no-files"] + arguments)
        let (summary, _) = try LoadRun(options: options).execute(handlesSignals: false)
        let total = summary.total
        XCTAssertEqual(total.scheduled, total.succeeded + total.failed + total.dropped + total.unfinished, "outcomes add up")
        return summary
    }

    func startServer(_ recorder: ConcurrencyRecorder) throws -> ScriptedServer {
        let server = try ScriptedServer { _, _ in recorder.respond() }
        addTeardownBlock { server.shutdown() }
        return server
    }

    /// The truth: with 4 workers the server never has more than 4 requests, and the rate is
    /// 4 ÷ the service time (the hold the server applied) within 5 %.
    func testFourWorkersNeverExceedFourAtOnceAndRunAtFourOverTheServiceTime() throws {
        var attempt = 0
        while true {
            attempt += 1
            let recorder = ConcurrencyRecorder(delayMs: 100)
            let server = try startServer(recorder)
            let summary = try run(["--concurrency", "4", "--duration", "5s"], port: server.port)
            let seen = recorder.snapshot
            XCTAssertEqual(seen.maxInFlight, 4, "the server saw at most (and at some point) 4 requests at once")
            XCTAssertEqual(seen.arrivalsNs.count, Int(summary.total.sent), "every request sent once, none twice")
            XCTAssertEqual(summary.total.succeeded, summary.total.scheduled)
            let serviceS = Double(seen.holdsNs.reduce(0, +)) / Double(seen.holdsNs.count) / 1e9
            let expected = 4 / serviceS
            let ratio = summary.total.achievedRps / expected
            // One retry: a stall of a loaded 2-core machine may stretch one run's cycles.
            if abs(ratio - 1) > 0.05 && attempt == 1 { continue }
            XCTAssertEqual(ratio, 1, accuracy: 0.05, "achieved \(summary.total.achievedRps)/s, expected 4 ÷ \(serviceS) s = \(expected)/s")
            let sustained = try XCTUnwrap(summary.closedLoop?.openLoopRatePerSec)
            XCTAssertEqual(sustained / expected, 1, accuracy: 0.05, "the suggested open-loop rate, \(sustained)/s, is the same rate")
            XCTAssertEqual(sustained, Double(summary.total.succeeded) / summary.elapsedS, accuracy: 1e-9, "no spawn stage: the hold is the run")
            break
        }
    }

    func testSpawnRateStaggersTheFirstRequests() throws {
        let recorder = ConcurrencyRecorder(delayMs: 1_000)
        let server = try startServer(recorder)
        let summary = try run(["--concurrency", "4", "--spawn-rate", "10", "--duration", "600ms", "--drain", "3s"], port: server.port)
        let arrivals = recorder.snapshot.arrivalsNs.sorted()
        XCTAssertEqual(arrivals.count, 4, "each worker's first request takes 1 s, past the plan's end: one each")
        XCTAssertEqual(summary.total.succeeded, 4)
        for (earlier, later) in zip(arrivals, arrivals.dropFirst()) {
            XCTAssertEqual(Double(later - earlier) / 1e6, 100, accuracy: 40, "spaced 1/10 s: \(arrivals.map { Double($0 - arrivals[0]) / 1e6 })")
        }
        XCTAssertEqual(summary.stages.map(\.name), ["spawn", "hold"])
    }

    func testThinkTimeLowersTheRateToWorkersOverServicePlusThink() throws {
        var attempt = 0
        while true {
            attempt += 1
            let recorder = ConcurrencyRecorder(delayMs: 50)
            let server = try startServer(recorder)
            let summary = try run(["--concurrency", "2", "--think-time", "100ms", "--duration", "4s"], port: server.port)
            let seen = recorder.snapshot
            let serviceS = Double(seen.holdsNs.reduce(0, +)) / Double(seen.holdsNs.count) / 1e9
            let expected = 2 / (serviceS + 0.1)
            let ratio = summary.total.achievedRps / expected
            if abs(ratio - 1) > 0.07 && attempt == 1 { continue }
            XCTAssertEqual(ratio, 1, accuracy: 0.07, "achieved \(summary.total.achievedRps)/s, expected \(expected)/s")
            XCTAssertLessThanOrEqual(seen.maxInFlight, 2)
            break
        }
    }

    /// Every request is refused: each worker still sends its next one after its think time.
    func testAWorkerWhoseConnectionIsRefusedSendsItsNextRequest() throws {
        let listener = try Listener(host: "127.0.0.1", port: 0)
        let port = listener.boundPort
        listener.close()
        let summary = try run(["--concurrency", "3", "--think-time", "50ms", "--duration", "1s"], port: port)
        // 3 workers × one request every ~50 ms over 1 s: about 60, all refused.
        XCTAssertEqual(Double(summary.total.scheduled), 60, accuracy: 15, "no worker lost, none doubled")
        XCTAssertEqual(summary.total.errors.first { $0.kind == "connect_refused" }?.count, summary.total.scheduled)
        XCTAssertEqual(summary.closedLoop?.openLoopRatePerSec, 0)
        XCTAssertTrue(TextReport.render(summary, planDescription: "").contains("No request succeeded"))
    }

    /// A hostile server resets every connection after its headers: no worker is lost, nothing is sent twice.
    func testAWorkerWhoseRequestIsResetSendsItsNextRequest() throws {
        let server = try HostileServer(.resetAfterHeaders)
        addTeardownBlock { server.stop() }
        let summary = try run(["--concurrency", "2", "--duration", "1s"], port: server.port)
        XCTAssertGreaterThan(summary.total.scheduled, 10, "each worker went on after its failures (about 40 each at 20 ms a reset)")
        XCTAssertEqual(summary.total.succeeded, 0)
        XCTAssertEqual(summary.total.failed, summary.total.scheduled)
        XCTAssertEqual(server.requestsReceived, Int(summary.total.sent), "each request reached the server once")
        XCTAssertLessThanOrEqual(server.connectionsAccepted, Int(summary.total.sent))
    }

    // MARK: Reports

    func testEveryReportSaysClosedLoopAndTheSummaryFileKeepsIt() throws {
        let recorder = ConcurrencyRecorder(delayMs: 20)
        let server = try startServer(recorder)
        let summary = try run(["--concurrency", "2", "--spawn-rate", "20", "--duration", "1s", "--tag", "k=v"], port: server.port)
        let mode = try XCTUnwrap(summary.closedLoop)
        XCTAssertEqual(mode.workers, 2)
        let hold = try XCTUnwrap(summary.stages.first { $0.name == "hold" })
        XCTAssertEqual(mode.openLoopRatePerSec, Double(hold.succeeded) / (summary.elapsedS - hold.startS), accuracy: 1e-9,
                       "the hold's successes over the time from its start to the last completion")
        XCTAssertTrue(mode.openLoopCommand.hasPrefix("metronome run http://127.0.0.1:\(server.port)/ --workload http --quiet --no-files --tag k=v --rate "))
        XCTAssertTrue(mode.openLoopCommand.hasSuffix(" --duration 1s"))

        let text = TextReport.render(summary, planDescription: summary.planDescription)
        XCTAssertTrue(text.contains("Mode: CLOSED LOOP"), text)
        XCTAssertTrue(text.contains("spawn 1 → 2 workers over 50ms, hold 2 workers for 950ms"), text)
        let latencyTitles = text.split(separator: "\n").filter { $0.hasPrefix("Latency, ms") || $0.hasPrefix("Service time, ms") }
        XCTAssertEqual(latencyTitles.count, 2)
        XCTAssertTrue(latencyTitles.allSatisfy { $0.contains(ClosedLoopMode.tableTag) }, "\(latencyTitles)")
        XCTAssertTrue(text.contains("Open-loop rate to try next: \(Format.rate(mode.openLoopRatePerSec)) requests/s"), text)
        XCTAssertTrue(text.contains("  " + mode.openLoopCommand + "\n"), text)

        let html = HTMLReport.render(summary, title: "t")
        XCTAssertTrue(html.contains(HTMLText.escape(ClosedLoopMode.note)))
        XCTAssertTrue(html.contains("Latency, ms <span class=\"warn\">(\(ClosedLoopMode.tableTag))</span>"))
        XCTAssertTrue(html.contains(HTMLText.escape(mode.openLoopCommand)))
        XCTAssertFalse(html.contains("planned rate"), "a closed loop plans workers, not a rate")

        let brief = JSONReport.render(summary)
        XCTAssertTrue(brief.contains("\"mode\": \"closed-loop\""), brief)
        XCTAssertTrue(brief.contains("\"start_workers\""), brief)
        XCTAssertFalse(brief.contains("\"start_rate\""), brief)

        XCTAssertTrue(LocustCSV.stats(summary).contains(",/ [closed loop: 2 workers],"))
        XCTAssertTrue(LocustCSV.stats(summary).contains(",Aggregated,"), "the row scripts read is Locust's")

        let decoded = try RunSummary(summaryJSON: Array(SummaryFile.render(summary).utf8))
        var decodedMode = try XCTUnwrap(decoded.closedLoop)
        XCTAssertEqual(decodedMode.openLoopRatePerSec, mode.openLoopRatePerSec, accuracy: 1e-6)
        decodedMode.openLoopRatePerSec = mode.openLoopRatePerSec
        XCTAssertEqual(decodedMode, mode)
        XCTAssertEqual(decoded.planDescription, summary.planDescription)
        XCTAssertEqual(TextReport.render(decoded, planDescription: decoded.planDescription), text, "metronome report renders the same text")

        let open = try run(["--rate", "10", "--duration", "300ms"], port: server.port)
        XCTAssertNil(open.closedLoop)
        XCTAssertFalse(JSONReport.render(open).contains("\"mode\""), "an open-loop summary has no mode member (as before)")
        XCTAssertFalse(TextReport.render(open, planDescription: "").contains("CLOSED LOOP"))
    }
}
