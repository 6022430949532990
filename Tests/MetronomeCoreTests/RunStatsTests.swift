// What the run's stats cost in memory: a stage costs what it records, not a full set of histograms.
import XCTest
@testable import MetronomeCore

final class RunStatsTests: XCTestCase {
    /// One short stage's worth of records: a request's send lag, latency, service time, TTFT, ITL, TPOT.
    static func recordOneRequestPerStage(_ stats: RunStats) {
        for stage in 0..<stats.stages.count {
            stats.countScheduled(stage: stage)
            stats.recordSendLag(40_000, stage: stage)
            stats.recordSuccess(latencyNs: 250_000_000, serviceNs: 249_000_000, stage: stage)
            stats.recordTTFT(80_000_000, stage: stage)
            stats.recordITL(10_000_000, stage: stage)
            stats.recordTPOT(10_000_000, stage: stage)
        }
    }

    /// Computed from the histograms' own accounting: 2,000 stages of one request each used to
    /// cost 6 × 192 KiB a stage (2.3 GB in all).
    func testPerStageFootprintOfAManyStagePlan() {
        let stats = RunStats(stageCount: 2_000)
        Self.recordOneRequestPerStage(stats)
        let perStage = stats.stages.map(\.allocatedBytes)
        XCTAssertEqual(Set(perStage).count, 1, "every stage the same")
        // 6 page tables (768 B) and 6 pages (2 KiB): one page per histogram for one value.
        XCTAssertEqual(perStage[0], 6 * 768 + 6 * 2048)
        XCTAssertLessThan(stats.allocatedHistogramBytes, 2_000 * 20_000 + 8 * 1_200_000)
    }

    /// The heap itself, as malloc counts it (this runs, and failed, on the code before pages on
    /// demand too): 200 stages of one request each must hold well under a megabyte apiece.
    func testHeapGrowthOfAManyStagePlan() throws {
        guard let before = heapBytesInUse() else { throw XCTSkip("malloc_stats unavailable") }
        var stats: RunStats? = RunStats(stageCount: 200)
        Self.recordOneRequestPerStage(stats!)
        guard let after = heapBytesInUse() else { throw XCTSkip("malloc_stats unavailable") }
        let perStage = (after - before) / 200
        print("heap per stage, 200 stages: \(perStage) bytes")
        XCTAssertLessThan(perStage, 64 * 1024, "\(perStage) bytes a stage")
        stats = nil
    }

    /// Plans of a few stages keep every page up front, so recording never allocates there.
    func testFewStagesAllocateUpFront() {
        let stats = RunStats(stageCount: RunStats.upFrontStageLimit)
        let full = Histogram().allocatedBytes * 6
        XCTAssertEqual(stats.stages.map(\.allocatedBytes), Array(repeating: full, count: RunStats.upFrontStageLimit))
        XCTAssertEqual(stats.total.allocatedBytes, full)
        XCTAssertLessThan(RunStats(stageCount: RunStats.upFrontStageLimit + 1).stages[0].allocatedBytes, full / 100)
    }
}
