// The server's view of the prompt workloads: a server that records every body it receives.
import Foundation
import Synchronization
import XCTest
@testable import MetronomeCore

/// Answers every request with a whole (non-streaming) completion, its usage counting the prompt's
/// words, and keeps each request body in the order received.
final class RecordingServer: @unchecked Sendable {
    final class Log: Sendable {
        let bodies = Mutex<[[UInt8]]>([])
    }
    let server: ScriptedServer
    private let log = Log()

    init() throws {
        let log = log
        server = try ScriptedServer { request, _ in
            let body = request.body
            log.bodies.withLock { $0.append(body) }
            return ScriptedServer.response(status: 200, body: #"{"choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}],"usage":{"prompt_tokens":10,"completion_tokens":1,"total_tokens":11}}"#)
        }
    }

    var port: UInt16 { server.listener.boundPort }
    var bodies: [[String: Any]] {
        log.bodies.withLock { $0 }.map { (try? JSONSerialization.jsonObject(with: Data($0))) as? [String: Any] ?? [:] }
    }

    /// The prompt text of each body: the completions `prompt`, or the chat messages' last content.
    var prompts: [String] {
        bodies.map { body in
            if let prompt = body["prompt"] as? String { return prompt }
            let messages = body["messages"] as? [[String: Any]] ?? []
            return messages.last?["content"] as? String ?? ""
        }
    }
}

final class WorkloadTruthTests: XCTestCase {
    func record(_ arguments: [String], requests: Int = 12) throws -> (RecordingServer, RunSummary) {
        let server = try RecordingServer()
        addTeardownBlock { server.server.shutdown() }
        // Constant arrivals 50 ms apart on a server that answers at once: one request at a time,
        // received in the order sent.
        let options = try OptionTable.parse(["http://127.0.0.1:\(server.port)", "--model", "m", "--no-stream", "--arrival", "constant",
                                             "--rate", "20", "--duration", "\(requests * 50)ms", "--quiet", "--no-files"] + arguments)
        let (summary, _) = try LoadRun(options: options).execute(handlesSignals: false)
        XCTAssertEqual(summary.total.succeeded, UInt64(requests), summary.warnings.joined(separator: "\n"))
        XCTAssertEqual(server.bodies.count, requests)
        return (server, summary)
    }

    func writeTemporary(_ name: String, _ text: String) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("metronome-\(getpid())-\(name)")
        try text.write(to: url, atomically: true, encoding: .utf8)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url.path
    }

    static let rows = (0..<5).map { "prompt number \($0) of the dataset" }

    func jsonl() throws -> String {
        try writeTemporary("rows.jsonl", Self.rows.enumerated().map { index, text in
            "{\"prompt\": \"\(text)\", \"max_tokens\": \(index + 3)}"
        }.joined(separator: "\n") + "\n")
    }

    /// Sequential: exactly the rows, as written (no request number), with their own max_tokens,
    /// cycled once the rows run out; the report says it cycles.
    func testJSONLDatasetIsSentAsWrittenInOrderWithItsMaxTokens() throws {
        let (server, summary) = try record(["--dataset", try jsonl(), "--workload", "openai-completions"], requests: 12)
        let expected = (0..<12).map { Self.rows[$0 % 5] }
        XCTAssertEqual(server.prompts, expected)
        XCTAssertEqual(server.bodies.map { $0["max_tokens"] as? Int }, (0..<12).map { $0 % 5 + 3 })
        XCTAssertTrue(summary.warnings.contains { $0.contains("cycles through them") }, summary.warnings.joined(separator: "\n"))
        XCTAssertTrue(summary.config.contains { $0.key == "dataset_order" && $0.value == "sequential" })
        XCTAssertEqual(summary.promptMode, "cycled")
        XCTAssertEqual(summary.distinctPrompts, 5)
        XCTAssertEqual(summary.maxTokensMean ?? 0, 5, accuracy: 1e-9) // rows ask 3…7
        XCTAssertTrue(TextReport.render(summary, planDescription: "").contains("5 bodies sent in turn"))
    }

    /// Shuffle: each cycle is a permutation of the rows, and the permutation follows the seed.
    func testShuffledOrderIsAPermutationThatDependsOnTheSeed() throws {
        var orders: [[String]] = []
        for seed in ["1", "2", "1"] {
            let (server, _) = try record(["--dataset", try jsonl(), "--dataset-order", "shuffle", "--seed", seed, "--workload", "openai-chat"], requests: 5)
            XCTAssertEqual(server.prompts.sorted(), Self.rows.sorted())
            for body in server.bodies {
                let text = ((body["messages"] as? [[String: Any]])?.first?["content"] as? String) ?? ""
                XCTAssertEqual(body["max_tokens"] as? Int, (Self.rows.firstIndex(of: text) ?? -10) + 3, "a row keeps its own max_tokens")
            }
            orders.append(server.prompts)
        }
        XCTAssertEqual(orders[0], orders[2], "the same seed, the same order")
        XCTAssertNotEqual(orders[0], orders[1], "another seed, another order")
        XCTAssertNotEqual(orders[0], Self.rows)
    }

    /// `--input-tokens 500 --length-spread 20%`: word counts within ±20 %, spread over the range.
    func testSyntheticLengthsSpreadAsAsked() throws {
        let (server, summary) = try record(["--input-tokens", "500", "--length-spread", "20%", "--output-tokens", "7"], requests: 60)
        let counts = server.prompts.map { $0.split(separator: " ").count }
        XCTAssertTrue(counts.allSatisfy { (400...600).contains($0) }, "\(counts)")
        XCTAssertLessThan(counts.min()!, 430)
        XCTAssertGreaterThan(counts.max()!, 570)
        let mean = Double(counts.reduce(0, +)) / Double(counts.count)
        XCTAssertEqual(mean, 500, accuracy: 30)
        XCTAssertTrue(server.prompts.allSatisfy { $0.split(separator: " ").allSatisfy { SyntheticText.words.contains(String($0)) } })
        XCTAssertEqual(Set(server.prompts).count, 60, "each a different prompt")
        XCTAssertTrue(server.bodies.allSatisfy { $0["max_tokens"] as? Int == 7 })
        // Requested is the mean of the bodies scheduled; this server always says 10.
        let calibration = try XCTUnwrap(summary.promptCalibration)
        XCTAssertEqual(calibration.requestedMean, mean, accuracy: 0.001)
        XCTAssertEqual(calibration.actualMean, 10)
        XCTAssertTrue(summary.warnings.contains { $0.contains("prompt tokens on average where") }, "a 98 % gap on exact words is warned")
    }

    /// `--prefix-tokens 50 --prefix-groups 3`: within a group the prefix is byte-identical, groups
    /// differ from their first word, every suffix (the built-in prompt's number) is distinct and
    /// comes after the prefix, so a prefix cache can share the prefix.
    func testPrefixesAreByteIdenticalWithinAGroupAndTheNumberComesAfter() throws {
        let (server, summary) = try record(["--prefix-tokens", "50", "--prefix-groups", "3"], requests: 12)
        let prompts = server.prompts
        var prefixes: [String] = []
        var suffixes: [String] = []
        for prompt in prompts {
            let words = prompt.split(separator: " ", maxSplits: 50, omittingEmptySubsequences: false)
            prefixes.append(words.prefix(50).joined(separator: " "))
            suffixes.append(String(words[50]))
        }
        for (index, prefix) in prefixes.enumerated() {
            XCTAssertEqual(prefix, prefixes[index % 3], "request \(index) uses group \(index % 3)")
            XCTAssertTrue(suffixes[index].hasPrefix("[\(String(format: "%010d", index))] You are reviewing"), suffixes[index])
        }
        XCTAssertEqual(Set(prefixes).count, 3)
        XCTAssertEqual(Set(prefixes.prefix(3).map { $0.split(separator: " ")[0] }).count, 3, "groups differ from the first word")
        XCTAssertEqual(Set(suffixes).count, 12)
        XCTAssertTrue(summary.config.contains { $0.key == "prefix_groups" && $0.value == "3" })
    }

    /// A dataset row with a prefix: prefix, then the row as written; --unique-prompts numbers rows on request.
    func testPrefixOnDatasetRowsAndUniquePromptsOnRequest() throws {
        let (server, _) = try record(["--dataset", try jsonl(), "--prefix-tokens", "4", "--unique-prompts", "--workload", "openai-completions"], requests: 5)
        let prefix = String(server.prompts[0].split(separator: " ").prefix(4).joined(separator: " "))
        for (index, prompt) in server.prompts.enumerated() {
            XCTAssertEqual(prompt, prefix + " [\(String(format: "%010d", index))] " + Self.rows[index])
        }
    }

    /// The default workload's body is unchanged by the request set: one body, numbered.
    func testDefaultWorkloadBodyIsTheBuiltInPrompt() throws {
        let (server, _) = try record([], requests: 3)
        for (index, body) in server.bodies.enumerated() {
            let content = ((body["messages"] as? [[String: Any]])?.first?["content"] as? String) ?? ""
            XCTAssertEqual(content, "[\(String(format: "%010d", index))] " + DefaultPrompt.text)
            XCTAssertEqual(body["max_tokens"] as? Int, 200)
        }
    }

    func testChatMessagesRowsAreSentAsGivenAndAreBadRowsForCompletions() throws {
        let path = try writeTemporary("messages.jsonl", """
        {"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi / there"}], "max_tokens": 9}
        {"prompt": "plain"}
        """)
        let (server, _) = try record(["--dataset", path], requests: 2)
        let messages = try XCTUnwrap(server.bodies[0]["messages"] as? [[String: String]])
        XCTAssertEqual(messages, [["role": "system", "content": "Be brief."], ["role": "user", "content": "Hi / there"]])
        XCTAssertEqual(server.bodies[0]["max_tokens"] as? Int, 9)
        XCTAssertEqual(server.bodies[1]["max_tokens"] as? Int, 200)
        let (completions, summary) = try record(["--dataset", path, "--workload", "openai-completions"], requests: 2)
        XCTAssertEqual(completions.prompts, ["plain", "plain"])
        XCTAssertTrue(summary.warnings.contains { $0.contains("line 1: a \"messages\" row needs --workload openai-chat") }, summary.warnings.joined(separator: "\n"))
    }

    func testMultiLinePromptFileIsWarnedAbout() throws {
        let path = try writeTemporary("three.txt", "one\ntwo\n\nthree\n")
        let (server, summary) = try record(["--prompt-file", path, "--same-prompt"], requests: 2)
        XCTAssertEqual(server.prompts, ["one\ntwo\n\nthree", "one\ntwo\n\nthree"], "still one prompt")
        XCTAssertTrue(summary.warnings.contains { $0.contains("3 non-empty lines") && $0.contains("--dataset") }, summary.warnings.joined(separator: "\n"))
    }

    func testOptionErrorsAreUsageErrors() throws {
        let path = try jsonl()
        let bad = try writeTemporary("bad.jsonl", "{\"prompt\":\"ok\"}\n{\"prompt\":\"also\"}\nnot json\n")
        let cases: [([String], String)] = [
            (["--dataset-format", "csv"], "--dataset-format"),
            (["--dataset", "/nonexistent/rows.jsonl"], "--dataset"),
            (["--input-tokens", "100", "--length-spread", "10"], "--length-spread"),
            (["--input-tokens", "100", "--length-spread", "normal:5"], "--length-spread"),
            (["--input-tokens", "100", "--length-spread", "200:300"], "--length-spread"),
            (["--length-spread", "10%"], "--length-spread"),
            (["--input-tokens", "0"], "--input-tokens"),
            (["--input-tokens", "-5"], "--input-tokens"),
            (["--output-tokens", "0"], "--output-tokens"),
            (["--prefix-tokens", "0"], "--prefix-tokens"),
            (["--prefix-groups", "2"], "--prefix-groups"),
            (["--input-tokens", "100", "--dataset", path], "--input-tokens"),
            (["--input-tokens", "100", "--prompt-file", path], "--input-tokens"),
            (["--dataset", path, "--workload", "http"], "--workload"),
            (["--dataset-limit", "3"], "--dataset"),
            (["--dataset", bad, "--strict"], "bad.jsonl:3"),
        ]
        for (arguments, flag) in cases {
            do {
                let options = try OptionTable.parse(["http://127.0.0.1:9", "--model", "m", "--rate", "1", "--duration", "1s"] + arguments)
                _ = try LoadRun(options: options)
                XCTFail("\(arguments) was accepted")
            } catch let error as UsageError {
                XCTAssertTrue(error.description.contains(flag), "\(arguments): \(error)")
            }
        }
    }
}
