// The OpenAI request body, the built-in prompt, --config files and the request log's lines.
import Foundation
import XCTest
@testable import MetronomeCore

final class OpenAIWorkloadTests: XCTestCase {
    func testChatBodyIsValidJSONWithEveryField() throws {
        let settings = OpenAIRequestSettings(model: "m\"x", prompt: "line one\nline \"two\"", maxTokens: 200, temperature: 0,
                                             stream: true, ignoreEOS: true, uniquePrompts: true)
        let body = OpenAIRequestBody.make(settings, chat: true)
        let object = try JSONSerialization.jsonObject(with: Data(body)) as! [String: Any]
        XCTAssertEqual(object["model"] as? String, "m\"x")
        let messages = object["messages"] as! [[String: Any]]
        XCTAssertEqual(messages[0]["content"] as? String, "[##########] line one\nline \"two\"")
        XCTAssertEqual(object["max_tokens"] as? Int, 200)
        XCTAssertEqual(object["min_tokens"] as? Int, 200)
        XCTAssertEqual(object["ignore_eos"] as? Bool, true)
        XCTAssertEqual(object["stream"] as? Bool, true)
        XCTAssertEqual((object["stream_options"] as? [String: Any])?["include_usage"] as? Bool, true)
        let completions = OpenAIRequestBody.make(OpenAIRequestSettings(model: "m", prompt: "p", maxTokens: 5, temperature: 0.7,
                                                                       stream: false, ignoreEOS: false, uniquePrompts: false), chat: false)
        let other = try JSONSerialization.jsonObject(with: Data(completions)) as! [String: Any]
        XCTAssertEqual(other["prompt"] as? String, "p")
        XCTAssertNil(other["stream_options"])
        XCTAssertNil(other["ignore_eos"])
        XCTAssertEqual(other["temperature"] as? Double, 0.7)
    }

    func testBuiltInPromptIsTheConfigFile() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../configs/prompts/prompt_200.txt").path
        let text = try String(contentsOfFile: path, encoding: .utf8)
        XCTAssertEqual(DefaultPrompt.text, text.trimmingTrailingNewlines())
    }

    func testConfigFileLoadsOptionsAndFlagsOverride() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../configs/fixed_200_200.json").path
        let options = try OptionTable.parse(["--config", path, "--rate", "5", "--no-stream", "http://h:1"])
        XCTAssertEqual(options.rate, 5, "the flag wins")
        XCTAssertEqual(options.maxTokens, 200)
        XCTAssertTrue(options.ignoreEOS)
        XCTAssertFalse(options.stream, "--no-stream overrides the file's stream: true")
        XCTAssertEqual(options.startRate, 2)
        XCTAssertEqual(options.rampNs, 60_000_000_000)
        XCTAssertEqual(options.url, "http://h:1")
        XCTAssertEqual(options.promptFile, "configs/prompts/prompt_200.txt")
    }

    func testConfigFileErrors() throws {
        let directory = FileManager.default.temporaryDirectory
        let bad = directory.appendingPathComponent("metronome-bad-\(getpid()).json")
        defer { try? FileManager.default.removeItem(at: bad) }
        for (text, fragment) in [(#"{"rate": 5, "bogus": 1, "also_bad": 2}"#, "also_bad, bogus"), ("[1]", "object"), ("{", "valid JSON"),
                                 (#"{"stream": "yes"}"#, "true or false"), (#"{"rate": true}"#, "string or a number"),
                                 ("{\n  \"rate\": 5,\n}", "valid JSON: line 3, column 1 (byte 15): expected a string key, found '}'")] {
            try Data(text.utf8).write(to: bad)
            XCTAssertThrowsError(try OptionTable.parse(["--config", bad.path]), text) { error in
                XCTAssertEqual((error as? UsageError)?.flag, "--config")
                XCTAssertTrue("\(error)".contains(fragment), "\(error)")
            }
        }
        XCTAssertThrowsError(try OptionTable.parse(["--config", "/nonexistent/x.json"]))
    }

    func testRequestLogLines() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("metronome-log-\(getpid()).csv").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            let log = try RequestLog(path: path)
            var record = RequestRecord(id: 0, stage: 0, intendedNs: 2000, outcome: .success)
            (record.sentNs, record.firstTokenNs, record.completedNs, record.status, record.bytes, record.completionTokens) = (2500, 9000, 12000, 200, 345, 200)
            log.append(record, startNs: 1000)
            log.append(RequestRecord(id: 1, stage: 0, intendedNs: 3000, outcome: .dropped), startNs: 1000)
        }
        // The original eight columns come first, unchanged; the new ones follow.
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8),
                       RequestLog.csvHeader(includesGaps: false)
                       + "1000,1500,8000,11000,200,success,345,200,0,total,,0.007,0.007,,\n2000,,,,,dropped,0,,1,total,,,,,\n")
        XCTAssertTrue(RequestLog.csvHeader(includesGaps: false).hasPrefix("intended_ns,sent_ns,first_token_ns,completed_ns,status,outcome,bytes,tokens,"))
    }
}
