// The sweep's text, CSV and JSON carry `--tag` labels: a `tags` object after `command`, `tag_<key>` CSV columns, the header.
import XCTest
import Foundation
@testable import MetronomeCore

final class SweepReportTests: XCTestCase {
    func testJSONHasTagsInOrderRightAfterCommandAndKeepsEveryMember() throws {
        let json = SweepReport.json(SampleSweep.findMax())
        XCTAssertTrue(json.hasPrefix("{\n  \"command\": \"find-max\",\n  \"tags\": {\n    \"max_num_seqs\": \"32\",\n    \"gpu\": \"a100, 80GB\"\n  },\n  \"target\""), json)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        XCTAssertEqual(object["tags"] as? [String: String], ["max_num_seqs": "32", "gpu": "a100, 80GB"])
        XCTAssertEqual(object["max_rate"] as? Double, 15)
        XCTAssertEqual((object["bracket"] as? [Double]), [15, 17.5])
        let steps = try XCTUnwrap(object["steps"] as? [[String: Any]])
        XCTAssertEqual(steps.count, 6)
        for step in steps {
            for key in ["rate", "achieved_rps", "latency_ms", "ttft_ms", "verdict"] { XCTAssertNotNil(step[key], key) }
        }
        // Without --tag the object is there, empty.
        let plain = SweepReport.json(SampleSweep.sweep(), pretty: false)
        XCTAssertTrue(plain.hasPrefix("{\"command\":\"sweep\",\"tags\":{},\"target\""), plain)
    }

    func testCSVAppendsATagColumnPerKeyOnEveryRow() throws {
        let csv = SweepReport.csv(SampleSweep.findMax())
        let lines = csv.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 7)
        XCTAssertTrue(lines[0].hasPrefix("step,rate,offered_rps"))
        XCTAssertTrue(lines[0].hasSuffix(",repeated,scheduled,succeeded,dropped,unfinished,tag_max_num_seqs,tag_gpu"), lines[0])
        for line in lines.dropFirst() { XCTAssertTrue(line.hasSuffix(",32,\"a100, 80GB\""), line) }
        XCTAssertEqual(SweepReport.csvField("plain"), "plain")
        XCTAssertEqual(SweepReport.csvField("a,\"b\""), "\"a,\"\"b\"\"\"")
        XCTAssertTrue(SweepReport.csv(SampleSweep.sweep()).split(separator: "\n")[0].hasSuffix(",unfinished"))
    }

    func testTextHeaderNamesTheTags() throws {
        let text = SweepReport.text(SampleSweep.findMax())
        XCTAssertTrue(text.hasPrefix("Find-max: 6 steps against POST http://127.0.0.1:8000/v1/chat/completions, model sim-model · tags max_num_seqs=32, gpu=a100, 80GB\n"), text)
        XCTAssertFalse(SweepReport.text(SampleSweep.sweep()).contains("tags"))
    }
}
