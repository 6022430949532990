// CompletionJSONScanner on whole non-streaming bodies and error bodies, and the JSON corner cases of its matcher.
import Foundation
import XCTest
@testable import MetronomeCore

final class CompletionJSONScannerTests: XCTestCase {
    private func scan(_ body: [UInt8], cuts: [Int] = []) -> ReferenceEvent {
        var scanner = CompletionJSONScanner()
        body.withUnsafeBytes { raw in
            var start = 0
            for end in cuts + [raw.count] {
                scanner.scan(UnsafeRawBufferPointer(rebasing: raw[start..<end]))
                start = end
            }
        }
        return ReferenceEvent(event: scanner.event, message: scanner.errorMessage)
    }

    private func scan(_ text: String) -> ReferenceEvent { scan(Array(text.utf8)) }

    private func event(hasContent: Bool = false, isError: Bool = false, prompt: Int? = nil,
                       completion: Int? = nil, finish: FinishReason? = nil) -> CompletionEvent {
        var event = CompletionEvent()
        event.hasContent = hasContent
        event.isError = isError
        event.promptTokens = prompt
        event.completionTokens = completion
        event.finishReason = finish
        return event
    }

    // MARK: Bodies

    func testNonStreamingBodies() throws {
        let expected: [(String, CompletionEvent, String)] = [
            ("llamacpp-nonstream.json", event(hasContent: true, prompt: 194, completion: 200, finish: .length), ""),
            ("vllm-nonstream.json", event(hasContent: true, prompt: 201, completion: 200, finish: .length), ""),
            ("llamacpp-error-validation-500.json", event(isError: true),
             "1 validation error:\n  {'type': 'list_type', 'loc': ('body', 'messages'), 'msg': 'Input should be a valid list', 'input': 'hi'}\n\n  File \"/tmp/llmvenv/lib/python3.11/site-packages/llama_cpp/server/app.p"),
            ("llamacpp-error-malformed-500.txt", event(), "Internal Server Error"),
            ("vllm-error-400.json", event(isError: true),
             "This model's maximum context length is 2048 tokens. However, you requested 2300 tokens (300 in the messages, 2000 in the completion). Please reduce the length of the messages or completion."),
            ("fastapi-404.json", event(), "Not Found"),
        ]
        for (name, event, message) in expected {
            let body = try ScanHelpers.fixture(name)
            let whole = scan(body)
            XCTAssertEqual(whole.event, event, name)
            XCTAssertEqual(whole.message, message, name)
            XCTAssertEqual(whole, SSEReference.completion(body), name)
            XCTAssertEqual(scan(body, cuts: Array(0..<body.count)), whole, "\(name) byte by byte")
            for cut in 0...body.count {
                let split = scan(body, cuts: [cut])
                if split != whole { XCTFail("\(name) cut at \(cut): \(split)"); break }
            }
        }
    }

    // MARK: Keys, values and depth

    func testOnlyKeysMatchNeverStringValues() {
        XCTAssertEqual(scan(#"{"role":"\"content\":\"x\"","content":""}"#).event, event())
        XCTAssertEqual(scan(#"{"a":["content","x"],"b":"content" ,"c":"x"}"#).event, event())
        XCTAssertEqual(scan(#"{"a":"\\","content":"y"}"#).event, event(hasContent: true))
        XCTAssertEqual(scan(#"{"a":"\\\"content\":\"y","content":null}"#).event, event())
        // A key is a string followed by ':' — with blanks allowed between them.
        XCTAssertEqual(scan("{\"content\"\t\r\n :\n\"y\"}").event, event(hasContent: true))
    }

    func testContentValues() {
        XCTAssertEqual(scan(#"{"content":""}"#).event.hasContent, false)
        XCTAssertEqual(scan(#"{"content":null}"#).event.hasContent, false)
        XCTAssertEqual(scan(#"{"content":"\n"}"#).event.hasContent, true)
        XCTAssertEqual(scan(#"{"content":["text"]}"#).event.hasContent, false)
        XCTAssertEqual(scan(#"{"reasoning":"r"}"#).event.hasContent, true)
        XCTAssertEqual(scan(#"{"reasoning_content":"r"}"#).event.hasContent, true)
        XCTAssertEqual(scan(#"{"choices":[{"text":" t"}]}"#).event.hasContent, true)
        XCTAssertEqual(scan(#"{"contents":"x","tex":"y","con\u0074ent":"z"}"#).event.hasContent, false)
    }

    func testUsage() {
        XCTAssertEqual(scan(#"{"usage":{"prompt_tokens":201,"completion_tokens":200,"total_tokens":401}}"#).event,
                       event(prompt: 201, completion: 200))
        XCTAssertEqual(scan(#"{"usage":null,"prompt_tokens":5}"#).event, event())
        XCTAssertEqual(scan(#"{"x":{"prompt_tokens":5},"usage":{"details":{"completion_tokens":7}}}"#).event, event())
        XCTAssertEqual(scan(#"{"usage" : { "completion_tokens" : 12 , "prompt_tokens" : 0 } }"#).event,
                       event(prompt: 0, completion: 12))
        XCTAssertEqual(scan(#"{"usage":{"prompt_tokens":7.0,"completion_tokens":-3}}"#).event, event(prompt: 7))
        XCTAssertEqual(scan(#"{"usage":{"prompt_tokens":7e2,"completion_tokens":true}}"#).event, event())
        XCTAssertEqual(scan(#"{"usage":{"prompt_tokens":"7","completion_tokens":99999999999999999999999}}"#).event, event())
        // The last digit counts once it has arrived, before any delimiter.
        XCTAssertEqual(scan(#"{"usage":{"completion_tokens":42"#).event, event(completion: 42))
    }

    func testFinishReason() {
        XCTAssertEqual(scan(#"{"finish_reason":"stop"}"#).event.finishReason, .stop)
        XCTAssertEqual(scan(#"{"finish_reason":"length"}"#).event.finishReason, .length)
        XCTAssertEqual(scan(#"{"finish_reason":"tool_calls"}"#).event.finishReason, .other)
        XCTAssertEqual(scan(#"{"finish_reason":"stop_"}"#).event.finishReason, .other)
        XCTAssertEqual(scan(#"{"finish_reason":"st\u006fp"}"#).event.finishReason, .other)
        XCTAssertEqual(scan(#"{"finish_reason":null}"#).event.finishReason, nil)
        XCTAssertEqual(scan(#"{"finish_reason":1}"#).event.finishReason, .other)
        XCTAssertEqual(scan(#"{"choices":[{"finish_reason":"length"},{"finish_reason":null}]}"#).event.finishReason, .length)
    }

    func testErrors() {
        XCTAssertEqual(scan(#"{"error":{"message":"boom","code":500}}"#), ReferenceEvent(event: event(isError: true), message: "boom"))
        XCTAssertEqual(scan(#"{"error":"model not found"}"#), ReferenceEvent(event: event(isError: true), message: "model not found"))
        XCTAssertEqual(scan(#"{"error":null,"choices":[]}"#).event.isError, false)
        XCTAssertEqual(scan(#"{"error":false}"#).event.isError, false)
        XCTAssertEqual(scan(#"{"error":true}"#).event.isError, true)
        XCTAssertEqual(scan(#"{"choices":[{"error":"nested"}]}"#).event.isError, false)
        XCTAssertEqual(scan(#"{"object":"error","message":"m"}"#), ReferenceEvent(event: event(isError: true), message: "m"))
        XCTAssertEqual(scan(#"{"object":"chat.completion"}"#).event.isError, false)
        XCTAssertEqual(scan(#"{"data":{"object":"error"}}"#).event.isError, false)
        // Only the top level and the error object hold the message; the first one wins.
        XCTAssertEqual(scan(#"{"choices":[{"message":{"content":"hi"}}],"x":{"message":"no"}}"#).message, "")
        XCTAssertEqual(scan(#"{"message":"first","error":{"message":"second"}}"#).message, "first")
    }

    func testMessageEscapes() {
        XCTAssertEqual(scan(#"{"message":"a\"b\\c\/d\n\te\u00e9\u20ac\ud83d\ude00"}"#).message, "a\"b\\c/d\n\teé€😀")
        XCTAssertEqual(scan(#"{"message":"lone \ud83d high, lone \ude00 low, \ud83d\u0041"}"#).message,
                       "lone \u{FFFD} high, lone \u{FFFD} low, \u{FFFD}A")
        XCTAssertEqual(scan(#"{"message":"bad \u12G4 escape"}"#).message, "bad G4 escape")
        XCTAssertEqual(scan("  \n plain text body \n").message, "plain text body")
    }

    func testMalformedInputEndsQuietly() {
        for text in ["{", "}", "]]]", "{\"a", "{\"a\\", "{\"a\":\"\\u12", "{\"usage\":{\"prompt_tokens\":", ":::", "\"\"\"", "\u{0}\u{1}"] {
            _ = scan(text)
        }
        // Stray closers do not take the depth below zero; a body starting with one is plain text.
        XCTAssertEqual(scan(#"{}}}{"content":"x"}"#).event.hasContent, true)
        XCTAssertEqual(scan(#"}{"content":"x"}"#), ReferenceEvent(event: event(), message: #"}{"content":"x"}"#))
    }
}
