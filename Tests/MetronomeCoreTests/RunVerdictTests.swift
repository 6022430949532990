// The exit code of a finished run: each row of the README's table, and their precedence.
import XCTest
@testable import MetronomeCore

final class RunVerdictTests: XCTestCase {
    func verdict(interrupted: Bool = false, fileErrors: [String] = [], _ change: (inout RunSummary) -> Void = { _ in }) -> RunVerdict {
        var summary = SampleSummary.make()
        summary.sloChecks = []  // the sample carries a failed SLO for the report tests
        change(&summary)
        return RunVerdict.judge(summary, interrupted: interrupted, fileErrors: fileErrors)
    }

    func testExitCodes() {
        let sample = SampleSummary.make().total
        XCTAssertGreaterThan(sample.succeeded, sample.scheduled / 2, "the sample is a healthy run")
        XCTAssertEqual(verdict(), RunVerdict(code: 0, reasons: []))
        XCTAssertEqual(verdict { $0.total.succeeded = 0 }.code, ExitCode.notMeasured)
        XCTAssertTrue(verdict { $0.total.succeeded = 0 }.reasons[0].contains("no request of \(sample.scheduled) succeeded"))
        XCTAssertEqual(verdict { $0.total.scheduled = 0; $0.total.succeeded = 0 }.code, ExitCode.notMeasured)
        // More than half dropped or unfinished: 2; exactly half is still a measurement.
        XCTAssertEqual(verdict { $0.total.dropped = $0.total.scheduled / 2 + 1 }.code, ExitCode.notMeasured)
        XCTAssertEqual(verdict { $0.total.unfinished = $0.total.scheduled / 2 + 1 }.code, ExitCode.notMeasured)
        XCTAssertEqual(verdict { $0.total.scheduled = 100; $0.total.dropped = 30; $0.total.unfinished = 20 }.code, ExitCode.completed)
        XCTAssertEqual(verdict { $0.total.scheduled = 100; $0.total.dropped = 30; $0.total.unfinished = 21 }.code, ExitCode.notMeasured)
        // Report files or the request log not written: 1, with the reason.
        let files = verdict(fileErrors: ["report files could not be written: cannot write /x: No space left on device"])
        XCTAssertEqual(files.code, ExitCode.failed)
        XCTAssertEqual(files.reasons, ["report files could not be written: cannot write /x: No space left on device"])
    }

    func testPrecedence() {
        let failedSLO = SLOCheckResult(expression: "p95<=1ms", metric: "p95", comparison: "<=", limit: 1, measured: 2, unit: "ms", passed: false)
        XCTAssertEqual(verdict { $0.sloChecks = [failedSLO] }.code, ExitCode.sloFailed)
        XCTAssertEqual(verdict(fileErrors: ["x"]) { $0.sloChecks = [failedSLO] }.code, ExitCode.failed)
        XCTAssertEqual(verdict(fileErrors: ["x"]) { $0.total.succeeded = 0 }.code, ExitCode.notMeasured)
        XCTAssertEqual(verdict { $0.total.succeeded = 0; $0.sloChecks = [failedSLO] }.code, ExitCode.notMeasured,
                       "a run that measured nothing is not an SLO verdict on the server")
        XCTAssertEqual(verdict { $0.total.succeeded = 0; $0.targetUnreachable = true }.code, ExitCode.failed)
        let interrupted = verdict(interrupted: true, fileErrors: ["x"]) { $0.total.succeeded = 0 }
        XCTAssertEqual(interrupted, RunVerdict(code: ExitCode.interrupted, reasons: ["x"]))
    }
}
