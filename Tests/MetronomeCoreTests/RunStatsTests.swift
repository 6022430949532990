// What the run's stats cost in memory: a stage costs the slots it records into, not a full set of histograms.
import Foundation
import XCTest
@testable import MetronomeCore

final class RunStatsTests: XCTestCase {
    /// One short stage's worth of records: a request's send lag, latency, service time, TTFT, ITL, TPOT.
    static func recordOneRequestPerStage(_ stats: RunStats) {
        for stage in 0..<stats.stages.count {
            stats.countScheduled(stage: stage)
            stats.recordSendLag(40_000, stage: stage)
            stats.recordSuccess(latencyNs: 250_000_000, serviceNs: 249_000_000, intendedOffsetNs: 0, stage: stage)
            stats.recordTTFT(80_000_000, sentNs: 79_000_000, stage: stage)
            stats.recordITL(10_000_000, stage: stage)
            stats.recordTPOT(10_000_000, stage: stage)
        }
    }

    /// The process's resident memory, from /proc/self/statm (pages).
    static func residentBytes() throws -> Int {
        let text = try String(contentsOfFile: "/proc/self/statm", encoding: .utf8)
        let pages = try XCTUnwrap(Int(text.split(separator: " ")[1]))
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    /// 2,000 one-request stages used 2.4 GB when every histogram was zeroed up front (6 × 192 KiB a
    /// stage); now the memory behind a histogram is taken where values fall, a few pages a stage.
    func testManyStagesCostWhatTheyRecord() throws {
        let before = try Self.residentBytes()
        let stats = RunStats(stageCount: 2_000)
        Self.recordOneRequestPerStage(stats)
        let summary = RunSummary(target: "t", address: "a", workload: "http", arrival: "constant", seed: 1, maxConnections: 1,
                                 plan: try RatePlan(startRatePerSec: 100,
                                                    targets: (0..<2_000).map { _ in (1_000_000, 100, "stage") }),
                                 stats: stats, result: EngineResult(startNs: 0, planElapsedNs: 2_000_000_000, totalElapsedNs: 2_000_000_000,
                                                                    interruptedBySignal: nil, loopCPUSeconds: 0, startedAtUnixS: 0))
        let grownBytes = try Self.residentBytes() - before
        print("resident growth for 2,000 stages of one request, summary included: \(grownBytes / 1024) KiB")
        XCTAssertEqual(summary.stages.count, 2_000)
        XCTAssertLessThan(grownBytes, 300 * 1024 * 1024, "a stage must not hold 1.2 MB of zeroed slots")
        withExtendedLifetime(stats) {}
    }

    func testHistogramOnTouchedMemoryKeepsItsNumbers() {
        let histogram = Histogram()
        XCTAssertEqual(histogram.totalCount, 0)
        XCTAssertEqual(histogram.valueAtPercentile(50), 0, "untouched slots read as zero counts")
        for value in stride(from: UInt64(1_000_000), through: 100_000_000, by: 1_000_000) { histogram.record(value) }
        XCTAssertEqual(histogram.totalCount, 100)
        XCTAssertEqual(Double(histogram.valueAtPercentile(50)), 50_000_000, accuracy: 50_000)
        histogram.reset()
        XCTAssertEqual(histogram.totalCount, 0)
        XCTAssertEqual(histogram.valueAtPercentile(99), 0)
    }
}
