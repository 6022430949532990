// Request decoding: the prompt-token rule, max_tokens defaults and limits, vLLM's validations.
import XCTest
@testable import LLMSim

final class OpenAIRequestTests: XCTestCase {
    func decode(_ json: String, chat: Bool = true, maxModelLen: Int = 100) -> Result<CompletionAsk, APIError> {
        Array(json.utf8).withUnsafeBytes { decodeCompletionRequest(isChat: chat, body: $0, model: "m", maxModelLen: maxModelLen) }
    }

    func ask(_ json: String, chat: Bool = true, maxModelLen: Int = 100, file: StaticString = #filePath, line: UInt = #line) -> CompletionAsk? {
        switch decode(json, chat: chat, maxModelLen: maxModelLen) {
        case .success(let ask): return ask
        case .failure(let error):
            XCTFail("\(error)", file: file, line: line)
            return nil
        }
    }

    func testPromptTokenEstimate() {
        XCTAssertEqual(estimatedTokens(""), 0)
        XCTAssertEqual(estimatedTokens("abcd"), 1)
        XCTAssertEqual(estimatedTokens("abcde"), 2)
        XCTAssertEqual(estimatedTokens("ééééé"), 2, "characters, not bytes")
        // Two messages: (⌈5/4⌉ + 4) + (⌈9/4⌉ + 4) = 6 + 7.
        XCTAssertEqual(ask(#"{"messages":[{"role":"system","content":"12345"},{"role":"user","content":"123456789"}],"max_tokens":1}"#)?.promptTokens, 13)
        // Content parts: text parts count, others do not; null content counts the overhead only.
        XCTAssertEqual(ask(#"{"messages":[{"role":"user","content":[{"type":"text","text":"12345678"},{"type":"image_url","image_url":{"url":"x"}}]},{"role":"assistant","content":null}],"max_tokens":1}"#)?.promptTokens, 2 + 4 + 4)
        XCTAssertEqual(ask(#"{"prompt":"123456789","max_tokens":1}"#, chat: false)?.promptTokens, 3)
        XCTAssertEqual(ask(#"{"prompt":[1,2,3,4,5],"max_tokens":1}"#, chat: false)?.promptTokens, 5)
        XCTAssertEqual(ask(#"{"prompt":["1234","5678"],"max_tokens":1}"#, chat: false)?.promptTokens, 2)
        XCTAssertEqual(ask(#"{"prompt":"","max_tokens":1}"#, chat: false)?.promptTokens, 1, "at least one token, as a BOS would be")
    }

    func testMaxTokensDefaultsAndLimits() {
        XCTAssertEqual(ask(#"{"prompt":"1234"}"#, chat: false)?.maxTokens, 99, "what the context leaves")
        XCTAssertEqual(ask(#"{"prompt":"1234","max_tokens":99}"#, chat: false)?.maxTokens, 99)
        XCTAssertEqual(ask(#"{"prompt":"1234","max_tokens":1e1}"#, chat: false)?.maxTokens, 10, "an integral float, as pydantic allows")
        XCTAssertEqual(ask(#"{"messages":[{"role":"user","content":""}],"max_completion_tokens":7,"max_tokens":3}"#)?.maxTokens, 7)
        XCTAssertEqual(ask(#"{"prompt":"1234","max_tokens":null}"#, chat: false)?.maxTokens, 99, "null is absent")
        guard case .failure(let tooLong) = decode(#"{"prompt":"1234","max_tokens":100}"#, chat: false) else { return XCTFail() }
        XCTAssertEqual(tooLong.status, 400)
        XCTAssertTrue(tooLong.message.contains("maximum context length is 100 tokens"), tooLong.message)
        guard case .failure(let noRoom) = decode(#"{"prompt":"\#(String(repeating: "x", count: 400))"}"#, chat: false) else { return XCTFail() }
        XCTAssertEqual(noRoom.status, 400)
    }

    func testFlagsAndStreamOptions() {
        let streaming = ask(#"{"prompt":"x","max_tokens":5,"stream":true,"stream_options":{"include_usage":true},"ignore_eos":true,"min_tokens":2}"#, chat: false)
        XCTAssertEqual(streaming, CompletionAsk(isChat: false, stream: true, includeUsage: true, promptTokens: 1, maxTokens: 5, minTokens: 2, ignoreEos: true))
        let plain = ask(#"{"prompt":"x","max_tokens":5,"temperature":0,"top_p":1,"unknown_field":[1,2]}"#, chat: false)
        XCTAssertEqual(plain?.stream, false)
        XCTAssertEqual(plain?.includeUsage, false)
        XCTAssertEqual(plain?.ignoreEos, false)
    }

    func testRejections() {
        let cases: [(String, Bool, Int, String)] = [
            ("", true, 400, "empty"),
            ("{", true, 400, "JSON"),
            ("\"text\"", true, 400, "object"),
            (#"{"messages":"hi"}"#, true, 400, "messages"),
            (#"{"messages":[{"role":1,"content":"x"}]}"#, true, 400, "role"),
            (#"{"messages":[{"role":"user","content":5}]}"#, true, 400, "content"),
            (#"{"messages":[{"role":"user","content":"x"}],"model":"other"}"#, true, 404, "`other` does not exist"),
            (#"{"messages":[{"role":"user","content":"x"}],"model":7}"#, true, 400, "model"),
            (#"{"prompt":[1,"a",[2]],"max_tokens":1}"#, false, 400, "prompt"),
            (#"{"prompt":"x","max_tokens":"5"}"#, false, 400, "max_tokens"),
            (#"{"prompt":"x","min_tokens":-1}"#, false, 400, "min_tokens"),
            (#"{"prompt":"x","ignore_eos":1}"#, false, 400, "ignore_eos"),
            (#"{"prompt":"x","stream":true,"stream_options":[]}"#, false, 400, "stream_options"),
        ]
        for (json, chat, status, text) in cases {
            guard case .failure(let error) = decode(json, chat: chat) else {
                XCTFail("accepted: \(json)")
                continue
            }
            XCTAssertEqual(error.status, status, json)
            XCTAssertTrue(error.message.contains(text), "\(json): \(error.message)")
        }
    }
}
