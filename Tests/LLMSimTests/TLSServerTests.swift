// llmsim --tls-cert/--tls-key: HTTPS with the same answers, keep-alive, faults and deadlines as HTTP,
// checked with Metronome's TLS client and with Python's ssl module as an independent one.
import Foundation
import Glibc
import XCTest
@testable import LLMSim
@testable import MetronomeCore

final class TLSServerTests: XCTestCase {
    let health = "GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n"
    let models = "GET /v1/models HTTP/1.1\r\nHost: localhost\r\n\r\n"

    func testModelsOverTLSAnswer200WithTheModel() throws {
        let certificate = try TestCertificate()
        try withServer(certificate.config { $0.model = "sim-tls" }) { server in
            XCTAssertEqual(server.config.scheme, "https")
            let client = try TLSTestClient(port: server.port, caFile: certificate.certificateFile)
            client.send(models)
            let response = client.readResponse()
            XCTAssertEqual(response.status, 200)
            XCTAssertTrue(response.complete)
            let data = response.json()["data"] as? [[String: Any]]
            XCTAssertEqual(data?.first?["id"] as? String, "sim-tls")
        }
    }

    /// A stream long enough to span many TLS records (2,000 events, ~200 KB) arrives whole.
    func testAStreamingChatCompletionArrivesWhole() throws {
        let certificate = try TestCertificate()
        try withServer(certificate.config { $0.itlNs = 0 }) { server in
            let client = try TLSTestClient(port: server.port, caFile: certificate.certificateFile)
            client.send(post("/v1/chat/completions", chatBody(maxTokens: 2000, stream: true, usage: true)))
            let response = client.readResponse()
            XCTAssertEqual(response.status, 200)
            XCTAssertTrue(response.complete, "the stream's last chunk never came")
            XCTAssertEqual(tokenEventCount(response.body), 2000)
            XCTAssertEqual(response.events.last, "[DONE]")
            XCTAssertTrue(eventually { server.stats.responses == 1 }, "\(server.stats)")
        }
    }

    /// One TLS connection, several requests, in turn and pipelined, one with a 100 KB body that
    /// arrives as several records (read until OpenSSL says wouldBlock, not until a short read).
    func testSeveralRequestsOnOneKeepAliveTLSConnection() throws {
        let certificate = try TestCertificate()
        try withServer(certificate.config { $0.maxModelLen = 100_000 }) { server in
            let client = try TLSTestClient(port: server.port, caFile: certificate.certificateFile)
            client.send(models)
            XCTAssertEqual(client.readResponse().status, 200)
            client.send(post("/v1/chat/completions", chatBody(maxTokens: 5, stream: true)))
            let stream = client.readResponse()
            XCTAssertEqual(stream.status, 200)
            XCTAssertEqual(tokenEventCount(stream.body), 5)
            XCTAssertEqual(stream.events.last, "[DONE]")
            let content = String(repeating: "abcd", count: 25_000)
            client.send(post("/v1/chat/completions", chatBody(maxTokens: 3, content: content)))
            let large = client.readResponse()
            XCTAssertEqual(large.status, 200, large.bodyText)
            XCTAssertEqual((large.json()["usage"] as? [String: Any])?["prompt_tokens"] as? Int, 25_000 + 4)
            client.send(health + models)   // pipelined: both in one write
            XCTAssertEqual(client.readResponse().status, 200)
            XCTAssertEqual(client.readResponse().status, 200)
            XCTAssertEqual(client.end, .open)
            XCTAssertTrue(eventually { server.stats.responses == 5 }, "\(server.stats)")
            XCTAssertEqual(server.stats.connectionsAccepted, 1)
            XCTAssertEqual(server.stats.requests, 5)
        }
    }

    /// A client that connects and never sends a ClientHello is closed at the handshake deadline
    /// (the keep-alive timeout), and counted; a client that speaks plain HTTP fails at once.
    func testASilentClientIsClosedByTheHandshakeDeadline() throws {
        let certificate = try TestCertificate()
        try withServer(certificate.config { $0.keepAliveTimeoutNs = 300_000_000 }) { server in
            let silent = try RawClient(port: server.port)
            let startNs = monotonicNs()
            let bytes = silent.receiveUntilClosed()   // bounded by RawClient's 5 s receive timeout
            let closedAfterMs = Double(monotonicNs() - startNs) / 1e6
            XCTAssertTrue(bytes.isEmpty)
            XCTAssertLessThan(closedAfterMs, 4000, "not closed by the deadline")
            XCTAssertGreaterThan(closedAfterMs, 200, "closed before the deadline")
            XCTAssertEqual(server.stats.tlsHandshakeFailures, 1)
            XCTAssertTrue(eventually { server.stats.connectionsClosed == 1 }, "the server counts a close just after it")

            let plain = try RawClient(port: server.port)
            plain.send(health)
            _ = plain.receiveUntilClosed()
            XCTAssertEqual(server.stats.tlsHandshakeFailures, 2)
            XCTAssertTrue(eventually { server.stats.connectionsClosed == 2 })
            XCTAssertTrue(server.stats.description.contains("TLS handshake failures 2"), server.stats.description)
        }
        XCTAssertEqual(quickConfig { $0.keepAliveTimeoutNs = 0 }.tlsHandshakeTimeoutNs, 10_000_000_000, "no keep-alive timer: 10 s")
    }

    /// Closes the server means end with close_notify (Connection: close, the keep-alive timeout);
    /// the drop fault cuts the stream without it, as a dying server does.
    func testCleanClosesSendCloseNotifyAndADropDoesNot() throws {
        let certificate = try TestCertificate()
        try withServer(certificate.config { $0.keepAliveTimeoutNs = 300_000_000 }) { server in
            let closing = try TLSTestClient(port: server.port, caFile: certificate.certificateFile)
            closing.send("GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            XCTAssertEqual(closing.readResponse().status, 200)
            XCTAssertEqual(closing.receiveUntilEnd().end, .closeNotify)

            let idle = try TLSTestClient(port: server.port, caFile: certificate.certificateFile)
            idle.send(health)
            XCTAssertEqual(idle.readResponse().status, 200)
            XCTAssertEqual(idle.receiveUntilEnd().end, .closeNotify)
            XCTAssertEqual(server.stats.idleClosed, 1)
        }
        try withServer(certificate.config { $0.dropRate = 1 }) { server in
            let dropped = try TLSTestClient(port: server.port, caFile: certificate.certificateFile)
            dropped.send(post("/v1/chat/completions", chatBody(maxTokens: 10, stream: true)))
            let (bytes, end) = dropped.receiveUntilEnd()
            XCTAssertEqual(end, .withoutNotify)
            XCTAssertNil(find(bytes, Array("[DONE]".utf8)))
            XCTAssertGreaterThan(tokenEventCount(bytes), 0, "a stream is cut after its first token")
            XCTAssertEqual(server.stats.drops, 1)
        }
    }

    /// Injected errors keep the connection; a freeze holds a TLS answer to the window's end.
    func testErrorsAndFreezesBehaveAsOverHTTP() throws {
        let certificate = try TestCertificate()
        try withServer(certificate.config { $0.errorRate = 1 }) { server in
            let client = try TLSTestClient(port: server.port, caFile: certificate.certificateFile)
            client.send(post("/v1/chat/completions", chatBody(maxTokens: 3)))
            XCTAssertEqual(client.readResponse().status, 500)
            client.send(health)
            XCTAssertEqual(client.readResponse().status, 200)
            XCTAssertEqual(server.stats.errorsInjected, 1)
        }
        try withServer(certificate.config { $0.freezeEveryNs = 800_000_000; $0.freezeForNs = 500_000_000 }) { server in
            let client = try TLSTestClient(port: server.port, caFile: certificate.certificateFile)
            var window = server.freezeWindowContaining(nowNs: monotonicNs())
            while window == nil {
                usleep(5_000)
                window = server.freezeWindowContaining(nowNs: monotonicNs())
            }
            client.send(health)
            XCTAssertEqual(client.readResponse().status, 200)
            XCTAssertGreaterThanOrEqual(monotonicNs(), window!.endNs, "answered inside the freeze")
            XCTAssertGreaterThanOrEqual(server.stats.freezeHolds, 1)
        }
    }

    /// Records queued under one edge are all read: two requests written as two TLS records while
    /// the server process is stopped, then one edge when it continues. A server that stopped at a
    /// short SSL_read (the first record) would never answer the second.
    func testRecordsQueuedUnderOneEdgeAreAllRead() throws {
        let certificate = try TestCertificate()
        let server = try LLMSimProcess(["--port", "0", "--tls-cert", certificate.certificateFile, "--tls-key", certificate.keyFile])
        defer { server.stop() }
        let port = try XCTUnwrap(server.port, server.firstLine)
        let client = try TLSTestClient(port: port, caFile: certificate.certificateFile)
        client.send(health)
        XCTAssertEqual(client.readResponse().status, 200, "the handshake is over on both sides")
        kill(server.process.processIdentifier, SIGSTOP)
        client.send(health)
        client.send(models)
        kill(server.process.processIdentifier, SIGCONT)
        XCTAssertEqual(client.readResponse().status, 200)
        let second = client.readResponse()
        XCTAssertEqual(second.status, 200, "the second record was left unread")
        XCTAssertTrue(second.bodyText.contains("llmsim"))
    }

    /// Python's ssl module, an independent TLS stack, checks the certificate for localhost and
    /// talks to llmsim over one keep-alive connection.
    func testPythonsSSLClientVerifiesAndTalks() throws {
        let certificate = try TestCertificate()
        guard let python = executableOnPath("python3") else { throw XCTSkip("python3 is not installed: it is the independent client") }
        let script = #"""
        import http.client, json, re, ssl, sys
        context = ssl.create_default_context(cafile=sys.argv[2])
        connection = http.client.HTTPSConnection("localhost", int(sys.argv[1]), context=context, timeout=10)
        connection.request("GET", "/v1/models")
        response = connection.getresponse()
        print("models", response.status, json.loads(response.read())["data"][0]["id"])
        first = connection.sock
        body = json.dumps({"messages": [{"role": "user", "content": "hi"}], "max_tokens": 7, "ignore_eos": True, "stream": True})
        connection.request("POST", "/v1/chat/completions", body=body, headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        text = response.read().decode()
        print("stream", response.status, len(re.findall(r'"delta":\{"content":"[^"]', text)), text.rstrip().endswith("data: [DONE]"))
        print("same connection", connection.sock is first, first.version() in ("TLSv1.2", "TLSv1.3"))
        """#
        try withServer(certificate.config()) { server in
            let result = try runProgram(python, ["-c", script, "\(server.port)", certificate.certificateFile])
            XCTAssertEqual(result.status, 0, result.err)
            XCTAssertEqual(result.out, "models 200 llmsim\nstream 200 7 True\nsame connection True True\n")
            XCTAssertEqual(server.stats.connectionsAccepted, 1)
            XCTAssertEqual(server.stats.tlsHandshakeFailures, 0)
        }
    }

    /// Both options or neither; files that cannot serve are refused before the port is taken,
    /// each naming its option.
    func testBadTLSOptionsGiveClearErrors() throws {
        for (arguments, flag, text) in [(["--tls-cert", "c.pem"], "--tls-cert", "--tls-cert needs --tls-key"),
                                        (["--tls-key", "k.pem"], "--tls-key", "--tls-key needs --tls-cert"),
                                        (["--tls-cert", "", "--tls-key", "k.pem"], "--tls-cert", "--tls-cert needs a PEM certificate file")] {
            XCTAssertThrowsError(try SimConfig.parse(arguments: arguments)) { error in
                XCTAssertEqual((error as? UsageError)?.flag, flag, "\(arguments)")
                XCTAssertTrue("\(error)".contains(text), "\(arguments): \(error)")
            }
        }
        let parsed = try SimConfig.parse(arguments: ["--tls-cert", "c.pem", "--tls-key=k.pem"])
        XCTAssertEqual(parsed.tlsCertificateFile, "c.pem")
        XCTAssertEqual(parsed.tlsKeyFile, "k.pem")
        XCTAssertEqual(parsed.scheme, "https")
        XCTAssertEqual(SimConfig().scheme, "http")

        let certificate = try TestCertificate()
        let garbage = certificate.directory + "/garbage.pem"
        try "not a certificate\n".write(toFile: garbage, atomically: true, encoding: .utf8)
        let missing = certificate.directory + "/missing.pem"
        let cases: [(String, String, String)] = [
            (missing, certificate.keyFile, "--tls-cert '\(missing)': No such file or directory"),
            (certificate.certificateFile, missing, "--tls-key '\(missing)': No such file or directory"),
            (garbage, certificate.keyFile, "--tls-cert '\(garbage)' is not a PEM certificate"),
            (certificate.certificateFile, garbage, "--tls-key '\(garbage)' is not the PEM private key of --tls-cert"),
            (certificate.certificateFile, certificate.otherKeyFile, "--tls-key '\(certificate.otherKeyFile)' is not the PEM private key of --tls-cert"),
        ]
        for (certificateFile, keyFile, text) in cases {
            let config = quickConfig { $0.tlsCertificateFile = certificateFile; $0.tlsKeyFile = keyFile }
            XCTAssertThrowsError(try SimServer(config: config)) { error in
                XCTAssertTrue(error is TLSSetupError, "\(error)")
                XCTAssertTrue("\(error)".hasPrefix(text), "\(error)")
            }
        }
    }

    /// The binary: bad TLS options exit 64 with `error: …`; good ones print an https:// URL first.
    func testTheBinaryExits64OnBadTLSFilesAndPrintsHTTPS() throws {
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("llmsim")
        guard FileManager.default.isExecutableFile(atPath: binary.path) else { throw XCTSkip("no llmsim binary beside the tests") }
        let certificate = try TestCertificate()
        let missing = certificate.directory + "/missing.pem"
        for (arguments, message) in [(["--tls-cert", certificate.certificateFile], "error: --tls-cert needs --tls-key"),
                                     (["--tls-cert", missing, "--tls-key", certificate.keyFile], "error: --tls-cert '\(missing)': No such file or directory"),
                                     (["--tls-cert", certificate.certificateFile, "--tls-key", certificate.otherKeyFile],
                                      "error: --tls-key '\(certificate.otherKeyFile)' is not the PEM private key of --tls-cert")] {
            let result = try runProgram(binary.path, arguments + ["--port", "0"], limitS: 10)
            XCTAssertEqual(result.status, 64, "\(arguments): \(result.err)")
            XCTAssertTrue(result.err.hasPrefix(message), "\(arguments): \(result.err)")
        }

        let server = try LLMSimProcess(["--port", "0", "--tls-cert", certificate.certificateFile, "--tls-key", certificate.keyFile])
        XCTAssertTrue(server.firstLine.hasPrefix("llmsim listening on https://127.0.0.1:"), server.firstLine)
        XCTAssertNotNil(server.port)
        XCTAssertEqual(server.stop(), 0)
    }
}
