// The sweep/find-max HTML page: golden file, well-formed, self-contained, no NaN, and what it must show.
import XCTest
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
@testable import MetronomeCore

final class SweepHTMLTests: XCTestCase {
    func testGoldenFindMaxPage() throws {
        let html = SweepHTML.render(SampleSweep.findMax(), title: "Metronome find-max: sample")
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/golden-html/sample_find_max.html")
        if ProcessInfo.processInfo.environment["METRONOME_UPDATE_GOLDEN"] == "1" {
            try Data(html.utf8).write(to: url)
        }
        let golden = try String(decoding: Data(contentsOf: url), as: UTF8.self)
        XCTAssertEqual(html, golden, "rerun with METRONOME_UPDATE_GOLDEN=1 to accept the new output, then look at it in a browser")
    }

    /// The sample, a plain sweep, and results built to break the charts: no steps, one step,
    /// non-finite figures, an interrupted and stopped search with nothing passing.
    static func results() -> [(String, SweepResult)] {
        var empty = SweepResult(command: .sweep)
        empty.sloText = "p95<=1s"
        var single = SampleSweep.sweep()
        single.steps = Array(single.steps.prefix(1))
        var broken = SampleSweep.findMax()
        broken.steps[0].hold.latency.values[5] = .nan
        broken.steps[1].hold.achievedRps = .infinity
        broken.steps[2].hold.offeredRps = .nan
        broken.steps[3].goodputRps = -.infinity
        broken.steps[4].hold.ttft.values[0] = .infinity
        broken.steps[4].sloChecks[0].measured = .nan
        var none = SampleSweep.findMax()
        none.steps = Array(none.steps.prefix(1))
        none.steps[0].passed = false
        none.steps[0].interrupted = true
        none.interrupted = true
        none.abortReason = "the target became unreachable at 5 requests/s: no request could connect"
        none.maxRate = nil
        none.bracket = (nil, nil)
        none.sloText = "not <an> SLO & co"
        return [("find-max", SampleSweep.findMax()), ("sweep", SampleSweep.sweep()), ("empty", empty), ("single", single),
                ("broken", broken), ("none", none)]
    }

    func testWellFormedSelfContainedAndFinite() throws {
        for (name, result) in SweepHTMLTests.results() {
            let html = SweepHTML.render(result, title: "<\(name)> & co")
            XCTAssertTrue(html.hasPrefix("<!DOCTYPE html>\n"), name)
            XCTAssertEqual(try parse(html, name: name).first, "html", name)
            for attribute in HTMLReportTests.attributes(in: html) where ["src", "href", "xlink:href", "action", "srcset", "poster"].contains(attribute.name) {
                XCTAssertTrue(attribute.value.hasPrefix("#"), "\(name): \(attribute.name)=\"\(attribute.value)\" leaves the page")
            }
            let lower = html.lowercased()
            for forbidden in ["<link", "@import", "url(", "<script", "<img", "<iframe", "<object", "<embed", "src=", "http://www", "https://"] {
                XCTAssertFalse(lower.contains(forbidden), "\(name) contains \(forbidden)")
            }
            for bad in ["nan", "NaN", "inf<", ">inf", ">-inf"] {
                XCTAssertFalse(html.contains(bad), "\(name): \(bad) in \(html.components(separatedBy: bad)[0].suffix(80))")
            }
            try HTMLReportTests.checkGeometry(html, name: name)
        }
    }

    func testFindMaxShowsTheAnswerTheLimitsTheMarksAndTheTable() throws {
        let html = SweepHTML.render(SampleSweep.findMax(), title: "t")
        for id in ["warnings", "charts", "chart-latency", "chart-ttft", "chart-goodput", "steps"] {
            XCTAssertTrue(html.contains("id=\"\(id)\""), "missing \(id)")
        }
        XCTAssertEqual(HTMLReportTests.count("<svg class=\"plot\"", in: html), 3)
        for text in ["<span class=\"badge pass\">MAX 15 RPS</span>", "3 of 6 steps passed", "bracket [15, 17.5]", "precision 20.00 %",
                     "<code>max_num_seqs=32</code> · <code>gpu=a100, 80GB</code>", "<code>sim-model</code>", "poisson",
                     "hold 10s, judged", "<code>p95&lt;=3s,ttft_p95&lt;=1s,errors&lt;=1%</code>",
                     "SLO p95&lt;=3s", "SLO ttft_p95&lt;=1s", "y = x", ">max 15 rps</text>", ">fail 17.5 rps</text>",
                     "17.5*", "<span class=\"badge fail\">FAIL</span>", "<span class=\"badge pass\">PASS</span>",
                     "step 3 (20 requests/s): 12 requests were still running", "the generator, not the server",
                     "<code>p95&lt;=3s</code> (latency p95 4600.00 ms)", "ttft p95", "tok/s"] {
            XCTAssertTrue(html.contains(text), "missing \(text)")
        }
        // The latency limit sits at 3000 ms on the latency chart; the errors check draws no line.
        XCTAssertFalse(html.contains("SLO errors"))
        // The bracket is shaded on each of the three charts.
        XCTAssertEqual(HTMLReportTests.count("fill-opacity=\"0.12\"", in: html), 3)
    }

    func testPlainSweepHasNoTokenChartsNoLimitsAndMarksTheLastPass() throws {
        let html = SweepHTML.render(SampleSweep.sweep(), title: "t")
        XCTAssertEqual(HTMLReportTests.count("<svg class=\"plot\"", in: html), 2)
        for text in ["chart-ttft", "TTFT", "SLO p", "MAX", "Tags", "</svg>goodput</li>", "fill-opacity=\"0.12\""] {
            XCTAssertFalse(html.contains(text), "plain sweep contains \(text)")
        }
        XCTAssertTrue(html.contains(">last pass 40 rps</text>"))
        XCTAssertTrue(html.contains("4 of 4 steps passed"))
        XCTAssertTrue(html.contains("none (<code>--slo</code> not given)"))
    }

    func testTextIsEscaped() throws {
        var result = SampleSweep.findMax()
        result.tags = [("k", "<script>&\"")]
        result.model = "</code><script>"
        result.warnings = ["a <b> & c"]
        let html = SweepHTML.render(result, title: "</title><script>")
        XCTAssertFalse(html.lowercased().contains("<script"))
        XCTAssertTrue(html.contains("<code>k=&lt;script&gt;&amp;&quot;</code>"))
        XCTAssertTrue(html.contains("<li>a &lt;b&gt; &amp; c</li>"))
        _ = try parse(html, name: "escaped")
    }

    /// Well-formed XML (the page is XHTML-compatible): the element names in order.
    func parse(_ text: String, name: String) throws -> [String] {
        final class Collector: NSObject, XMLParserDelegate {
            var elements: [String] = []
            func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                        qualifiedName: String?, attributes: [String: String] = [:]) { elements.append(elementName) }
        }
        let parser = XMLParser(data: Data(text.utf8))
        let collector = Collector()
        parser.delegate = collector
        XCTAssertTrue(parser.parse(), "\(name): not well-formed at line \(parser.lineNumber), column \(parser.columnNumber)")
        return collector.elements
    }
}
