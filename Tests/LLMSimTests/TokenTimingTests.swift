// Token timing against the model: every event within 1 ms of its model time at p99, 200 streams.
import Foundation
import XCTest
@testable import LLMSim

final class TokenTimingTests: XCTestCase {
    func timingConfig(itlNs: UInt64, maxNumSeqs: Int) -> SimConfig {
        var config = SimConfig()
        config.port = 0
        config.ttftNs = 50_000_000
        config.prefillPerTokenNs = 0
        config.itlNs = itlNs
        config.jitter = 0
        config.maxNumSeqs = maxNumSeqs
        return config
    }

    /// 200 concurrent streams, ttft 50 ms, itl 5 ms, 100 tokens each: 20,000 events at ~40,000
    /// events/s. Arrivals are spread over 50 ms (4,000 requests/s, as an open-loop generator
    /// spreads them); each stream lasts 545 ms, so all 200 run together for most of the test.
    /// One retry, for a machine shared with other builds; the bound itself is not loosened. A virtual
    /// machine's CPU can also be taken by its host, which nothing inside the VM can prevent: when the
    /// last attempt misses the bound while the hypervisor stole `stolenVoidsTimingNs` or more of the
    /// VM's CPU, the timing was not measurable and the test is skipped, saying so. Every other check
    /// still holds.
    func testTwoHundredStreamsKeepTimeWithinOneMillisecondAtP99() throws {
        var attempts: [StreamProbe.Result] = []
        var notes: [String] = []
        var stolenNs: UInt64 = 0
        for attempt in 1...2 {
            let server = try SimServer.startInBackground(config: timingConfig(itlNs: 5_000_000, maxNumSeqs: 256))
            let probe = StreamProbe(streams: 200, maxTokens: 100, ttftNs: 50_000_000, itlNs: 5_000_000, spreadNs: 50_000_000)
            let contention = ContentionMeter()
            let result = try probe.run(port: server.port)
            let waited = contention.summary
            stolenNs = contention.stolenSinceStartNs
            server.stopAndWait()
            print("token timing, 200 streams, attempt \(attempt): \(result.summary); \(waited)")
            notes.append(waited)
            attempts.append(result)
            if result.errorsNs.count == result.expectedTokens && result.percentileUs(99) < 1000 { break }
        }
        let last = try XCTUnwrap(attempts.last)
        XCTAssertEqual(last.errorsNs.count, last.expectedTokens, "every token event arrived")
        XCTAssertGreaterThan(last.percentileUs(0.1), -100, "no event leaves (noticeably) before its model time")
        if last.percentileUs(99) >= 1000 && stolenNs >= Self.stolenVoidsTimingNs {
            throw XCTSkip("p99 \(last.percentileUs(99)) µs, but the host took \(stolenNs / 1_000_000) ms of this VM's CPU "
                          + "during the attempt: timing not measurable here; \(notes.last ?? "")")
        }
        XCTAssertLessThan(last.percentileUs(99), 1000, "p99 timing error under 1 ms; \(notes.last ?? "")")
    }

    /// Two of /proc/stat's 10 ms ticks: at 40 events a millisecond, a stall of a few milliseconds puts
    /// more than 1 % of the 20,000 events over the bound.
    static let stolenVoidsTimingNs: UInt64 = 20_000_000

    /// Figures for the README, measured, not asserted:
    /// `LLMSIM_FIGURES=1 swift test -c release -Xswiftc -enable-testing --filter testTimingFigures`
    /// with LLMSIM_STREAMS (default 2000), LLMSIM_ITL_MS (50), LLMSIM_TOKENS (40), LLMSIM_SPREAD_MS
    /// (arrivals spread over; default 10 ITLs).
    func testTimingFiguresOnRequest() throws {
        let environment = ProcessInfo.processInfo.environment
        guard environment["LLMSIM_FIGURES"] != nil else { throw XCTSkip("set LLMSIM_FIGURES=1 to measure") }
        let streams = Int(environment["LLMSIM_STREAMS"] ?? "") ?? 2000
        let itlMs = Double(environment["LLMSIM_ITL_MS"] ?? "") ?? 50
        let tokens = Int(environment["LLMSIM_TOKENS"] ?? "") ?? 40
        let itlNs = UInt64(itlMs * 1e6)
        // LLMSIM_PORT: drive an llmsim started separately (with --ttft 50ms --prefill-per-token 0
        // --itl <same> --max-num-seqs ≥ streams), so its CPU can be measured on its own.
        let external = environment["LLMSIM_PORT"].flatMap { UInt16($0) }
        let server = external == nil ? try SimServer.startInBackground(config: timingConfig(itlNs: itlNs, maxNumSeqs: max(256, streams))) : nil
        let cpuBefore = processCPUNs()
        let contention = ContentionMeter()
        let spreadMs = Double(environment["LLMSIM_SPREAD_MS"] ?? "") ?? 10 * itlMs
        let probe = StreamProbe(streams: streams, maxTokens: tokens, ttftNs: 50_000_000, itlNs: itlNs, spreadNs: UInt64(spreadMs * 1e6))
        let result = try probe.run(port: external ?? server!.port)
        let processCPU = Double(processCPUNs() - cpuBefore) / 1e9
        let waited = contention.summary
        server?.stopAndWait()
        let serverCPU = processCPU - result.clientCPUSeconds
        print("token timing, \(streams) streams, itl \(itlMs) ms, \(tokens) tokens: \(result.summary); \(waited)")
        guard external == nil else { return }
        print(String(format: "offered %.0f events/s; server CPU ≈ %.2fs (process %.2fs − client %.2fs) → %.0f events per server CPU second",
                     Double(streams) * 1000 / itlMs, serverCPU, processCPU, result.clientCPUSeconds, Double(result.errorsNs.count) / serverCPU))
    }
}
