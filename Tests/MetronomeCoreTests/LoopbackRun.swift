// The engine against llmsim on loopback, for the tests that need ground truth: one way to start each.
import LLMSim
import XCTest
@testable import MetronomeCore

extension XCTestCase {
    /// Runs `metronome run` options (plain http workload) against a server on `port` and returns the
    /// summary and the stats; every scheduled request must end as exactly one outcome.
    func runHTTP(_ arguments: [String], path: String = "/", port: UInt16, sendHorizonNs: UInt64? = nil) throws -> (RunSummary, RunStats) {
        var options = try OptionTable.parse(["http://127.0.0.1:\(port)\(path)", "--workload", "http", "--quiet", "--no-files"] + arguments)
        if let sendHorizonNs { options.sendHorizonNs = sendHorizonNs }
        let load = try LoadRun(options: options)
        let (summary, _) = try load.execute(handlesSignals: false)
        let total = summary.total
        XCTAssertEqual(total.scheduled, total.succeeded + total.failed + total.dropped + total.unfinished, "outcomes must add up")
        return (summary, load.stats)
    }

    /// llmsim in-process on port 0, stopped when the test ends.
    func startLLMSim(_ configure: (inout SimConfig) -> Void) throws -> SimServer {
        var config = SimConfig()
        config.port = 0
        configure(&config)
        let server = try SimServer.startInBackground(config: config)
        addTeardownBlock { server.stop() }
        return server
    }
}
