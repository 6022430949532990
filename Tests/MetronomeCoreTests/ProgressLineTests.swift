// The progress line's reader thread beside a running engine: lock-free reads that only see counts grow (and, under `make sanitize`, no data race).
import LLMSim
import Synchronization
import XCTest
@testable import MetronomeCore

final class ProgressLineTests: XCTestCase {
    /// What the reader thread saw; written by that thread only, read after it has stopped.
    private final class ReaderLog: @unchecked Sendable {
        let stop = Atomic<Bool>(false)
        let done = Atomic<Bool>(false)
        var reads = 0
        var wentBackwards = 0
        var lastScheduled: UInt64 = 0
        var lastEnded: UInt64 = 0
        var line = ""
    }

    /// The reader does what `ProgressLine` does each second, as fast as it can, for the whole run:
    /// the engine's thread writes counters and histograms while this one reads them. ThreadSanitizer
    /// (`make sanitize`) checks every such pair of accesses; here, counts must never go backwards.
    func testProgressReaderRunsBesideTheEngine() throws {
        var config = SimConfig()
        config.port = 0
        config.fast = true
        let server = try SimServer.startInBackground(config: config)
        addTeardownBlock { server.stopAndWait() }  // joined, so ThreadSanitizer sees no leaked thread
        let options = try OptionTable.parse([
            "http://127.0.0.1:\(server.port)/", "--workload", "http", "--quiet", "--no-files",
            "--rate", "300", "--duration", "2s", "--arrival", "constant",
        ])
        let load = try LoadRun(options: options)
        let stats = load.stats
        let progress = ProgressLine(stats: stats, plan: load.plan)
        let log = ReaderLog()
        let reader = Thread {
            while !log.stop.load(ordering: .relaxed) {
                let scheduled = stats.total[.scheduled]
                let ended = stats.total.ended
                if scheduled < log.lastScheduled || ended < log.lastEnded { log.wentBackwards += 1 }
                log.lastScheduled = scheduled
                log.lastEnded = ended
                log.line = progress.render(offered: 0, achieved: 0)
                log.reads += 1
            }
            log.done.store(true, ordering: .releasing)
        }
        reader.start()
        progress.start()  // the real thread too: started, and stopped by `finish`, mid-run
        let (summary, _) = try load.execute(handlesSignals: false)
        progress.finish()
        log.stop.store(true, ordering: .relaxed)
        let deadline = Date().addingTimeInterval(10)
        while !log.done.load(ordering: .acquiring) && Date() < deadline { usleep(1_000) }

        XCTAssertTrue(log.done.load(ordering: .acquiring), "the reader thread stops")
        XCTAssertEqual(summary.total.scheduled, 600)
        XCTAssertEqual(summary.total.succeeded, 600)
        XCTAssertGreaterThan(log.reads, 100, "the reader ran all through the run")
        XCTAssertEqual(log.wentBackwards, 0, "a count read without locks never goes backwards")
        XCTAssertLessThanOrEqual(log.lastScheduled, 600)
        XCTAssertTrue(log.line.contains("in flight"), log.line)
    }
}
