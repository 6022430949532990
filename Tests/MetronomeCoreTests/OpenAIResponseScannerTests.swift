// The OpenAI response scanner fed raw bodies: outcomes, token counts, and TTFT/TPOT from known times.
import XCTest
@testable import MetronomeCore

final class OpenAIResponseScannerTests: XCTestCase {
    func feed(_ body: String, status: Int = 200, at times: [UInt64]? = nil) -> (OpenAIResponseScanner, Outcome, RunStats) {
        let stats = RunStats(stageCount: 1)
        var scanner = OpenAIResponseScanner(stats: stats)
        scanner.begin(intendedNs: 1_000, sentNs: 2_000, stage: 0)
        let events = body.components(separatedBy: "\n\n").filter { !$0.isEmpty }.map { $0 + "\n\n" }
        for (index, event) in events.enumerated() {
            var bytes = Array(event.utf8)
            bytes.withUnsafeMutableBytes { scanner.body(UnsafeRawBufferPointer($0), status: status, nowNs: times?[index] ?? 10_000) }
        }
        let outcome = status == 200 ? scanner.finishSuccess(nowNs: 100_000_000) : .httpError
        if status != 200 { scanner.finishHTTPError(status: status) }
        return (scanner, outcome, stats)
    }

    func testStreamTimesAndUsage() {
        let body = """
        data: {"choices":[{"delta":{"role":"assistant","content":""}}]}

        data: {"choices":[{"delta":{"content":"a"}}]}

        data: {"choices":[{"delta":{"content":"b"}}]}

        data: {"choices":[{"delta":{"content":"c"}}]}

        data: {"choices":[],"usage":{"prompt_tokens":7,"completion_tokens":3,"total_tokens":10}}

        data: [DONE]


        """
        let (scanner, outcome, stats) = feed(body, at: [5_000_000, 11_000_000, 21_000_000, 41_000_000, 41_000_000, 41_000_000])
        XCTAssertEqual(outcome, .success)
        XCTAssertEqual(scanner.requestTTFTNs, 11_000_000 - 1_000)
        XCTAssertEqual(scanner.requestTPOTNs, (100_000_000 - 11_000_000) / 2)
        XCTAssertEqual(scanner.requestTokens, 3)
        XCTAssertEqual(stats.total.itl.totalCount, 2)
        XCTAssertEqual(stats.total.tokenStats(sum: .promptTokensSum, min: .promptTokensMin, max: .promptTokensMax, requests: .promptCountedRequests)?.mean, 7)
        XCTAssertEqual(stats.total[.usageReportedRequests], 1)
    }

    func testStreamWithoutDoneIsIncompleteAndErrorEventIsStreamError() {
        XCTAssertEqual(feed("data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\n").1, .incompleteStream)
        let (_, outcome, stats) = feed("data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\ndata: {\"error\":{\"message\":\"boom\"}}\n\ndata: [DONE]\n\n")
        XCTAssertEqual(outcome, .streamError)
        XCTAssertEqual(stats.failures.messages.first?.message, "boom")
    }

    func testNoUsageCountsContentEvents() {
        let (scanner, outcome, stats) = feed("data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\ndata: {\"choices\":[{\"delta\":{\"content\":\"b\"}}]}\n\ndata: [DONE]\n\n")
        XCTAssertEqual(outcome, .success)
        XCTAssertEqual(scanner.requestTokens, 2)
        XCTAssertEqual(stats.total[.usageReportedRequests], 0)
    }

    func testHTTPErrorKeepsTheMessage() {
        let (_, _, stats) = feed("{\"object\":\"error\",\"message\":\"max_tokens must be at least 1\",\"code\":400}", status: 400)
        XCTAssertEqual(stats.failures.messages.first?.message, "max_tokens must be at least 1")
        XCTAssertEqual(stats.failures.messages.first?.status, 400)
    }

    func testWholeJSONBody() {
        let (scanner, outcome, _) = feed("{\"choices\":[{\"message\":{\"role\":\"assistant\",\"content\":\"hi there\"}}],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":2}}")
        XCTAssertEqual(outcome, .success)
        XCTAssertEqual(scanner.requestTokens, 2)
        XCTAssertEqual(scanner.requestTTFTNs, 0)
    }
}
