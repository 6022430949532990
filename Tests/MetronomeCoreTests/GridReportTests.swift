// `metronome report --grid`: decoding sweep/find-max files, the table across tags, its files and errors.
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest
@testable import MetronomeCore

final class GridReportTests: XCTestCase {
    // MARK: Fixtures, written by hand in the shape SweepReport.json writes

    static func step(_ rate: Double, achieved: Double, p95: Double?, ttftP95: Double? = nil, error: Double = 0, verdict: String?) -> String {
        let p95Text = p95.map { "\($0)" } ?? "null"
        var text = """
        {"rate": \(rate), "repeated": false, "offered_rps": \(rate), "achieved_rps": \(achieved),
         "latency_ms": {"count": \(p95 == nil ? 0 : 100), "p50": \(p95 == nil ? "null" : "100"), "p90": null, "p95": \(p95Text), "p99": null, "max": null, "mean": null}
        """
        if let ttftP95 { text += ", \"ttft_ms\": {\"count\": 100, \"p50\": 100, \"p95\": \(ttftP95)}" }
        text += ", \"error_rate\": \(error), \"goodput_rps\": \(achieved), \"verdict\": \(verdict.map { "\"\($0)\"" } ?? "null")}"
        return text
    }

    /// Tags out of alphabetical order, so reading them back in file order is checked; the maximum
    /// (15) was run twice, so the row takes the last passing hold at that rate.
    static let findMax32 = """
    {
      "command": "find-max", "target": "http://127.0.0.1:8000/v1/chat/completions", "model": "sim", "arrival": "constant",
      "slo": "p95<=5s,errors<=0.1%", "tags": {"max_num_seqs": "32", "dtype": "fp8"},
      "max_rate": 15, "bracket": [15, 16.5], "precision": 0.1, "interrupted": false, "warnings": [],
      "steps": [\(step(4, achieved: 4, p95: 2100, ttftP95: 110, verdict: "pass")), \(step(8, achieved: 8, p95: 2150, ttftP95: 120, verdict: "pass")),
                \(step(16.5, achieved: 15.9, p95: 9000, ttftP95: 5000, error: 0.01, verdict: "fail")), \(step(15, achieved: 14.8, p95: 2500, ttftP95: 150, verdict: "pass")),
                \(step(15, achieved: 14.9, p95: 2600, ttftP95: 160, verdict: "pass"))]
    }
    """

    /// `8` sorts before `32` as a number, not as text.
    static let findMax8 = """
    {"command": "find-max", "target": "http://127.0.0.1:8000/v1/chat/completions", "model": null, "slo": "p95<=5s,errors<=0.1%",
     "tags": {"max_num_seqs": "8"}, "max_rate": 3.75, "bracket": [3.75, 4],
     "steps": [\(step(2, achieved: 2, p95: 2090, ttftP95: 100, verdict: "pass")), \(step(4, achieved: 3.9, p95: 7000, ttftP95: 3000, verdict: "fail")),
               \(step(3.75, achieved: 3.7, p95: 3000, ttftP95: 200, verdict: "pass"))]}
    """

    /// No `tags` member (a file written before tags), no TTFT (not streamed), and a cut last step.
    static let sweep = """
    {"command": "sweep", "target": "http://127.0.0.1:9000/", "model": null, "slo": null,
     "steps": [\(step(5, achieved: 5, p95: 10, verdict: "pass")), \(step(10, achieved: 9.9, p95: 12, verdict: "pass")),
               \(step(20, achieved: 14, p95: 800, error: 0.2, verdict: "fail")), \(step(40, achieved: 1, p95: nil, verdict: nil))]}
    """

    static func files() throws -> [GridFile] {
        [try GridReport.decode(Array(findMax32.utf8), path: "runs/a_find_max.json"),
         try GridReport.decode(Array(sweep.utf8), path: "runs/c_sweep.json"),
         try GridReport.decode(Array(findMax8.utf8), path: "runs/b_find_max.json")]
    }

    // MARK: Decoding and the table

    func testDecodesTagsInFileOrderTheMaxAndItsStep() throws {
        let files = try GridReportTests.files()
        let a = files[0]
        XCTAssertEqual(a.tags.map(\.key), ["max_num_seqs", "dtype"])
        XCTAssertEqual(a.tags.map(\.value), ["32", "fp8"])
        XCTAssertEqual(a.maxRate, 15)
        XCTAssertEqual(a.bracket.pass, 15)
        XCTAssertEqual(a.bracket.fail, 16.5)
        XCTAssertEqual(a.maxStep?.latencyP95Ms, 2600)
        XCTAssertEqual(a.maxStep?.achievedRps, 14.9)
        XCTAssertEqual(a.maxStep?.ttftP95Ms, 160)
        XCTAssertEqual(a.steps.count, 5)

        let sweep = files[1]
        XCTAssertTrue(sweep.tags.isEmpty)
        XCTAssertEqual(sweep.command, "sweep")
        XCTAssertEqual(sweep.maxRate, 10, "a sweep's max is its highest passing step")
        XCTAssertEqual(sweep.bracket.pass, 10)
        XCTAssertEqual(sweep.bracket.fail, 20)
        XCTAssertEqual(sweep.maxStep?.latencyP95Ms, 12)
        XCTAssertNil(sweep.maxStep?.ttftP95Ms)
        XCTAssertNil(sweep.steps[3].latencyP95Ms)
        XCTAssertNil(sweep.steps[3].verdict)
    }

    func testFindMaxWithNoPassingRateHasNoMax() throws {
        let text = """
        {"command": "find-max", "target": "t", "slo": "p95<=1ms", "tags": {}, "max_rate": null, "bracket": [null, 2],
         "steps": [\(GridReportTests.step(2, achieved: 2, p95: 50, verdict: "fail"))]}
        """
        let file = try GridReport.decode(Array(text.utf8), path: "x.json")
        XCTAssertNil(file.maxRate)
        XCTAssertNil(file.bracket.pass)
        XCTAssertEqual(file.bracket.fail, 2)
        XCTAssertNil(file.maxStep)
        XCTAssertTrue(GridReport.text([file]).contains("none"))
    }

    func testRowsSortByTagsNumericallyWithMissingTagsFirst() throws {
        let rows = GridReport.sorted(try GridReportTests.files())
        XCTAssertEqual(rows.map(\.path), ["runs/c_sweep.json", "runs/b_find_max.json", "runs/a_find_max.json"])
        XCTAssertEqual(GridReport.tagKeys(try GridReportTests.files()), ["max_num_seqs", "dtype"])
    }

    func testTextTable() throws {
        let text = GridReport.text(try GridReportTests.files())
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let header = try XCTUnwrap(lines.firstIndex { $0.hasPrefix("max_num_seqs") })
        XCTAssertEqual(lines[header].split(separator: " ").map(String.init),
                       ["max_num_seqs", "dtype", "command", "max", "rate", "bracket", "p95", "ms", "achieved", "steps", "file"])
        XCTAssertEqual(lines[header + 1].split(separator: " ").map(String.init),
                       ["-", "-", "sweep", "10", "[10,", "20]", "12", "9.9", "4", "runs/c_sweep.json"])
        XCTAssertEqual(lines[header + 2].split(separator: " ").map(String.init),
                       ["8", "-", "find-max", "3.75", "[3.75,", "4]", "3000", "3.7", "3", "runs/b_find_max.json"])
        XCTAssertEqual(lines[header + 3].split(separator: " ").map(String.init),
                       ["32", "fp8", "find-max", "15", "[15,", "16.5]", "2600", "14.9", "5", "runs/a_find_max.json"])
        XCTAssertTrue(text.contains("SLO p95<=5s,errors<=0.1%"))
    }

    func testCSV() throws {
        let csv = GridReport.csv(try GridReportTests.files())
        XCTAssertEqual(csv, """
        max_num_seqs,dtype,command,max_rate,bracket_pass,bracket_fail,latency_p95_ms,ttft_p95_ms,achieved_rps,steps,file
        ,,sweep,10,10,20,12,,9.9,4,runs/c_sweep.json
        8,,find-max,3.75,3.75,4,3000,200,3.7,3,runs/b_find_max.json
        32,fp8,find-max,15,15,16.5,2600,160,14.9,5,runs/a_find_max.json

        """)
        XCTAssertEqual(GridReport.csvField("a,\"b\""), "\"a,\"\"b\"\"\"")
    }

    func testJSONRoundTrips() throws {
        let json = GridReport.json(try GridReportTests.files())
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        XCTAssertEqual(object["command"] as? String, "grid")
        XCTAssertEqual(object["tag_keys"] as? [String], ["max_num_seqs", "dtype"])
        let rows = try XCTUnwrap(object["rows"] as? [[String: Any]])
        XCTAssertEqual(rows.map { $0["file"] as? String }, ["runs/c_sweep.json", "runs/b_find_max.json", "runs/a_find_max.json"])
        XCTAssertEqual(rows[2]["tags"] as? [String: String], ["max_num_seqs": "32", "dtype": "fp8"])
        XCTAssertEqual(rows[2]["max_rate"] as? Double, 15)
        XCTAssertEqual((rows[2]["bracket"] as? [Double]), [15, 16.5])
        XCTAssertEqual(rows[2]["latency_p95_ms"] as? Double, 2600)
        XCTAssertTrue(rows[0]["ttft_p95_ms"] is NSNull)
        XCTAssertEqual(rows[0]["steps"] as? Int, 4)
        XCTAssertTrue(json.contains("\"tags\": {\n        \"max_num_seqs\": \"32\",\n        \"dtype\": \"fp8\""), "tags keep their order")
    }

    // MARK: Errors

    func testBadFilesAreNamedInTheError() throws {
        let cases: [(String, String)] = [
            ("not json", "not a JSON object"),
            ("[1, 2]", "not a JSON object"),
            ("{\"target\": \"t\", \"stages\": []}", "metronome report FILE, without --grid"),
            ("{\"command\": \"run\"}", "not a sweep or find-max file"),
            ("{\"command\": \"sweep\", \"target\": \"t\"}", "steps: missing"),
            ("{\"command\": \"find-max\", \"target\": \"t\", \"steps\": [], \"max_rate\": 1}", "bracket: missing"),
            ("{\"command\": \"sweep\", \"target\": \"t\", \"tags\": {\"k\": 1}, \"steps\": []}", "k: not a string"),
        ]
        for (text, expected) in cases {
            XCTAssertThrowsError(try GridReport.decode(Array(text.utf8), path: "dir/bad.json"), text) { error in
                let message = "\(error)"
                XCTAssertTrue(message.hasPrefix("dir/bad.json: "), message)
                XCTAssertTrue(message.contains(expected), "\(text): \(message)")
            }
        }
        XCTAssertThrowsError(try GridReport.load(["/nonexistent/grid.json"])) { error in
            XCTAssertTrue("\(error)".hasPrefix("/nonexistent/grid.json: cannot be read"), "\(error)")
        }
    }

    // MARK: HTML

    func testHTMLIsWellFormedSelfContainedAndHasEveryChart() throws {
        var files = try GridReportTests.files()
        files[0].tags.append((key: "note", value: "<b>&\"quoted\"</b>"))
        let html = GridReport.html(files, title: "grid <&>")
        let elements = try parse(html, name: "grid")
        XCTAssertEqual(elements.first, "html")
        XCTAssertTrue(html.hasPrefix("<!DOCTYPE html>\n"))
        let lower = html.lowercased()
        for forbidden in ["<link", "@import", "url(", "<script", "<img", "<iframe", "src=", "\"nan", ">nan<", "\"inf", ">inf<"] {
            XCTAssertFalse(lower.contains(forbidden), "contains \(forbidden)")
        }
        for id in ["chart-max-rate", "chart-latency", "chart-ttft"] { XCTAssertTrue(html.contains("id=\"\(id)\""), id) }
        XCTAssertEqual(HTMLReportTests.count("<rect class=\"bar\"", in: html), 3, "one bar per file with a max rate")
        XCTAssertTrue(html.contains("max_num_seqs=32, dtype=fp8, note=&lt;b&gt;"), "the legend labels a curve by its tags, escaped")
        XCTAssertFalse(html.contains("<b>&"))

        let sweepOnly = GridReport.html([files[1]], title: "one")
        XCTAssertFalse(sweepOnly.contains("id=\"chart-ttft\""), "no TTFT chart when no file streamed")
        _ = try parse(sweepOnly, name: "sweep only")
        _ = try parse(GridReport.html([], title: "empty"), name: "empty")
    }

    /// Well-formed as XML (the page is written XHTML-compatible): the element names in order.
    func parse(_ text: String, name: String) throws -> [String] {
        final class Collector: NSObject, XMLParserDelegate {
            var elements: [String] = []
            func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                        qualifiedName: String?, attributes: [String: String] = [:]) { elements.append(elementName) }
        }
        let parser = XMLParser(data: Data(text.utf8))
        let collector = Collector()
        parser.delegate = collector
        XCTAssertTrue(parser.parse(), "\(name): not well-formed at line \(parser.lineNumber): \(String(describing: parser.parserError))")
        return collector.elements
    }

    // MARK: The CLI

    func metronome(_ arguments: [String]) throws -> ProcessResult {
        try runProcess(CLITests.binary, arguments)
    }

    func fixtureDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "metronome-grid-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        for (name, text) in [("a_find_max.json", GridReportTests.findMax32), ("c_sweep.json", GridReportTests.sweep), ("b_find_max.json", GridReportTests.findMax8)] {
            try Data(text.utf8).write(to: URL(fileURLWithPath: path + "/" + name))
        }
        return path
    }

    func testReportGridPrintsTheTableAndWritesItsThreeFiles() throws {
        let dir = try fixtureDirectory()
        let inputs = ["a_find_max.json", "c_sweep.json", "b_find_max.json"].map { dir + "/" + $0 }
        let result = try metronome(["report", "--grid"] + inputs + ["--out", dir + "/out", "--name", "g"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("max_num_seqs"), result.stdout)
        XCTAssertTrue(result.stdout.contains("\(dir)/out/g_grid.{csv,json,html}"), result.stdout)
        for suffix in ["csv", "json", "html"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: "\(dir)/out/g_grid.\(suffix)"), suffix)
        }
        let csv = try String(contentsOfFile: "\(dir)/out/g_grid.csv", encoding: .utf8)
        XCTAssertEqual(csv, GridReport.csv(try GridReport.load(inputs)))

        // --json prints the grid object; without --out the files go next to the first input.
        let json = try metronome(["report", inputs[1], "--grid", "--json", "--name=j"])
        XCTAssertEqual(json.status, 0, json.stderr)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        XCTAssertEqual((object["rows"] as? [Any])?.count, 1)
        XCTAssertTrue(FileManager.default.fileExists(atPath: "\(dir)/j_grid.html"))
    }

    func testReportGridErrors() throws {
        let dir = try fixtureDirectory()
        try Data("{\"command\": \"run\"}".utf8).write(to: URL(fileURLWithPath: dir + "/summary.json"))
        let bad = try metronome(["report", "--grid", dir + "/a_find_max.json", dir + "/summary.json", "--out", dir])
        XCTAssertEqual(bad.status, 1)
        XCTAssertTrue(bad.stderr.contains("\(dir)/summary.json: not a sweep or find-max file"), bad.stderr)
        let missing = try metronome(["report", "--grid", dir + "/nope.json"])
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.stderr.contains("\(dir)/nope.json: cannot be read"), missing.stderr)
        XCTAssertEqual(try metronome(["report", "--grid"]).status, 64)
        XCTAssertEqual(try metronome(["report", "--grid", dir + "/a_find_max.json", "--bogus"]).status, 64)
        XCTAssertEqual(try metronome(["report", "--grid", dir + "/a_find_max.json", "--name", "a/b"]).status, 64)
        let help = try metronome(["report", "--grid", "--help"])
        XCTAssertEqual(help.status, 0)
        XCTAssertTrue(help.stdout.contains("--grid"))
        XCTAssertFalse(try String(contentsOfFile: dir + "/a_find_max.json", encoding: .utf8).isEmpty)
    }
}
