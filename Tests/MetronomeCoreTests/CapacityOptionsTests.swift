// sweep / find-max options: run options pass through, the plan's own are refused, bad values named.
import Foundation
import XCTest
@testable import MetronomeCore

final class CapacityOptionsTests: XCTestCase {
    func testRunOptionsPassThroughAndStepsHaveTheirPlan() throws {
        let options = try CapacityOptionTable.parse(["http://h:1", "--rates", "5,10", "--max-tokens", "7", "--ignore-eos", "--arrival", "constant",
                                                     "--slo", "p95<=1s", "--step-duration", "3s", "--cooldown", "4s", "--name", "x"], command: .sweep)
        XCTAssertEqual(options.rates, [5, 10])
        XCTAssertEqual(options.run.url, "http://h:1")
        XCTAssertEqual(options.run.maxTokens, 7)
        XCTAssertTrue(options.run.ignoreEOS)
        XCTAssertEqual(options.effectiveStepRampNs, 300_000_000, "10 % of the step")
        let runner = SweepRunner(options: options)
        let first = runner.stepOptions(rate: 5, rampFrom: nil)
        let firstPlan = try first.ratePlan()
        XCTAssertEqual(firstPlan.stages.map(\.name), ["hold"])
        XCTAssertEqual(firstPlan.stages[0].startRatePerSec, 5)
        XCTAssertEqual(first.effectiveDrainNs, 4_000_000_000, "the cooldown bounds the drain")
        XCTAssertTrue(first.noFiles)
        let second = try runner.stepOptions(rate: 10, rampFrom: 5).ratePlan()
        XCTAssertEqual(second.stages.map(\.name), ["ramp", "hold"])
        XCTAssertEqual(second.stages[0].startRatePerSec, 5)
        XCTAssertEqual(second.stages[0].durationNs, 300_000_000)
        XCTAssertEqual(second.stages[1].durationNs, 3_000_000_000)
        XCTAssertEqual(first.seed, 42)
        XCTAssertEqual(runner.stepOptions(rate: 5, rampFrom: nil, repeated: true).seed, 43, "a repeat takes the next seed")
        XCTAssertEqual(SweepRunner.stepPath("dir.d/log.csv", step: 3), "dir.d/log_step3.csv")
        XCTAssertEqual(SweepRunner.stepPath("dir.d/log", step: 2), "dir.d/log_step2")
    }

    /// A run's config file gives the workload; its rate plan is skipped (the steps make theirs).
    func testConfigFileGivesRunOptionsButNotThePlan() throws {
        let path = NSTemporaryDirectory() + "metronome-sweep-config-\(getpid()).json"
        try Data(#"{"rate": 20, "ramp": "60s", "duration": "10m", "start-rate": 2, "max-tokens": 9, "arrival": "constant", "url": "http://f:1"}"#.utf8)
            .write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let options = try CapacityOptionTable.parse(["--config", path, "--rates", "1,2", "--max-tokens", "11"], command: .sweep)
        XCTAssertEqual(options.run.maxTokens, 11, "the command line wins")
        XCTAssertEqual(options.run.arrival, .constant)
        XCTAssertEqual(options.run.url, "http://f:1")
        XCTAssertNil(options.run.rate)
        XCTAssertNil(options.run.durationNs)
        XCTAssertEqual(options.rates, [1, 2], "--rates's value is not taken for a URL")
    }

    func testBadUsageNamesTheFlag() {
        let table: [([String], CapacityOptions.Command, String, String)] = [
            (["--rates", "5", "--rate", "5"], .sweep, "--rate", "--rates"),
            (["--rates", "5", "--duration", "5s"], .sweep, "--duration", "--step-duration"),
            (["--rates", "5", "--stage", "5s:5"], .sweep, "--stage", "--step-ramp"),
            (["--rates", "5", "--ramp", "5s"], .sweep, "--ramp", "--step-ramp"),
            (["--rates", "5", "--drain", "5s"], .sweep, "--drain", "--cooldown"),
            ([], .sweep, "--rates", "required"),
            (["--rates", "10,5"], .sweep, "--rates", "must go up"),
            (["--min-rate", "2"], .findMax, "--slo", "required"),
            (["--slo", "p95<=1s", "--precision", "0"], .findMax, "--precision", "above 0"),
            (["--slo", "p95<=1s", "--precision", "100%"], .findMax, "--precision", "below 100"),
            (["--slo", "p95<=1s", "--min-rate", "10", "--max-rate", "5"], .findMax, "--max-rate", "at least --min-rate"),
            (["--slo", "p95<=1s", "--rates", "5"], .findMax, "--rates", "not an option of metronome find-max"),
            (["--rates", "5", "--min-rate", "5"], .sweep, "--min-rate", "not an option of metronome sweep"),
            (["--rates", "5", "--step-duration", "0s"], .sweep, "--step-duration", "above 0"),
        ]
        for (arguments, command, flag, message) in table {
            XCTAssertThrowsError(try CapacityOptionTable.parse(arguments, command: command), "\(arguments)") { error in
                let usage = error as? UsageError
                XCTAssertEqual(usage?.flag, flag, "\(arguments): \(error)")
                XCTAssertTrue("\(error)".contains(message), "\(arguments): \(error)")
            }
        }
    }

    func testHelpListsTheStepOptionsAndTheRunOptionsButNotTheRefusedOnes() {
        for help in [HelpText.sweep, HelpText.findMax] {
            XCTAssertTrue(help.contains("--step-duration D"), help)
            XCTAssertTrue(help.contains("--cooldown D"))
            XCTAssertTrue(help.contains("--max-connections N"))
            XCTAssertFalse(help.contains("--rate R "))
            XCTAssertFalse(help.contains("--stage D:R"))
        }
        XCTAssertTrue(HelpText.sweep.contains("--rates LIST"))
        XCTAssertTrue(HelpText.findMax.contains("--precision P%"))
        XCTAssertTrue(HelpText.overview.contains("sweep URL"))
        XCTAssertTrue(HelpText.overview.contains("find-max URL"))
    }

    func testExitCodes() {
        var result = SweepResult(command: .sweep)
        XCTAssertEqual(CapacityCommand.exitCode(result), 0)
        result.command = .findMax
        XCTAssertEqual(CapacityCommand.exitCode(result), 3, "find-max without a passing rate")
        result.maxRate = 4
        XCTAssertEqual(CapacityCommand.exitCode(result), 0)
        result.abortReason = "gone"
        XCTAssertEqual(CapacityCommand.exitCode(result), 1)
        result.interrupted = true
        XCTAssertEqual(CapacityCommand.exitCode(result), 130)
    }
}
