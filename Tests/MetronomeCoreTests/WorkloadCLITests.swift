// The prompt workloads through the binary: exit codes of bad datasets, and the hot path's allocations.
import Foundation
import LLMSim
import XCTest
@testable import MetronomeCore

final class WorkloadCLITests: XCTestCase {
    func run(_ executable: String, _ arguments: [String]) throws -> ProcessResult {
        try runProcess(URL(fileURLWithPath: executable), arguments)
    }

    func temporary(_ name: String, _ text: String) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("metronome-cli-\(getpid())-\(name)")
        try text.write(to: url, atomically: true, encoding: .utf8)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url.path
    }

    /// --strict: a bad row is exit 64 naming file:line; without it the row is skipped, counted and named.
    func testStrictBadRowExits64NamingTheLine() throws {
        let path = try temporary("strict.jsonl", "{\"prompt\":\"a\"}\n\n{\"prompt\":42}\n")
        let strict = try run(CLITests.binary.path, ["run", "http://127.0.0.1:9", "--model", "m", "--rate", "1", "--duration", "1s",
                                                    "--dataset", path, "--strict", "--no-files"])
        XCTAssertEqual(strict.status, 64, strict.stderr)
        XCTAssertTrue(strict.stderr.contains("strict.jsonl:3: \"prompt\" must be a non-empty string"), strict.stderr)
        XCTAssertEqual(strict.stderr.split(separator: "\n").count, 1)
        let empty = try temporary("empty.txt", "\n  \n\r\n")
        let none = try run(CLITests.binary.path, ["run", "http://127.0.0.1:9", "--model", "m", "--rate", "1", "--duration", "1s",
                                                  "--dataset", empty, "--no-files"])
        XCTAssertEqual(none.status, 64, none.stderr)
        XCTAssertTrue(none.stderr.contains("has no rows"), none.stderr)
    }

    /// Many bodies cost nothing per request either: a dataset with prefix groups (ten bodies, the
    /// same in both runs) against twice the requests, as `CLITests.testHotPathAllocatesNothingPerRequest`.
    func testManyBodiesAllocateNothingPerRequest() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/valgrind") else { throw XCTSkip("valgrind is not installed") }
        var config = SimConfig()
        config.port = 0
        config.ttftNs = 20_000_000
        config.itlNs = 2_000_000
        let server = try SimServer.startInBackground(config: config)
        defer { server.stop() }
        let path = try temporary("alloc.jsonl", (0..<5).map { "{\"prompt\":\"row \($0) of five\",\"max_tokens\":\(10 + $0)}" }.joined(separator: "\n"))
        func allocations(_ duration: String) throws -> Int {
            try heapAllocations(["run", "http://127.0.0.1:\(server.port)", "--rate", "50", "--duration", duration, "--arrival", "constant",
                                 "--quiet", "--no-files", "--dataset", path, "--prefix-tokens", "8", "--prefix-groups", "2",
                                 "--unique-prompts", "--ignore-eos"]).allocations
        }
        let extra = try extraAllocations(budget: 6, label: "dataset") { try allocations($0) }
        XCTAssertLessThanOrEqual(extra, 6, "100 more requests allocated \(extra) times")
    }

    /// The failure path has the same budget: every request answered 500 with a JSON error body (one
    /// message, repeated), so each is counted by status and its message compared with the one kept,
    /// in place. Before, each cost two allocations (the message as a String, and a byte array).
    func testErrorPathAllocatesNothingPerRequest() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/valgrind") else { throw XCTSkip("valgrind is not installed") }
        var config = SimConfig()
        config.port = 0
        config.ttftNs = 20_000_000
        config.itlNs = 2_000_000
        config.errorRate = 1
        let server = try SimServer.startInBackground(config: config)
        defer { server.stop() }
        func allocations(_ duration: String) throws -> Int {
            let (allocations, result) = try heapAllocations(["run", "http://127.0.0.1:\(server.port)", "--rate", "50", "--duration", duration,
                                                             "--arrival", "constant", "--quiet", "--no-files", "--max-tokens", "20"])
            XCTAssertTrue(result.stdout.contains("HTTP status: 500"), "no 500 in the report: \(result.stdout.suffix(800))")
            return allocations
        }
        let extra = try extraAllocations(budget: 6, label: "answered 500") { try allocations($0) }
        XCTAssertLessThanOrEqual(extra, 6, "100 more error responses allocated \(extra) times")
    }
}
