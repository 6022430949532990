// The metronome binary against hostile servers: Ctrl-C ends a flooded run, and the generator's own
// descriptor limit is never blamed on the server.
import Foundation
import Glibc
import XCTest
@testable import MetronomeCore

final class HostileCLITests: XCTestCase {
    struct Outcome {
        var status: Int32
        var stdout: String
        var stderr: String
        var seconds: Double
    }

    /// Runs `command` (argv[0] first) and sends SIGINT to it after `signalAfterS`; kills it after `limitS`.
    func launch(_ command: [String], signalAfterS: Double? = nil, limitS: Double = 30) throws -> Outcome {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst())
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let started = Date()
        try process.run()
        let pid = process.processIdentifier
        if let signalAfterS {
            Thread.sleep(forTimeInterval: signalAfterS)
            kill(pid, SIGINT)
        }
        let watchdog = DispatchWorkItem { kill(pid, SIGKILL) }
        DispatchQueue.global().asyncAfter(deadline: .now() + limitS, execute: watchdog)
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        watchdog.cancel()
        return Outcome(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                       stderr: String(decoding: stderr, as: UTF8.self), seconds: Date().timeIntervalSince(started))
    }

    func testCtrlCEndsARunWhoseServerFloodsEndlessTrailers() throws {
        let server = try HostileServer(.floodTrailers)
        defer { server.stop() }
        let result = try launch([CLITests.binary.path, "run", server.url, "--workload", "http", "--rate", "4", "--duration", "30s",
                                 "--timeout", "60s", "--quiet", "--no-files", "--json"], signalAfterS: 1.5)
        XCTAssertEqual(result.status, 130, result.stderr)
        XCTAssertLessThan(result.seconds, 15, "SIGINT is noticed while a connection floods (30 s guard)")
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], result.stdout)
        XCTAssertEqual(json["interrupted"] as? Bool, true)
        XCTAssertGreaterThanOrEqual(json["sent"] as? Int ?? 0, 5, "the schedule kept going: 4 rps for 1.5 s")
    }

    func testOutOfDescriptorsIsTheGeneratorsLimitNotAConnectError() throws {
        let server = try HostileServer(.answerAfter(delayMs: 300))
        defer { server.stop() }
        // 300 rps × 0.3 s needs ~90 connections; 64 descriptors hold fewer, so requests must wait.
        let result = try launch(["/bin/sh", "-c", "ulimit -n 64 && exec \"$0\" \"$@\"", CLITests.binary.path,
                                 "run", server.url, "--workload", "http", "--rate", "300", "--duration", "1s", "--arrival", "constant",
                                 "--drain", "20s", "--quiet", "--no-files", "--json"], limitS: 60)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], result.stdout + result.stderr)
        XCTAssertEqual(json["scheduled"] as? Int, 300)
        XCTAssertEqual(json["succeeded"] as? Int, 300, "queued until a connection freed up: \(json["errors"] ?? "")")
        XCTAssertEqual(server.requestsReceived, 300)
        let warnings = (json["warnings"] as? [String] ?? []).joined(separator: "\n")
        XCTAssertTrue(warnings.contains("GENERATOR LIMIT"), warnings)
        XCTAssertTrue(warnings.contains("EMFILE"), warnings)
    }
}
