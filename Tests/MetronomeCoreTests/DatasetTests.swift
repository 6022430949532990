// Datasets read as written: the three formats, detection, bad rows by line, and hostile bytes.
import Foundation
import XCTest
@testable import MetronomeCore

final class DatasetTests: XCTestCase {
    static var configs: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("configs/datasets")
    }

    func prompts(_ dataset: Dataset) -> [String] {
        dataset.rows.map { row in
            switch row.content {
            case .prompt(let text): text
            case .messages(let list): "messages:\(list.count)"
            }
        }
    }

    func testTheExampleOfEachFormatLoadsAndIsDetected() throws {
        let text = try Dataset.load(path: Self.configs.appendingPathComponent("example.txt").path, format: .auto, strict: true)
        XCTAssertEqual(text.format, .text)
        XCTAssertEqual(text.rows.count, 4)
        XCTAssertEqual(prompts(text).first, "Explain in three sentences why a load generator must not wait for responses before sending the next request.")

        let jsonl = try Dataset.load(path: Self.configs.appendingPathComponent("example.jsonl").path, format: .auto, strict: true)
        XCTAssertEqual(jsonl.format, .jsonl)
        XCTAssertEqual(prompts(jsonl), ["Explain what a prefix cache does in an LLM server, in two paragraphs.",
                                        "Translate 'the schedule does not wait' into French, German and Spanish.", "messages:2",
                                        "Write a short story about a conductor who is never late.",
                                        "What is coordinated omission? Answer in one sentence."])
        XCTAssertEqual(jsonl.rows.map(\.maxTokens), [120, 40, 80, 200, nil])
        XCTAssertEqual(jsonl.rows.map(\.line), [1, 2, 3, 4, 5])

        let share = try Dataset.load(path: Self.configs.appendingPathComponent("example.sharegpt.json").path, format: .auto, strict: true)
        XCTAssertEqual(share.format, .sharegpt)
        XCTAssertEqual(prompts(share), ["What is the difference between open-loop and closed-loop load testing?",
                                        "Suggest a name for a load generator that keeps perfect time.",
                                        "How many tokens per second does a server produce if each of 8 streams emits one token every 25 ms?"])
        // The answer's estimated length: "Metronome." is a word and a period.
        XCTAssertEqual(share.rows[1].maxTokens, 2)
        XCTAssertEqual(share.rows[2].maxTokens, TokenEstimate.tokens("Each stream produces 40 tokens per second, so 8 streams produce 320 tokens per second."))
        XCTAssertEqual(share.rows.map(\.line), [2, 9, 16])
    }

    func testTextLinesWithCRLFBOMBlankLinesHugeLineAndInvalidUTF8() {
        let huge = String(repeating: "word ", count: 200_000)
        var bytes: [UInt8] = [0xEF, 0xBB, 0xBF] + Array("first\r\n\r\n   \r\nsecond\n".utf8)
        bytes += [0x62, 0x61, 0x64, 0xFF, 0xFE, 0x0A] // line 5: invalid UTF-8
        bytes += Array((huge + "\nlast").utf8)
        let dataset = Dataset.parse(bytes, format: .auto)
        XCTAssertEqual(dataset.format, .text)
        XCTAssertEqual(prompts(dataset), ["first", "second", huge, "last"])
        XCTAssertEqual(dataset.rows.map(\.line), [1, 4, 6, 7])
        XCTAssertEqual(dataset.badRows.map(\.line), [5])
        XCTAssertEqual(dataset.badRows.first?.reason, "not valid UTF-8")
    }

    func testJSONLBadRowsAreCountedByLineAndTheRestKept() {
        let text = "\u{FEFF}{\"prompt\":\"a\",\"max_tokens\":3}\r\n{\"prompt\":\"\"}\n\n{\"x\":1}\n[1,2]\n{\"prompt\":\"b\",\"max_tokens\":0}\n{\"prompt\":\"c\",\"max_tokens\":true}\n{broken\n{\"messages\":[{\"content\":\"no role\"}]}\n{\"prompt\":\"d\",\"output_tokens\":7}"
        let dataset = Dataset.parse(Array(text.utf8), format: .auto)
        XCTAssertEqual(dataset.format, .jsonl)
        XCTAssertEqual(prompts(dataset), ["a", "d"])
        XCTAssertEqual(dataset.rows.map(\.maxTokens), [3, 7])
        XCTAssertEqual(dataset.badRows.map(\.line), [2, 4, 5, 6, 7, 8, 9])
        XCTAssertEqual(Dataset.describe(dataset.badRows), "line 2: \"prompt\" must be a non-empty string, line 4: no \"prompt\" or \"messages\", line 5: not a JSON object and 4 more")
    }

    func testShareGPTBadElementsAndSplitting() {
        let text = """
        [{"conversations":[{"from":"human","value":"a, [b] {c} \\"d\\""},{"from":"gpt","value":"one two"}]},
         {"conversations":[]},
         {"conversations":[{"from":"gpt","value":"no human"}]},
         {"conversations":[{"role":"user","content":"as chat"}]}, 17,
         {"conversations":[{"from":"human","value":"last"}]}]
        """
        let dataset = Dataset.parse(Array(text.utf8), format: .auto)
        XCTAssertEqual(dataset.format, .sharegpt)
        XCTAssertEqual(prompts(dataset), ["a, [b] {c} \"d\"", "as chat", "last"])
        XCTAssertEqual(dataset.rows.map(\.maxTokens), [2, nil, nil])
        XCTAssertEqual(dataset.rows.map(\.line), [1, 4, 5])
        XCTAssertEqual(dataset.badRows.map(\.line), [2, 3, 4])
        XCTAssertEqual(Dataset.parse(Array("[{\"conversations\":".utf8), format: .sharegpt).badRows.first?.reason, "an unterminated element")
    }

    /// A large ShareGPT-shaped file (~60 MB) loads in linear time: split once, each element parsed alone.
    func testLargeShareGPTLoadsInReasonableTime() {
        var text = "["
        let answer = String(repeating: "The answer goes on for a while, with words and commas. ", count: 20)
        for index in 0..<50_000 {
            if index > 0 { text += ",\n" }
            text += "{\"id\":\"\(index)\",\"conversations\":[{\"from\":\"human\",\"value\":\"Question \(index)? \(answer)\"},{\"from\":\"gpt\",\"value\":\"\(answer)\"}]}"
        }
        text += "]"
        let bytes = Array(text.utf8)
        let started = Date()
        let dataset = Dataset.parse(bytes, format: .auto)
        let seconds = Date().timeIntervalSince(started)
        print("ShareGPT: \(bytes.count / 1_000_000) MB, \(dataset.rows.count) rows in \(String(format: "%.2f", seconds)) s")
        XCTAssertEqual(dataset.rows.count, 50_000)
        XCTAssertEqual(dataset.rows.last?.line, 50_000)
        XCTAssertLessThan(seconds, 120, "a few hundred MB must load in reasonable time")
    }

    func testDetection() {
        XCTAssertEqual(Dataset.parse(Array("  \n[]".utf8), format: .auto).format, .sharegpt)
        XCTAssertEqual(Dataset.parse(Array("{not json}\nx".utf8), format: .auto).format, .text)
        XCTAssertEqual(Dataset.parse(Array("\n\n{\"prompt\":\"x\"}".utf8), format: .auto).format, .jsonl)
        XCTAssertEqual(Dataset.parse(Array("plain".utf8), format: .auto).format, .text)
        XCTAssertEqual(Dataset.parse(Array("{\"prompt\":\"x\"}".utf8), format: .text).rows.count, 1, "a format given is not second-guessed")
    }

    func testTokenEstimate() {
        XCTAssertEqual(TokenEstimate.tokens("the and for"), 3)
        XCTAssertEqual(TokenEstimate.tokens("post-mortem, 12 ms."), 7)
        XCTAssertEqual(TokenEstimate.tokens(""), 0)
        XCTAssertEqual(TokenEstimate.tokens("日本語"), 3)
        XCTAssertEqual(TokenEstimate.tokens("[0000000001] "), 3)
    }
}
