// The flag table: every flag parses, errors name the flag, durations and fractions read right.
import XCTest
@testable import LLMSim

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
    }

    func testEveryFlagParses() throws {
        let config = try SimConfig.parse(arguments: [
            "--host", "0.0.0.0", "--port=0", "--model", "m", "--ttft", "100ms", "--prefill-per-token", "50us", "--itl", "0.02",
            "--max-num-seqs", "8", "--batch-itl-slope", "0.1", "--jitter", "0.2", "--seed", "9", "--error-rate", "1%",
            "--reject-when-waiting", "3", "--freeze-every", "10s", "--freeze-for", "1s", "--drop-rate", "0.5", "--fast",
            "--max-body-bytes", "1000", "--max-model-len", "4096", "--fixed-created", "1700000000",
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
        XCTAssertEqual(config, expected)
        XCTAssertEqual(try SimConfig.parse(arguments: []), SimConfig(), "no flags, the defaults")
    }

    func testErrorsNameTheFlagAndWhatItTakes() {
        let cases: [([String], String)] = [
            (["--ttft", "fast"], "--ttft takes a duration"),
            (["--port", "70000"], "--port takes 0…65535"),
            (["--error-rate", "2"], "--error-rate takes a fraction"),
            (["--max-num-seqs", "0"], "--max-num-seqs"),
            (["--itl"], "--itl needs a value"),
            (["--nope"], "unknown flag --nope"),
            (["stray"], "unexpected argument 'stray'"),
            (["--fast=yes"], "--fast takes no value"),
            (["--freeze-every", "1s"], "--freeze-every and --freeze-for go together"),
            (["--freeze-every", "1s", "--freeze-for", "2s"], "must be shorter"),
        ]
        for (arguments, text) in cases {
            XCTAssertThrowsError(try SimConfig.parse(arguments: arguments), "\(arguments)") { error in
                XCTAssertTrue("\(error)".contains(text), "\(arguments): \(error)")
            }
        }
    }

    func testHelpListsEveryFlagWithItsDefault() {
        XCTAssertThrowsError(try SimConfig.parse(arguments: ["--help"])) { error in
            guard let exit = error as? SimConfigExit else { return XCTFail("\(error)") }
            for flag in SimConfig.flags {
                XCTAssertTrue(exit.text.contains("--\(flag.name)"), flag.name)
            }
            XCTAssertTrue(exit.text.contains("--itl <duration>") && exit.text.contains("(default: 20ms)"))
            XCTAssertTrue(exit.text.contains("PROMPT TOKENS"))
        }
    }
}
