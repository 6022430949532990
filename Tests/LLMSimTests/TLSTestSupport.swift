// Test helpers for llmsim over TLS: a throwaway certificate made with the openssl command, and a
// blocking TLS client built from Metronome's own TLSClient (OpenSSL through dlopen).
import Foundation
import Glibc
import XCTest
@testable import LLMSim
@testable import MetronomeCore

/// The first executable named `name` on PATH, or nil.
func executableOnPath(_ name: String) -> String? {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    for directory in path.split(separator: ":") where FileManager.default.isExecutableFile(atPath: "\(directory)/\(name)") {
        return "\(directory)/\(name)"
    }
    return nil
}

/// Runs a program to its end (bounded by `limitS`, then killed): exit status, stdout, stderr.
@discardableResult
func runProgram(_ executable: String, _ arguments: [String], limitS: Double = 30) throws -> (status: Int32, out: String, err: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let pid = process.processIdentifier
    let killer = DispatchWorkItem { kill(pid, SIGKILL) }
    DispatchQueue.global().asyncAfter(deadline: .now() + limitS, execute: killer)
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    killer.cancel()
    return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
}

/// True once `condition` holds, polled every millisecond for at most `timeoutMs`: for a counter
/// the server bumps just after the event the client saw.
func eventually(timeoutMs: Double = 2000, _ condition: () -> Bool) -> Bool {
    let deadline = monotonicNs() + UInt64(timeoutMs * 1e6)
    while !condition() {
        if monotonicNs() > deadline { return false }
        usleep(1000)
    }
    return true
}

/// A self-signed P-256 certificate for localhost, 127.0.0.1 and ::1, and its key, in a temporary
/// directory removed at deinit; plus a second key that is not the certificate's.
final class TestCertificate {
    let directory: String
    var certificateFile: String { directory + "/cert.pem" }
    var keyFile: String { directory + "/key.pem" }
    var otherKeyFile: String { directory + "/other-key.pem" }

    init() throws {
        guard let openssl = executableOnPath("openssl") else {
            throw XCTSkip("the openssl command is not installed: it makes the test certificate")
        }
        guard TLSLibrary.shared.isSuccess else { throw XCTSkip("no libssl on this machine") }
        var template = Array((NSTemporaryDirectory() + "llmsim-tls-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw SystemError("mkdtemp", errno: errno) }
        directory = String(cString: made)
        let certificate = try runProgram(openssl, [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", directory + "/key.pem", "-out", directory + "/cert.pem", "-days", "2", "-subj", "/CN=localhost",
            "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1",
        ])
        guard certificate.status == 0 else { throw XCTSkip("openssl req failed (\(certificate.status)): \(certificate.err)") }
        let other = try runProgram(openssl, ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                                             "-out", directory + "/other-key.pem"])
        guard other.status == 0 else { throw XCTSkip("openssl genpkey failed (\(other.status)): \(other.err)") }
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    /// `quickConfig` serving HTTPS with this certificate.
    func config(_ change: (inout SimConfig) -> Void = { _ in }) -> SimConfig {
        quickConfig {
            $0.tlsCertificateFile = certificateFile
            $0.tlsKeyFile = keyFile
            change(&$0)
        }
    }
}

extension Result {
    var isSuccess: Bool { if case .success = self { true } else { false } }
}

/// How a TLS connection ended, as the client saw it.
enum TLSEnd: Equatable {
    case open            // still open when the client stopped reading
    case closeNotify     // a clean TLS close
    case withoutNotify   // TCP closed with no close_notify
    case failed(Int32)   // reset or a TLS error
}

/// A blocking TLS client on loopback that checks the certificate for `host`: every wait is bounded
/// by poll, so a server that misbehaves fails a test instead of hanging it.
final class TLSTestClient {
    let fd: Int32
    let client: TLSClient
    let connection: UnsafeMutableRawPointer
    var library: TLSLibrary { client.library }
    private(set) var end = TLSEnd.open
    private var pending: [UInt8] = []
    let timeoutMs: Int32

    init(port: UInt16, caFile: String, host: String = "localhost", timeoutMs: Int32 = 5000) throws {
        self.timeoutMs = timeoutMs
        let library = try TLSLibrary.load()
        client = try TLSClient(library: library, host: host, caFile: caFile, insecure: false, resume: false)
        let raw = try RawClient(port: port)
        fd = dup(raw.fd)
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        guard let connection = client.connection(fd: fd, resuming: nil) else {
            Glibc.close(fd)
            client.release()
            throw TLSSetupError("SSL_new failed")
        }
        self.connection = connection
        while true {
            switch library.handshakeStep(connection) {
            case .done: return
            case .wantRead: if !wait(POLLIN) { throw TLSSetupError("handshake: no answer in \(timeoutMs) ms") }
            case .wantWrite: if !wait(POLLOUT) { throw TLSSetupError("handshake: cannot write in \(timeoutMs) ms") }
            case .failed(let reason): throw TLSSetupError(reason)
            }
        }
    }

    deinit {
        library.free(connection)
        library.errorClear()
        Glibc.close(fd)
        client.release()
    }

    private func wait(_ events: Int32) -> Bool {
        var fds = [pollfd(fd: fd, events: Int16(events), revents: 0)]
        return poll(&fds, 1, timeoutMs) > 0
    }

    func send(_ text: String) {
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let result = bytes.withUnsafeBytes { library.writeSome(connection, $0.baseAddress! + offset, bytes.count - offset) }
            switch result {
            case .bytes(let n): offset += n
            case .wouldBlock: if !wait(POLLOUT | POLLIN) { return }
            case .endOfFile, .failed: return
            }
        }
    }

    /// The next decrypted bytes; empty once the connection has ended (see `end`) or on timeout.
    func receive() -> [UInt8] {
        if !pending.isEmpty {
            defer { pending = [] }
            return pending
        }
        guard end == .open else { return [] }
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let result = buffer.withUnsafeMutableBytes { library.readSome(connection, $0.baseAddress!, $0.count) }
            switch result {
            case .bytes(let n): return Array(buffer[0..<n])
            case .wouldBlock: if !wait(POLLIN) { return [] }
            case .endOfFile:
                end = .closeNotify
                return []
            case .failed(let code):
                library.errorClear()
                end = code == TLSLibrary.closedWithoutNotify ? .withoutNotify : .failed(code)
                return []
            }
        }
    }

    /// Reads on until the connection ends (or the timeout): everything received, and how it ended.
    func receiveUntilEnd() -> (bytes: [UInt8], end: TLSEnd) {
        var all: [UInt8] = []
        while true {
            let chunk = receive()
            if chunk.isEmpty { return (all, end) }
            all += chunk
        }
    }

    /// One response, framed by Content-Length or chunked encoding (found by its last chunk).
    func readResponse() -> WireResponse {
        var response = WireResponse()
        var buffer: [UInt8] = []
        func more() -> Bool {
            let chunk = receive()
            if chunk.isEmpty { response.peerClosed = true }
            buffer += chunk
            return !chunk.isEmpty
        }
        var headEnd = find(buffer, Array("\r\n\r\n".utf8))
        while headEnd == nil {
            guard more() else { return response }
            headEnd = find(buffer, Array("\r\n\r\n".utf8))
        }
        let head = String(decoding: buffer[0..<headEnd!], as: UTF8.self).components(separatedBy: "\r\n")
        response.status = Int(head[0].split(separator: " ")[1]) ?? 0
        for line in head.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            response.headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let start = headEnd! + 4
        var at = buffer.count
        if response.headers["transfer-encoding"] == "chunked" {
            let last = Array("\r\n0\r\n\r\n".utf8)
            var endAt = find(buffer, last, from: start - 2)
            while endAt == nil {
                guard more() else { break }
                endAt = find(buffer, last, from: start - 2)
            }
            if let endAt {
                response.complete = true
                at = endAt + last.count
                response.body = dechunked(Array(buffer[start..<at]))
                response.raw = Array(buffer[0..<at])
                pending = Array(buffer[at...])
                return response
            }
        } else if let length = response.headers["content-length"].flatMap({ Int($0) }) {
            while buffer.count < start + length { guard more() else { break } }
            response.complete = buffer.count >= start + length
            at = min(buffer.count, start + length)
        }
        response.body = Array(buffer[start..<max(start, at)])
        response.raw = Array(buffer[0..<at])
        pending = Array(buffer[at...])
        return response
    }
}

/// A whole chunked body (up to and with its last chunk) decoded.
func dechunked(_ bytes: [UInt8]) -> [UInt8] {
    var body: [UInt8] = []
    var at = 0
    while let lineEnd = find(bytes, Array("\r\n".utf8), from: at),
          let size = Int(String(decoding: bytes[at..<lineEnd], as: UTF8.self), radix: 16), size > 0,
          lineEnd + 2 + size <= bytes.count {
        body += bytes[lineEnd + 2 ..< lineEnd + 2 + size]
        at = lineEnd + 2 + size + 2
    }
    return body
}

/// The llmsim binary beside the tests, started with `arguments` and read up to its first line
/// (the URL); killed after `limitS` whatever happens, so a test cannot hang on it.
final class LLMSimProcess {
    let process = Process()
    let firstLine: String
    private let killer: DispatchWorkItem

    init(_ arguments: [String], limitS: Double = 30) throws {
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("llmsim")
        guard FileManager.default.isExecutableFile(atPath: binary.path) else { throw XCTSkip("no llmsim binary beside the tests") }
        process.executableURL = binary
        process.arguments = arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let pid = process.processIdentifier
        killer = DispatchWorkItem { kill(pid, SIGCONT); kill(pid, SIGKILL) }
        DispatchQueue.global().asyncAfter(deadline: .now() + limitS, execute: killer)
        var line: [UInt8] = []
        while !line.contains(0x0A) {
            let data = out.fileHandleForReading.availableData
            if data.isEmpty { break }
            line += data
        }
        firstLine = String(decoding: line.prefix { $0 != 0x0A }, as: UTF8.self)
    }

    /// The port of the first line's URL.
    var port: UInt16? { firstLine.split(separator: ":").last.flatMap { UInt16($0) } }

    /// SIGTERM (after SIGCONT, in case it was stopped), then its exit status.
    @discardableResult
    func stop() -> Int32 {
        if process.isRunning {
            kill(process.processIdentifier, SIGCONT)
            kill(process.processIdentifier, SIGTERM)
        }
        process.waitUntilExit()
        killer.cancel()
        return process.terminationStatus
    }
}
