// `metronome ui`: the start form, its checks (the run's own) and the hand-over to the run's live view,
// driven over HTTP against the real binary.
import Foundation
import Glibc
import LLMSim
import XCTest
@testable import MetronomeCore

final class WebUITests: XCTestCase {
    /// `metronome ui` in the background on a free loopback port (or `host`), killed by its pid at the end.
    final class BackgroundUI {
        let process = Process()
        let out = Pipe(), err = Pipe()
        let port: UInt16

        init(host: String = "127.0.0.1", extra: [String] = []) throws {
            let probe = try Listener(host: "127.0.0.1", port: 0)
            port = probe.boundPort
            closeDescriptor(probe.fd)
            process.executableURL = CLITests.binary
            process.arguments = ["ui", "--web", "\(host):\(port)"] + extra
            process.standardOutput = out
            process.standardError = err
            try process.run()
        }

        func waitUntilServing() throws {
            try WebViewTests.waitFor("metronome ui to serve its page", within: 10) {
                try WebViewTests.http(self.port, "GET", "/").status == 200
            }
        }

        /// Waits (bounded) for the process to end by itself and collects its output.
        func finish(within seconds: Double) -> (status: Int32?, stdout: String, stderr: String) {
            let deadline = Date().addingTimeInterval(seconds)
            while process.isRunning && Date() < deadline { usleep(20_000) }
            let ended = !process.isRunning
            if !ended { kill(process.processIdentifier, SIGKILL) }
            let stdout = out.fileHandleForReading.readDataToEndOfFile()
            let stderr = err.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return (ended ? process.terminationStatus : nil, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
        }

        deinit {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
    }

    /// POST /start with a form body, as a browser sends it (`Origin` of the page itself unless given).
    static func start(_ port: UInt16, _ fields: [(String, String)], headers: [String]? = nil) throws -> (status: Int, body: String) {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        let body = fields.map { name, value in
            name + "=" + (value.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")
        }.joined(separator: "&")
        let extra = headers ?? ["Origin: http://127.0.0.1:\(port)"]
        let request = "POST /start HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            + extra.map { $0 + "\r\n" }.joined() + "Content-Length: \(body.utf8.count)\r\n\r\n" + body
        return try WebViewTests.http(port, "POST", "/start", raw: Array(request.utf8))
    }

    /// The CLI's error line for a `metronome run` command line (the page must show the same).
    func cliError(_ arguments: [String]) throws -> String {
        let result = try runProcess(CLITests.binary, ["run"] + arguments)
        XCTAssertEqual(result.status, 64, result.stderr)
        return result.stderr.split(separator: "\n").first { $0.hasPrefix("error: ") }.map(String.init) ?? "(no error line: \(result.stderr))"
    }

    /// GET / is the form; a bad rate is answered 400 with the CLI's own message, the values escaped and
    /// no secret echoed; other refusals (reserved option, cross-origin, foreign Host, methods); the
    /// server stays up throughout.
    func testFormAndItsRefusals() throws {
        let ui = try BackgroundUI()
        try ui.waitUntilServing()
        let page = try WebViewTests.http(ui.port, "GET", "/")
        XCTAssertTrue(page.body.contains("<form method=\"post\" action=\"/start\">"), page.body)
        for field in ["url", "workload", "rate", "ramp", "duration", "api_key", "extra"] {
            XCTAssertTrue(page.body.contains("name=\"\(field)\""), "field \(field)")
        }
        for kind in WorkloadKind.allCases { XCTAssertTrue(page.body.contains("<option value=\"\(kind.rawValue)\""), kind.rawValue) }
        XCTAssertFalse(page.body.contains("name=\"token\""), "no token field on loopback")
        XCTAssertFalse(page.body.contains("src=\"http"), "no external assets")

        let url = "http://127.0.0.1:1/<b>x\"y"
        let bad = try Self.start(ui.port, [("url", url), ("workload", "http"), ("rate", "fast"), ("ramp", "0s"), ("duration", "5s"),
                                           ("api_key", "sk-SECRET-KEY-1"), ("extra", "--arrival constant --header 'Authorization: Bearer tok-SECRET-2'")])
        XCTAssertEqual(bad.status, 400, bad.body)
        let expected = try cliError([url, "--workload", "http", "--rate", "fast", "--ramp", "0s", "--duration", "5s"])
        XCTAssertTrue(expected.contains("--rate"), expected)
        XCTAssertTrue(bad.body.contains(HTMLText.escape(expected)), "the CLI's message \(expected) in \(bad.body)")
        XCTAssertFalse(bad.body.contains("sk-SECRET-KEY-1"), "the API key is not echoed")
        XCTAssertFalse(bad.body.contains("tok-SECRET-2"), "a credential header is not echoed")
        XCTAssertTrue(bad.body.contains("id=\"note\""), "the page says why the options are not filled back in")
        XCTAssertTrue(bad.body.contains("value=\"http://127.0.0.1:1/&lt;b&gt;x&quot;y\""), bad.body)
        XCTAssertFalse(bad.body.contains("<b>x"), "values are escaped")
        XCTAssertTrue(bad.body.contains("<option value=\"http\" selected>"), "the workload chosen stays chosen")

        let reserved = try Self.start(ui.port, [("rate", "5"), ("duration", "1s"), ("extra", "--web 9999")])
        XCTAssertEqual(reserved.status, 400)
        XCTAssertTrue(reserved.body.contains("--web is set by metronome ui"), reserved.body)
        let quote = try Self.start(ui.port, [("rate", "5"), ("extra", "--slo 'p95<=5s")])
        XCTAssertEqual(quote.status, 400)
        XCTAssertTrue(quote.body.contains("end inside a quote"), quote.body)
        XCTAssertEqual(try Self.start(ui.port, [("rate", "5")], headers: ["Origin: http://evil.example"]).status, 403)
        XCTAssertEqual(try WebViewTests.http(ui.port, "GET", "/", raw: Array("GET / HTTP/1.1\r\nHost: evil.example\r\n\r\n".utf8)).status, 403)
        XCTAssertEqual(try WebViewTests.http(ui.port, "GET", "/start").status, 405)
        XCTAssertEqual(try WebViewTests.http(ui.port, "GET", "/stats.json").status, 404)
        XCTAssertEqual(try WebViewTests.http(ui.port, "POST", "/start", body: String(repeating: "x", count: 20_000)).status, 413)

        XCTAssertEqual(try WebViewTests.http(ui.port, "GET", "/").status, 200, "still serving after the refusals")
        XCTAssertTrue(ui.process.isRunning)
    }

    /// The whole setup is checked before the hand-over: an OpenAI workload whose server does not
    /// answer fails model discovery, and the page shows the CLI's message (exit 1 there).
    func testSetupFailureIsShownOnThePage() throws {
        let probe = try Listener(host: "127.0.0.1", port: 0)
        let closedPort = probe.boundPort
        closeDescriptor(probe.fd)
        let ui = try BackgroundUI()
        try ui.waitUntilServing()
        let target = "http://127.0.0.1:\(closedPort)"
        let answer = try Self.start(ui.port, [("url", target), ("workload", "openai-chat"), ("rate", "5"), ("ramp", "0s"),
                                              ("duration", "2s"), ("extra", "--connect-timeout 1s --no-files")], headers: nil)
        XCTAssertEqual(answer.status, 400, answer.body)
        let cli = try runProcess(CLITests.binary, ["run", target, "--rate", "5", "--duration", "2s", "--connect-timeout", "1s", "--no-files", "--quiet"])
        XCTAssertEqual(cli.status, 1, cli.stderr)
        let line = cli.stderr.split(separator: "\n").first { $0.hasPrefix("error: ") }.map(String.init) ?? "?"
        XCTAssertTrue(answer.body.contains(HTMLText.escape(line)), "the CLI's \(line) in \(answer.body)")
        XCTAssertTrue(answer.body.contains("would exit 1"), answer.body)
        XCTAssertEqual(try WebViewTests.http(ui.port, "GET", "/").status, 200)
    }

    /// A good form becomes the run: its live view answers on the same port, the test server sees the
    /// arrivals, POST /stop ends the plan (reports written), a second one ends the kept view, exit 0.
    func testStartBecomesTheRunAndStopEndsIt() throws {
        let server = try startLLMSim { $0.fast = true }
        let directory = NSTemporaryDirectory() + "metronome-ui-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let ui = try BackgroundUI()
        try ui.waitUntilServing()
        let started = try Self.start(ui.port, [("url", "http://127.0.0.1:\(server.port)/"), ("workload", "http"), ("rate", "20"),
                                               ("ramp", "0s"), ("duration", "30s"),
                                               ("extra", "--arrival constant --out \(directory) --name ui")])
        XCTAssertEqual(started.status, 200, started.body)
        XCTAssertTrue(started.body.contains("--web 127.0.0.1:\(ui.port) --web-keep"), started.body)

        var stats: [String: Any] = [:]
        try WebViewTests.waitFor("the run's /stats.json", within: 15) {
            let answer = try WebViewTests.http(ui.port, "GET", "/stats.json")
            stats = WebViewTests.json(answer.body)
            return answer.status == 200 && stats["state"] as? String == "running"
        }
        XCTAssertEqual(stats["target_rps"] as? Double, 20, "\(stats)")
        try WebViewTests.waitFor("arrivals at the test server", within: 10) { server.stats.requests >= 10 }
        XCTAssertTrue(try WebViewTests.http(ui.port, "GET", "/").body.contains("Metronome live"), "/ is now the live view")

        let stop = try WebViewTests.http(ui.port, "POST", "/stop", body: "{}")
        XCTAssertEqual(stop.status, 200, stop.body)
        try WebViewTests.waitFor("the run to end and link its report", within: 15) {
            let done = WebViewTests.json(try WebViewTests.http(ui.port, "GET", "/stats.json").body)
            return done["state"] as? String == "done" && done["report"] as? String != nil
        }
        XCTAssertTrue(ui.process.isRunning, "--web-keep: the view stays up after the run")
        XCTAssertEqual(try WebViewTests.http(ui.port, "POST", "/stop", body: "{}").status, 200)
        let result = ui.finish(within: 10)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stderr.contains("metronome ui: starting metronome run"), result.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: directory + "/ui_summary.json"), "the run wrote its reports")
        let summary = WebViewTests.json((try? String(contentsOfFile: directory + "/ui_summary.json", encoding: .utf8)) ?? "")
        XCTAssertGreaterThanOrEqual(summary["succeeded"] as? Int ?? 0, 10, "\(summary.keys)")
    }

    /// Off loopback the ui needs --web-token, and POST /start needs it in the form.
    func testNonLoopbackNeedsTheToken() throws {
        let refused = try BackgroundUI(host: "0.0.0.0")
        let result = refused.finish(within: 10)
        XCTAssertEqual(result.status, 64, result.stderr)
        XCTAssertTrue(result.stderr.contains("--web-token"), result.stderr)

        let ui = try BackgroundUI(host: "0.0.0.0", extra: ["--web-token", "s3cret-token"])
        try ui.waitUntilServing()
        XCTAssertTrue(try WebViewTests.http(ui.port, "GET", "/").body.contains("name=\"token\""))
        let form = [("rate", "fast"), ("duration", "1s")]
        XCTAssertEqual(try Self.start(ui.port, form).status, 401)
        XCTAssertEqual(try Self.start(ui.port, form + [("token", "wrong-token!")]).status, 401)
        let past = try Self.start(ui.port, form + [("token", "s3cret-token")])
        XCTAssertEqual(past.status, 400, "past the token, the bad rate: \(past.body)")
        XCTAssertTrue(past.body.contains("--rate must be"), past.body)
        XCTAssertFalse(past.body.contains("s3cret-token"), "the token is not echoed")
    }

    func testUsage() throws {
        let help = try runProcess(CLITests.binary, ["ui", "--help"])
        XCTAssertEqual(help.status, 0)
        XCTAssertTrue(help.stdout.contains("USAGE: metronome ui"), help.stdout)
        XCTAssertTrue(try runProcess(CLITests.binary, ["--help"]).stdout.contains("ui [--web [HOST:]PORT]"))
        let unknown = try runProcess(CLITests.binary, ["ui", "--rate", "5"])
        XCTAssertEqual(unknown.status, 64)
        XCTAssertTrue(unknown.stderr.contains("--rate is not an option of metronome ui"), unknown.stderr)
        let badWeb = try runProcess(CLITests.binary, ["ui", "--web", "abc"])
        XCTAssertEqual(badWeb.status, 64)
        XCTAssertEqual(badWeb.stderr, try runProcess(CLITests.binary, ["run", "--web", "abc"]).stderr, "the run's message for the same value")
    }

    func testFormDecodingAndArguments() throws {
        let form = try XCTUnwrap(StartForm.decode(Array("url=http%3A%2F%2Fh%3A8000&rate=2k&ramp=&extra=--slo+%27p95%3C%3D5s%27+--tag+a%3Db+c&workload=http".utf8)))
        XCTAssertEqual(form.url, "http://h:8000")
        XCTAssertEqual(form.extra, "--slo 'p95<=5s' --tag a=b c")
        let web = try WebAddress.parse("127.0.0.1:8089")
        XCTAssertEqual(try form.runArguments(web: web, token: nil),
                       ["http://h:8000", "--workload", "http", "--rate", "2k", "--slo", "p95<=5s", "--tag", "a=b", "c", "--web", "127.0.0.1:8089", "--web-keep"])
        XCTAssertNil(StartForm.decode(Array("rate=%G1".utf8)), "a bad escape is not a form")
        XCTAssertNil(StartForm.decode([0x72, 0x3D, 0xFF]), "nor is a body that is not UTF-8")
        XCTAssertEqual(try StartForm.shellWords(#"a "b c" 'd "e' f\ g "h\"i""#), ["a", "b c", "d \"e", "f g", "h\"i"])
        XCTAssertEqual(try StartForm.shellWords("  "), [])
        XCTAssertEqual(try StartForm.shellWords("''"), [""])
        XCTAssertThrowsError(try StartForm.shellWords("a 'b"))
        var reserved = StartForm()
        reserved.extra = "--web-token=abcdefgh1"
        XCTAssertThrowsError(try reserved.runArguments(web: web, token: nil)) { error in
            XCTAssertEqual((error as? UsageError)?.flag, "--web-token")
        }
        XCTAssertEqual(UICommand.shellQuoted("p95<=5s"), "'p95<=5s'")
        XCTAssertEqual(UICommand.shellQuoted("it's"), #"'it'\''s'"#)
        XCTAssertEqual(UICommand.shellQuoted("--rate"), "--rate")
    }
}
