// One way for the tests to run a program (the built `metronome` by default) to its end.
import Foundation
import XCTest

struct ProcessResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Runs `executable` with `arguments` and collects both streams; `signalAfter` sends `signal` to it
/// (by its pid) after that many seconds.
func runProcess(_ executable: URL, _ arguments: [String], signalAfter: Double? = nil, signal: Int32 = SIGINT) throws -> ProcessResult {
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    if let signalAfter {
        Thread.sleep(forTimeInterval: signalAfter)
        kill(process.processIdentifier, signal)
    }
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    let stderr = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return ProcessResult(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                         stderr: String(decoding: stderr, as: UTF8.self))
}

/// Heap allocations (valgrind memcheck's "total heap usage") of one `metronome` run, and its result;
/// 0 and a failure when valgrind printed no summary.
func heapAllocations(_ arguments: [String]) throws -> (allocations: Int, result: ProcessResult) {
    let result = try runProcess(URL(fileURLWithPath: "/usr/bin/valgrind"),
                                ["--tool=memcheck", "--leak-check=no", CLITests.binary.path] + arguments)
    guard let line = result.stderr.split(separator: "\n").first(where: { $0.contains("total heap usage") }),
          let allocs = line.split(separator: " ").firstIndex(where: { $0.hasPrefix("allocs") }) else {
        XCTFail("no valgrind summary: \(result.stderr.suffix(500))")
        return (0, result)
    }
    let words = line.split(separator: " ")
    return (Int(words[words.index(before: allocs)].filter(\.isNumber)) ?? 0, result)
}
