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

    /// Every numeric option refuses what Double(_:) or UInt64(_:) would take but a user does not mean:
    /// hex, hex floats, exponents, nan, inf, a leading +, spaces, underscores.
    func testNumericOptionsTakeOnlyPlainDecimals() {
        let numeric = ["rate", "ramp", "duration", "start-rate", "burstiness", "seed", "max-connections", "max-queue",
                       "connect-timeout", "timeout", "drain", "max-tokens", "temperature", "expect-prompt-tokens"]
        for name in numeric {
            for bad in ["0x10", "0x1p4", "1e2", "nan", "inf", "+2", " 2", "2 ", "1_0"] {
                XCTAssertThrowsError(try OptionTable.parse(["--\(name)", bad]), "--\(name) \(bad)") { error in
                    XCTAssertEqual((error as? UsageError)?.flag, "--\(name)", "--\(name) \(bad)")
                }
            }
            XCTAssertNoThrow(try OptionTable.parse(["--\(name)", "2"]), name)
        }
        XCTAssertThrowsError(try OptionTable.parse(["--stage", "0x10s:5"]))
        XCTAssertThrowsError(try OptionTable.parse(["--stage", "10s:0x10"]))
    }

    /// A zero-length stage is a jump (k6): the next stage starts from its rate; it is no stage itself.
    func testZeroLengthStageIsAJump() throws {
        let plan = try OptionTable.parse(["--stage", "0s:20", "--stage", "10s:20", "--stage", "0s:5", "--stage", "10s:5"]).ratePlan()
        XCTAssertEqual(plan.stages.map(\.name), ["hold", "hold-2"])
        XCTAssertEqual(plan.stages.map(\.startRatePerSec), [20, 5])
        XCTAssertEqual(plan.totalExpectedArrivals, 250)
        XCTAssertThrowsError(try OptionTable.parse(["--stage", "0s:20"]).ratePlan()) { XCTAssertEqual(($0 as? UsageError)?.flag, "--stage") }
    }

    /// No CR/LF (or other control byte) can reach the request head through --header or --method.
    func testHeaderAndMethodRefuseLineBreaks() {
        for bad in [["--header", "X-A: 1\r\nX-Injected: 1"], ["--header", "X-A: 1\nb"], ["--header", "X-A\r\nB: 1"],
                    ["--header", "X-A: \u{0}"], ["--header", "X-A: \u{7f}"], ["--method", "GET /x HTTP/1.1\r\nX: 1"],
                    ["--method", "GET\r\n"], ["--api-key", "sk\r\nX: 1"], ["--api-key", "sk\u{7f}"]] {
            XCTAssertThrowsError(try OptionTable.parse(bad), "\(bad)")
        }
        XCTAssertNoThrow(try OptionTable.parse(["--header", "X-A: a\tb"]), "a tab is allowed inside a field value")
    }

    /// JSON numbers from --config reach the strict parsers as plain decimals, never as `1e-05`.
    func testConfigFileNumbersArePlainDecimals() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("metronome-numbers-\(getpid()).json")
        try Data(#"{"temperature": 0.00001, "rate": 2.5, "duration": 3, "seed": 7}"#.utf8).write(to: path)
        defer { try? FileManager.default.removeItem(at: path) }
        let options = try OptionTable.parse(["--config", path.path])
        XCTAssertEqual(options.temperature, 0.00001)
        XCTAssertEqual(options.rate, 2.5)
        XCTAssertEqual(options.durationNs, 3_000_000_000)
        XCTAssertEqual(options.seed, 7)
    }

    /// A whole number keeps every digit, past 2^53 too: a 64-bit seed from a file is the seed given.
    func testConfigFileWholeNumbersKeepEveryDigit() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("metronome-seed-\(getpid()).json")
        defer { try? FileManager.default.removeItem(at: path) }
        for (literal, seed) in [("18446744073709551615", UInt64.max), ("9007199254740993", 9_007_199_254_740_993), ("1e3", 1000), ("-0", 0)] {
            try Data(#"{"seed": \#(literal)}"#.utf8).write(to: path)
            XCTAssertEqual(try OptionTable.parse(["--config", path.path]).seed, seed, literal)
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

extension OptionTableTests {
    /// `--tag`: kept in the order given, into the config; a bad key, a control character, a missing
    /// `=` or a key given twice is a usage error naming the flag.
    func testTagsKeepTheirOrderAndRefuseWhatCannotBeALabel() throws {
        let options = try OptionTable.parse(["--tag", "setting=max_num_seqs=64", "--tag", "gpu=A100 80GB", "--tag", "b.x-1_2=",
                                             "--tag", "note=naïve ✓"])
        XCTAssertEqual(options.tags.map(\.key), ["setting", "gpu", "b.x-1_2", "note"])
        XCTAssertEqual(options.tags.map(\.value), ["max_num_seqs=64", "A100 80GB", "", "naïve ✓"])
        XCTAssertEqual(options.resolvedConfig().filter { $0.key == "tag" }.map(\.value),
                       ["setting=max_num_seqs=64", "gpu=A100 80GB", "b.x-1_2=", "note=naïve ✓"])
        XCTAssertTrue(try OptionTable.parse([]).tags.isEmpty)
        for bad in [["--tag", "novalue"], ["--tag", "=v"], ["--tag", "a b=v"], ["--tag", "k/1=v"], ["--tag", "ключ=v"],
                    ["--tag", "k=line\nbreak"], ["--tag", "k=\r"], ["--tag", "k=a\tb"], ["--tag", "k=\u{1b}[2J"], ["--tag", "k=\u{85}"],
                    ["--tag", "k=\u{7f}"], ["--tag", "k=1", "--tag", "k=2"]] {
            XCTAssertThrowsError(try OptionTable.parse(bad), "\(bad)") { error in
                XCTAssertEqual((error as? UsageError)?.flag, "--tag", "\(bad)")
            }
        }
        XCTAssertThrowsError(try OptionTable.parse(["--tag", "k=1", "--tag", "k=2"])) {
            XCTAssertTrue("\($0)".contains("given twice"), "\($0)")
        }
        XCTAssertEqual(OptionTable.run.last { $0.group == "Output" }?.name, "tag", "the last entry of the Output group")
    }
}
