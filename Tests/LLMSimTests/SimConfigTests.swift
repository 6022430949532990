// The flag table: every flag parses, errors name the flag as metronome's do, durations and fractions read right.
import Foundation
import XCTest
@testable import LLMSim
import MetronomeCore

final class SimConfigTests: XCTestCase {
    func testDurations() {
        let table: [(String, UInt64?)] = [
            ("500ms", 500_000_000), ("10s", 10_000_000_000), ("2m", 120_000_000_000), ("1h30m", 5_400_000_000_000),
            ("0.1", 100_000_000), ("0", 0), ("250us", 250_000), ("250µs", 250_000), ("1.5ms", 1_500_000), ("7ns", 7),
            ("1m30s", 90_000_000_000), ("", nil), ("ms", nil), ("5x", nil), ("-1s", nil), ("-0.5", nil), ("1.2.3s", nil),
        ]
        for (text, expected) in table { XCTAssertEqual(parseDurationNs(text), expected, text) }
        XCTAssertEqual(formatDuration(30_000_000), "30ms")
        XCTAssertEqual(formatDuration(100_000), "100us")
        XCTAssertEqual(formatDuration(5_400_000_000_000), "1h30m")
    }

    func testFractions() {
        XCTAssertEqual(parseFraction("0.25"), 0.25)
        XCTAssertEqual(parseFraction("5%"), 0.05)
        XCTAssertEqual(parseFraction("1"), 1)
        XCTAssertNil(parseFraction("1.5"))
        XCTAssertNil(parseFraction("-0.1"))
        XCTAssertNil(parseFraction("abc"))
        XCTAssertNil(parseFraction("0x1p-2"), "Double(_:) reads hex; a fraction flag does not")
        XCTAssertNil(parseFraction("nan"))
        XCTAssertNil(parseFraction("%"))
    }

    func testEveryFlagParses() throws {
        let config = try SimConfig.parse(arguments: [
            "--host", "0.0.0.0", "--port=0", "--model", "m", "--ttft", "100ms", "--prefill-per-token", "50us", "--itl", "0.02",
            "--max-num-seqs", "8", "--batch-itl-slope", "0.1", "--jitter", "0.2", "--seed", "9", "--error-rate", "1%",
            "--reject-when-waiting", "3", "--freeze-every", "10s", "--freeze-for", "1s", "--drop-rate", "0.5", "--fast",
            "--max-body-bytes", "1000", "--max-model-len", "4096", "--fixed-created", "1700000000", "--keep-alive-timeout", "750ms",
        ])
        var expected = SimConfig()
        expected.host = "0.0.0.0"
        expected.port = 0
        expected.model = "m"
        expected.ttftNs = 100_000_000
        expected.prefillPerTokenNs = 50_000
        expected.itlNs = 20_000_000
        expected.maxNumSeqs = 8
        expected.batchItlSlope = 0.1
        expected.jitter = 0.2
        expected.seed = 9
        expected.errorRate = 0.01
        expected.rejectWhenWaiting = 3
        expected.freezeEveryNs = 10_000_000_000
        expected.freezeForNs = 1_000_000_000
        expected.dropRate = 0.5
        expected.fast = true
        expected.maxBodyBytes = 1000
        expected.maxModelLen = 4096
        expected.fixedCreated = 1_700_000_000
        expected.keepAliveTimeoutNs = 750_000_000
        XCTAssertEqual(config, expected)
        XCTAssertEqual(try SimConfig.parse(arguments: []), SimConfig(), "no flags, the defaults")
    }

    /// The errors metronome's table gives, through the same parser: a `UsageError` naming the
    /// flag (main exits 64 on it) and saying what it takes.
    func testErrorsNameTheFlagAndWhatItTakes() {
        let cases: [([String], String, String)] = [
            (["--ttft", "fast"], "--ttft", "--ttft must be a duration such as 500ms, 10s, 2m or 1h30m (got 'fast')"),
            (["--port", "70000"], "--port", "--port must be a whole number from 0 to 65535 (got '70000')"),
            (["--error-rate", "2"], "--error-rate", "--error-rate must be a fraction from 0 to 1, or 0% to 100% (got '2')"),
            (["--error-rate", "0x1p-2"], "--error-rate", "(got '0x1p-2')"),
            (["--jitter", "nan"], "--jitter", "--jitter must be a number from 0 to 1000000 (got 'nan')"),
            (["--batch-itl-slope", "-1"], "--batch-itl-slope", "(got '-1')"),
            (["--max-num-seqs", "0"], "--max-num-seqs", "--max-num-seqs must be a whole number from 1 to 1000000 (got '0')"),
            (["--max-model-len", "9223372036854775808"], "--max-model-len", "(got '9223372036854775808')"),
            (["--keep-alive-timeout", "-1s"], "--keep-alive-timeout", "--keep-alive-timeout must be a duration"),
            (["--itl"], "--itl", "--itl needs a value (D)"),
            (["--nope"], "--nope", "--nope is not an option of llmsim; see llmsim --help"),
            (["-x"], "-x", "-x is not an option; see llmsim --help"),
            (["stray"], "", "unexpected argument 'stray': llmsim takes only options"),
            (["--fast=yes"], "--fast", "--fast takes no value"),
            (["--freeze-every", "1s"], "--freeze-every", "--freeze-every and --freeze-for go together"),
            (["--freeze-every", "1s", "--freeze-for", "2s"], "--freeze-for", "must be shorter"),
        ]
        for (arguments, flag, text) in cases {
            XCTAssertThrowsError(try SimConfig.parse(arguments: arguments), "\(arguments)") { error in
                guard let usage = error as? UsageError else { return XCTFail("\(arguments): \(error) is no UsageError") }
                XCTAssertEqual(usage.flag, flag, "\(arguments)")
                XCTAssertTrue(usage.description.contains(text), "\(arguments): \(usage)")
            }
        }
    }

    /// As metronome's own table test: every option with a value refuses a bad one, naming itself.
    func testEveryValueOptionRejectsBadValuesNamingItsFlag() {
        for spec in SimConfig.options where spec.value != nil {
            var refused = false
            for bad in ["garbage!", "", "-1"] {
                do {
                    _ = try SimConfig.parse(arguments: [spec.flag, bad])
                } catch let error as UsageError {
                    XCTAssertEqual(error.flag, spec.flag, "\(spec.flag) '\(bad)': \(error)")
                    refused = true
                } catch {
                    XCTFail("\(spec.flag) '\(bad)': \(error)")
                }
            }
            XCTAssertTrue(refused, "\(spec.flag) accepted every bad value")
        }
    }

    /// metronome's help layout: OVERVIEW, USAGE, one capitalised block per group, each option with
    /// its placeholder and default in the 28-column layout.
    func testHelpListsEveryFlagWithItsDefaultInMetronomesLayout() {
        XCTAssertThrowsError(try SimConfig.parse(arguments: ["--port", "1", "--help"])) { error in
            guard let exit = error as? SimConfigExit else { return XCTFail("\(error)") }
            for spec in SimConfig.options {
                XCTAssertTrue(exit.text.contains("  \(spec.flag)"), spec.name)
            }
            XCTAssertTrue(exit.text.hasPrefix("OVERVIEW: "))
            XCTAssertTrue(exit.text.contains("\nUSAGE: llmsim [options]\n"))
            for group in SimConfig.groups { XCTAssertTrue(exit.text.contains("\n\(group.uppercased()):\n"), group) }
            XCTAssertTrue(exit.text.contains("\n  --itl D                   Inter-token delay with one request running. (default: 20ms)\n"), exit.text)
            XCTAssertTrue(exit.text.contains("(default: 5s)"), "the keep-alive default")
            XCTAssertTrue(exit.text.contains("\n  -h, --help                Show this help\n"))
            XCTAssertTrue(exit.text.contains("PROMPT TOKENS"))
            XCTAssertEqual(exit.text, SimConfig.helpText)
        }
        XCTAssertThrowsError(try SimConfig.parse(arguments: ["--version"])) { XCTAssertEqual(($0 as? SimConfigExit)?.text, SimConfig.version) }
    }

    /// The binary as a user runs it: bad usage is `error: …` on stderr and exit 64, as metronome's.
    func testBadUsageExits64WithMetronomesWording() throws {
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("llmsim")
        guard FileManager.default.isExecutableFile(atPath: binary.path) else { throw XCTSkip("no llmsim binary beside the tests") }
        for (arguments, message) in [(["--port", "70000"], "error: --port must be a whole number from 0 to 65535 (got '70000')\n"),
                                     (["--keep-alive-timeout"], "error: --keep-alive-timeout needs a value (D)\n")] {
            let process = Process()
            process.executableURL = binary
            process.arguments = arguments
            let err = Pipe()
            process.standardError = err
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            XCTAssertEqual(process.terminationStatus, 64, "\(arguments)")
            XCTAssertEqual(text, message)
        }
    }
}
