// The engine's parts: timer heap order, FIFO queue, delay formulas, jitter, lengths, token text.
import XCTest
@testable import LLMSim

final class EngineTests: XCTestCase {
    func testTimerHeapPopsInDeadlineOrderAndOnlyWhenDue() {
        var heap = TimerHeap(capacity: 4)
        defer { heap.deallocate() }
        var random = SimRandom(seed: 1, stream: 1)
        var deadlines: [UInt64] = []
        for i in 0..<5000 {
            let deadline = UInt64(1 + random.below(100_000))
            deadlines.append(deadline)
            heap.push(TimerEntry(deadlineNs: deadline, slot: UInt32(i), ticket: 0))
        }
        XCTAssertNil(heap.popDue(nowNs: deadlines.min()! - 1), "nothing is due before the earliest deadline")
        XCTAssertEqual(heap.earliestNs, deadlines.min()!)
        var popped: [UInt64] = []
        while let entry = heap.popDue(nowNs: .max) { popped.append(entry.deadlineNs) }
        XCTAssertEqual(popped, deadlines.sorted())
        XCTAssertEqual(heap.earliestNs, 0)
    }

    func testSlotQueueIsFIFOAcrossGrowth() {
        var queue = SlotQueue(capacity: 2)
        defer { queue.deallocate() }
        for i in 0..<10 { queue.push(slot: UInt32(i), generation: UInt32(i * 7)) }
        XCTAssertEqual(queue.pop()?.slot, 0)
        for i in 10..<40 { queue.push(slot: UInt32(i), generation: UInt32(i * 7)) }
        var order: [UInt32] = []
        while let entry = queue.pop() {
            XCTAssertEqual(entry.generation, entry.slot * 7)
            order.append(entry.slot)
        }
        XCTAssertEqual(order, Array(1..<40).map(UInt32.init))
    }

    func testDelayFormulas() {
        var config = SimConfig()
        config.ttftNs = 40_000_000
        config.prefillPerTokenNs = 100_000
        config.itlNs = 10_000_000
        config.batchItlSlope = 0.05
        let model = TimingModel(config)
        XCTAssertEqual(model.firstTokenDelayNs(promptTokens: 200), 60_000_000)
        XCTAssertEqual(model.interTokenDelayNs(running: 1), 10_000_000)
        XCTAssertEqual(model.interTokenDelayNs(running: 21), 20_000_000)
        var random = SimRandom(seed: 1, stream: 3)
        XCTAssertEqual(model.jittered(12_345, &random), 12_345, "jitter 0 is exact")
    }

    func testJitterIsSeededAndCentredOnTheModel() {
        var config = SimConfig()
        config.jitter = 0.1
        let model = TimingModel(config)
        var a = SimRandom(seed: 4, stream: 3)
        var b = SimRandom(seed: 4, stream: 3)
        let draws = (0..<20_000).map { _ in Double(model.jittered(1_000_000, &a)) / 1e6 }
        XCTAssertEqual(draws, (0..<20_000).map { _ in Double(model.jittered(1_000_000, &b)) / 1e6 })
        let mean = draws.reduce(0, +) / Double(draws.count)
        let sd = (draws.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(draws.count)).squareRoot()
        XCTAssertEqual(mean, 1, accuracy: 0.005)
        XCTAssertEqual(sd, 0.1, accuracy: 0.005)
    }

    func testCompletionLengthRule() {
        var random = SimRandom(seed: 2, stream: 2)
        XCTAssertEqual(TimingModel.completionTokens(maxTokens: 50, minTokens: 0, ignoreEos: true, &random), 50)
        XCTAssertEqual(TimingModel.completionTokens(maxTokens: 50, minTokens: 50, ignoreEos: false, &random), 50)
        let lengths = (0..<5000).map { _ in TimingModel.completionTokens(maxTokens: 10, minTokens: 4, ignoreEos: false, &random) }
        XCTAssertEqual(Set(lengths), Set(4...10), "uniform over [max(min_tokens, 1), max_tokens]")
        XCTAssertEqual(Set((0..<200).map { _ in TimingModel.completionTokens(maxTokens: 3, minTokens: 0, ignoreEos: false, &random) }), Set(1...3))
    }

    func testTokenTextIsDeterministicPerSeedAndRequest() {
        let a = TokenVocabulary(seed: 1)
        let b = TokenVocabulary(seed: 1)
        let c = TokenVocabulary(seed: 2)
        defer { [a, b, c].forEach { $0.deallocate() } }
        func text(_ v: TokenVocabulary, _ request: UInt64) -> String {
            (0..<30).map { String(decoding: v.token(request: request, index: $0), as: UTF8.self) }.joined()
        }
        XCTAssertEqual(text(a, 5), text(b, 5))
        XCTAssertNotEqual(text(a, 5), text(a, 6))
        XCTAssertNotEqual(text(a, 5), text(c, 5))
        XCTAssertFalse(text(a, 5).hasPrefix(" "))
        XCTAssertEqual(text(a, 5).split(separator: " ").count, 30)
    }

    func testByteBufferAppendsAndNumbers() {
        var buffer = ByteBuffer()
        defer { buffer.release() }
        buffer.append("x=")
        buffer.appendDecimal(0)
        buffer.append(byte: 0x2C)
        buffer.appendDecimal(UInt64.max)
        buffer.append(byte: 0x2C)
        buffer.appendDecimal(-42)
        buffer.append(byte: 0x2C)
        buffer.appendHex(0)
        buffer.append(byte: 0x2C)
        buffer.appendHex(0xe8)
        buffer.append(byte: 0x2C)
        buffer.appendJSONEscaped("a\"b\\c\nd\u{1}")
        XCTAssertEqual(String(decoding: buffer.array, as: UTF8.self), #"x=0,18446744073709551615,-42,0,e8,a\"b\\c\nd\u0001"#)
        buffer.consume(2)
        buffer.reserve(100_000)
        XCTAssertTrue(String(decoding: buffer.array, as: UTF8.self).hasPrefix("0,1844"))
    }
}
