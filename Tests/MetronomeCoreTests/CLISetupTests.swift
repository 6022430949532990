// The metronome binary against hostile setups: Ctrl-C in discovery, unwritable outputs, runs that
// measured nothing, injected URLs and numbers, secrets in usage errors, and `report`'s options.
import Foundation
import LLMSim
import XCTest
@testable import MetronomeCore

extension CLITests {
    /// A server that accepts and never answers holds discovery; SIGINT must end it at once with 130
    /// (SIGINT/SIGTERM used to be blocked for the engine's signalfd from the very start).
    func testSIGINTDuringModelDiscoveryExits130AtOnce() throws {
        let server = try DiscoveryServer(lifetimeS: 15) { fd, server in
            DiscoveryServer.readHead(fd)
            while !server.isStopped { usleep(50_000) }
        }
        defer { server.shutdown() }
        for signal in [SIGINT, SIGTERM] {
            let started = Date()
            let result = try metronome(["run", "http://127.0.0.1:\(server.port)", "--rate", "1", "--duration", "1s", "--connect-timeout", "30s",
                                        "--no-files"], signalAfter: 1, signal: signal)
            XCTAssertEqual(result.status, 130, result.stderr)
            XCTAssertLessThan(Date().timeIntervalSince(started), 4, "ends at the signal, not at the server's or the deadline's end")
            XCTAssertTrue(result.stderr.contains("interrupted during setup"), result.stderr)
        }
    }

    /// An --out or --request-log that cannot be written is a usage error before the first request:
    /// the server sees no request, and the message names the path.
    func testUnwritableOutputsAreRefusedBeforeTheRun() throws {
        let server = try DiscoveryServer { fd, server in
            DiscoveryServer.readHead(fd)
            _ = server.send(fd, Array("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok".utf8))
        }
        defer { server.shutdown() }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("metronome-cli-file-\(getpid())")
        try Data("x".utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let base = ["run", "http://127.0.0.1:\(server.port)/", "--workload", "http", "--rate", "10", "--duration", "1s", "--quiet"]
        for (extra, path) in [(["--out", "/proc/metronome-x"], "/proc/metronome-x"), (["--out", file.path + "/sub"], file.path),
                              (["--no-files", "--request-log", "/proc/metronome-x/log.csv"], "/proc/metronome-x/log.csv"),
                              (["--no-files", "--request-log", file.path + "/log.csv"], file.path + "/log.csv")] {
            let result = try metronome(base + extra)
            XCTAssertEqual(result.status, 64, "\(extra): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains(path), "\(extra): \(result.stderr)")
            XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, result.stderr)
        }
        XCTAssertEqual(server.bytesWritten.load(ordering: .relaxed), 0, "no request reached the server")
    }

    /// Every request 404 (a wrong --model against llmsim): the run did not measure the server, exit 2
    /// with the reason on stderr, with or without --slo.
    func testRunInWhichNothingSucceededExits2() throws {
        var config = SimConfig()
        config.port = 0
        config.ttftNs = 1_000_000
        config.itlNs = 1_000_000
        let server = try SimServer.startInBackground(config: config)
        defer { server.stop() }
        for extra in [[], ["--slo", "p95<=5s"]] {
            let result = try metronome(["run", "http://127.0.0.1:\(server.port)", "--model", "no-such-model", "--rate", "20", "--duration", "500ms",
                                        "--arrival", "constant", "--quiet", "--no-files"] + extra)
            XCTAssertEqual(result.status, 2, "\(extra): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains("did not measure the server: no request of 10 succeeded"), result.stderr)
            XCTAssertTrue(result.stderr.contains("HTTP 404"), result.stderr)
        }
    }

    /// One connection, a queue of one and a server that takes 200 ms a request: most arrivals are
    /// dropped by the generator, so the run describes the generator, not the server: exit 2.
    func testRunWithMostRequestsDroppedExits2() throws {
        let server = try DiscoveryServer { fd, server in
            while !server.isStopped {
                DiscoveryServer.readHead(fd)
                usleep(200_000)
                guard server.send(fd, Array("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".utf8)) else { return }
            }
        }
        defer { server.shutdown() }
        let result = try metronome(["run", "http://127.0.0.1:\(server.port)/", "--workload", "http", "--rate", "40", "--duration", "1s",
                                    "--arrival", "constant", "--max-connections", "1", "--max-queue", "1", "--drain", "2s", "--quiet", "--no-files"])
        XCTAssertEqual(result.status, 2, result.stderr)
        XCTAssertTrue(result.stderr.contains("were dropped by the generator"), result.stderr)
    }

    /// CR/LF, control bytes and raw non-ASCII in the URL, unbracketed IPv6, and numbers Swift's
    /// Double would take (hex, inf, exponents, a leading +) are usage errors naming what is wrong.
    func testInjectedURLsAndNonDecimalNumbersAreUsageErrors() throws {
        let cases: [([String], String)] = [
            (["run", "http://127.0.0.1:1/a\r\nX-Injected: 1", "--rate", "1", "--duration", "1s"], "http://127.0.0.1:1/a\\r\\nX-Injected:"),
            (["run", "http://127.0.0.1:1/a\tb", "--rate", "1", "--duration", "1s"], "tab"),
            (["run", "http://127.0.0.1:1/caf\u{e9}", "--rate", "1", "--duration", "1s"], "non-ASCII"),
            (["run", "http://fe80::1/", "--rate", "1", "--duration", "1s"], "http://[fe80::1]/"),
            (["run", "--rate", "0x10", "--duration", "1s"], "--rate"),
            (["run", "--rate", "inf", "--duration", "1s"], "--rate"),
            (["run", "--rate", "1e3", "--duration", "1s"], "--rate"),
            (["run", "--rate", "1", "--duration", "0x1p4"], "--duration"),
            (["run", "--rate", "1", "--duration", "1s", "--seed", "+5"], "--seed"),
        ]
        for (arguments, expected) in cases {
            let result = try metronome(arguments)
            XCTAssertEqual(result.status, 64, "\(arguments): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains(expected), "\(arguments): \(result.stderr)")
            XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, result.stderr)
        }
    }

    /// A usage error never prints a secret: a malformed credential header, or one from a config file.
    func testUsageErrorsNeverPrintASecret() throws {
        let config = FileManager.default.temporaryDirectory.appendingPathComponent("metronome-cli-secret-\(getpid()).json")
        try Data(#"{"header": ["X-Api-Key sk-cfg-4242"], "rate": 1, "duration": "1s"}"#.utf8).write(to: config)
        defer { try? FileManager.default.removeItem(at: config) }
        let cases: [([String], String)] = [
            (["run", "--rate", "1", "--duration", "1s", "--header", "Authorization Bearer sk-123"], "sk-123"),
            (["run", "--rate", "1", "--duration", "1s", "--header", "X Auth: sk-456"], "sk-456"),
            (["run", "--header", "Authorization: Bearer sk-789", "--rate", "1", "--duration", "1s", "--header", "Authorization Bearer sk-789"], "sk-789"),
            (["run", "--config", config.path], "sk-cfg-4242"),
        ]
        for (arguments, secret) in cases {
            let result = try metronome(arguments)
            XCTAssertEqual(result.status, 64, "\(arguments): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains("--header"), result.stderr)
            XCTAssertFalse(result.stderr.contains(secret), "the secret is printed: \(result.stderr)")
        }
    }

    /// `metronome --help` lists `report`; `report --out DIR --name P` writes DIR/P_report.html.
    func testReportIsInHelpAndHonoursOutAndName() throws {
        XCTAssertTrue(try metronome(["--help"]).stdout.contains("report FILE"))
        XCTAssertEqual(try metronome(["report", "--help"]).status, 0)
        var config = SimConfig()
        config.port = 0
        config.fast = true
        let server = try SimServer.startInBackground(config: config)
        defer { server.stop() }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("metronome-cli-report-\(getpid())")
        defer { try? FileManager.default.removeItem(at: directory) }
        let run = try metronome(["run", "http://127.0.0.1:\(server.port)/", "--workload", "http", "--rate", "20", "--duration", "500ms",
                                 "--quiet", "--out", directory.appendingPathComponent("runs").path, "--name", "r"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let summary = directory.appendingPathComponent("runs/r_summary.json").path
        let again = try metronome(["report", summary, "--out", directory.appendingPathComponent("html").path, "--name", "again"])
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: directory.appendingPathComponent("html/again_report.html").path))
        XCTAssertEqual(try metronome(["report", summary, "--out", "/proc/metronome-x"]).status, 1)
        XCTAssertEqual(try metronome(["report", summary, "--bogus"]).status, 64)
    }

    /// k6 takes a zero-length stage as an instant jump; so does metronome (a zero-length plan is still refused).
    func testZeroLengthStageIsAccepted() throws {
        let server = try SimServer.startInBackground(config: { var c = SimConfig(); c.port = 0; c.fast = true; return c }())
        defer { server.stop() }
        let result = try metronome(["run", "http://127.0.0.1:\(server.port)/", "--workload", "http", "--stage", "0s:20", "--stage", "500ms:20",
                                    "--arrival", "constant", "--json", "--quiet", "--no-files"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        XCTAssertEqual(object?["scheduled"] as? Int, 10)
        XCTAssertEqual(try metronome(["run", "--stage", "0s:20"]).status, 64)
    }
}
