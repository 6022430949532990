// `--hlog`: the per-second capture, HdrHistogram's interval log format, and a run's log adding up to its summary.
import Foundation
import LLMSim
import XCTest
@testable import MetronomeCore

final class IntervalLogTests: XCTestCase {
    /// Five seconds of latency, TTFT (none in two of them) and ITL, captured as closeSecond does:
    /// the log has a line per second and tag, every slot of every second comes back, and the
    /// histograms are left empty for the next second.
    func testCaptureAndLogKeepEverySecond() throws {
        var random = TestRandom(seed: 11)
        let latency = Histogram(), ttft = Histogram(), itl = Histogram()
        let capture = IntervalCapture(expectedSeconds: 5)
        var want: [[HdrV2.Decoded.Slot]] = []
        var wantTTFT: [[HdrV2.Decoded.Slot]] = []
        for second in 0..<5 {
            for _ in 0..<(100 * (second + 1)) { latency.record(UInt64(1_000_000 + random.below(80_000_000))) }
            if second != 1 && second != 3 {
                for _ in 0..<20 { ttft.record(UInt64(20_000_000 + random.below(10_000_000))) }
            }
            for _ in 0..<300 { itl.record(UInt64(4_000_000 + random.below(2_000_000))) }
            if second == 4 { latency.record(7_777_777, count: 1 << 49) }  // one count split over two entries
            want.append(HdrV2Tests.slots(HdrV2.microseconds(latency)))
            wantTTFT.append(HdrV2Tests.slots(HdrV2.microseconds(ttft)))
            capture.capture(endNs: UInt64(second + 1) * 1_000_000_000 - (second == 4 ? 400_000_000 : 0),
                            latency: latency, ttft: ttft, itl: itl)
            XCTAssertEqual(latency.totalCount + ttft.totalCount + itl.totalCount, 0, "reset as closeSecond resets")
            XCTAssertEqual(latency.maxValue, 0)
        }
        let text = IntervalLogWriter.render(capture, startedAtUnixS: 1_764_564_552.25)
        let lines = text.split(separator: "\n")
        XCTAssertEqual(lines[0], "#[Histogram log format version 1.3]")
        XCTAssertTrue(lines.contains("#[StartTime: 1764564552.250 (seconds since epoch), 2025-12-01T04:49:12.250Z]"), text)
        XCTAssertTrue(lines.contains("#[BaseTime: 1764564552.250 (seconds since epoch)]"))
        XCTAssertTrue(lines.contains("#[MaxValueDivisor: 1000.0]"))
        XCTAssertTrue(lines.contains("\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_Histogram\""))
        XCTAssertTrue(lines.contains { $0.hasPrefix("4.000,0.600,") }, "the last, partial second")

        let log = try HistogramLog(parsing: text)
        XCTAssertEqual(log.startTimeS, 1_764_564_552.25)
        XCTAssertEqual(log.maxValueDivisor, 1000)
        let untagged = log.intervals(tag: nil)
        XCTAssertEqual(untagged.map(\.startS), [0, 1, 2, 3, 4])
        XCTAssertEqual(untagged.map(\.histogram.slots), want)
        XCTAssertEqual(log.intervals(tag: "ttft").map(\.histogram.slots), wantTTFT, "empty seconds have empty lines")
        XCTAssertEqual(log.intervals(tag: "itl").count, 5)
        XCTAssertEqual(untagged[2].absoluteStartS, 1_764_564_554.25)
        // The max column is the microsecond histogram's max, in ms.
        for interval in untagged {
            let us = HdrV2.microsecondHistogram()
            for slot in interval.histogram.slots { us.record(us.valueFromIndex(slot.index), count: slot.count) }
            XCTAssertEqual(interval.max, Double(us.maxValue) / 1000, accuracy: 0.0005)
        }
    }

    /// No TTFT or ITL at all (an HTTP run): untagged lines only.
    func testHTTPRunHasNoTaggedLines() throws {
        let capture = IntervalCapture(expectedSeconds: 2)
        let latency = Histogram(), empty1 = Histogram(), empty2 = Histogram()
        latency.record(5_000_000)
        capture.capture(endNs: 1_000_000_000, latency: latency, ttft: empty1, itl: empty2)
        capture.capture(endNs: 2_000_000_000, latency: latency, ttft: empty1, itl: empty2)
        let log = try HistogramLog(parsing: IntervalLogWriter.render(capture, startedAtUnixS: 1_000))
        XCTAssertEqual(log.intervals.count, 2)
        XCTAssertEqual(log.intervals.map(\.histogram.totalCount), [1, 0])
        XCTAssertTrue(log.intervals.allSatisfy { $0.tag == nil })
    }

    /// The reader takes the references' logs too, and says which line is bad.
    func testReaderTakesForeignLogsAndReportsBadLines() throws {
        // The layout of jHiccup's logs (no BaseTime, absolute StartTime, relative timestamps), with a
        // histogram made by Python's hdrh (HdrV2Tests.testDecodesTheReferenceVector).
        let histogram = "HISTFAAAADh4nJNpmSzMwMAgwQABzFCaEURcm7yEwf4DVICL6Tg/G8tqASa+g8Jip72k1hqwLN7DyAQABTcKsw=="
        let foreign = """
            #[Logged with jHiccup version 2.0.7-SNAPSHOT]
            #[Histogram log format version 1.2]
            #[StartTime: 1438867590.285 (seconds since epoch), Thu Aug 06 06:26:30 PDT 2015]
            "StartTimestamp","Interval_Length","Interval_Max","Interval_Compressed_Histogram"
            0.127,1.007,2.769,\(histogram)
            Tag=A,1.134,0.999,0.442,\(histogram)

            """
        let log = try HistogramLog(parsing: foreign)
        XCTAssertEqual(log.intervals.count, 2)
        XCTAssertEqual(log.baseTimeS, 1_438_867_590.285, "relative timestamps: BaseTime is StartTime")
        XCTAssertEqual(log.intervals[1].tag, "A")
        XCTAssertEqual(log.intervals[0].histogram.totalCount, 46)
        XCTAssertThrowsError(try HistogramLog(parsing: "0.0,1.0,2.0,HISTbroken\n")) { error in
            XCTAssertTrue("\(error)".hasPrefix("interval log line 1:"), "\(error)")
        }
        XCTAssertThrowsError(try HistogramLog(parsing: "#[StartTime: 5 (x)]\n0.0,1.0\n")) { error in
            XCTAssertTrue("\(error)".hasPrefix("interval log line 2:"), "\(error)")
        }
    }

    // MARK: A run's log

    /// An LLM run against llmsim with `--hlog` (40 rps for 3 s, 8 tokens each): the log's path and
    /// the run's summary read back from its file.
    func runWithIntervalLog() throws -> (path: String, summary: RunSummary) {
        var config = SimConfig()
        config.port = 0
        config.jitter = 0
        config.ttftNs = 20_000_000
        config.itlNs = 2_000_000
        let server = try SimServer.startInBackground(config: config)
        defer { server.stop() }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("metronome-hlog-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        addTeardownBlock { try? FileManager.default.removeItem(at: directory) }
        let run = try runProcess(CLITests.binary, ["run", "http://127.0.0.1:\(server.port)", "--rate", "40", "--duration", "3s",
                                                   "--max-tokens", "8", "--ignore-eos", "--out", directory.path, "--name", "e2e",
                                                   "--hlog"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let path = directory.appendingPathComponent("e2e.hlog").path
        XCTAssertTrue(run.stdout.contains("Interval log: \(path)"), run.stdout)
        let summary = try RunSummary(summaryJSON: Array(try Data(contentsOf: directory.appendingPathComponent("e2e_summary.json"))))
        XCTAssertGreaterThan(summary.total.latency.count, 100)
        return (path, summary)
    }

    /// `--hlog` on an LLM run: the file sits beside the others, has a line a second (and tag), and its
    /// intervals add up EXACTLY to the summary's latency, TTFT and ITL counts.
    func testRunWritesAnIntervalLogThatAddsUpToTheSummary() throws {
        let (path, summary) = try runWithIntervalLog()
        XCTAssertTrue(summary.config.contains { $0.key == "hlog" && $0.value == "true" }, "the resolved config shows it")
        let log = try HistogramLog(parsing: try String(contentsOfFile: path, encoding: .utf8))
        XCTAssertEqual(try XCTUnwrap(log.startTimeS), summary.startedAtUnixS, accuracy: 0.001)
        let latency = log.intervals(tag: nil)
        // 3 s of plan and the drain of the last requests: one interval a second, the last one partial.
        XCTAssertGreaterThanOrEqual(latency.count, 3)
        XCTAssertLessThanOrEqual(latency.count, 6)
        XCTAssertEqual(Double(latency.count), summary.ranS.rounded(.up), accuracy: 1)
        for (earlier, later) in zip(latency, latency.dropFirst()) {
            XCTAssertEqual(earlier.startS + earlier.lengthS, later.startS, accuracy: 0.0011, "intervals follow each other")
        }
        XCTAssertEqual(latency.reduce(0) { $0 + $1.histogram.totalCount }, summary.total.latency.count)
        XCTAssertEqual(log.intervals(tag: "ttft").reduce(0) { $0 + $1.histogram.totalCount }, summary.total.ttft.count)
        XCTAssertEqual(log.intervals(tag: "itl").reduce(0) { $0 + $1.histogram.totalCount }, summary.total.itl.count)
        XCTAssertEqual(log.intervals(tag: "ttft").count, latency.count)
        // Pooled, the intervals give the run's percentiles within the µs ↔ ns precision.
        let pooled = Histogram()
        for interval in latency { pooled.merge(try HdrV2.nanoseconds(interval.histogram)) }
        for (level, ms) in zip(Percentiles.levels, summary.total.latency.values) where level < 100 {
            let ns = UInt64(ms * 1e6)
            XCTAssertLessThanOrEqual(abs(Double(pooled.valueAtPercentile(level)) - Double(ns)), Double(HdrV2Tests.tolerance(ns)) + 1,
                                     "p\(level)")
        }
    }

    /// Python's hdrh HistogramLogReader reads the same log: the same totals per tag, the same number of
    /// intervals, the same start. Skipped when python3 cannot `import hdrh` (pip install hdrhistogram).
    func testPythonHdrhReadsARunsIntervalLog() throws {
        try HdrV2Tests.requirePythonHdrh()
        let (path, summary) = try runWithIntervalLog()
        let log = try HistogramLog(parsing: try String(contentsOfFile: path, encoding: .utf8))
        let script = """
            import sys
            from hdrh.histogram import HdrHistogram
            from hdrh.log import HistogramLogReader
            reader = HistogramLogReader(sys.argv[1], HdrHistogram(1, 3600000000, 3))
            totals, lines = {}, {}
            while True:
                h = reader.get_next_interval_histogram()
                if h is None:
                    break
                tag = h.get_tag() or 'latency'
                totals[tag] = totals.get(tag, 0) + h.get_total_count()
                lines[tag] = lines.get(tag, 0) + 1
            print(totals.get('latency', 0), totals.get('ttft', 0), totals.get('itl', 0), lines.get('latency', 0), reader.get_start_time_sec())
            """
        let python = try runProcess(URL(fileURLWithPath: "/usr/bin/env"), ["python3", "-c", script, path])
        XCTAssertEqual(python.status, 0, python.stderr)
        let fields = python.stdout.split(whereSeparator: \.isWhitespace)
        XCTAssertEqual(fields.count, 5, python.stdout)
        guard fields.count == 5 else { return }
        XCTAssertEqual(UInt64(fields[0]), summary.total.latency.count)
        XCTAssertEqual(UInt64(fields[1]), summary.total.ttft.count)
        XCTAssertEqual(UInt64(fields[2]), summary.total.itl.count)
        XCTAssertEqual(Int(fields[3]), log.intervals(tag: nil).count)
        XCTAssertEqual(try XCTUnwrap(Double(fields[4])), summary.startedAtUnixS, accuracy: 0.001)
    }

    /// The capture allocates nothing per request: with --hlog, 100 more requests (2,000 more SSE
    /// events) over 2 more seconds cost only the log's extra lines (under 20 allocations each, zlib's
    /// included, all after the run), beyond what the same runs cost without it. Counted by valgrind.
    /// The lines are counted, not assumed: a run the machine slows may end in one more partial
    /// interval (three more lines), which is the log's cost, not a request's.
    func testHlogAllocatesPerSecondNotPerRequest() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/valgrind") else { throw XCTSkip("valgrind is not installed") }
        var config = SimConfig()
        config.port = 0
        config.ttftNs = 20_000_000
        config.itlNs = 2_000_000
        let server = try SimServer.startInBackground(config: config)
        defer { server.stop() }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("metronome-hlog-alloc-\(getpid())")
        defer { try? FileManager.default.removeItem(at: directory) }
        /// Heap allocations of one run, and the interval lines its log holds (0 without --hlog).
        func run(_ duration: String, _ extra: [String]) throws -> (allocations: Int, lines: Int) {
            let allocations = try heapAllocations(["run", "http://127.0.0.1:\(server.port)", "--rate", "50", "--duration", duration,
                                                   "--arrival", "constant", "--quiet", "--max-tokens", "20", "--ignore-eos",
                                                   "--out", directory.path, "--name", "a"] + extra).allocations
            guard !extra.isEmpty else { return (allocations, 0) }
            let log = try String(contentsOf: directory.appendingPathComponent("a.hlog"), encoding: .utf8)
            return (allocations, log.split(separator: "\n").filter { !$0.hasPrefix("#") && !$0.hasPrefix("\"") }.count)
        }
        let perLine = 20
        var added = 0, budget = 0, note = ""
        for _ in 1...2 {
            let (longer, shorter) = (try run("4s", []), try run("2s", []))
            let (longerLogged, shorterLogged) = (try run("4s", ["--hlog"]), try run("2s", ["--hlog"]))
            let lines = longerLogged.lines - shorterLogged.lines
            added = (longerLogged.allocations - shorterLogged.allocations) - (longer.allocations - shorter.allocations)
            // 100 more requests: one allocation each would add 100, well beyond the slack. Never
            // below 2 intervals of 3 tags, however the partial last intervals fell.
            budget = max(lines, 6) * perLine + 30
            note = "2 more seconds add \(longerLogged.allocations - shorterLogged.allocations) allocations with --hlog "
                + "(\(lines) more lines), \(longer.allocations - shorter.allocations) without"
            print("allocations, --hlog: \(note)")
            XCTAssertGreaterThan(lines, 0, "the longer run logs more intervals")
            if added <= budget { break }
        }
        XCTAssertLessThanOrEqual(added, budget, "--hlog: 100 more requests allocated \(added) more times; \(note)")
    }

    func testOptionIsCheckedAndRefusedWhereItCannotWork() throws {
        XCTAssertTrue(try OptionTable.parse(["http://127.0.0.1:1", "--rate", "1", "--duration", "1s", "--hlog"]).hlog)
        XCTAssertFalse(try OptionTable.parse(["http://127.0.0.1:1", "--rate", "1", "--duration", "1s"]).hlog)
        var options = try OptionTable.parse(["http://127.0.0.1:1", "--rate", "1", "--duration", "1s", "--hlog", "--no-files"])
        options.workload = .http
        XCTAssertThrowsError(try LoadRun(options: options)) { error in
            XCTAssertTrue("\(error)".contains("--hlog") && "\(error)".contains("--no-files"), "\(error)")
        }
        XCTAssertThrowsError(try CapacityOptionTable.parse(["http://127.0.0.1:1", "--rates", "1,2", "--hlog"], command: .sweep)) { error in
            XCTAssertTrue("\(error)".contains("--hlog"), "\(error)")
        }
    }
}
