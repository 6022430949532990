// Resident memory of the binary as a user runs it: it follows the connections a run opens, not the cap.
import Foundation
import Glibc
import LLMSim
import XCTest
@testable import MetronomeCore

final class MemoryCLITests: XCTestCase {
    /// Peak resident kilobytes of one run of the binary, from wait4(2) (Process does not give rusage).
    func maxResidentKB(_ arguments: [String]) throws -> Int {
        let argv = [CLITests.binary.path] + arguments
        var cArgs = argv.map { strdup($0) } + [nil]
        defer { for pointer in cArgs { free(pointer) } }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, argv[0], &actions, nil, &cArgs, environ)
        guard spawned == 0 else { throw POSIXError(POSIXErrorCode(rawValue: spawned) ?? .EIO) }
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0 && errno == EINTR {}
        XCTAssertEqual(status, 0, "metronome \(arguments.joined(separator: " ")) exited with status \(status)")
        return usage.ru_maxrss
    }

    /// The per-connection state (slot, parser, scanner, sequence digits: about 290 bytes) is
    /// initialised when a connection first uses it, so a cap of 200,000 connections costs a small run
    /// what a cap of 100 does; initialised up front it was 58 MB more.
    func testResidentMemoryFollowsConnectionsOpenedNotTheCap() throws {
        var config = SimConfig()
        config.port = 0
        config.fast = true
        let server = try SimServer.startInBackground(config: config)
        defer { server.stop() }
        func peakKB(cap: Int) throws -> Int {
            try maxResidentKB(["run", "http://127.0.0.1:\(server.port)/", "--workload", "http", "--rate", "20",
                               "--duration", "500ms", "--arrival", "constant", "--max-connections", String(cap),
                               "--quiet", "--no-files"])
        }
        let small = try peakKB(cap: 100)
        let large = try peakKB(cap: 200_000)
        print("peak resident: \(small) KiB with --max-connections 100, \(large) KiB with 200,000")
        XCTAssertLessThan(large - small, 4 * 1024, "a cap nobody reaches must not cost memory")
    }
}
