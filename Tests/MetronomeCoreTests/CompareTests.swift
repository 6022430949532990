// metronome compare: verdicts by direction and threshold, exit 3 on a regression, files.
import Foundation
import XCTest
@testable import MetronomeCore

final class CompareTests: XCTestCase {
    func testVerdictsFollowEachMetricsDirectionAndTheThreshold() {
        let base = SampleSummary.make()
        var slower = base
        slower.total.latency.values = base.total.latency.values.map { $0 * 1.10 }
        slower.total.achievedRps = base.total.achievedRps * 1.02
        let comparison = RunComparison(base: base, new: slower, threshold: 0.05)
        let verdict = Dictionary(uniqueKeysWithValues: comparison.metrics.map { ($0.key, $0.verdict) })
        XCTAssertEqual(verdict["latency_p95_ms"], "worse")
        XCTAssertEqual(verdict["achieved_rps"], "same", "2 % is within 5 %")
        XCTAssertEqual(verdict["ttft_p50_ms"], "same")
        XCTAssertTrue(comparison.regressions.contains { $0.key == "latency_p99_ms" })
        let reverse = RunComparison(base: slower, new: base, threshold: 0.05)
        XCTAssertTrue(reverse.regressions.isEmpty)
        XCTAssertEqual(reverse.metrics.first { $0.key == "latency_p95_ms" }?.verdict, "better")
        XCTAssertTrue(RunComparison(base: base, new: slower, threshold: 0.2).regressions.isEmpty, "10 % is within 20 %")
        // Error rate: 0 → 0.02 % is within 5 % of 1 %; 0 → 1 % is not.
        var clean = base
        clean.total.errorRate = 0
        var fewErrors = base
        fewErrors.total.errorRate = 0.0002
        XCTAssertEqual(RunComparison(base: clean, new: fewErrors, threshold: 0.05).metrics.first { $0.key == "error_percent" }?.verdict, "same")
        fewErrors.total.errorRate = 0.01
        XCTAssertEqual(RunComparison(base: clean, new: fewErrors, threshold: 0.05).metrics.first { $0.key == "error_percent" }?.verdict, "worse")
    }

    func testCommandExitsThreeOnARegressionAndWritesItsFiles() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("metronome-compare-\(getpid())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: directory) }
        let base = SampleSummary.make()
        var slower = base
        slower.total.latency.values = base.total.latency.values.map { $0 * 1.5 }
        try Data(SummaryFile.render(base).utf8).write(to: URL(fileURLWithPath: directory + "/base_summary.json"))
        try Data(SummaryFile.render(slower).utf8).write(to: URL(fileURLWithPath: directory + "/new_summary.json"))
        let worse = try runProcess(CLITests.binary, ["compare", directory + "/base_summary.json", directory + "/new_summary.json", "--out", directory, "--name", "c"])
        XCTAssertEqual(worse.status, 3, worse.stderr)
        XCTAssertTrue(worse.stdout.contains("REGRESSION"), worse.stdout)
        XCTAssertTrue(worse.stderr.contains("latency p95"), worse.stderr)
        let html = try String(contentsOfFile: directory + "/c_compare.html", encoding: .utf8)
        XCTAssertTrue(html.contains("<svg"), "both distributions drawn")
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: directory + "/c_compare.json"))) as! [String: Any]
        XCTAssertEqual(json["regression"] as? Bool, true)
        let same = try runProcess(CLITests.binary, ["compare", directory + "/base_summary.json", directory + "/base_summary.json", "--json"])
        XCTAssertEqual(same.status, 0, same.stderr)
        let lenient = try runProcess(CLITests.binary, ["compare", directory + "/base_summary.json", directory + "/new_summary.json", "--threshold", "60%"])
        XCTAssertEqual(lenient.status, 0, lenient.stdout)
        for (arguments, fragment) in [(["compare", directory + "/base_summary.json"], "two summary files"),
                                      (["compare", "a", "b", "--threshold", "-1"], "--threshold"),
                                      (["compare", "a", "b", "--threshold"], "--threshold"), (["compare", "a", "b", "--bogus"], "--bogus")] {
            let result = try runProcess(CLITests.binary, arguments)
            XCTAssertEqual(result.status, 64, "\(arguments)")
            XCTAssertTrue(result.stderr.contains(fragment), result.stderr)
        }
        let missing = try runProcess(CLITests.binary, ["compare", directory + "/nope.json", directory + "/base_summary.json"])
        XCTAssertEqual(missing.status, 1)
    }

    func testFileCommandArguments() throws {
        let parsed = try FileCommandArguments(["a.json", "--out=o", "--name", "n", "--json", "b.json", "--threshold", "3%"],
                                              command: "metronome compare", flags: ["json"], valued: ["threshold"])
        XCTAssertEqual(parsed.paths, ["a.json", "b.json"])
        XCTAssertEqual(parsed.outDirectory, "o")
        XCTAssertEqual(parsed.name, "n")
        XCTAssertEqual(parsed.flags, ["json"])
        XCTAssertEqual(parsed.values["threshold"], "3%")
        XCTAssertThrowsError(try FileCommandArguments(["--name", "a/b"], command: "x"))
        XCTAssertThrowsError(try FileCommandArguments(["--json=1"], command: "x", flags: ["json"]))
        XCTAssertThrowsError(try FileCommandArguments(["--out"], command: "x"))
        XCTAssertEqual(FileCommandArguments.stem(ofSummary: "d/e/run_summary.json").directory, "d/e/")
        XCTAssertEqual(FileCommandArguments.stem(ofSummary: "run_summary.json").prefix, "run")
    }
}
