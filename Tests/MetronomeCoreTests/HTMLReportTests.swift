// The HTML report: golden file, well-formed XML, self-contained, every section, escaping, and no NaN in any SVG.
import XCTest
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
@testable import MetronomeCore

final class HTMLReportTests: XCTestCase {
    static let title = "Metronome report · sample"

    // MARK: Golden file

    func testGoldenSampleReport() throws {
        let html = HTMLReport.render(SampleSummary.make(), title: HTMLReportTests.title)
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/golden-html/sample_report.html")
        if ProcessInfo.processInfo.environment["METRONOME_UPDATE_GOLDEN"] == "1" {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(html.utf8).write(to: url)
        }
        let golden = try String(decoding: Data(contentsOf: url), as: UTF8.self)
        XCTAssertEqual(html, golden, "rerun with METRONOME_UPDATE_GOLDEN=1 to accept the new output, then look at it in a browser")
    }

    // MARK: Structure

    func testWellFormedXMLForEverySummary() throws {
        for (name, summary) in HTMLReportTests.summaries() {
            let html = HTMLReport.render(summary, title: "<\(name)> & co")
            let elements = try parse(html, name: name)
            XCTAssertEqual(elements.first, "html", name)
            XCTAssertTrue(html.hasPrefix("<!DOCTYPE html>\n"), name)
        }
    }

    func testSelfContained() throws {
        for (name, summary) in HTMLReportTests.summaries() {
            let html = HTMLReport.render(summary, title: name)
            for attribute in HTMLReportTests.attributes(in: html) where ["src", "href", "xlink:href", "action", "srcset", "poster"].contains(attribute.name) {
                XCTAssertTrue(attribute.value.hasPrefix("#"), "\(name): \(attribute.name)=\"\(attribute.value)\" leaves the page")
            }
            let lower = html.lowercased()
            for forbidden in ["<link", "@import", "url(", "<script", "<img", "<iframe", "<object", "<embed", "src="] {
                XCTAssertFalse(lower.contains(forbidden), "\(name) contains \(forbidden)")
            }
        }
    }

    func testContainsEverySection() throws {
        let html = HTMLReport.render(SampleSummary.make(), title: HTMLReportTests.title)
        for id in ["warnings", "slo", "summary", "charts", "chart-rate", "chart-latency", "chart-failures", "chart-distribution",
                   "chart-intended", "chart-inflight", "chart-ttft-time", "chart-itl-time", "chart-ttft-distribution", "chart-itl-distribution",
                   "llm", "chart-tokens", "errors", "config", "environment"] {
            XCTAssertTrue(html.contains("id=\"\(id)\""), "missing section \(id)")
        }
        for text in ["SLO FAIL", "<code>p95&lt;=5s</code>", "Goodput: 17.50 requests/s", "coordinated omission",
                     "ramp 2 → 20 rps over 10s, hold 20 rps for 20s", "2026-11-29T09:20:00Z", ">99.9%</text>", ">90%</text>",
                     "TTFT", "ITL", "TPOT", "output tokens/s", "The model overloaded: KV cache is full", "http_error", "timeout",
                     "golden-host", "max_connections", "X-Team: perf", "p99.9", "send lag", "TTFT from send", "sawtooth",
                     "succeeded, by intended second", "completions, by completion second", "in flight", "queued"] {
            XCTAssertTrue(html.contains(text), "missing \(text)")
        }
        // The sample's error-rate check fails (3 % of requests did not succeed), so the verdict is FAIL.
        XCTAssertTrue(html.contains("<span class=\"badge fail\">SLO FAIL</span> <span class=\"badge-note\">1 of 2 checks passed</span>"))
        // Over time: rate, by intended second, in flight, latency, failures; the latency distribution; LLM:
        // TTFT and ITL per second, TTFT and ITL distributions, output tokens.
        XCTAssertEqual(HTMLReportTests.count("<svg class=\"plot\"", in: html), 11)
        XCTAssertTrue(html.contains("class=\"band-label\" x=\"") && html.contains(">ramp</text>") && html.contains(">hold</text>"))
    }

    func testNonLLMRunHasNoLLMSections() throws {
        let html = HTMLReport.render(SampleSummary.make(llm: false), title: "plain")
        for text in ["id=\"llm\"", "chart-tokens", "TTFT", "ITL", "TPOT", "tokens/s", "LLM metrics"] {
            XCTAssertFalse(html.contains(text), "non-LLM report contains \(text)")
        }
        XCTAssertEqual(HTMLReportTests.count("<svg class=\"plot\"", in: html), 6)
        XCTAssertFalse(html.contains("href=\"#llm\""))
    }

    func testVerdictBadge() throws {
        var summary = SampleSummary.make()
        for index in summary.sloChecks.indices { summary.sloChecks[index].passed = true }
        XCTAssertTrue(HTMLReport.render(summary, title: "t").contains("<span class=\"badge pass\">SLO PASS</span>"))
        summary.sloChecks = []
        summary.goodputRps = nil
        let html = HTMLReport.render(summary, title: "t")
        XCTAssertFalse(html.contains("SLO PASS") || html.contains("SLO FAIL") || html.contains("Goodput"))
        XCTAssertTrue(html.contains("No SLO checks were given"))
    }

    func testSecretsNeverAppear() throws {
        for llm in [true, false] {
            let html = HTMLReport.render(SampleSummary.make(llm: llm), title: "t")
            XCTAssertFalse(html.contains("sk-secret-never-shown"))
            XCTAssertTrue(html.contains("Authorization: ***"))
        }
    }

    // MARK: Escaping

    func testTextIsEscaped() throws {
        XCTAssertEqual(HTMLText.escape("a<b>&\"c'\u{1}\u{7F}\té"), "a&lt;b&gt;&amp;&quot;c&#39;\u{FFFD}\u{FFFD}\té")
        var summary = SampleSummary.make()
        summary.errorMessages = [("http_error", 500, "<script>alert(1)</script> & \u{0}bad", 3)]
        summary.warnings = ["queue <full> & \"late\""]
        summary.stages[0].name = "ramp<1>"
        let html = HTMLReport.render(summary, title: "</title><script>")
        XCTAssertFalse(html.lowercased().contains("<script"))
        XCTAssertTrue(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; \u{FFFD}bad"))
        XCTAssertTrue(html.contains("<li>queue &lt;full&gt; &amp; &quot;late&quot;</li>"))
        XCTAssertTrue(html.contains("ramp&lt;1&gt;"))
        _ = try parse(html, name: "escaped")
    }

    // MARK: Numbers in the drawings

    func testNoNaNOrInfinityInAnySVG() throws {
        for (name, summary) in HTMLReportTests.summaries() {
            let html = HTMLReport.render(summary, title: name)
            try HTMLReportTests.checkGeometry(html, name: name)
        }
    }

    func testChartDegenerateInputs() throws {
        let cases: [(String, [SVGChart.Series], SVGChart.XScale)] = [
            ("no series", [], .linear),
            ("empty series", [SVGChart.Series(name: "a", color: "#000", points: [])], .linear),
            ("one point", [SVGChart.Series(name: "a", color: "#000", area: true, points: [(3, 7)])], .linear),
            ("flat", [SVGChart.Series(name: "a", color: "#000", points: [(0, 5), (1, 5), (2, 5)])], .linear),
            ("zeros", [SVGChart.Series(name: "a", color: "#000", area: true, points: [(0, 0), (0, 0)])], .linear),
            ("non-finite", [SVGChart.Series(name: "a", color: "#000", points: [(.nan, 1), (1, .nan), (2, .infinity), (.infinity, 3), (4, -.infinity)])], .linear),
            ("huge", [SVGChart.Series(name: "a", color: "#000", points: [(0, 1e300), (1, -1e300), (2, .greatestFiniteMagnitude)])], .linear),
            ("gaps", [SVGChart.Series(name: "a", color: "#000", points: [(0, nil), (1, 2), (2, nil), (3, 4), (4, 5)])], .linear),
            ("percentile empty", [SVGChart.Series(name: "a", color: "#000", points: [])], .percentile),
            ("percentile one", [SVGChart.Series(name: "a", color: "#000", points: [(100, 12)])], .percentile),
            ("percentile odd", [SVGChart.Series(name: "a", color: "#000", points: [(-5, 1), (.nan, 2), (99.999999999999, 3), (100, .infinity), (150, 4)])], .percentile),
        ]
        for (name, series, scale) in cases {
            let chart = SVGChart(label: name, xTitle: "x", yTitle: "y", xScale: scale, series: series)
            let svg = chart.svg()
            try HTMLReportTests.checkGeometry(svg, name: name)
            _ = try parse("<div>" + svg + chart.legend() + "</div>", name: name)
        }
        let one = SVGChart(label: "one", xTitle: "x", yTitle: "y", series: [SVGChart.Series(name: "a", color: "#000", points: [(3, 7)])]).svg()
        XCTAssertEqual(HTMLReportTests.count("<circle ", in: one), 1, "a lone point is drawn as a dot")
        let empty = SVGChart(label: "e", xTitle: "x", yTitle: "y", series: []).svg()
        XCTAssertTrue(empty.contains(">no data</text>"))
        let gaps = SVGChart(label: "g", xTitle: "x", yTitle: "y", series: [SVGChart.Series(name: "a", color: "#000", points: [(0, nil), (1, 2), (2, nil), (3, 4), (4, 5)])]).svg()
        XCTAssertEqual(HTMLReportTests.count("<circle ", in: gaps), 1)
        XCTAssertEqual(HTMLReportTests.count("<path ", in: gaps), 1)
    }

    func testPercentileAxis() throws {
        XCTAssertEqual(SVGChart.percentileDecades(0), 0)
        XCTAssertEqual(SVGChart.percentileDecades(90)!, 1, accuracy: 1e-12)
        XCTAssertEqual(SVGChart.percentileDecades(99)!, 2, accuracy: 1e-12)
        XCTAssertEqual(SVGChart.percentileDecades(99.99)!, 4, accuracy: 1e-9)
        XCTAssertNil(SVGChart.percentileDecades(100))
        XCTAssertNil(SVGChart.percentileDecades(.nan))
        XCTAssertEqual(SVGChart.percentileTicks(decades: 4).map(\.label), ["0%", "50%", "90%", "99%", "99.9%", "99.99%"])
        XCTAssertEqual(SVGChart.percentileTicks(decades: 7).map(\.label), ["0%", "90%", "99%", "99.9%", "99.99%", "99.999%", "99.9999%", "99.99999%"])
        // The sample's last finite level is below 99.9 %, so the axis ends at 99.9 % with 100 % drawn there.
        let page = HTMLReport.render(SampleSummary.make(), title: "t")
        let start = try XCTUnwrap(page.range(of: "<figure id=\"chart-distribution\">"))
        let html = String(page[start.lowerBound...].prefix { $0 != "\u{0}" }).components(separatedBy: "</figure>")[0]
        XCTAssertTrue(html.contains(">99.9%</text>") && !html.contains(">99.99%</text>"))
    }

    func testNiceTicks() throws {
        XCTAssertEqual(SVGChart.niceTicks(min: 0, max: 20, count: 5), [0, 5, 10, 15, 20, 25])
        XCTAssertEqual(SVGChart.niceTicks(min: 0, max: 19, count: 5), [0, 5, 10, 15, 20])
        XCTAssertEqual(SVGChart.niceTicks(min: 0, max: 0, count: 5), [0, 0.2, 0.4, 0.6000000000000001, 0.8, 1, 1.2000000000000002])
        XCTAssertEqual(SVGChart.niceTicks(min: 0, max: 2300, count: 5), [0, 500, 1000, 1500, 2000, 2500])
        XCTAssertEqual(SVGChart.niceTicks(min: 0, max: .nan, count: 5).count, 7)
        XCTAssertEqual(SVGChart.niceStep(12), 20)
        XCTAssertEqual(SVGChart.niceStep(2.2), 2.5)
        XCTAssertEqual(SVGChart.niceStep(0.03), 0.05)
        XCTAssertEqual(SVGChart.niceStep(0), 1)
        XCTAssertEqual(["0", "0.2", "2.5", "1500", "25k", "1.5M"],
                       [0, 0.2, 2.5, 1500, 25_000, 1_500_000].map(SVGChart.tickLabel))
    }

    // MARK: Helpers

    /// The sample, its plain-HTTP twin, and summaries built to break charts: no series, one second,
    /// NaN and infinite values, no stages' worth of time.
    static func summaries() -> [(String, RunSummary)] {
        var empty = SampleSummary.make()
        empty.series = []
        empty.latencyDistribution = []
        empty.serviceDistribution = []
        empty.environment = nil
        empty.failures = []
        empty.errorMessages = []
        var single = SampleSummary.make(llm: false)
        single.series = Array(single.series.prefix(1))
        single.latencyDistribution = [(100, 12.5)]
        single.serviceDistribution = [(50, 3)]
        var broken = SampleSummary.make()
        broken.series[3].p95Ms = .nan
        broken.series[4].p99Ms = .infinity
        broken.series[5].endS = .nan
        broken.latencyDistribution.append((100, .infinity))
        broken.serviceDistribution.insert((.nan, 1), at: 0)
        broken.plannedDurationS = .infinity
        broken.total.latency.values[7] = .nan
        broken.sloChecks[0].measured = .nan
        broken.goodputRps = .infinity
        var zero = SampleSummary.make(llm: false)
        zero.plannedDurationS = 0
        zero.ranS = 0
        zero.elapsedS = 0
        for index in zero.stages.indices { zero.stages[index].endS = zero.stages[index].startS }
        for index in zero.series.indices { zero.series[index].scheduled = 0; zero.series[index].succeeded = 0; zero.series[index].failed = 0 }
        return [("sample", SampleSummary.make()), ("plain", SampleSummary.make(llm: false)), ("empty", empty),
                ("single", single), ("broken", broken), ("zero", zero)]
    }

    /// Every geometric attribute inside every `<svg>` holds only numbers and path commands.
    static func checkGeometry(_ html: String, name: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let geometric: Set<String> = ["x", "y", "x1", "y1", "x2", "y2", "cx", "cy", "r", "width", "height", "d", "viewBox", "transform", "dy", "stroke-width"]
        let allowed = Set("0123456789.-, mlzrotate()e")
        var checked = 0
        for svg in html.components(separatedBy: "<svg").dropFirst() {
            let body = svg.components(separatedBy: "</svg>")[0]
            for attribute in attributes(in: "<svg" + body) where geometric.contains(attribute.name) {
                checked += 1
                let value = attribute.value.lowercased()
                XCTAssertFalse(value.contains("nan") || value.contains("inf"), "\(name): \(attribute.name)=\"\(value)\"", file: file, line: line)
                XCTAssertTrue(value.allSatisfy(allowed.contains), "\(name): \(attribute.name)=\"\(value)\"", file: file, line: line)
                if let number = Double(value) { XCTAssertTrue(number.isFinite, file: file, line: line) }
            }
        }
        XCTAssertGreaterThan(checked, 0, "\(name): no SVG geometry found", file: file, line: line)
    }

    static func attributes(in text: String) -> [(name: String, value: String)] {
        let regex = try! NSRegularExpression(pattern: "\\s([A-Za-z:-]+)=\"([^\"]*)\"")
        let range = NSRange(text.startIndex..., in: text)
        return regex.matches(in: text, range: range).map { match in
            (String(text[Range(match.range(at: 1), in: text)!]), String(text[Range(match.range(at: 2), in: text)!]))
        }
    }

    static func count(_ needle: String, in text: String) -> Int { text.components(separatedBy: needle).count - 1 }

    /// Parses with Foundation's XML parser (the page is written XHTML-compatible), returning the
    /// element names in document order; fails the test on the first error.
    func parse(_ text: String, name: String, file: StaticString = #filePath, line: UInt = #line) throws -> [String] {
        final class Collector: NSObject, XMLParserDelegate {
            var elements: [String] = []
            func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                        qualifiedName: String?, attributes: [String: String] = [:]) { elements.append(elementName) }
        }
        let parser = XMLParser(data: Data(text.utf8))
        let collector = Collector()
        parser.delegate = collector
        let ok = parser.parse()
        XCTAssertTrue(ok, "\(name): not well-formed at line \(parser.lineNumber), column \(parser.columnNumber): \(String(describing: parser.parserError))",
                      file: file, line: line)
        return collector.elements
    }
}
