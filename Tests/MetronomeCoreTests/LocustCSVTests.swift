// Locust's CSV files: headers byte for byte, CRLF rows, Python csv quoting, and golden files of the sample run.
import XCTest
@testable import MetronomeCore

final class LocustCSVTests: XCTestCase {
    /// Locust 2.x's `requests_csv_columns` and `stats_history_csv_columns` joined as its csv writer
    /// writes them, with `get_readable_percentiles` of PERCENTILES_TO_REPORT.
    func testHeadersAreLocustsByteForByte() {
        let percentiles = "50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%"
        XCTAssertEqual(LocustCSV.statsHeader, "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,"
            + "Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s," + percentiles)
        XCTAssertEqual(LocustCSV.historyHeader, "Timestamp,User Count,Type,Name,Requests/s,Failures/s," + percentiles
            + ",Total Request Count,Total Failure Count,Total Median Response Time,Total Average Response Time,"
            + "Total Min Response Time,Total Max Response Time,Total Average Content Size")
        XCTAssertEqual(LocustCSV.failuresHeader, "Method,Name,Error,Occurrences,First Seen,Last Seen")
        // The percentile columns are Percentiles.levels, as Locust names them.
        let names = Percentiles.levels.map { $0 == $0.rounded() ? "\(Int($0))%" : "\($0)%" }
        XCTAssertEqual(names.joined(separator: ","), percentiles)

        let summary = SampleSummary.make()
        for (text, header) in [(LocustCSV.stats(summary), LocustCSV.statsHeader), (LocustCSV.statsHistory(summary), LocustCSV.historyHeader),
                               (LocustCSV.failures(summary), LocustCSV.failuresHeader)] {
            XCTAssertTrue(text.utf8.starts(with: (header + "\r\n").utf8))
        }
    }

    func testEveryLineEndsInCRLFAndRowsHaveTheHeadersWidth() {
        let summary = SampleSummary.make()
        for text in [LocustCSV.stats(summary), LocustCSV.statsHistory(summary), LocustCSV.failures(summary)] {
            let bytes = Array(text.utf8)
            XCTAssertEqual(bytes.suffix(2), [0x0D, 0x0A])
            for (index, byte) in bytes.enumerated() where byte == 0x0A {
                XCTAssertEqual(bytes[index - 1], 0x0D, "bare LF at byte \(index)")
            }
            let lines = text.split(separator: "\r\n")
            let width = lines[0].split(separator: ",", omittingEmptySubsequences: false).count
            for line in lines.dropFirst() {
                // The sample's fields hold no commas, so a plain split counts them.
                XCTAssertEqual(line.split(separator: ",", omittingEmptySubsequences: false).count, width, String(line))
            }
        }
    }

    func testStatsRowsAreExactFromTheSummary() {
        let summary = SampleSummary.make()
        let lines = LocustCSV.stats(summary).split(separator: "\r\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        XCTAssertEqual(lines.count, 3)
        let total = summary.total
        for (row, type, name) in [(lines[1], "POST", "/v1/chat/completions"), (lines[2], "", "Aggregated")] {
            XCTAssertEqual(Array(row[0...1]), [type, name])
            XCTAssertEqual(row[2], String(total.scheduled))
            XCTAssertEqual(row[3], String(total.scheduled - total.succeeded))
            XCTAssertEqual(row[4], Format.fixed(total.latency.p50, decimals: 3))
            XCTAssertEqual(row[5], Format.fixed(total.latency.mean, decimals: 3))
            XCTAssertEqual(row[6], Format.fixed(total.latency.min, decimals: 3))
            XCTAssertEqual(row[7], Format.fixed(total.latency.max, decimals: 3))
            XCTAssertEqual(row[8], Format.fixed(total.meanResponseBytes, decimals: 2))
            // Requests/s − Failures/s is the achieved rate.
            XCTAssertEqual(Double(row[9])! - Double(row[10])!, total.achievedRps, accuracy: 2e-6)
            XCTAssertEqual(Double(row[9])!, total.offeredRps, accuracy: 1e-6)
            XCTAssertEqual(Array(row[11...]), total.latency.values.map { Format.fixed($0, decimals: 3) })
        }
    }

    func testHistoryRowsFollowTheSeries() {
        let summary = SampleSummary.make()
        let rows = LocustCSV.statsHistory(summary).split(separator: "\r\n").dropFirst()
            .map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        XCTAssertEqual(rows.count, summary.series.count)
        for (row, sample) in zip(rows, summary.series) {
            XCTAssertEqual(row[0], String(Int(sample.wallClockS)))
            XCTAssertEqual(row[1], String(sample.inFlight))
            XCTAssertEqual(Array(row[2...3]), ["", "Aggregated"])
            XCTAssertEqual(row[4], Format.fixed(Double(sample.succeeded + sample.failed), decimals: 6))
            XCTAssertEqual(row[5], Format.fixed(Double(sample.failed), decimals: 6))
            XCTAssertEqual(Array(row[6...16]), sample.cumulative.map { Format.fixed($0, decimals: 3) })
            XCTAssertEqual(row[17], String(sample.cumulativeSucceeded + sample.cumulativeFailed))
            XCTAssertEqual(row[18], String(sample.cumulativeFailed))
        }
        // Cumulative counts only grow, and the last row has seen every request but the unfinished.
        let counts = rows.map { UInt64($0[17])! }
        XCTAssertEqual(counts, counts.sorted())
        XCTAssertEqual(counts.last, summary.total.scheduled - summary.total.unfinished)
    }

    func testFailuresNameEachKindWithTheServersMessage() {
        var summary = SampleSummary.make()
        summary.failures.append(FailureLog.Entry(kind: "dropped", status: 0, count: 3, firstSeenNs: 2_500_000_000, lastSeenNs: 2_750_000_000))
        let lines = LocustCSV.failures(summary).split(separator: "\r\n").map(String.init)
        XCTAssertEqual(lines, [
            LocustCSV.failuresHeader,
            "POST,/v1/chat/completions,HTTP 500: The model overloaded: KV cache is full,\(summary.failures[0].count),2026-11-29T09:20:01.000Z,2026-11-29T09:20:29.000Z",
            "POST,/v1/chat/completions,timeout,\(summary.failures[1].count),2026-11-29T09:20:01.000Z,2026-11-29T09:20:29.000Z",
            "POST,/v1/chat/completions,dropped,3,2026-11-29T09:20:02.500Z,2026-11-29T09:20:02.750Z",
        ])
    }

    func testMostFrequentMessageWinsAndFirstKeptBreaksTies() {
        let entry = FailureLog.Entry(kind: "http_error", status: 503, count: 9, firstSeenNs: 0, lastSeenNs: 0)
        let messages: [(kind: String, status: Int, message: String, count: UInt64)] = [
            ("http_error", 500, "other status", 50), ("http_error", 503, "busy", 2), ("http_error", 503, "full", 4), ("http_error", 503, "late", 4),
        ]
        XCTAssertEqual(LocustCSV.errorText(entry, messages: messages), "HTTP 503: full")
        XCTAssertEqual(LocustCSV.errorText(entry, messages: []), "HTTP 503")
        let stream = FailureLog.Entry(kind: "stream_error", status: 0, count: 1, firstSeenNs: 0, lastSeenNs: 0)
        XCTAssertEqual(LocustCSV.errorText(stream, messages: [("stream_error", 200, "context length exceeded", 1)]),
                       "stream_error: context length exceeded")
    }

    func testFieldsAreQuotedLikePythonsCSVModule() {
        XCTAssertEqual(LocustCSV.field("plain text"), "plain text")
        XCTAssertEqual(LocustCSV.field(""), "")
        XCTAssertEqual(LocustCSV.field("a,b"), "\"a,b\"")
        XCTAssertEqual(LocustCSV.field("say \"hi\""), "\"say \"\"hi\"\"\"")
        XCTAssertEqual(LocustCSV.field("two\nlines"), "\"two\nlines\"")
        XCTAssertEqual(LocustCSV.field("cr\r"), "\"cr\r\"")
        XCTAssertEqual(LocustCSV.row(["x", "1,2", ""]), "x,\"1,2\",\r\n")
    }

    func testRequestNameIsMethodAndPath() {
        XCTAssertTrue(LocustCSV.requestName("POST http://127.0.0.1:8000/v1/chat/completions") == ("POST", "/v1/chat/completions"))
        XCTAssertTrue(LocustCSV.requestName("GET http://host:80/a?b=1,2") == ("GET", "/a?b=1,2"))
        XCTAssertTrue(LocustCSV.requestName("GET http://host:80") == ("GET", "/"))
        XCTAssertTrue(LocustCSV.requestName("odd") == ("", "odd"))
    }

    func testARunWithoutSuccessesWritesNA() {
        var summary = SampleSummary.make()
        summary.total.latency = Percentiles()
        let row = LocustCSV.stats(summary).split(separator: "\r\n")[2].split(separator: ",", omittingEmptySubsequences: false)
        XCTAssertEqual(Array(row[4...7]), ["0.000", "0.000", "0.000", "0.000"])
        XCTAssertEqual(Array(row[11...]), Array(repeating: "N/A", count: 11))
    }

    func testISOTimestampWithMilliseconds() {
        XCTAssertEqual(isoTimestampMillis(unixS: 1_795_944_000), "2026-11-29T09:20:00.000Z")
        XCTAssertEqual(isoTimestampMillis(unixS: 1_795_944_001.0625), "2026-11-29T09:20:01.062Z")
        XCTAssertEqual(isoTimestampMillis(unixS: 1_795_944_059.9999), "2026-11-29T09:20:59.999Z")
    }

    func testGoldenFiles() throws {
        let summary = SampleSummary.make()
        try assertGolden(LocustCSV.stats(summary), "sample_stats.csv")
        try assertGolden(LocustCSV.statsHistory(summary), "sample_stats_history.csv")
        try assertGolden(LocustCSV.failures(summary), "sample_failures.csv")
    }
}
