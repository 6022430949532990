// `metronome run` options: each parses, each bad value names its flag, and plans come out right.
import XCTest
@testable import MetronomeCore
import Foundation

final class OptionTableTests: XCTestCase {
    func testShorthandPlanRampsThenHolds() throws {
        let options = try OptionTable.parse(["http://h:8000", "--rate", "20", "--ramp", "60s", "--duration=10m"])
        XCTAssertEqual(options.url, "http://h:8000")
        let plan = try options.ratePlan()
        XCTAssertEqual(plan.stages.map(\.name), ["ramp", "hold"])
        XCTAssertEqual(plan.stages[0].startRatePerSec, 1)
        XCTAssertEqual(plan.stages[0].endRatePerSec, 20)
        XCTAssertEqual(plan.stages[1].durationNs, 600_000_000_000)
        XCTAssertEqual(plan.totalDurationNs, 660_000_000_000)
    }

    func testStagesFollowK6Convention() throws {
        let options = try OptionTable.parse(["--start-rate", "0", "--stage", "10s:5", "--stage", "20s:5", "--stage", "5s:0", "--stage", "5s:5"])
        let plan = try options.ratePlan()
        XCTAssertEqual(plan.stages.map(\.name), ["ramp", "hold", "ramp-down", "ramp-2"])
        XCTAssertEqual(plan.stages.map(\.startRatePerSec), [0, 5, 5, 0])
        XCTAssertEqual(plan.stages.map(\.endRatePerSec), [5, 5, 0, 5])
    }

    /// Every option with a value refuses a bad one (free-text options at least the empty string),
    /// with an error that names the flag.
    func testEveryValueOptionRejectsBadValuesNamingItsFlag() {
        for spec in OptionTable.run where spec.value != nil {
            var refused = false
            for bad in ["garbage!", "", "-1"] {
                do {
                    _ = try OptionTable.parse([spec.flag, bad])
                } catch {
                    XCTAssertEqual(error.flag, spec.flag, "\(spec.flag) '\(bad)': \(error)")
                    XCTAssertFalse(error.message.isEmpty)
                    refused = true
                }
            }
            XCTAssertTrue(refused, "\(spec.flag) accepted every bad value")
        }
    }

    func testBadUsage() {
        let cases: [([String], String)] = [
            (["--rate"], "--rate"), (["--nope", "1"], "--nope"), (["--rate", "0", "--duration", "1s"], "--rate"),
            (["--duration", "0s", "--rate", "1"], "--duration"), (["--stage", "10s"], "--stage"),
            (["--header", "no colon"], "--header"), (["--method", "GE T"], "--method"), (["--max-connections", "0"], "--max-connections"),
            (["--quiet=yes"], "--quiet"), (["-x"], "-x"), (["http://a", "http://b"], ""),
        ]
        for (arguments, flag) in cases {
            XCTAssertThrowsError(try OptionTable.parse(arguments), "\(arguments)") { error in
                XCTAssertEqual((error as? UsageError)?.flag, flag, "\(arguments)")
            }
        }
    }

    func testPlanErrors() throws {
        XCTAssertThrowsError(try OptionTable.parse([]).ratePlan()) { XCTAssertEqual(($0 as? UsageError)?.flag, "--rate") }
        XCTAssertThrowsError(try OptionTable.parse(["--rate", "5"]).ratePlan()) { XCTAssertEqual(($0 as? UsageError)?.flag, "--duration") }
        XCTAssertThrowsError(try OptionTable.parse(["--rate", "5", "--stage", "1s:1"]).ratePlan()) {
            XCTAssertEqual(($0 as? UsageError)?.flag, "--stage")
        }
    }

    func testHeadersMethodBodyFlags() throws {
        let options = try OptionTable.parse(["--header", "X-A:  1 ", "--header", "Authorization: Bearer t", "--method", "PUT",
                                             "--body", "/tmp/x", "--quiet", "--no-files", "--json", "--arrival", "constant", "--seed", "7"])
        XCTAssertEqual(options.headers.map(\.name), ["X-A", "Authorization"])
        XCTAssertEqual(options.headers.map(\.value), ["1", "Bearer t"])
        XCTAssertEqual(options.method, "PUT")
        XCTAssertEqual(options.bodyFile, "/tmp/x")
        XCTAssertTrue(options.quiet && options.noFiles && options.json)
        XCTAssertEqual(options.arrival, .constant)
        XCTAssertEqual(options.seed, 7)
    }

    func testHelpListsEveryOption() {
        for spec in OptionTable.run {
            XCTAssertTrue(HelpText.run.contains(spec.flag), spec.flag)
            XCTAssertTrue(HelpText.markdown.contains("`\(spec.flag)"), spec.flag)
        }
    }
}

extension OptionTableTests {
    func testWithoutRampTheHoldStartsAtItsRate() throws {
        let plan = try OptionTable.parse(["--rate", "5000", "--duration", "5s"]).ratePlan()
        XCTAssertEqual(plan.stages.count, 1)
        XCTAssertEqual(plan.stages[0].startRatePerSec, 5000)
        XCTAssertEqual(plan.expectedArrivals(byNs: plan.totalDurationNs), 25_000, accuracy: 1e-6)
    }
}

extension OptionTableTests {
    /// The README's option list is generated from the same table as --help; this keeps it true.
    func testReadmeOptionTableIsTheGeneratedOne() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../README.md").path
        let readme = try String(contentsOfFile: path, encoding: .utf8)
        let begin = try XCTUnwrap(readme.range(of: "<!-- options:begin -->\n"))
        let end = try XCTUnwrap(readme.range(of: "<!-- options:end -->"))
        XCTAssertEqual(String(readme[begin.upperBound..<end.lowerBound]), HelpText.markdown,
                       "regenerate the README's table with: metronome help-options")
    }
}
