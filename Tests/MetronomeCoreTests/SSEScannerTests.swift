// SSEScanner against byte-exact stream fixtures: hand-counted facts, the Foundation reference, and every way of cutting the bytes.
import Foundation
import XCTest
@testable import MetronomeCore

final class SSEScannerTests: XCTestCase {
    /// What each stream fixture says, counted by hand from the fixture text (see Fixtures/sse/README.md).
    struct Facts {
        var name: String
        var events: Int
        var contentEvents: Int
        var finishReasons: [FinishReason]
        /// (prompt, completion) from the events that carry usage, in order.
        var usage: [Int]
        var errorEvents: Int
        var endsWithDone: Bool
        var lastErrorMessage = ""
    }

    static let streams: [Facts] = [
        Facts(name: "llamacpp-stream.sse", events: 203, contentEvents: 200, finishReasons: [.length],
              usage: [], errorEvents: 0, endsWithDone: true),
        Facts(name: "llamacpp-queued-with-ping.sse", events: 6, contentEvents: 3, finishReasons: [.length],
              usage: [], errorEvents: 0, endsWithDone: true),
        Facts(name: "llamacpp-context-exceeded.sse", events: 0, contentEvents: 0, finishReasons: [],
              usage: [], errorEvents: 0, endsWithDone: false),
        Facts(name: "vllm-stream.sse", events: 9, contentEvents: 6, finishReasons: [.length],
              usage: [201, 200], errorEvents: 0, endsWithDone: true),
        Facts(name: "vllm-stream-crlf.sse", events: 9, contentEvents: 6, finishReasons: [.length],
              usage: [201, 200], errorEvents: 0, endsWithDone: true),
        Facts(name: "sglang-stream.sse", events: 7, contentEvents: 3, finishReasons: [.stop],
              usage: [198, 3], errorEvents: 0, endsWithDone: true),
        Facts(name: "completions-stream.sse", events: 6, contentEvents: 3, finishReasons: [.length],
              usage: [4, 3], errorEvents: 0, endsWithDone: true),
        Facts(name: "error-midstream.sse", events: 3, contentEvents: 1, finishReasons: [],
              usage: [], errorEvents: 1, endsWithDone: false, lastErrorMessage: "boom"),
        Facts(name: "error-event.sse", events: 4, contentEvents: 1, finishReasons: [],
              usage: [], errorEvents: 3, endsWithDone: false, lastErrorMessage: "upstream disconnected"),
        Facts(name: "multiline-data.sse", events: 4, contentEvents: 3, finishReasons: [],
              usage: [5, 1], errorEvents: 0, endsWithDone: true),
        Facts(name: "comments-keepalive.sse", events: 6, contentEvents: 3, finishReasons: [.stop],
              usage: [], errorEvents: 0, endsWithDone: true),
        Facts(name: "tricky-content.sse", events: 10, contentEvents: 5, finishReasons: [.length],
              usage: [12, 9], errorEvents: 0, endsWithDone: true),
        Facts(name: "reasoning.sse", events: 7, contentEvents: 3, finishReasons: [.stop],
              usage: [15, 7], errorEvents: 0, endsWithDone: true),
        Facts(name: "bom-cr.sse", events: 5, contentEvents: 3, finishReasons: [.stop],
              usage: [3, 3], errorEvents: 0, endsWithDone: true),
        Facts(name: "unterminated.sse", events: 2, contentEvents: 1, finishReasons: [],
              usage: [], errorEvents: 0, endsWithDone: true),
    ]

    func testFixtureFacts() throws {
        for facts in Self.streams {
            let result = ScanHelpers.scan(try ScanHelpers.fixture(facts.name), cuts: [])
            let events = result.events
            XCTAssertEqual(events.count, facts.events, facts.name)
            XCTAssertEqual(events.filter(\.hasContent).count, facts.contentEvents, facts.name)
            XCTAssertEqual(events.compactMap(\.finishReason), facts.finishReasons, facts.name)
            let usage = events.filter { $0.promptTokens != nil || $0.completionTokens != nil }
            XCTAssertEqual(usage.flatMap { [$0.promptTokens ?? -1, $0.completionTokens ?? -1] }, facts.usage, facts.name)
            XCTAssertEqual(events.filter(\.isError).count, facts.errorEvents, facts.name)
            XCTAssertEqual(events.last?.isDone ?? false, facts.endsWithDone, facts.name)
            XCTAssertEqual(events.filter(\.isDone).count, facts.endsWithDone ? 1 : 0, facts.name)
            XCTAssertEqual(result.lastErrorMessage, facts.lastErrorMessage, facts.name)
        }
    }

    func testTrickyContentEventByEvent() throws {
        let events = ScanHelpers.scan(try ScanHelpers.fixture("tricky-content.sse"), cuts: []).events
        // t1 "\"content\":\"x\"" is content; t2, t3 hide `"content":` in other values and have "" content;
        // t6 has null content and a logprobs "content" array; t7 hides usage/error in the id.
        XCTAssertEqual(events.map(\.hasContent), [true, false, false, true, true, false, false, true, true, false])
        XCTAssertFalse(events.contains { $0.isError })
        XCTAssertEqual(events[8].promptTokens, 12)
        XCTAssertEqual(events[8].completionTokens, 9)
    }

    func testErrorEventMessages() throws {
        let body = try ScanHelpers.fixture("error-event.sse")
        var scanner = SSEScanner()
        var sink = EventList()
        var messages: [String] = []
        // Cut after each blank line to read the message each error event leaves behind.
        let text = String(decoding: body, as: UTF8.self)
        for part in text.components(separatedBy: "\n\n").dropLast() {
            Array((part + "\n\n").utf8).withUnsafeBytes { scanner.scan($0, into: &sink) }
            messages.append(scanner.lastErrorMessage)
        }
        XCTAssertEqual(messages, [
            "",
            "engine dead: \"CUDA error\" on rank 0\nretry later",
            "Context length exceeded \u{2014} 201 > 128",
            "upstream disconnected",
        ])
    }

    func testFixturesMatchReference() throws {
        for facts in Self.streams {
            let body = try ScanHelpers.fixture(facts.name)
            XCTAssertEqual(ScanHelpers.scan(body, cuts: []), ScanHelpers.reference(body), facts.name)
        }
    }

    func testFixturesByteByByte() throws {
        for facts in Self.streams {
            let body = try ScanHelpers.fixture(facts.name)
            XCTAssertEqual(ScanHelpers.byteByByte(body), ScanHelpers.scan(body, cuts: []), facts.name)
        }
    }

    func testFixturesAtEverySplit() throws {
        for facts in Self.streams {
            let body = Self.shortened(try ScanHelpers.fixture(facts.name))
            let whole = ScanHelpers.scan(body, cuts: [])
            var failures = 0
            for cut in 0...body.count where failures < 3 {
                let split = ScanHelpers.scan(body, cuts: [cut])
                if split != whole {
                    failures += 1
                    XCTFail("\(facts.name): cut at \(cut) gives \(split.events.count) events, not \(whole.events.count)")
                }
            }
        }
    }

    /// A capture longer than 8 KB keeps its first 12 and last 3 events (byte-exact) for the every-cut
    /// test: the 200 events of the llama.cpp capture share one shape, and all 50,000 cuts of its
    /// 50 KB take about a minute in a debug build. The whole file is still scanned at random cuts.
    static func shortened(_ body: [UInt8]) -> [UInt8] {
        guard body.count > 8192 else { return body }
        let ends = (1..<body.count).filter { body[$0] == 0x0A && body[$0 - 1] == 0x0A }.map { $0 + 1 }
        guard ends.count > 15 else { return body }
        return Array(body[..<ends[11]] + body[ends[ends.count - 4]...])
    }

    func testShortenedCaptureIsStillAStream() throws {
        let body = Self.shortened(try ScanHelpers.fixture("llamacpp-stream.sse"))
        let events = ScanHelpers.scan(body, cuts: []).events
        XCTAssertEqual(events.count, 15)
        XCTAssertEqual(events.filter(\.hasContent).count, 12)  // 11 + the last token
        XCTAssertEqual(events.suffix(2).map(\.finishReason), [.length, nil])
        XCTAssertEqual(events.last?.isDone, true)
    }

    func testFixturesAtRandomSplits() throws {
        var random = TestRandom(seed: 0x5EED_55E0)
        for facts in Self.streams {
            let body = try ScanHelpers.fixture(facts.name)
            let whole = ScanHelpers.scan(body, cuts: [])
            for _ in 0..<40 {
                let cuts = random.cuts(in: body.count, count: 1 + random.below(max(1, body.count / 8)))
                XCTAssertEqual(ScanHelpers.scan(body, cuts: cuts), whole, "\(facts.name) cuts \(cuts.prefix(8))")
            }
        }
    }

    // MARK: Framing details

    func testLineEndsAndBlankLines() {
        let bodies = [
            "data: {\"text\":\"a\"}\n\ndata: [DONE]\n\n",
            "data: {\"text\":\"a\"}\r\n\r\ndata: [DONE]\r\n\r\n",
            "data: {\"text\":\"a\"}\r\rdata: [DONE]\r\r",
            "\u{FEFF}data:{\"text\":\"a\"}\n\ndata:[DONE]\n\n",
        ]
        for body in bodies {
            let events = ScanHelpers.scan(Array(body.utf8), cuts: []).events
            XCTAssertEqual(events.map(\.hasContent), [true, false], body.debugDescription)
            XCTAssertEqual(events.map(\.isDone), [false, true], body.debugDescription)
        }
    }

    func testDoneMustBeExact() {
        for data in ["[DONE] ", " [DONE]", "[DONE", "[DONE]]", "[done]"] {
            let body = Array("data:\(data)\n\n".utf8)
            let events = ScanHelpers.scan(body, cuts: []).events
            // One space after the colon is part of the framing, so " [DONE]" is exactly [DONE].
            XCTAssertEqual(events.map(\.isDone), [data == " [DONE]"], data)
        }
        let twoLines = ScanHelpers.scan(Array("data: [DONE]\ndata: [DONE]\n\n".utf8), cuts: []).events
        XCTAssertEqual(twoLines.map(\.isDone), [false])
        let joined = ScanHelpers.scan(Array("data: [DO\ndata:NE]\n\n".utf8), cuts: []).events  // "[DO\nNE]"
        XCTAssertEqual(joined.map(\.isDone), [false])
    }

    func testEventFieldOnlyErrorCounts() {
        let events = ScanHelpers.scan(Array("event: error\n\nevent: errors\n\nevent:error\nevent: message\n\n".utf8), cuts: []).events
        XCTAssertEqual(events.map(\.isError), [true, false, false])  // the last event line wins
    }

    func testCommentsAndOtherFieldsDeliverNothing() {
        let body = Array(": ping\n\nid: 7\n\nretry: 10\n\ndatum: {\"content\":\"x\"}\n\nevents: error\n\n".utf8)
        XCTAssertEqual(ScanHelpers.scan(body, cuts: []).events, [])
    }

    func testFinishMakesTheScannerReusableAndResetClearsTheMessage() {
        var scanner = SSEScanner()
        var sink = EventList()
        Array("data: {\"error\":\"first\"}".utf8).withUnsafeBytes { scanner.scan($0, into: &sink) }
        scanner.finish(into: &sink)
        XCTAssertEqual(sink.events.map(\.isError), [true])
        XCTAssertEqual(scanner.lastErrorMessage, "first")
        Array("\u{FEFF}data: {\"content\":\"next body\"}\n\n".utf8).withUnsafeBytes { scanner.scan($0, into: &sink) }
        scanner.finish(into: &sink)
        XCTAssertEqual(sink.events.map(\.hasContent), [false, true])
        XCTAssertEqual(scanner.lastErrorMessage, "first")
        scanner.reset()
        XCTAssertEqual(scanner.lastErrorMessage, "")
    }

    func testLongErrorMessageIsCutAtTwoHundredBytesOnACharacter() {
        let message = String(repeating: "ab", count: 99) + "é and more"  // "é" is bytes 199–200
        let body = Array("event: error\ndata: {\"error\":{\"message\":\"\(message)\"}}\n\n".utf8)
        let result = ScanHelpers.scan(body, cuts: [])
        XCTAssertEqual(result.lastErrorMessage, String(repeating: "ab", count: 99) + "é")
        let cut = Array("data: {\"error\":{\"message\":\"\(String(repeating: "x", count: 199))é\"}}\n\n".utf8)
        XCTAssertEqual(ScanHelpers.scan(cut, cuts: []).lastErrorMessage, String(repeating: "x", count: 199))
    }

    // MARK: Allocation

    func testScannerStateHoldsNoReferences() {
        // A trivially copyable struct cannot own heap storage, so no buffer can grow with the body.
        XCTAssertTrue(_isPOD(SSEScanner.self))
        XCTAssertTrue(_isPOD(CompletionJSONScanner.self))
        XCTAssertLessThanOrEqual(MemoryLayout<SSEScanner>.size, 640)
    }

    func testScanningDoesNotGrowTheHeap() throws {
        let body = try ScanHelpers.fixture("llamacpp-stream.sse") + ScanHelpers.fixture("vllm-stream-crlf.sse")
        struct Counter: CompletionEventSink {
            var content = 0
            mutating func completionEvent(_ event: CompletionEvent) { if event.hasContent { content += 1 } }
        }
        var scanner = SSEScanner()
        var sink = Counter()
        body.withUnsafeBytes { raw in
            for _ in 0..<5 { scanner.scan(raw, into: &sink); scanner.finish(into: &sink) }
            guard let before = heapBytesInUse() else { return XCTFail("malloc_stats unavailable") }
            for _ in 0..<1000 {
                scanner.scan(UnsafeRawBufferPointer(rebasing: raw[0..<777]), into: &sink)
                scanner.scan(UnsafeRawBufferPointer(rebasing: raw[777...]), into: &sink)
                scanner.finish(into: &sink)
            }
            guard let after = heapBytesInUse() else { return XCTFail("malloc_stats unavailable") }
            XCTAssertLessThanOrEqual(after, before + 4096, "heap in use grew by \(after - before) bytes")
        }
        XCTAssertEqual(sink.content, 1005 * 206)
    }
}

/// glibc's heap bytes in use, parsed from `malloc_stats()` (malloc.h is not in Swift's Glibc module,
/// so `mallinfo2` cannot be called; `malloc_stats` has a signature a C function pointer can carry).
func heapBytesInUse() -> Int? {
    guard let symbol = dlsym(nil, "malloc_stats") else { return nil }
    let mallocStats = unsafeBitCast(symbol, to: (@convention(c) () -> Void).self)
    var fds: [Int32] = [0, 0]
    guard pipe(&fds) == 0 else { return nil }
    let savedStderr = dup(2)
    dup2(fds[1], 2)
    mallocStats()
    dup2(savedStderr, 2)
    close(savedStderr)
    close(fds[1])
    var output = [UInt8]()
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = read(fds[0], &chunk, chunk.count)
        if n <= 0 { break }
        output += chunk[0..<n]
    }
    close(fds[0])
    // The last "in use bytes" line is the total over all arenas.
    let line = String(decoding: output, as: UTF8.self).split(separator: "\n").last { $0.hasPrefix("in use bytes") }
    return line.flatMap { Int($0.split(separator: "=").last!.trimmingCharacters(in: .whitespaces)) }
}

