// The summary file: golden bytes, the members it promises, secrets masked, and a lossless round trip through the decoder.
import Foundation
import XCTest
@testable import MetronomeCore

final class SummaryFileTests: XCTestCase {
    private let samplePlan = try! RatePlan(startRatePerSec: 2, targets: [(10_000_000_000, 20, "ramp"), (20_000_000_000, 20, "hold")])

    private func parse(_ text: String) throws -> [String: Any] {
        try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    func testGoldenFiles() throws {
        try assertGolden(SummaryFile.render(SampleSummary.make()), "sample_summary.json")
        // `--json` on stdout keeps its shape: this golden was made before the summary file existed.
        try assertGolden(JSONReport.render(SampleSummary.make()), "sample_stdout.json")
        try assertGolden(JSONReport.render(SampleSummary.make(llm: false), pretty: false), "sample_stdout_http_compact.json")
    }

    func testCarriesTheJSONReportAndEverySection() throws {
        let summary = SampleSummary.make()
        let file = try parse(SummaryFile.render(summary))
        let stdout = try parse(JSONReport.render(summary))
        for key in stdout.keys { XCTAssertNotNil(file[key], "missing --json member \(key)") }
        for key in ["config", "environment", "series", "failures", "slo", "latency_distribution", "service_distribution", "started_at_unix_s",
                    "ttft_distribution", "ttft_sent_distribution", "itl_distribution"] {
            XCTAssertNotNil(file[key], "missing \(key)")
        }

        let config = try XCTUnwrap(file["config"] as? [String: Any])
        XCTAssertEqual(config["rate"] as? String, "20")
        XCTAssertEqual(config["api_key"] as? String, "***")
        XCTAssertEqual(config["header"] as? [String], ["Authorization: ***", "X-Team: perf"])

        let environment = try XCTUnwrap(file["environment"] as? [String: Any])
        XCTAssertEqual(environment["host_name"] as? String, "golden-host")
        XCTAssertEqual(environment["cores"] as? Int, 2)
        XCTAssertEqual(environment["clock_source"] as? String, "tsc")

        let series = try XCTUnwrap(file["series"] as? [[String: Any]])
        XCTAssertEqual(series.count, summary.series.count)
        XCTAssertEqual(Set(series[0].keys), ["end_s", "wall_clock", "offered", "achieved", "failed", "in_flight", "queued",
                                             "output_tokens", "p50_ms", "p95_ms", "p99_ms", "achieved_by_intended",
                                             "ttft_p50_ms", "ttft_p95_ms", "itl_p50_ms", "itl_p95_ms", "cumulative_ms", "cumulative_succeeded",
                                             "cumulative_failed", "cumulative_mean_ms", "cumulative_min_ms", "cumulative_max_ms", "cumulative_mean_bytes"])
        for (row, sample) in zip(series, summary.series) {
            XCTAssertEqual(row["offered"] as? Int, Int(sample.scheduled))
            XCTAssertEqual(row["achieved"] as? Int, Int(sample.succeeded))
            XCTAssertEqual(try XCTUnwrap(row["p95_ms"] as? Double), sample.p95Ms, accuracy: 1e-9)
            XCTAssertEqual(row["achieved_by_intended"] as? Int, Int(sample.succeededByIntended))
            XCTAssertEqual(try XCTUnwrap(row["ttft_p95_ms"] as? Double), sample.ttftP95Ms, accuracy: 1e-9)
        }
        // Every success counted once by its intended second, once by its completion second.
        XCTAssertEqual(series.map { $0["achieved_by_intended"] as! Int }.reduce(0, +), Int(summary.total.succeeded))
        XCTAssertEqual(series.map { $0["achieved"] as! Int }.reduce(0, +), Int(summary.total.succeeded))
        // The plan's arrivals, second by second, add up to the run's.
        XCTAssertEqual(series.map { $0["offered"] as! Int }.reduce(0, +), Int(summary.total.scheduled))

        let failures = try XCTUnwrap(file["failures"] as? [String: Any])
        let entries = try XCTUnwrap(failures["entries"] as? [[String: Any]])
        XCTAssertEqual(entries.map { $0["kind"] as? String }, summary.failures.map(\.kind))
        XCTAssertEqual(entries.first?["first_seen"] as? String, "2026-11-29T09:20:01.000Z")
        let messages = try XCTUnwrap(failures["messages"] as? [[String: Any]])
        XCTAssertEqual(messages.first?["message"] as? String, "The model overloaded: KV cache is full")

        let slo = try XCTUnwrap(file["slo"] as? [String: Any])
        XCTAssertEqual(slo["scope"] as? String, "hold")
        XCTAssertEqual(slo["passed"] as? Bool, summary.sloPassed)
        XCTAssertEqual(slo["goodput_rps"] as? Double, 17.5)
        XCTAssertEqual((slo["checks"] as? [[String: Any]])?.map { $0["expression"] as? String }, ["p95<=5s", "errors<=0.1%"])

        let distribution = try XCTUnwrap(file["latency_distribution"] as? [[Double]])
        XCTAssertEqual(distribution.count, summary.latencyDistribution.count)
        XCTAssertEqual(distribution.first?.first, 0)
        XCTAssertEqual(distribution.last?.first, 100)
        XCTAssertEqual(try XCTUnwrap(distribution.last?.last), summary.total.latency.max, accuracy: 1e-9)

        // Every percentile level, exact to the nanosecond.
        let latency = try XCTUnwrap(file["latency_ms"] as? [String: Any])
        for (key, value) in zip(JSONReport.levelKeys, summary.total.latency.values) {
            XCTAssertEqual(try XCTUnwrap(latency[key] as? Double), value, accuracy: 1e-9, key)
        }
    }

    func testEmptySectionsStillParse() throws {
        var summary = SampleSummary.make(llm: false)
        summary.environment = nil
        summary.sloChecks = []
        summary.goodputRps = nil
        summary.series = []
        summary.failures = []
        summary.errorMessages = []
        summary.latencyDistribution = []
        summary.config = []
        let file = try parse(SummaryFile.render(summary))
        XCTAssertTrue(file["environment"] is NSNull)
        XCTAssertTrue((file["slo"] as? [String: Any])?["goodput_rps"] is NSNull)
        XCTAssertEqual((file["config"] as? [String: Any])?.count, 0)
        XCTAssertNil(file["ttft_ms"])
        let decoded = try RunSummary(summaryJSON: Array(SummaryFile.render(summary).utf8))
        XCTAssertEqual(SummaryFile.render(decoded), SummaryFile.render(summary))
    }

    /// A file written before TTFT from the first byte sent, the per-second TTFT/ITL percentiles,
    /// successes by intended second and the token-timing distributions still loads and renders.
    func testFileWithoutTheIssue11MembersLoads() throws {
        var file = try parse(SummaryFile.render(SampleSummary.make()))
        let added = ["ttft_sent_ms", "ttft_distribution", "ttft_sent_distribution", "itl_distribution", "raw_stats"]
        for key in added { file[key] = nil }
        file["stages"] = (file["stages"] as! [[String: Any]]).map { stage in stage.filter { $0.key != "ttft_sent_ms" } }
        let perSecond = ["ttft_p50_ms", "ttft_p95_ms", "itl_p50_ms", "itl_p95_ms", "achieved_by_intended"]
        file["series"] = (file["series"] as! [[String: Any]]).map { sample in sample.filter { !perSecond.contains($0.key) } }
        let old = try JSONSerialization.data(withJSONObject: file)
        XCTAssertFalse(String(decoding: old, as: UTF8.self).contains("ttft_sent"))
        let decoded = try RunSummary(summaryJSON: Array(old))
        XCTAssertEqual(decoded.total.ttftSent.count, 0)
        XCTAssertGreaterThan(decoded.total.ttft.count, 0)
        XCTAssertTrue(decoded.series.allSatisfy { $0.succeededByIntended == 0 && $0.ttftP50Ms == 0 })
        XCTAssertTrue(decoded.ttftDistribution.isEmpty)
        XCTAssertTrue(HTMLReport.render(decoded, title: "old").contains("id=\"chart-ttft-distribution\""))
    }

    func testRoundTripRendersTheSameTextAndBytes() throws {
        for llm in [true, false] {
            let summary = SampleSummary.make(llm: llm)
            let file = SummaryFile.render(summary)
            let decoded = try RunSummary(summaryJSON: Array(file.utf8))
            XCTAssertEqual(SummaryFile.render(decoded), file)
            XCTAssertEqual(decoded.planDescription, TextReport.describe(samplePlan))
            XCTAssertEqual(summary.planDescription, TextReport.describe(samplePlan))
            XCTAssertEqual(TextReport.render(decoded, planDescription: decoded.planDescription),
                           TextReport.render(summary, planDescription: TextReport.describe(samplePlan)))
            XCTAssertEqual(JSONReport.render(decoded), JSONReport.render(summary))
            XCTAssertEqual(HTMLReport.render(decoded, title: "t"), HTMLReport.render(summary, title: "t"))
            XCTAssertEqual(LocustCSV.stats(decoded), LocustCSV.stats(summary))
            XCTAssertEqual(LocustCSV.failures(decoded), LocustCSV.failures(summary))
            XCTAssertEqual(LocustCSV.statsHistory(decoded), LocustCSV.statsHistory(summary), "the run-so-far columns come back too")
            XCTAssertEqual(decoded.config.map(\.key), summary.config.map(\.key))
            XCTAssertEqual(decoded.isLLM, llm)
        }
    }

    /// Tags and each stage's verdict reach every JSON output, the text header and the HTML facts, and
    /// come back from a saved summary in their order (JSONSerialization forgets it).
    func testTagsAndStageVerdictsSurviveTheRoundTrip() throws {
        let summary = SampleSummary.make()
        let expected = ["setting", "gpu", "build"]
        for rendered in [SummaryFile.render(summary), JSONReport.render(summary), JSONReport.render(summary, pretty: false)] {
            let object = try parse(rendered)
            XCTAssertEqual((object["tags"] as? [String: Any])?.count, 3)
            XCTAssertEqual((object["tags"] as? [String: Any])?["gpu"] as? String, "A100 80GB")
            let stages = try XCTUnwrap(object["stages"] as? [[String: Any]])
            for (stage, phase) in zip(stages, summary.stages) {
                let slo = try XCTUnwrap(stage["slo"] as? [String: Any])
                XCTAssertEqual(slo["passed"] as? Bool, phase.slo?.passed)
                XCTAssertEqual((slo["checks"] as? [Any])?.count, 2)
                XCTAssertNotNil(slo["goodput_rps"] as? Double)
            }
            let decoded = try RunSummary(summaryJSON: Array(rendered.utf8))
            XCTAssertEqual(decoded.tags.map(\.key), expected)
            XCTAssertEqual(decoded.tags.map(\.value), ["max_num_seqs=64", "A100 80GB", "v0.6.3"])
            XCTAssertEqual(decoded.stages.map { $0.slo?.checks.map(\.passed) }, summary.stages.map { $0.slo?.checks.map(\.passed) })
            XCTAssertEqual(decoded.stages[1].slo?.goodputRps ?? 0, summary.stages[1].slo?.goodputRps ?? -1, accuracy: 0.001)
        }
        let text = TextReport.render(summary, planDescription: TextReport.describe(samplePlan))
        XCTAssertTrue(text.hasPrefix("Metronome \(metronomeVersion) · openai-chat workload · POST http://127.0.0.1:8000/v1/chat/completions (127.0.0.1:8000) · tags setting=max_num_seqs=64, gpu=A100 80GB, build=v0.6.3\n"), text)
        XCTAssertTrue(text.contains("SLO by stage"), text)
        XCTAssertTrue(HTMLReport.render(summary, title: "t").contains("<dt>Tags</dt><dd><code>setting=max_num_seqs=64</code>"))
        var untagged = summary
        untagged.tags = []
        XCTAssertFalse(TextReport.render(untagged, planDescription: "").contains("tags"))
        XCTAssertFalse(HTMLReport.render(untagged, title: "t").contains("<dt>Tags</dt>"))
        XCTAssertEqual((try parse(JSONReport.render(untagged))["tags"] as? [String: Any])?.count, 0, "always present, empty without --tag")
    }

    /// `raw_stats` holds every histogram losslessly: it reads back slot for slot, and HdrHistogram's
    /// own Python package decodes it to the same count and percentiles (skipped without the package).
    func testRawStatsAreLosslessAndReadByHdrHistogram() throws {
        let summary = SampleSummary.make()
        let text = SummaryFile.render(summary)
        let decoded = try RunSummary(summaryJSON: Array(text.utf8))
        let original = try XCTUnwrap(summary.rawTotal), back = try XCTUnwrap(decoded.rawTotal)
        for ((key, a), (_, b)) in zip(SummaryRawStats.histograms(original), SummaryRawStats.histograms(back)) {
            var slots: [(Int, UInt64)] = [], again: [(Int, UInt64)] = []
            a.forEachOccupiedSlot { slots.append(($0, $1)) }
            b.forEachOccupiedSlot { again.append(($0, $1)) }
            XCTAssertEqual(slots.map(\.0), again.map(\.0), key)
            XCTAssertEqual(slots.map(\.1), again.map(\.1), key)
            XCTAssertEqual(a.maxValue, b.maxValue, key)
        }
        for counter in StageCounter.allCases { XCTAssertEqual(original[counter], back[counter], "\(counter)") }
        for outcome in Outcome.allCases { XCTAssertEqual(original.count(outcome), back.count(outcome), outcome.key) }
        XCTAssertEqual(decoded.rawStages.count, summary.stages.count)

        let path = FileManager.default.temporaryDirectory.appendingPathComponent("metronome-raw-\(getpid()).json").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        let script = """
        import json, sys
        try:
            from hdrh.histogram import HdrHistogram
        except ImportError:
            sys.exit(3)
        raw = json.load(open(sys.argv[1]))["raw_stats"]["total"]["histograms"]["latency"]
        h = HdrHistogram.decode(raw)
        print(h.get_total_count(), h.get_value_at_percentile(50), h.get_value_at_percentile(99), h.get_max_value())
        """
        let result = try runProcess(URL(fileURLWithPath: "/usr/bin/env"), ["python3", "-c", script, path])
        if result.status == 3 { throw XCTSkip("Python's hdrhistogram package is not installed (pip install hdrhistogram)") }
        XCTAssertEqual(result.status, 0, result.stderr)
        let numbers = result.stdout.split(whereSeparator: \.isWhitespace).compactMap { Double($0) }
        XCTAssertEqual(numbers.count, 4, result.stdout)
        XCTAssertEqual(UInt64(numbers[0]), original.latency.totalCount)
        // hdrh reports a slot's highest equivalent value; ours, HdrHistogram's Java default, the same.
        XCTAssertEqual(numbers[1], Double(original.latency.valueAtPercentile(50)), accuracy: Double(original.latency.valueAtPercentile(50)) * 0.001 + 1)
        XCTAssertEqual(numbers[2], Double(original.latency.valueAtPercentile(99)), accuracy: Double(original.latency.valueAtPercentile(99)) * 0.001 + 1)
    }

    func testDecodesTheStdoutJSONToo() throws {
        let summary = SampleSummary.make()
        let decoded = try RunSummary(summaryJSON: Array(JSONReport.render(summary).utf8))
        XCTAssertEqual(decoded.total.scheduled, summary.total.scheduled)
        XCTAssertEqual(decoded.stages.map(\.name), ["ramp", "hold"])
        XCTAssertEqual(decoded.total.latency.p99, summary.total.latency.p99, accuracy: 0.0005)
        XCTAssertEqual(decoded.total.errors.map(\.kind), summary.total.errors.map(\.kind))
        XCTAssertTrue(decoded.series.isEmpty)
        XCTAssertTrue(decoded.isLLM)
    }

    func testRejectsWhatIsNotASummary() {
        func reason(_ text: String) -> String? {
            do {
                _ = try RunSummary(summaryJSON: Array(text.utf8))
                return nil
            } catch {
                return (error as? SummaryDecodeError)?.description
            }
        }
        XCTAssertEqual(reason("not json")?.hasPrefix("not JSON"), true)
        XCTAssertEqual(reason("[1, 2]"), "not a JSON object")
        XCTAssertEqual(reason("{}"), "target: missing")
        let file = SummaryFile.render(SampleSummary.make())
        XCTAssertEqual(reason(file.replacingOccurrences(of: "\"scheduled\": ", with: "\"scheduled\": \"x\", \"was\": ")),
                       "stages[0].scheduled: not a non-negative integer")
        XCTAssertEqual(reason(file.replacingOccurrences(of: "\"kind\": \"timeout\"", with: "\"kind\": 7")),
                       "failures.entries[1].kind: not a string")
        // JSONSerialization hands 0 and false alike as NSNumber: neither may pass for the other.
        XCTAssertEqual(reason(file.replacingOccurrences(of: "\"interrupted\": false", with: "\"interrupted\": 0")),
                       "interrupted: not true or false")
        XCTAssertEqual(reason(file.replacingOccurrences(of: "\"ran_s\": 30", with: "\"ran_s\": true")), "ran_s: not a number")
    }
}
