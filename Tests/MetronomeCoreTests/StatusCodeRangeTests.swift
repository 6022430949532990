// Status codes 600–999 are legal HTTP syntax: every report shows the code the server sent, never 599.
import Foundation
import XCTest
@testable import MetronomeCore

final class StatusCodeRangeTests: XCTestCase {
    func testCodesAbove599AreReportedAsSent() throws {
        let server = try ScriptedServer { _, number in
            ScriptedServer.response(status: number % 2 == 0 ? 799 : 999, body: #"{"error":"odd status"}"#)
        }
        defer { server.shutdown() }
        let options = try OptionTable.parse(["http://127.0.0.1:\(server.port)/", "--workload", "http", "--rate", "10", "--duration", "1s",
                                             "--arrival", "constant", "--quiet", "--no-files"])
        let (summary, _) = try LoadRun(options: options).execute(handlesSignals: false)
        XCTAssertEqual(summary.total.scheduled, 10)
        XCTAssertEqual(summary.statusCounts.map(\.status), [799, 999])
        XCTAssertEqual(summary.statusCounts.map(\.count), [5, 5])
        XCTAssertEqual(summary.failures.map(\.status), [799, 999])
        XCTAssertEqual(summary.total.errors.first { $0.kind == "http_error" }?.count, 10)

        let failures = LocustCSV.failures(summary)
        XCTAssertTrue(failures.contains(",HTTP 799,5,"), failures)
        XCTAssertTrue(failures.contains(",HTTP 999,5,"), failures)
        XCTAssertFalse(failures.contains("599"), failures)
        XCTAssertTrue(JSONReport.render(summary).contains(#""799": 5"#))
        XCTAssertTrue(SummaryFile.render(summary).contains(#""999": 5"#))
        XCTAssertTrue(TextReport.render(summary, planDescription: "").contains("HTTP status: 799 × 5, 999 × 5"))
        let html = HTMLReport.render(summary, title: "t")
        XCTAssertTrue(html.contains("799 × 5, 999 × 5"))
    }

    func testFailureLogKeepsEveryThreeDigitCode() {
        let stats = RunStats(stageCount: 1)
        for status in [100, 404, 599, 600, 999] { stats.count(.httpError, stage: 0, status: status) }
        XCTAssertEqual(stats.failures.entries.map(\.status), [100, 404, 599, 600, 999])
        XCTAssertEqual(stats.statusCounts.count, 1000)
    }
}
