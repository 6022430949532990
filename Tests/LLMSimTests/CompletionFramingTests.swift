// Response framing: byte-exact streams against a hand-checked fixture, and valid JSON bodies.
import Foundation
import XCTest
@testable import LLMSim

final class CompletionFramingTests: XCTestCase {
    /// Captured once from this server and checked by hand: every chunk size is its payload's
    /// length in hex, each payload is `data: ` + compact JSON + a blank line, prompt_tokens is
    /// ⌈16 characters / 4⌉ + 4 = 8, and `created` is the fixed value.
    static let chatStreamFixture = [
            "HTTP/1.1 200 OK\r\n",
            "content-type: text/event-stream; charset=utf-8\r\n",
            "cache-control: no-cache\r\n",
            "transfer-encoding: chunked\r\n\r\n",
            "e8\r\n" + #"data: {"id":"chatcmpl-12ae30237b17df147e6503a3305273e4","object":"chat.completion.chunk","created":1700000000,"model":"llmsim","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}"# + "\n\n\r\n",
            "d8\r\n" + #"data: {"id":"chatcmpl-12ae30237b17df147e6503a3305273e4","object":"chat.completion.chunk","created":1700000000,"model":"llmsim","choices":[{"index":0,"delta":{"content":"for"},"logprobs":null,"finish_reason":null}]}"# + "\n\n\r\n",
            "d9\r\n" + #"data: {"id":"chatcmpl-12ae30237b17df147e6503a3305273e4","object":"chat.completion.chunk","created":1700000000,"model":"llmsim","choices":[{"index":0,"delta":{"content":" for"},"logprobs":null,"finish_reason":null}]}"# + "\n\n\r\n",
            "db\r\n" + #"data: {"id":"chatcmpl-12ae30237b17df147e6503a3305273e4","object":"chat.completion.chunk","created":1700000000,"model":"llmsim","choices":[{"index":0,"delta":{"content":" their"},"logprobs":null,"finish_reason":null}]}"# + "\n\n\r\n",
            "ec\r\n" + #"data: {"id":"chatcmpl-12ae30237b17df147e6503a3305273e4","object":"chat.completion.chunk","created":1700000000,"model":"llmsim","choices":[{"index":0,"delta":{"content":""},"logprobs":null,"finish_reason":"length","stop_reason":null}]}"# + "\n\n\r\n",
            "d2\r\n" + #"data: {"id":"chatcmpl-12ae30237b17df147e6503a3305273e4","object":"chat.completion.chunk","created":1700000000,"model":"llmsim","choices":[],"usage":{"prompt_tokens":8,"completion_tokens":3,"total_tokens":11}}"# + "\n\n\r\n",
            "e\r\n" + #"data: [DONE]"# + "\n\n\r\n",
            "0\r\n\r\n",
    ].joined()

    static let completionStreamFixture = [
            "HTTP/1.1 200 OK\r\n",
            "content-type: text/event-stream; charset=utf-8\r\n",
            "cache-control: no-cache\r\n",
            "transfer-encoding: chunked\r\n\r\n",
            "e1\r\n" + #"data: {"id":"cmpl-df2bbb9538aae81801a7032a3109412b","object":"text_completion","created":1700000000,"model":"llmsim","choices":[{"index":0,"text":"had","logprobs":null,"finish_reason":null,"stop_reason":null}],"usage":null}"# + "\n\n\r\n",
            "e3\r\n" + #"data: {"id":"cmpl-df2bbb9538aae81801a7032a3109412b","object":"text_completion","created":1700000000,"model":"llmsim","choices":[{"index":0,"text":" more","logprobs":null,"finish_reason":null,"stop_reason":null}],"usage":null}"# + "\n\n\r\n",
            "e2\r\n" + #"data: {"id":"cmpl-df2bbb9538aae81801a7032a3109412b","object":"text_completion","created":1700000000,"model":"llmsim","choices":[{"index":0,"text":"","logprobs":null,"finish_reason":"length","stop_reason":null}],"usage":null}"# + "\n\n\r\n",
            "e\r\n" + #"data: [DONE]"# + "\n\n\r\n",
            "0\r\n\r\n",
    ].joined()

    func fixedConfig() -> SimConfig {
        quickConfig {
            $0.seed = 7
            $0.fixedCreated = 1_700_000_000
            $0.ttftNs = 0
        }
    }

    func testStreamsMatchTheFixtureByteForByte() throws {
        try withServer(fixedConfig()) { server in
            let client = try RawClient(port: server.port)
            client.send(post("/v1/chat/completions",
                             #"{"model":"llmsim","messages":[{"role":"user","content":"Say three words."}],"max_tokens":3,"ignore_eos":true,"stream":true,"stream_options":{"include_usage":true}}"#))
            let chat = client.readResponse()
            XCTAssertEqual(String(decoding: chat.raw, as: UTF8.self), Self.chatStreamFixture)
            client.send(post("/v1/completions", #"{"prompt":"Once upon","max_tokens":2,"ignore_eos":true,"stream":true}"#))
            let completion = client.readResponse()
            XCTAssertEqual(String(decoding: completion.raw, as: UTF8.self), Self.completionStreamFixture)
        }
    }

    func testEveryStreamEventIsValidJSON() throws {
        try withServer(quickConfig()) { server in
            let client = try RawClient(port: server.port)
            client.send(post("/v1/chat/completions", chatBody(maxTokens: 20, stream: true, usage: true, content: "quote \\\" and \\n")))
            let response = client.readResponse()
            XCTAssertTrue(response.complete)
            XCTAssertEqual(response.headers["content-type"], "text/event-stream; charset=utf-8")
            let events = response.events
            XCTAssertEqual(events.count, 1 + 20 + 1 + 1 + 1)
            XCTAssertEqual(events.last, "[DONE]")
            var text = ""
            for event in events.dropLast() {
                let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(event.utf8)) as? [String: Any], event)
                XCTAssertEqual(object["object"] as? String, "chat.completion.chunk")
                XCTAssertEqual(object["model"] as? String, "llmsim")
                XCTAssertNotNil(object["created"] as? Int)
                let choices = try XCTUnwrap(object["choices"] as? [[String: Any]])
                if let delta = choices.first?["delta"] as? [String: Any] { text += delta["content"] as? String ?? "" }
            }
            XCTAssertEqual(text.split(separator: " ").count, 20)
            let usage = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(events[events.count - 2].utf8)) as? [String: Any])
            XCTAssertEqual((usage["choices"] as? [Any])?.count, 0)
            XCTAssertEqual(usage["usage"] as? [String: Int], ["prompt_tokens": 8, "completion_tokens": 20, "total_tokens": 28], "⌈13 characters / 4⌉ + 4")
        }
    }

    func testNonStreamingBodiesHaveVLLMsFields() throws {
        try withServer(quickConfig()) { server in
            let client = try RawClient(port: server.port)
            client.send(post("/v1/chat/completions", chatBody(maxTokens: 7)))
            let chat = client.readResponse()
            XCTAssertEqual(chat.status, 200)
            XCTAssertEqual(chat.headers["content-type"], "application/json")
            let object = chat.json()
            XCTAssertTrue((object["id"] as? String)?.hasPrefix("chatcmpl-") ?? false)
            XCTAssertEqual(object["object"] as? String, "chat.completion")
            XCTAssertEqual(object["model"] as? String, "llmsim")
            XCTAssertNotNil(object["created"] as? Int)
            let choice = try XCTUnwrap((object["choices"] as? [[String: Any]])?.first)
            XCTAssertEqual(choice["index"] as? Int, 0)
            XCTAssertEqual(choice["finish_reason"] as? String, "length")
            let message = try XCTUnwrap(choice["message"] as? [String: Any])
            XCTAssertEqual(message["role"] as? String, "assistant")
            XCTAssertEqual((message["content"] as? String)?.split(separator: " ").count, 7)
            XCTAssertEqual(object["usage"] as? [String: Int], ["prompt_tokens": 6, "completion_tokens": 7, "total_tokens": 13])

            client.send(post("/v1/completions", #"{"prompt":"twelve chars","max_tokens":4,"min_tokens":4}"#))
            let completion = client.readResponse().json()
            XCTAssertEqual(completion["object"] as? String, "text_completion")
            let text = try XCTUnwrap((completion["choices"] as? [[String: Any]])?.first?["text"] as? String)
            XCTAssertEqual(text.split(separator: " ").count, 4)
            XCTAssertEqual(completion["usage"] as? [String: Int], ["prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7])
        }
    }

    func testModelsHealthAndKeepAlive() throws {
        try withServer(quickConfig { $0.model = "my-model" }) { server in
            let client = try RawClient(port: server.port)
            for _ in 0..<3 {
                client.send("GET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n")
                let models = client.readResponse()
                XCTAssertEqual(models.status, 200)
                let data = try XCTUnwrap(models.json()["data"] as? [[String: Any]])
                XCTAssertEqual(data.first?["id"] as? String, "my-model")
                client.send("GET /health HTTP/1.1\r\n\r\n")
                XCTAssertEqual(client.readResponse().status, 200)
            }
            XCTAssertEqual(server.stats.connectionsAccepted, 1, "one keep-alive connection carried all six")
        }
    }

    func testSeededLengthsStayWithinBoundsAndRepeat() throws {
        func lengths() throws -> [Int] {
            var result: [Int] = []
            try withServer(quickConfig { $0.seed = 99 }) { server in
                let client = try RawClient(port: server.port)
                for _ in 0..<20 {
                    client.send(post("/v1/completions", #"{"prompt":"x","max_tokens":10,"min_tokens":3}"#))
                    let usage = try XCTUnwrap(client.readResponse().json()["usage"] as? [String: Int])
                    result.append(usage["completion_tokens"] ?? -1)
                }
            }
            return result
        }
        let first = try lengths()
        XCTAssertTrue(first.allSatisfy { (3...10).contains($0) }, "\(first)")
        XCTAssertGreaterThan(Set(first).count, 1, "lengths vary when EOS is not ignored")
        XCTAssertEqual(try lengths(), first, "same seed, same lengths")
    }

    func testHTTP10StreamIsCloseDelimited() throws {
        try withServer(quickConfig()) { server in
            let client = try RawClient(port: server.port)
            let body = chatBody(maxTokens: 2, stream: true)
            client.send("POST /v1/chat/completions HTTP/1.0\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
            let raw = String(decoding: client.receiveUntilClosed(), as: UTF8.self)
            XCTAssertTrue(raw.contains("connection: close\r\n"))
            XCTAssertFalse(raw.contains("transfer-encoding"))
            XCTAssertTrue(raw.hasSuffix("data: [DONE]\n\n"), raw)
        }
    }
}
