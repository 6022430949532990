// vLLM's completion output as bytes: SSE events (one HTTP chunk each) and non-streaming bodies.

/// Streaming chat, as vLLM frames it (compact JSON):
///
///     data: {"id":"chatcmpl-…","object":"chat.completion.chunk","created":…,"model":"…","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}
///     data: {…"choices":[{"index":0,"delta":{"content":" word"},"logprobs":null,"finish_reason":null}]}   (one per token)
///     data: {…"choices":[{"index":0,"delta":{"content":""},"logprobs":null,"finish_reason":"length","stop_reason":null}]}
///     data: {…"choices":[],"usage":{"prompt_tokens":…,"completion_tokens":…,"total_tokens":…}}   (stream_options.include_usage)
///     data: [DONE]
///
/// The finish event carries empty content, as vLLM sends it when a sequence ends on EOS.
/// Completions use object `text_completion`, `"text"` instead of `"delta"`, send no role event,
/// and end each choice event with `"usage":null`, as vLLM's completion stream does.
/// Each event is one HTTP chunk; HTTP/1.0 clients get the events unchunked on a closing connection.
///
/// The per-request part of every event (`data: {"id":…,"model":…,"choices":`) is built once per
/// request into `eventHead`; a token event is that head, a fixed middle, the word, a fixed tail.
struct CompletionFraming {
    let modelEscaped: ByteBuffer

    init(model: String) {
        var escaped = ByteBuffer()
        escaped.appendJSONEscaped(model)
        modelEscaped = escaped
    }

    /// `chatcmpl-` or `cmpl-` and 32 hex digits, a function of (seed, request number).
    func appendID(_ out: inout ByteBuffer, isChat: Bool, seed: UInt64, request: UInt64) {
        out.append(isChat ? "chatcmpl-" : "cmpl-")
        let high = mix64(seed ^ mix64(request))
        let low = mix64(high ^ 0x5DEE_CE66_D1CE_4E5B)
        out.appendHex64(high)
        out.appendHex64(low)
    }

    func buildEventHead(_ head: inout ByteBuffer, isChat: Bool, seed: UInt64, request: UInt64, created: UInt64) {
        head.clear()
        head.append("data: {\"id\":\"")
        appendID(&head, isChat: isChat, seed: seed, request: request)
        head.append(isChat ? "\",\"object\":\"chat.completion.chunk\",\"created\":" : "\",\"object\":\"text_completion\",\"created\":")
        head.appendDecimal(created)
        head.append(",\"model\":\"")
        head.append(modelEscaped)
        head.append("\",\"choices\":")
    }

    static func appendStreamHead(_ out: inout ByteBuffer, chunked: Bool) {
        out.append(chunked
            ? "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream; charset=utf-8\r\ncache-control: no-cache\r\ntransfer-encoding: chunked\r\n\r\n"
            : "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream; charset=utf-8\r\ncache-control: no-cache\r\nconnection: close\r\n\r\n")
    }

    /// One event as one chunk: `<hex size>\r\n<head><middle><text><tail>\r\n`.
    @inline(__always)
    static func appendEvent(_ out: inout ByteBuffer, chunked: Bool, head: borrowing ByteBuffer, middle: StaticString,
                            text: UnsafeRawBufferPointer, tail: StaticString) {
        if chunked {
            out.appendHex(head.count + middle.utf8CodeUnitCount + text.count + tail.utf8CodeUnitCount)
            out.append("\r\n")
        }
        out.append(head)
        out.append(middle)
        out.append(text)
        out.append(tail)
        if chunked { out.append("\r\n") }
    }

    static func appendRoleEvent(_ out: inout ByteBuffer, chunked: Bool, head: borrowing ByteBuffer) {
        appendEvent(&out, chunked: chunked, head: head,
                    middle: "[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"logprobs\":null,\"finish_reason\":null}]}\n\n",
                    text: UnsafeRawBufferPointer(start: nil, count: 0), tail: "")
    }

    @inline(__always)
    static func appendTokenEvent(_ out: inout ByteBuffer, chunked: Bool, isChat: Bool, head: borrowing ByteBuffer, token: UnsafeRawBufferPointer) {
        if isChat {
            appendEvent(&out, chunked: chunked, head: head, middle: "[{\"index\":0,\"delta\":{\"content\":\"", text: token,
                        tail: "\"},\"logprobs\":null,\"finish_reason\":null}]}\n\n")
        } else {
            appendEvent(&out, chunked: chunked, head: head, middle: "[{\"index\":0,\"text\":\"", text: token,
                        tail: "\",\"logprobs\":null,\"finish_reason\":null,\"stop_reason\":null}],\"usage\":null}\n\n")
        }
    }

    /// The finish event, the usage event when asked, `[DONE]`, and the chunked body's last chunk.
    static func appendEnd(_ out: inout ByteBuffer, chunked: Bool, isChat: Bool, head: borrowing ByteBuffer, reachedLength: Bool,
                          usage: (prompt: Int, completion: Int)?) {
        let empty = UnsafeRawBufferPointer(start: nil, count: 0)
        let middle: StaticString = isChat
            ? "[{\"index\":0,\"delta\":{\"content\":\"\"},\"logprobs\":null,\"finish_reason\":\""
            : "[{\"index\":0,\"text\":\"\",\"logprobs\":null,\"finish_reason\":\""
        let tail: StaticString = isChat
            ? (reachedLength ? "length\",\"stop_reason\":null}]}\n\n" : "stop\",\"stop_reason\":null}]}\n\n")
            : (reachedLength ? "length\",\"stop_reason\":null}],\"usage\":null}\n\n" : "stop\",\"stop_reason\":null}],\"usage\":null}\n\n")
        appendEvent(&out, chunked: chunked, head: head, middle: middle, text: empty, tail: tail)
        if let usage {
            let total = usage.prompt + usage.completion
            let a: StaticString = "[],\"usage\":{\"prompt_tokens\":"
            let b: StaticString = ",\"completion_tokens\":"
            let c: StaticString = ",\"total_tokens\":"
            let d: StaticString = "}}\n\n"
            if chunked {
                out.appendHex(head.count + a.utf8CodeUnitCount + decimalDigits(usage.prompt) + b.utf8CodeUnitCount
                              + decimalDigits(usage.completion) + c.utf8CodeUnitCount + decimalDigits(total) + d.utf8CodeUnitCount)
                out.append("\r\n")
            }
            out.append(head)
            out.append(a)
            out.appendDecimal(usage.prompt)
            out.append(b)
            out.appendDecimal(usage.completion)
            out.append(c)
            out.appendDecimal(total)
            out.append(d)
            if chunked { out.append("\r\n") }
        }
        out.append(chunked ? "e\r\ndata: [DONE]\n\n\r\n0\r\n\r\n" : "data: [DONE]\n\n")
    }

    /// A non-streaming body, vLLM's shape: id, object, created, model, choices, usage.
    func appendBody(_ body: inout ByteBuffer, isChat: Bool, seed: UInt64, request: UInt64, created: UInt64,
                    vocabulary: TokenVocabulary, tokens: Int, promptTokens: Int, reachedLength: Bool) {
        body.append("{\"id\":\"")
        appendID(&body, isChat: isChat, seed: seed, request: request)
        body.append(isChat ? "\",\"object\":\"chat.completion\",\"created\":" : "\",\"object\":\"text_completion\",\"created\":")
        body.appendDecimal(created)
        body.append(",\"model\":\"")
        body.append(modelEscaped)
        body.append(isChat ? "\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"" : "\",\"choices\":[{\"index\":0,\"text\":\"")
        for index in 0..<tokens {
            body.append(vocabulary.token(request: request, index: index))
        }
        body.append(isChat ? "\"},\"logprobs\":null,\"finish_reason\":\"" : "\",\"logprobs\":null,\"finish_reason\":\"")
        body.append(reachedLength ? "length" : "stop")
        body.append("\",\"stop_reason\":null}],\"usage\":{\"prompt_tokens\":")
        body.appendDecimal(promptTokens)
        body.append(",\"completion_tokens\":")
        body.appendDecimal(tokens)
        body.append(",\"total_tokens\":")
        body.appendDecimal(promptTokens + tokens)
        body.append("}}")
    }
}

private func decimalDigits(_ value: Int) -> Int {
    var digits = 1
    var v = value
    while v >= 10 {
        v /= 10
        digits += 1
    }
    return digits
}
