// The request log's lines byte for byte, its escaping and masking of server text, and the per-second series it sits beside.
import Foundation
import XCTest
@testable import MetronomeCore

final class RequestLogTests: XCTestCase {
    private var paths: [String] = []

    override func tearDown() {
        for path in paths { try? FileManager.default.removeItem(atPath: path) }
    }

    func path(_ suffix: String) -> String {
        let path = NSTemporaryDirectory() + "metronome-log-unit-\(getpid())-\(UInt64.random(in: 0..<UInt64.max))\(suffix)"
        paths.append(path)
        return path
    }

    static let secret = "sk-abcdef123456"

    /// A success, a dropped request, and an HTTP error whose text echoes the key, needs escaping,
    /// and ends in a UTF-8 sequence cut by the clip.
    func write(_ log: RequestLog) {
        var success = RequestRecord(id: 7, stage: 1, intendedNs: 2_000_000, outcome: .success)
        (success.sentNs, success.firstTokenNs, success.completedNs, success.status, success.bytes) = (2_500_000, 52_500_000, 80_000_000, 200, 900)
        (success.promptTokens, success.completionTokens, success.tpotNs) = (231, 3, 13_750_400)
        let gaps: [UInt64] = [12_000_000, 15_500_500]
        gaps.withUnsafeBufferPointer { log.append(success, startNs: 1_000_000, gapsNs: $0) }
        log.append(RequestRecord(id: 8, stage: 0, intendedNs: 3_000_000, outcome: .dropped), startNs: 1_000_000)
        var failed = RequestRecord(id: 9, stage: 5, intendedNs: 4_000_000, outcome: .httpError)
        (failed.sentNs, failed.completedNs, failed.status, failed.bytes) = (4_000_000, 9_000_000, 401, 120)
        var text = Array("  bad key Bearer \(Self.secret), \"quoted\"\\ line\nbreak\t\u{1} é ".utf8) + [0xE2, 0x82]
        let count = SecretMask(apiKey: Self.secret, headers: []).maskInPlace(&text, count: text.count)
        text.withUnsafeBytes { log.append(failed, startNs: 1_000_000, errorText: UnsafeRawBufferPointer(rebasing: $0.prefix(count))) }
    }

    func testJSONLines() throws {
        let file = path(".jsonl")
        do {
            let log = try RequestLog(path: file, stageNames: ["ramp", "hold \"B\""], includesGaps: true)
            XCTAssertEqual(log.format, .jsonl)
            write(log)
        }
        let text = try String(contentsOfFile: file, encoding: .utf8)
        let lines = text.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 3)
        XCTAssertEqual(lines[0], #"{"id":7,"stage":"hold \"B\"","intended_ns":1000000,"sent_ns":1500000,"first_token_ns":51500000,"completed_ns":79000000,"status":200,"outcome":"success","bytes":900,"prompt_tokens":231,"completion_tokens":3,"ttft_ms":50.500,"ttft_sent_ms":50.000,"tpot_ms":13.750,"itl_ms":[12.000,15.501],"error":null}"#)
        XCTAssertEqual(lines[1], #"{"id":8,"stage":"ramp","intended_ns":2000000,"sent_ns":null,"first_token_ns":null,"completed_ns":null,"status":null,"outcome":"dropped","bytes":0,"prompt_tokens":null,"completion_tokens":null,"ttft_ms":null,"ttft_sent_ms":null,"tpot_ms":null,"itl_ms":[],"error":null}"#)
        let failed = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(lines[2].utf8)) as? [String: Any])
        XCTAssertEqual(failed["stage"] as? String, "hold \"B\"", "a stage past the plan's is clamped to the last")
        XCTAssertEqual(failed["status"] as? Int, 401)
        XCTAssertEqual(failed["error"] as? String, "bad key ***, \"quoted\"\\ line\nbreak\t\u{1} é \u{FFFD}\u{FFFD}")
        XCTAssertFalse(text.contains(Self.secret))
    }

    func testCSV() throws {
        let file = path(".csv")
        do { write(try RequestLog(path: file, stageNames: ["ramp", "hold, B"])) }
        let text = try String(contentsOfFile: file, encoding: .utf8)
        XCTAssertEqual(text, RequestLog.csvHeader(includesGaps: false)
            + "1000000,1500000,51500000,79000000,200,success,900,3,7,\"hold, B\",231,50.500,50.000,13.750,\n"
            + "2000000,,,,,dropped,0,,8,ramp,,,,,\n"
            + "3000000,3000000,,8000000,401,http_error,120,,9,\"hold, B\",,,,,\"bad key ***, \"\"quoted\"\"\\ line break   é \u{FFFD}\u{FFFD}\"\n")
        let withGaps = path(".csv")
        do { write(try RequestLog(path: withGaps, includesGaps: true)) }
        let first = try String(contentsOfFile: withGaps, encoding: .utf8).split(separator: "\n")[1]
        XCTAssertTrue(first.hasSuffix(",total,231,50.500,50.000,13.750,12.000;15.501,"), String(first))
    }

    func testFormatFollowsTheExtension() throws {
        XCTAssertEqual(RequestLog.Format(path: "a/b.jsonl"), .jsonl)
        XCTAssertEqual(RequestLog.Format(path: "b.csv"), .csv)
        for bad in ["b.json", "b", "b.csv/", ".jsonl", "b.CSV.txt"] { XCTAssertNil(RequestLog.Format(path: bad), bad) }
        XCTAssertThrowsError(try RequestLog(path: path(".txt"))) { error in
            XCTAssertEqual((error as? UsageError)?.flag, "--request-log")
        }
    }

    /// The in-place mask agrees with `masked` on whole secrets, repeats, and a secret cut at the end.
    func testMaskInPlaceAgreesWithMasked() {
        let mask = SecretMask(apiKey: "sk-live-123456", headers: [("X-Auth-Token", "tok-abcdef")])
        for text in ["nothing here", "Bearer sk-live-123456 and sk-live-123456", "tok-abcdef/tok-abcdef", "ends with sk-live-12",
                     "sk-live-123456", "ab", "Bearer sk-li"] {
            var bytes = Array(text.utf8)
            let count = mask.maskInPlace(&bytes, count: bytes.count)
            XCTAssertEqual(String(decoding: bytes.prefix(count), as: UTF8.self), mask.masked(text), text)
        }
    }

    func testGapBufferGrowsAndKeepsItsValues() {
        var gaps = GapBuffer()
        XCTAssertEqual(gaps.recorded.count, 0)
        for value in 0..<1_000 as Range<UInt64> { gaps.append(value * 3) }
        XCTAssertEqual(Array(gaps.recorded), (0..<1_000).map { UInt64($0) * 3 })
        gaps.count = 0
        gaps.append(5)
        XCTAssertEqual(Array(gaps.recorded), [5])
        gaps.release()
    }

    /// Per second: TTFT and ITL percentiles of that second only, and successes by intended second
    /// adding up to the successes however late they finished.
    func testSeriesCarriesTokenTimesAndIntendedSeconds() {
        let stats = RunStats(stageCount: 1, expectedSeconds: 4)
        for index in 0..<100 as Range<UInt64> {
            stats.recordTTFT(10_000_000 + index * 100_000, sentNs: 9_000_000, stage: 0)
            stats.recordITL(2_000_000, stage: 0)
        }
        // Three successes intended in second 0, one in second 2, one intended past the series' end.
        for offset in [100_000_000, 900_000_000, 999_999_999, 2_000_000_000, 9_000_000_000] as [UInt64] {
            stats.recordSuccess(latencyNs: 1_000_000, serviceNs: 1_000_000, intendedOffsetNs: offset, stage: 0)
        }
        stats.series.closeSecond(endNs: 1_000_000_000, total: stats.total, live: stats.live)
        stats.recordITL(40_000_000, stage: 0)
        stats.series.closeSecond(endNs: 2_000_000_000, total: stats.total, live: stats.live)
        stats.series.closeSecond(endNs: 3_000_000_000, total: stats.total, live: stats.live)
        let samples = stats.series.samples
        XCTAssertEqual(samples[0].ttftP50Ms, 14.9, accuracy: 0.02)
        XCTAssertEqual(samples[0].ttftP95Ms, 19.4, accuracy: 0.03)
        XCTAssertEqual(samples[0].itlP50Ms, 2, accuracy: 0.01)
        XCTAssertEqual(samples[1].ttftP50Ms, 0, "no TTFT in the second second")
        XCTAssertEqual(samples[1].itlP95Ms, 40, accuracy: 0.05)
        XCTAssertEqual(stats.total.ttftSent.totalCount, 100)
        XCTAssertEqual(stats.series.succeededByIntendedSecond(), [3, 0, 2])
    }
}
