// What the https:// tests stand on: certificates made at test time, and a TLS server that is not ours.
import Foundation
import Glibc
import XCTest

/// Self-signed certificates made with the `openssl` command in a fresh directory (the test is
/// skipped where the command is missing): `cert`/`key` name localhost, 127.0.0.1 and ::1;
/// `otherCert`/`otherKey` name only other.example, for the wrong-name check.
struct TestCertificates {
    let directory: String
    var cert: String { directory + "/cert.pem" }
    var key: String { directory + "/key.pem" }
    var otherCert: String { directory + "/other-cert.pem" }
    var otherKey: String { directory + "/other-key.pem" }

    static func make() throws -> TestCertificates {
        guard let openssl = ["/usr/bin/openssl", "/usr/local/bin/openssl", "/bin/openssl"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw XCTSkip("the openssl command is not installed: no test certificate can be made (apt-get install openssl)")
        }
        let directory = NSTemporaryDirectory() + "metronome-tls-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let certificates = TestCertificates(directory: directory)
        for (cert, key, names) in [(certificates.cert, certificates.key, "DNS:localhost,IP:127.0.0.1,IP:::1"),
                                   (certificates.otherCert, certificates.otherKey, "DNS:other.example")] {
            let result = try runProcess(URL(fileURLWithPath: openssl), [
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert,
                "-days", "2", "-subj", "/CN=\(names.hasPrefix("DNS:localhost") ? "localhost" : "other.example")", "-addext", "subjectAltName=\(names)",
            ])
            guard result.status == 0 else { throw XCTSkip("openssl could not make a certificate: \(result.stderr.suffix(300))") }
        }
        return certificates
    }

    func remove() { try? FileManager.default.removeItem(atPath: directory) }
}

/// `Fixtures/tls_server.py`: Python's ssl module serving over http.server (see the script for its
/// modes), on a free loopback port, for at most `lifetime` seconds; skipped without python3.
final class PythonTLSServer {
    let port: UInt16
    private let process: Process

    init(mode: String, cert: String, key: String, lifetime: Int = 60) throws {
        let candidates = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map { "\($0)/python3" } + ["/usr/bin/python3"]
        guard let python = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw XCTSkip("python3 is not installed: no third-party TLS server to test against")
        }
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/tls_server.py").path
        process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [script, cert, key, mode, String(lifetime)]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        // The first line is the port; read it with a deadline, so a server that fails to start fails the test.
        let fd = out.fileHandleForReading.fileDescriptor
        var line = ""
        let deadline = Date().addingTimeInterval(15)
        while !line.hasSuffix("\n") && Date() < deadline {
            var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&descriptor, 1, 200) > 0 else { continue }
            var byte: UInt8 = 0
            guard read(fd, &byte, 1) == 1 else { break }
            line.append(Character(Unicode.Scalar(byte)))
        }
        guard let port = UInt16(line.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            process.terminate()
            throw ServerDidNotStart(printed: line)
        }
        self.port = port
    }

    struct ServerDidNotStart: Error { let printed: String }

    func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGTERM)
            process.waitUntilExit()
        }
    }
}
