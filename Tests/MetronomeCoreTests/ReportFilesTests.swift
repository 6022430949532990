// Writing a run's files: directories made, every file present, secrets absent, names as promised.
import Foundation
import XCTest
@testable import MetronomeCore

/// Compares `text` byte for byte with `Fixtures/golden/<name>`; with METRONOME_UPDATE_GOLDEN=1 in the
/// environment it rewrites the file instead (then review the diff before committing).
func assertGolden(_ text: String, _ name: String, file: StaticString = #filePath, line: UInt = #line) throws {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/golden/\(name)")
    if ProcessInfo.processInfo.environment["METRONOME_UPDATE_GOLDEN"] == "1" {
        try Data(text.utf8).write(to: url)
        return
    }
    let expected = try Data(contentsOf: url)
    if Data(text.utf8) != expected {
        let expectedText = String(decoding: expected, as: UTF8.self)
        let firstDifference = zip(expectedText.split(separator: "\n", omittingEmptySubsequences: false),
                                  text.split(separator: "\n", omittingEmptySubsequences: false))
            .enumerated().first { $0.element.0 != $0.element.1 }
        XCTFail("\(name) differs from its golden file" + (firstDifference.map {
            " at line \($0.offset + 1):\n  golden: \($0.element.0)\n  actual: \($0.element.1)"
        } ?? " in length (\(expected.count) vs \(text.utf8.count) bytes)"), file: file, line: line)
    }
}

final class ReportFilesTests: XCTestCase {
    private var directory = ""

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "metronome-report-files-\(getpid())-\(UInt64.random(in: 0..<UInt64.max))"
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// 1 ms … 1000 ms, one sample each: a distribution whose every row is known.
    private func histogram(scale: UInt64) -> Histogram {
        let histogram = Histogram()
        for ms in 1...1000 { histogram.record(UInt64(ms) * 1_000_000 * scale) }
        return histogram
    }

    func testWritesEveryFileIntoNewNestedDirectories() throws {
        let summary = SampleSummary.make()
        let target = directory + "/runs/nested"
        let paths = try ReportFiles.write(summary, latency: histogram(scale: 2), serviceTime: histogram(scale: 1),
                                          directory: target, prefix: "golden", html: "<!doctype html><title>r</title>\n")
        let names = ["stats.csv", "stats_history.csv", "failures.csv", "summary.json", "latency.hgrm", "service.hgrm", "report.html"]
        XCTAssertEqual(paths, names.map { "\(target)/golden_\($0)" })
        for path in paths { XCTAssertTrue(FileManager.default.fileExists(atPath: path), path) }

        func contents(_ suffix: String) throws -> String {
            String(decoding: try Data(contentsOf: URL(fileURLWithPath: "\(target)/golden_\(suffix)")), as: UTF8.self)
        }
        XCTAssertEqual(try contents("stats.csv"), LocustCSV.stats(summary))
        XCTAssertEqual(try contents("stats_history.csv"), LocustCSV.statsHistory(summary))
        XCTAssertEqual(try contents("failures.csv"), LocustCSV.failures(summary))
        XCTAssertEqual(try contents("summary.json"), SummaryFile.render(summary))
        XCTAssertEqual(try contents("latency.hgrm"), histogram(scale: 2).percentileDistribution(unitScale: 1e6))
        XCTAssertEqual(try contents("service.hgrm"), histogram(scale: 1).percentileDistribution(unitScale: 1e6))
        XCTAssertEqual(try contents("report.html"), "<!doctype html><title>r</title>\n")
        try assertGolden(try contents("service.hgrm"), "sample_service.hgrm")

        // Written again into the existing directory: replaced, not appended to.
        let again = try ReportFiles.write(summary, latency: nil, serviceTime: nil, directory: target + "/", prefix: "golden", html: nil)
        XCTAssertEqual(again, names.prefix(4).map { "\(target)/golden_\($0)" })
        XCTAssertEqual(try contents("summary.json"), SummaryFile.render(summary))
    }

    func testNoSecretInAnyWrittenFile() throws {
        var summary = SampleSummary.make()
        // Even a config that arrived unmasked must not leak.
        summary.config += [("api_key", "sk-secret-never-shown"), ("header", "Authorization: Bearer sk-secret-never-shown"),
                           ("header", "x-api-key:sk-secret-never-shown")]
        let paths = try ReportFiles.write(summary, latency: histogram(scale: 1), serviceTime: histogram(scale: 1),
                                          directory: directory, prefix: "secret", html: nil)
        XCTAssertEqual(paths.count, 6)
        for path in paths {
            let text = String(decoding: try Data(contentsOf: URL(fileURLWithPath: path)), as: UTF8.self)
            XCTAssertFalse(text.contains("sk-secret-never-shown"), path)
            XCTAssertFalse(text.contains("Bearer"), path)
        }
        let json = SummaryFile.render(summary)
        XCTAssertTrue(json.contains("\"Authorization: ***\""))
        XCTAssertTrue(json.contains("\"x-api-key: ***\""))
        XCTAssertTrue(json.contains("\"X-Team: perf\""))
    }

    func testFailsWhenAPathComponentIsAFile() throws {
        try ReportFiles.makeDirectories(directory)
        let blocker = directory + "/file"
        XCTAssertTrue(FileManager.default.createFile(atPath: blocker, contents: Data("x".utf8)))
        XCTAssertThrowsError(try ReportFiles.write(SampleSummary.make(), latency: nil, serviceTime: nil, directory: blocker + "/sub",
                                                   prefix: "p", html: nil)) { error in
            XCTAssertEqual((error as? ReportFileError)?.path, blocker)
        }
    }

    func testDefaultPrefixIsLocalTimeToTheSecond() {
        let previous = getenv("TZ").map { String(cString: $0) }
        defer {
            if let previous { setenv("TZ", previous, 1) } else { unsetenv("TZ") }
            tzset()
        }
        setenv("TZ", "UTC", 1)
        tzset()
        // 1_795_944_000 = 2026-11-29 09:20:00 UTC.
        XCTAssertEqual(ReportFiles.defaultPrefix(unixS: 1_795_944_000.999), "metronome_20261129-092000")
        XCTAssertEqual(ReportFiles.defaultPrefix(unixS: 0), "metronome_19700101-000000")
        setenv("TZ", "UTC-5:30", 1)
        tzset()
        XCTAssertEqual(ReportFiles.defaultPrefix(unixS: 1_795_944_000), "metronome_20261129-145000")
    }
}
