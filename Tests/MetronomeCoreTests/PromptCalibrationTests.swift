// Requested vs the server's prompt tokens: the figures, the warning, and their way through a saved summary.
import XCTest
@testable import MetronomeCore

final class PromptCalibrationTests: XCTestCase {
    func testRequestedCountsTheBodiesScheduledAndActualTheServersCounts() {
        var prompts = PromptSet()
        prompts.promptTokens = [100, 200, 300]
        prompts.exactEstimate = true
        let stats = StageStats()
        for prompt: UInt64 in [110, 130] { stats.addTokens(prompt: prompt, completion: 1, fromUsage: true) }
        // 4 scheduled: bodies 0, 1, 2, 0 → 100, 200, 300, 100.
        let calibration = PromptCalibration(prompts: prompts, scheduled: 4, stats: stats)
        XCTAssertEqual(calibration.requestedMean, 175, accuracy: 1e-9)
        let variance: Double = (75 * 75 * 2 + 25 * 25 + 125 * 125) / 4
        XCTAssertEqual(calibration.requestedSD, variance.squareRoot(), accuracy: 1e-9)
        XCTAssertEqual(calibration.actualMean ?? 0, 120, accuracy: 1e-9)
        XCTAssertEqual(calibration.actualSD ?? 0, 10, accuracy: 1e-9)
        XCTAssertEqual(calibration.textLine, "Prompt tokens: requested 175.0 ± 82.9 (one-token words) · server 120.0 ± 10.0 (-31.4 %)")
    }

    func testWarnsOnlyWhenExactRequestsAreMissedByMoreThanTenPercent() {
        for (exact, actual, warned) in [(true, UInt64(111), true), (true, 109, false), (false, 150, false)] {
            var summary = SampleSummary.make(llm: true)
            summary.warnings = []
            var prompts = PromptSet()
            prompts.promptTokens = [100]
            prompts.exactEstimate = exact
            let stats = StageStats()
            stats.addTokens(prompt: actual, completion: 1, fromUsage: true)
            summary.addPromptCalibration(prompts, scheduled: 1, stats: stats)
            XCTAssertEqual(!summary.warnings.isEmpty, warned, "exact \(exact), actual \(actual)")
        }
    }

    func testSurvivesTheSavedSummary() throws {
        var summary = SampleSummary.make(llm: true)
        summary.promptCalibration = PromptCalibration(requestedMean: 500, requestedSD: 57.5, actualMean: 504, actualSD: 57.5, exact: true)
        let file = SummaryFile.render(summary)
        XCTAssertTrue(file.contains("\"prompt_tokens_calibration\""))
        let decoded = try RunSummary(summaryJSON: Array(file.utf8))
        XCTAssertEqual(decoded.promptCalibration, summary.promptCalibration)
        XCTAssertEqual(TextReport.render(decoded, planDescription: "x"), TextReport.render(summary, planDescription: "x"))
        XCTAssertTrue(TextReport.render(summary, planDescription: "x").contains("Prompt tokens: requested 500.0 ± 57.5 (one-token words) · server 504.0 ± 57.5 (+0.8 %)"))
        XCTAssertTrue(JSONReport.render(summary).contains("\"requested_mean\""))
    }
}
