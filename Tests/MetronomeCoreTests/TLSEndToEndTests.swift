// https:// end to end against a TLS server that is not ours (Python's ssl module): the workload over
// TLS, certificate checks and their failures, byte-sized records, closes without close_notify.
import Foundation
import Glibc
import LLMSim
import XCTest
@testable import MetronomeCore

final class TLSEndToEndTests: XCTestCase {
    private var certificates: TestCertificates!

    override func setUpWithError() throws {
        certificates = try TestCertificates.make()
    }

    override func tearDown() {
        certificates?.remove()
    }

    private func server(_ mode: String, other: Bool = false) throws -> PythonTLSServer {
        let server = try PythonTLSServer(mode: mode, cert: other ? certificates.otherCert : certificates.cert,
                                         key: other ? certificates.otherKey : certificates.key)
        addTeardownBlock { server.stop() }
        return server
    }

    /// In-process, as `metronome run` would (quiet, no files); outcomes must add up.
    private func run(_ arguments: [String]) throws -> (RunSummary, RunStats) {
        let options = try OptionTable.parse(arguments + ["--quiet", "--no-files"])
        let load = try LoadRun(options: options)
        let (summary, _) = try load.execute(handlesSignals: false)
        let total = summary.total
        XCTAssertEqual(total.scheduled, total.succeeded + total.failed + total.dropped + total.unfinished, "outcomes must add up")
        return (summary, load.stats)
    }

    /// The 200/200 chat workload (model found by GET /v1/models over TLS) against a server that is
    /// not ours: every request succeeds with 200 streamed tokens, and each connection's connect and
    /// handshake are timed once.
    func testTheDefaultWorkloadRunsOverTLSAgainstAThirdPartyServer() throws {
        let server = try server("openai")
        let (summary, stats) = try run(["https://127.0.0.1:\(server.port)", "--rate", "20", "--duration", "2s", "--cacert", certificates.cert])
        XCTAssertGreaterThan(summary.total.scheduled, 20)
        XCTAssertEqual(summary.total.succeeded, summary.total.scheduled, "\(summary.total.errors) \(summary.errorMessages)")
        XCTAssertEqual(summary.total.completionTokens?.min, 200)
        XCTAssertEqual(summary.total.completionTokens?.max, 200)
        XCTAssertEqual(summary.total.ttft.count, summary.total.succeeded)
        XCTAssertTrue(summary.tlsVersion.hasPrefix("TLSv1."), summary.tlsVersion)
        XCTAssertEqual(summary.tlsVerify, "cacert")
        XCTAssertTrue(summary.target.hasPrefix("POST https://127.0.0.1:"), summary.target)
        XCTAssertEqual(stats[.tlsHandshakes], summary.connectionsOpened)
        XCTAssertEqual(summary.tlsHandshakeTime.count, summary.connectionsOpened)
        XCTAssertEqual(summary.connectTime.count, summary.connectionsOpened)
        XCTAssertEqual(stats[.tlsHandshakeFailures], 0)
        XCTAssertGreaterThan(summary.tlsHandshakeTime.p50, 0)
        let text = TextReport.render(summary, planDescription: "")
        XCTAssertTrue(text.contains("TLS: TLSv1."), text)
        XCTAssertTrue(text.contains("certificate checked against --cacert"), text)
    }

    /// llmsim over TLS with a known time model: every stream whole, no TTFT shorter than the model's,
    /// and llmsim took exactly the requests the report counts as sent, over few keep-alive connections.
    func testLLMSimOverTLSKeepsTheTimeModelAndTheCount() throws {
        let server = try startLLMSim {
            $0.ttftNs = 40_000_000
            $0.itlNs = 4_000_000
            $0.tlsCertificateFile = certificates.cert
            $0.tlsKeyFile = certificates.key
        }
        let (summary, stats) = try run(["https://localhost:\(server.port)", "--rate", "20", "--duration", "2s", "--max-tokens", "20",
                                        "--ignore-eos", "--cacert", certificates.cert])
        XCTAssertGreaterThan(summary.total.scheduled, 20)
        XCTAssertEqual(summary.total.succeeded, summary.total.scheduled, "\(summary.total.errors) \(summary.errorMessages)")
        XCTAssertEqual(summary.total.completionTokens?.min, 20)
        XCTAssertGreaterThanOrEqual(summary.total.ttft.min, 40 * 0.99)
        XCTAssertGreaterThanOrEqual(summary.total.latency.min, 40 + 19 * 4 * 0.99)
        XCTAssertEqual(server.stats.completions, summary.total.sent)
        XCTAssertEqual(server.stats.tlsHandshakeFailures, 0)
        XCTAssertEqual(stats[.tlsHandshakes], summary.connectionsOpened)
        XCTAssertLessThan(summary.connectionsOpened, summary.total.sent / 2, "keep-alive connections carry several requests")
    }

    /// llmsim's drop fault over TLS cuts streams without close_notify: each is a counted failure
    /// (never a success), the closes are counted, and the other requests are unharmed.
    func testStreamsCutWithoutCloseNotifyAreFailuresNotSuccesses() throws {
        let server = try startLLMSim {
            $0.ttftNs = 5_000_000
            $0.itlNs = 1_000_000
            $0.dropRate = 0.3
            $0.tlsCertificateFile = certificates.cert
            $0.tlsKeyFile = certificates.key
        }
        let (summary, stats) = try run(["https://127.0.0.1:\(server.port)", "--rate", "40", "--duration", "1500ms", "--max-tokens", "30",
                                        "--ignore-eos", "--cacert", certificates.cert])
        let drops = server.stats.drops
        XCTAssertGreaterThan(drops, 0)
        XCTAssertEqual(summary.total.succeeded + drops, summary.total.scheduled, "\(summary.total.errors)")
        XCTAssertEqual(summary.total.failed, drops)
        XCTAssertTrue(Set(summary.total.errors.map(\.kind)).isSubset(of: ["closed_early", "incomplete_stream"]), "\(summary.total.errors)")
        XCTAssertGreaterThanOrEqual(stats[.tlsClosedWithoutNotify], drops)
    }

    /// Connections closed by --idle-timeout between arrivals make every later request open a new
    /// one: each resumes the session of an earlier connection, unless --no-tls-resume.
    func testNewConnectionsResumeTheSessionUnlessTurnedOff() throws {
        let server = try server("openai")
        let base = ["https://127.0.0.1:\(server.port)/", "--workload", "http", "--arrival", "constant", "--rate", "10", "--duration", "1500ms",
                    "--idle-timeout", "20ms", "--cacert", certificates.cert]
        let (resumed, resumedStats) = try run(base)
        XCTAssertEqual(resumed.total.succeeded, resumed.total.scheduled)
        XCTAssertGreaterThanOrEqual(resumed.connectionsOpened, 10, "each request on a new connection")
        // The first connection has no session to resume; the rest each have the one before them.
        XCTAssertGreaterThanOrEqual(resumedStats[.tlsResumed], resumedStats[.tlsHandshakes] - 1)
        // The server closing after each answer (Connection: close) must not retire the session either:
        // a connection that ended with a whole answer leaves it resumable. (llmsim, which resumes any
        // session it issued: Python's server accepts only some tickets of connections it closed itself.)
        let sim = try startLLMSim {
            $0.fast = true
            $0.tlsCertificateFile = certificates.cert
            $0.tlsKeyFile = certificates.key
        }
        let closing = ["https://127.0.0.1:\(sim.port)/", "--workload", "http", "--arrival", "constant", "--rate", "10", "--duration", "1500ms",
                       "--header", "Connection: close", "--cacert", certificates.cert]
        let (closed, closedStats) = try run(closing)
        XCTAssertEqual(closed.total.succeeded, closed.total.scheduled)
        XCTAssertGreaterThanOrEqual(closedStats[.tlsHandshakes], 10)
        XCTAssertGreaterThanOrEqual(closedStats[.tlsResumed], closedStats[.tlsHandshakes] - 1)
        let (full, fullStats) = try run(base + ["--no-tls-resume"])
        XCTAssertEqual(full.total.succeeded, full.total.scheduled)
        XCTAssertGreaterThanOrEqual(fullStats[.tlsHandshakes], 10)
        XCTAssertEqual(fullStats[.tlsResumed], 0)
    }

    /// A self-signed server checked against the system's store: every request is a tls_error with
    /// OpenSSL's reason, the run is not a measurement (exit 2), and the text says what to do.
    func testAnUnknownCAIsATLSErrorWithItsReasonAndExit2() throws {
        let server = try server("openai")
        let result = try runProcess(CLITests.binary, ["run", "https://127.0.0.1:\(server.port)/", "--workload", "http", "--rate", "20",
                                                      "--duration", "1s", "--no-files"])
        XCTAssertEqual(result.status, 2, result.stderr)
        XCTAssertTrue(result.stdout.contains("tls_error"), result.stdout)
        XCTAssertTrue(result.stdout.contains("certificate verify failed: self-signed certificate"), result.stdout)
        XCTAssertTrue(result.stdout.contains("(see --cacert, --insecure)"), result.stdout)
        XCTAssertTrue(result.stderr.contains("tls_error"), result.stderr)
    }

    /// The CA is trusted, but the certificate names other.example: by IP and by host name, the
    /// name check fails.
    func testACertificateForAnotherNameFails() throws {
        let server = try server("openai", other: true)
        for host in ["127.0.0.1", "localhost"] {
            let (summary, stats) = try run(["https://\(host):\(server.port)/", "--workload", "http", "--rate", "20", "--duration", "500ms",
                                            "--cacert", certificates.otherCert])
            XCTAssertEqual(summary.total.succeeded, 0, host)
            XCTAssertGreaterThan(summary.total.scheduled, 0, host)
            XCTAssertEqual(summary.total.errors.first?.kind, "tls_error", host)
            XCTAssertEqual(stats[.tlsHandshakeFailures], summary.connectionsOpened, host)
            let reasons = summary.errorMessages.map(\.message).joined(separator: "; ")
            XCTAssertTrue(reasons.contains("mismatch"), "\(host): \(reasons)")
        }
    }

    /// --insecure connects to the self-signed server, and the report says loudly that nothing was checked.
    func testInsecureSucceedsAndSaysSoInTheHeader() throws {
        let server = try server("openai")
        let result = try runProcess(CLITests.binary, ["run", "https://localhost:\(server.port)/", "--workload", "http", "--rate", "20",
                                                      "--duration", "1s", "--insecure", "--no-files"])
        XCTAssertEqual(result.status, 0, result.stderr + result.stdout)
        XCTAssertTrue(result.stdout.contains("CERTIFICATE NOT CHECKED (--insecure)"), result.stdout)
        let header = result.stdout.split(separator: "\n").prefix(8).joined(separator: "\n")
        XCTAssertTrue(header.contains("TLS: TLSv1."), header)
    }

    /// Every byte of the event stream in its own TLS record (and TCP segment): the stream still
    /// parses whole, token for token.
    func testAnEventStreamWithOneByteARecordParsesWhole() throws {
        let server = try server("bytewise")
        let (summary, _) = try run(["https://127.0.0.1:\(server.port)", "--rate", "4", "--duration", "1s", "--max-tokens", "12",
                                    "--arrival", "constant", "--cacert", certificates.cert, "--timeout", "30s"])
        XCTAssertGreaterThan(summary.total.scheduled, 0)
        XCTAssertEqual(summary.total.succeeded, summary.total.scheduled, "\(summary.total.errors) \(summary.errorMessages)")
        XCTAssertEqual(summary.total.completionTokens?.min, 12)
        XCTAssertEqual(summary.total.completionTokens?.max, 12)
        XCTAssertEqual(summary.total.itl.count, 11 * summary.total.succeeded)
    }

    /// A server that closes TCP without close_notify: a close-delimited body ends at the close and
    /// succeeds (counted as such); a body cut short of its Content-Length is closed_early.
    func testACloseWithoutCloseNotifyIsCountedAndJudgedByTheFraming() throws {
        let eof = try server("eof")
        let (whole, wholeStats) = try run(["https://127.0.0.1:\(eof.port)/", "--workload", "http", "--rate", "20", "--duration", "500ms",
                                           "--cacert", certificates.cert])
        XCTAssertGreaterThan(whole.total.scheduled, 0)
        XCTAssertEqual(whole.total.succeeded, whole.total.scheduled, "\(whole.total.errors)")
        XCTAssertEqual(wholeStats[.tlsClosedWithoutNotify], whole.total.succeeded)
        XCTAssertEqual(whole.connectionCounter(.tlsClosedWithoutNotify), whole.total.succeeded)

        let cut = try server("cut")
        let (short, shortStats) = try run(["https://127.0.0.1:\(cut.port)/", "--workload", "http", "--rate", "20", "--duration", "500ms",
                                           "--cacert", certificates.cert])
        XCTAssertGreaterThan(short.total.scheduled, 0)
        XCTAssertEqual(short.total.succeeded, 0)
        XCTAssertEqual(short.total.errors.map(\.kind), ["closed_early"])
        XCTAssertEqual(shortStats[.tlsClosedWithoutNotify], short.total.scheduled)
    }

    /// A server that accepts TCP and never answers the ClientHello: the handshake ends at
    /// --connect-timeout as a tls_error, and nothing hangs.
    func testAHandshakeWithNoAnswerEndsAtTheConnectTimeout() throws {
        let listener = try Listener(host: "127.0.0.1", port: 0)
        defer { listener.close() }
        let (summary, stats) = try run(["https://127.0.0.1:\(listener.boundPort)/", "--workload", "http", "--rate", "5", "--duration", "400ms",
                                        "--arrival", "constant", "--connect-timeout", "300ms", "--cacert", certificates.cert, "--drain", "2s"])
        XCTAssertGreaterThan(summary.total.scheduled, 0)
        XCTAssertEqual(summary.total.succeeded, 0)
        XCTAssertEqual(summary.total.errors.map(\.kind), ["tls_error"])
        XCTAssertGreaterThan(stats[.tlsHandshakeFailures], 0)
        XCTAssertTrue(summary.errorMessages.contains { $0.message.contains("no TLS handshake within --connect-timeout") }, "\(summary.errorMessages)")
    }

    /// The TLS options' mistakes are usage errors (64) naming the flag; a machine without libssl
    /// fails setup (1) with the package to install.
    func testTLSOptionMistakesAndAMissingLibrary() throws {
        let url = "https://127.0.0.1:9/"
        let notPEM = certificates.directory + "/not-pem.txt"
        try Data("not a certificate\n".utf8).write(to: URL(fileURLWithPath: notPEM))
        for (arguments, flag) in [(["http://127.0.0.1:9/", "--insecure"], "--insecure"),
                                  (["http://127.0.0.1:9/", "--no-tls-resume"], "--no-tls-resume"),
                                  ([url, "--cacert", certificates.directory + "/missing.pem"], "--cacert"),
                                  ([url, "--cacert", notPEM], "--cacert"),
                                  ([url, "--cacert", certificates.cert, "--insecure"], "--insecure")] {
            let result = try runProcess(CLITests.binary, ["run"] + arguments + ["--workload", "http", "--rate", "1", "--duration", "1s"])
            XCTAssertEqual(result.status, 64, "\(arguments): \(result.stderr)")
            XCTAssertTrue(result.stderr.hasPrefix("error: \(flag)"), "\(arguments): \(result.stderr)")
        }
        setenv("METRONOME_LIBSSL", "/nonexistent/libssl.so.3", 1)
        defer { unsetenv("METRONOME_LIBSSL") }
        let missing = try runProcess(CLITests.binary, ["run", url, "--workload", "http", "--rate", "1", "--duration", "1s"])
        XCTAssertEqual(missing.status, 1, missing.stderr)
        XCTAssertTrue(missing.stderr.contains("libssl") && missing.stderr.contains("apt-get install libssl3"), missing.stderr)
    }
}
