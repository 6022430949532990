// `run --web`: the live view and its controls, driven over HTTP against a run of the real binary.
import Foundation
import Glibc
import LLMSim
import XCTest
@testable import MetronomeCore

final class WebViewTests: XCTestCase {
    /// A metronome run in the background, with the web view on a free loopback port.
    final class BackgroundRun {
        let process = Process()
        let out = Pipe(), err = Pipe()
        let port: UInt16
        let directory: String

        init(target: UInt16, extra: [String], host: String = "127.0.0.1") throws {
            let probe = try Listener(host: "127.0.0.1", port: 0)
            port = probe.boundPort
            closeDescriptor(probe.fd)
            directory = NSTemporaryDirectory() + "metronome-web-\(UUID().uuidString)"
            process.executableURL = CLITests.binary
            let arrival = extra.contains("--concurrency") ? [] : ["--arrival", "constant"]
            process.arguments = ["run", "http://127.0.0.1:\(target)/", "--workload", "http", "--quiet"] + arrival + [
                                 "--web", "\(host):\(port)", "--out", directory, "--name", "web"] + extra
            process.standardOutput = out
            process.standardError = err
            try process.run()
        }

        /// Waits (bounded) until the web view answers.
        func waitUntilServing() throws {
            for _ in 0..<100 {
                if (try? WebViewTests.http(port, "GET", "/stats.json")) != nil { return }
                usleep(50_000)
            }
            throw XCTSkip("the web view did not start: \(String(decoding: err.fileHandleForReading.availableData, as: UTF8.self))")
        }

        func finish() -> (status: Int32, stdout: String, stderr: String) {
            let stdout = out.fileHandleForReading.readDataToEndOfFile()
            let stderr = err.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
        }

        deinit {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            try? FileManager.default.removeItem(atPath: directory)
        }
    }

    /// One HTTP/1.1 request over a plain socket (the web view closes after each answer); the raw
    /// request text is sent as given when `raw` is set. Reads until close or `readFor` seconds.
    static func http(_ port: UInt16, _ method: String, _ path: String, body: String = "", headers: [String] = [],
                     raw: [UInt8]? = nil, readFor: Double = 5) throws -> (status: Int, body: String) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw POSIXError(.ECONNREFUSED) }
        var timeout = timeval(tv_sec: 1, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let request = raw ?? Array(("\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\n" + headers.map { $0 + "\r\n" }.joined()
            + (body.isEmpty && method == "GET" ? "" : "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n") + "\r\n" + body).utf8)
        var offset = 0
        while offset < request.count {
            let sent = request.withUnsafeBytes { send(fd, $0.baseAddress! + offset, request.count - offset, Int32(MSG_NOSIGNAL)) }
            if sent <= 0 { break }
            offset += sent
        }
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        let until = Date().addingTimeInterval(readFor)
        while Date() < until {
            let count = recv(fd, &buffer, buffer.count, 0)
            if count == 0 { break }
            if count < 0 { if errno == EAGAIN || errno == EINTR { continue } else { break } }
            response += buffer[0..<count]
        }
        let text = String(decoding: response, as: UTF8.self)
        let statusText = text.split(separator: " ", maxSplits: 2).dropFirst().first ?? ""
        let bodyText = text.range(of: "\r\n\r\n").map { String(text[$0.upperBound...]) } ?? ""
        return (Int(statusText) ?? 0, bodyText)
    }

    /// Polls `condition` every 50 ms until it holds; past `seconds` the test fails there (no fixed sleeps).
    static func waitFor(_ what: String, within seconds: Double, file: StaticString = #filePath, line: UInt = #line,
                        _ condition: () throws -> Bool) throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if (try? condition()) == true { return }
            usleep(50_000)
        }
        XCTFail("waited \(seconds) s for \(what)", file: file, line: line)
        throw WaitTimedOut(what: what)
    }

    struct WaitTimedOut: Error { var what: String }

    static func json(_ text: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
    }

    func startServer() throws -> SimServer {
        var config = SimConfig()
        config.port = 0
        config.fast = true
        return try SimServer.startInBackground(config: config)
    }

    /// `/stats.json` has every documented field with its type; the page's first HTML already shows
    /// the figures; `/events` sends a message a second.
    func testStatsJSONEventsAndPage() throws {
        let server = try startServer()
        defer { server.stop() }
        let run = try BackgroundRun(target: server.port, extra: ["--rate", "20", "--duration", "6s", "--no-files", "--slo", "p95<=10s,rps>=1000"])
        try run.waitUntilServing()
        // The first second of arrivals (20/s): the hold is under way and has latencies to show.
        try Self.waitFor("more than 10 requests scheduled", within: 10) {
            (Self.json(try Self.http(run.port, "GET", "/stats.json").body)["scheduled"] as? Int ?? 0) > 10
        }
        let stats = try Self.http(run.port, "GET", "/stats.json")
        XCTAssertEqual(stats.status, 200)
        let object = Self.json(stats.body)
        for key in ["elapsed_s", "target_rps", "offered_rps", "achieved_rps", "duration_s"] {
            XCTAssertNotNil(object[key] as? Double, "\(key) in \(stats.body)")
        }
        for key in ["in_flight", "queued", "errors", "sent", "scheduled"] { XCTAssertNotNil(object[key] as? Int, "\(key) in \(stats.body)") }
        XCTAssertEqual(object["stage"] as? String, "hold")
        XCTAssertEqual(object["state"] as? String, "running")
        for key in ["latency_ms", "latency_run_ms", "send_lag_ms"] {
            let percentiles = object[key] as? [String: Any]
            for level in ["p50", "p95", "p99"] { XCTAssertNotNil(percentiles?[level] as? Double, "\(key).\(level) in \(stats.body)") }
        }
        XCTAssertEqual(object["target_rps"] as? Double, 20)
        XCTAssertGreaterThan(object["scheduled"] as? Int ?? 0, 10, stats.body)
        // The SLO turns green or red as it goes: p95 is far below 10 s, 20 requests/s far below 1,000.
        let slo = object["slo"] as? [[String: Any]] ?? []
        XCTAssertEqual(slo.map { $0["expression"] as? String }, ["p95<=10s", "rps>=1000"], stats.body)
        XCTAssertEqual(slo.map { $0["passed"] as? Bool }, [true, false], stats.body)
        XCTAssertEqual(object["slo_passed"] as? Bool, false)

        let events = try Self.http(run.port, "GET", "/events", readFor: 2.6)
        XCTAssertEqual(events.status, 200)
        let messages = events.body.split(separator: "\n").filter { $0.hasPrefix("data: ") }.map { Self.json(String($0.dropFirst(6))) }
        XCTAssertGreaterThanOrEqual(messages.count, 3, events.body)
        let times = messages.compactMap { $0["elapsed_s"] as? Double }
        if times.count >= 3 {
            XCTAssertEqual(times[2] - times[1], 1, accuracy: 0.3, "one message a second: \(times)")
        }

        let page = try Self.http(run.port, "GET", "/")
        XCTAssertEqual(page.status, 200)
        XCTAssertTrue(page.body.contains("id=\"offered\""), page.body)
        XCTAssertTrue(page.body.contains("<svg id=\"ratechart\""))
        XCTAssertTrue(page.body.contains("<tr class=\"fail\"><td>FAIL</td><td>rps&gt;=1000</td>"), page.body)
        XCTAssertTrue(page.body.contains("<tr class=\"pass\"><td>PASS</td><td>p95&lt;=10s</td>"), page.body)
        XCTAssertFalse(page.body.contains("src=\"http"), "no external assets")
        XCTAssertEqual(try Self.http(run.port, "GET", "/nope").status, 404)
        let result = run.finish()
        XCTAssertEqual(result.status, 3, "the SLO's rps>=1000 fails at the end too: \(result.stderr)")
    }

    /// `POST /rate` changes the arrival rate the server sees; the change shows as stages in the
    /// reports; `POST /stop` ends the run early as a normal end (exit 0, reports written).
    func testRateChangeReachesTheServerAndStopWritesReports() throws {
        let server = try startServer()
        defer { server.stop() }
        let run = try BackgroundRun(target: server.port, extra: ["--rate", "20", "--duration", "30s"])
        try run.waitUntilServing()
        try Self.waitFor("the first requests at the server", within: 10) { server.stats.requests >= 5 }
        let before0 = server.stats.requests
        usleep(2_000_000)
        let before = Double(server.stats.requests - before0) / 2
        let change = try Self.http(run.port, "POST", "/rate", body: #"{"rate": 100, "ramp_s": 0}"#)
        XCTAssertEqual(change.status, 200, change.body)
        XCTAssertEqual(Self.json(change.body)["ok"] as? Bool, true)
        // The loop takes the change within a turn; the run's figures say when it has.
        try Self.waitFor("the new target in /stats.json", within: 10) {
            Self.json(try Self.http(run.port, "GET", "/stats.json").body)["target_rps"] as? Double == 100
        }
        let after0 = server.stats.requests
        usleep(2_000_000)
        let after = Double(server.stats.requests - after0) / 2
        XCTAssertEqual(before, 20, accuracy: 5, "arrivals/s before the change")
        XCTAssertEqual(after, 100, accuracy: 15, "arrivals/s after the change")
        let stats = Self.json(try Self.http(run.port, "GET", "/stats.json").body)
        XCTAssertEqual(stats["target_rps"] as? Double, 100)
        XCTAssertEqual((stats["stages"] as? [Any])?.count, 2, "the hold cut at the change, then a hold at 100")

        let started = Date()
        let stop = try Self.http(run.port, "POST", "/stop", body: "{}")
        XCTAssertEqual(stop.status, 200, stop.body)
        let result = run.finish()
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertLessThan(Date().timeIntervalSince(started), 15, "stopped long before the 30 s plan")
        let summary = Self.json((try? String(contentsOfFile: run.directory + "/web_summary.json", encoding: .utf8)) ?? "")
        let stages = (summary["stages"] as? [[String: Any]])?.compactMap { $0["name"] as? String } ?? []
        XCTAssertEqual(stages, ["hold", "web 2"], "the summary's stages: \(summary.keys)")
        XCTAssertFalse(result.stdout.contains("INTERRUPTED"), result.stdout)
    }

    /// Bad controls are refused with 400/413/405/403 and the run goes on to its planned end.
    func testBadRequestsAreRefusedWithoutHarmingTheRun() throws {
        let server = try startServer()
        defer { server.stop() }
        let run = try BackgroundRun(target: server.port, extra: ["--rate", "50", "--duration", "5s", "--no-files", "--json"])
        try run.waitUntilServing()
        XCTAssertEqual(try Self.http(run.port, "POST", "/rate", body: "{not json").status, 400)
        XCTAssertEqual(try Self.http(run.port, "POST", "/rate", body: #"{"rate": -5}"#).status, 400)
        XCTAssertEqual(try Self.http(run.port, "POST", "/rate", body: #"{"rate": "fast"}"#).status, 400)
        XCTAssertEqual(try Self.http(run.port, "POST", "/rate", body: #"{"rate": true}"#).status, 400)
        XCTAssertEqual(try Self.http(run.port, "POST", "/rate", body: #"{"rate": 10, "ramp_s": -1}"#).status, 400)
        XCTAssertEqual(try Self.http(run.port, "POST", "/rate", body: #"{"rate": 10, "speed": 2}"#).status, 400)
        let big = String(repeating: "x", count: 20_000)
        XCTAssertEqual(try Self.http(run.port, "POST", "/rate", body: big).status, 413)
        XCTAssertEqual(try Self.http(run.port, "GET", "/stats.json", headers: ["X-Big: " + big]).status, 413)
        XCTAssertEqual(try Self.http(run.port, "GET", "/rate").status, 405)
        XCTAssertEqual(try Self.http(run.port, "GET", "/", raw: Array("GET / HTTP/1.1\r\nHost: evil.example\r\n\r\n".utf8)).status, 403)
        XCTAssertEqual(try Self.http(run.port, "POST", "/stop", body: "{}", headers: ["Origin: http://evil.example"]).status, 403)
        XCTAssertEqual(try Self.http(run.port, "GET", "/", raw: Array("garbage\r\n\r\n".utf8)).status, 400)
        let stats = Self.json(try Self.http(run.port, "GET", "/stats.json").body)
        XCTAssertEqual(stats["target_rps"] as? Double, 50, "no command got through")
        XCTAssertEqual(stats["commands_taken"] as? Int, 0)
        let result = run.finish()
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(Self.json(result.stdout)["scheduled"] as? Int, 250, "the planned 250 requests ran: \(result.stdout)")
    }

    /// Off loopback, the controls need the token; without one the run is refused up front.
    func testNonLoopbackNeedsTheTokenForControls() throws {
        let server = try startServer()
        defer { server.stop() }
        let refused = try runProcess(CLITests.binary, ["run", "http://127.0.0.1:\(server.port)/", "--rate", "5", "--duration", "1s", "--web", "0.0.0.0:0", "--no-files", "--quiet"])
        XCTAssertEqual(refused.status, 64)
        XCTAssertTrue(refused.stderr.contains("--web-token"), refused.stderr)
        let run = try BackgroundRun(target: server.port, extra: ["--rate", "20", "--duration", "20s", "--no-files", "--web-token", "s3cret-token"], host: "0.0.0.0")
        try run.waitUntilServing()
        XCTAssertEqual(try Self.http(run.port, "POST", "/stop", body: "{}").status, 401)
        XCTAssertEqual(try Self.http(run.port, "POST", "/stop", body: "{}", headers: ["Authorization: Bearer wrong-token!"]).status, 401)
        XCTAssertEqual(try Self.http(run.port, "GET", "/stats.json").status, 200, "reading needs no token")
        // Some requests measured, so the stopped run is a measured one (exit 0).
        try Self.waitFor("requests at the server", within: 10) { server.stats.requests >= 10 }
        XCTAssertEqual(try Self.http(run.port, "POST", "/stop", body: "{}", headers: ["Authorization: Bearer s3cret-token"]).status, 200)
        let result = run.finish()
        XCTAssertEqual(result.status, 0, result.stderr)
    }

    /// In a closed loop the workers set the rate: /rate is refused (409), /stop still ends the run.
    func testClosedLoopRefusesRateButStops() throws {
        let server = try startServer()
        defer { server.stop() }
        let run = try BackgroundRun(target: server.port, extra: ["--concurrency", "2", "--duration", "30s", "--no-files"])
        try run.waitUntilServing()
        XCTAssertEqual(try Self.http(run.port, "POST", "/rate", body: #"{"rate": 10}"#).status, 409)
        try Self.waitFor("requests at the server", within: 10) { server.stats.requests >= 5 }
        let started = Date()
        XCTAssertEqual(try Self.http(run.port, "POST", "/stop", body: "{}").status, 200)
        let result = run.finish()
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertLessThan(Date().timeIntervalSince(started), 15, "stopped long before the 30 s plan")
    }

    func testWebOptionsRefuseBadValues() {
        for (arguments, flag) in [(["--web", "abc"], "--web"), (["--web", "70000"], "--web"), (["--web", "1.2.3:80"], "--web"),
                                  (["--web-token", "short"], "--web-token"), (["--web-token", "has space in it"], "--web-token")] {
            XCTAssertThrowsError(try OptionTable.parse(arguments), "\(arguments)") { error in
                XCTAssertEqual((error as? UsageError)?.flag, flag)
            }
        }
        XCTAssertEqual(try OptionTable.parse(["--web", "8089"]).web, try WebAddress.parse("127.0.0.1:8089"))
        XCTAssertEqual(try OptionTable.parse(["--web", "localhost:0"]).web?.isLoopback, true)
        var options = RunOptions()
        options.webKeep = true
        XCTAssertThrowsError(try options.checkWeb())
    }

    /// A rate change keeps the plan up to now (same Λ, so arrivals already drawn keep their times)
    /// and replaces the rest by a ramp and a hold to the planned end.
    func testReplacingTheRestKeepsThePastAndEndsOnTime() throws {
        let plan = try RatePlan(startRatePerSec: 0, targets: [(10_000_000_000, 10, "ramp"), (0, 40, "jump"), (20_000_000_000, 40, "hold")])
        let now: UInt64 = 15_000_000_000
        let replaced = try plan.replacingRest(atNs: now, ratePerSec: 100, rampNs: 5_000_000_000)
        XCTAssertEqual(replaced.stages.map(\.name), ["ramp", "hold", "web 3", "web 4"])
        XCTAssertEqual(replaced.totalDurationNs, plan.totalDurationNs)
        XCTAssertEqual(replaced.rate(atNs: 12_000_000_000), 40)
        XCTAssertEqual(replaced.rate(atNs: 17_500_000_000), 70, accuracy: 1e-9)
        XCTAssertEqual(replaced.rate(atNs: 25_000_000_000), 100)
        for t: UInt64 in [1_000_000_000, 9_000_000_000, 12_000_000_000, now] {
            XCTAssertEqual(replaced.expectedArrivals(byNs: t), plan.expectedArrivals(byNs: t), accuracy: 1e-6)
        }
        let ramped = try plan.replacingRest(atNs: now, ratePerSec: 5, rampNs: 60_000_000_000)
        XCTAssertEqual(ramped.stages.count, 3, "a ramp past the planned end has no hold after it")
        var schedule = ArrivalSchedule(plan: plan, process: .constant, seed: 1)
        var last: UInt64 = 0
        while let t = schedule.next(), t < now { last = t }
        let retimed = schedule.replacePlan(replaced)
        XCTAssertNotNil(retimed)
        XCTAssertGreaterThan(retimed!, last)
        XCTAssertLessThan(retimed!, now + 100_000_000, "the next arrival follows the new rate, not the old gap")
    }
}
