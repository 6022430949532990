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
        XCTAssertEqual(tooLong.message, "'max_tokens' or 'max_completion_tokens' is too large: 100. This model's maximum context length is 100 tokens "
            + "and your request has 1 input tokens (100 > 100 - 1).")
        guard case .failure(let noRoom) = decode(#"{"prompt":"\#(String(repeating: "x", count: 400))"}"#, chat: false) else { return XCTFail() }
        XCTAssertEqual(noRoom.status, 400)
        XCTAssertEqual(noRoom.message, "This model's maximum context length is 100 tokens. However, your request has 100 input tokens. "
            + "Please reduce the length of the input messages.")
    }

    /// Every number a client sends is range-checked before arithmetic, and an error quotes it as
    /// sent: 2^63−1 used to trap on `promptTokens + maxTokens`, 2^63 came back as −2^63.
    func testHugeAndOddNumbersAreRefusedInTheClientsDigits() {
        let context = "This model's maximum context length is 100 tokens and your request has 1 input tokens"
        let cases: [(String, String)] = [
            ("9223372036854775807", "'max_tokens' or 'max_completion_tokens' is too large: 9223372036854775807. \(context) (9223372036854775807 > 100 - 1)."),
            ("9223372036854775808", "'max_tokens' or 'max_completion_tokens' is too large: 9223372036854775808. \(context) (9223372036854775808 > 100 - 1)."),
            ("18446744073709551615", "is too large: 18446744073709551615."),
            ("18446744073709551616", "is too large: 18446744073709551616."),
            ("123456789012345678901234567890", "is too large: 123456789012345678901234567890."),
            ("1000000000000000", "is too large: 1000000000000000."),
            ("1e30", "is too large: 1e+30."),
            ("-1", "max_tokens must be at least 1, got -1."),
            ("-9223372036854775808", "max_tokens must be at least 1, got -9223372036854775808."),
            ("-9223372036854775809", "max_tokens must be at least 1, got -9223372036854775809."),
            ("-1e300", "max_tokens must be at least 1, got -1e+300."),
            ("2.5", "max_tokens: Input should be a valid integer, got a number with a fractional part"),
            ("1e-5", "max_tokens: Input should be a valid integer, got a number with a fractional part"),
            ("1e400", "JSON decode error"),
            ("-1e400", "JSON decode error"),
        ]
        for (number, message) in cases {
            for chat in [true, false] {
                let json = chat ? #"{"messages":[{"role":"u","content":""}],"max_tokens":\#(number)}"# : #"{"prompt":"1234","max_tokens":\#(number)}"#
                let promptFree = message.replacingOccurrences(of: "1 input tokens (", with: "4 input tokens (")
                    .replacingOccurrences(of: "100 - 1)", with: "100 - 4)")
                guard case .failure(let error) = decode(json, chat: chat) else {
                    XCTFail("accepted: \(json)")
                    continue
                }
                XCTAssertEqual(error.status, 400, json)
                XCTAssertTrue(error.message.contains(chat ? promptFree : message), "\(json): \(error.message)")
            }
        }
        guard case .failure(let completion) = decode(#"{"messages":[{"role":"u","content":""}],"max_completion_tokens":9223372036854775807}"#) else { return XCTFail() }
        XCTAssertTrue(completion.message.hasPrefix("'max_tokens' or 'max_completion_tokens' is too large: 9223372036854775807."), completion.message)
        XCTAssertEqual(ask(#"{"prompt":"1234","max_tokens":99.0}"#, chat: false)?.maxTokens, 99, "a whole float within range is fine")
    }

    func testSamplingNumbersAreCheckedAsVLLMDoes() {
        let cases: [(String, String)] = [
            (#""min_tokens":9223372036854775808"#, "min_tokens must be less than or equal to max_tokens=5, got 9223372036854775808."),
            (#""min_tokens":-9223372036854775809"#, "min_tokens must be greater than or equal to 0, got -9223372036854775809."),
            (#""min_tokens":1.5"#, "min_tokens: Input should be a valid integer"),
            (#""n":0"#, "n must be at least 1, got 0."),
            (#""n":9223372036854775808"#, "n must be 1 (llmsim answers one choice), got 9223372036854775808."),
            (#""n":2"#, "n must be 1"),
            (#""n":"1""#, "n: Input should be a valid integer"),
            (#""temperature":-1e300"#, "temperature must be non-negative, got -1e+300."),
            (#""temperature":true"#, "temperature: Input should be a valid number"),
            (#""top_p":0"#, "top_p must be in (0, 1], got 0."),
            (#""top_p":18446744073709551616"#, "top_p must be in (0, 1], got 18446744073709551616."),
        ]
        for (field, message) in cases {
            let json = #"{"prompt":"x","max_tokens":5,\#(field)}"#
            guard case .failure(let error) = decode(json, chat: false) else {
                XCTFail("accepted: \(json)")
                continue
            }
            XCTAssertEqual(error.status, 400, json)
            XCTAssertTrue(error.message.contains(message), "\(json): \(error.message)")
        }
        XCTAssertNotNil(ask(#"{"prompt":"x","max_tokens":5,"n":1,"temperature":1e2,"top_p":0.5,"min_tokens":5.0}"#, chat: false))
        XCTAssertEqual(ask(#"{"prompt":[9223372036854775808, 1e30, -1],"max_tokens":1}"#, chat: false)?.promptTokens, 3, "token ids are counted, never summed")
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
