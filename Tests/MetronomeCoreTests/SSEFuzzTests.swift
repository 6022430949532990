// Seeded fuzz: random valid OpenAI-style streams against the Foundation reference, and random garbage at random cuts.
import Foundation
import XCTest
@testable import MetronomeCore

final class SSEFuzzTests: XCTestCase {
    func testRandomValidStreamsMatchReference() {
        var random = TestRandom(seed: 0xF0CC_AC1A)
        var contentEvents = 0, errorEvents = 0, usageEvents = 0, messages = 0
        for round in 0..<400 {
            var generator = StreamGenerator(random: random)
            let body = generator.stream()
            random = generator.random
            let whole = ScanHelpers.scan(body, cuts: [])
            let expected = ScanHelpers.reference(body)
            contentEvents += expected.events.filter(\.hasContent).count
            errorEvents += expected.events.filter(\.isError).count
            usageEvents += expected.events.filter { $0.promptTokens != nil }.count
            messages += expected.lastErrorMessage.isEmpty ? 0 : 1
            guard whole == expected else {
                XCTFail("round \(round): scanner and reference differ on\n\(String(decoding: body, as: UTF8.self))")
                for (mine, theirs) in zip(whole.events, expected.events) where mine != theirs {
                    XCTFail("first difference: \(mine) vs \(theirs)")
                    break
                }
                return
            }
            for _ in 0..<4 {
                let cuts = random.cuts(in: body.count, count: 1 + random.below(24))
                XCTAssertEqual(ScanHelpers.scan(body, cuts: cuts), whole, "round \(round) cuts \(cuts)")
            }
            if round % 10 == 0 { XCTAssertEqual(ScanHelpers.byteByByte(body), whole, "round \(round) byte by byte") }
        }
        // The generator really exercises each kind of event (seed 0xF0CCAC1A: 1572, 349, 290, 135).
        XCTAssertGreaterThan(contentEvents, 1000)
        XCTAssertGreaterThan(errorEvents, 200)
        XCTAssertGreaterThan(usageEvents, 200)
        XCTAssertGreaterThan(messages, 100)
    }

    func testGarbageNeverCrashesLoopsOrDependsOnCuts() {
        var random = TestRandom(seed: 0xBAD_B17E5)
        let alphabet = Array("data:event: error\n\r\r\n\n{}[]\",:\\u00e9 0123456789.-eE[DONE]contentusageprompt_tokens".utf8)
            + [0xEF, 0xBB, 0xBF, 0x00, 0xFF]
        for round in 0..<600 {
            let length = random.below(400)
            let body = (0..<length).map { _ in
                random.chance(90) ? alphabet[random.below(alphabet.count)] : UInt8(truncatingIfNeeded: random.next())
            }
            let whole = ScanHelpers.scan(body, cuts: [])
            XCTAssertEqual(ScanHelpers.byteByByte(body), whole, "garbage round \(round)")
            let cuts = random.cuts(in: body.count, count: 1 + random.below(10))
            XCTAssertEqual(ScanHelpers.scan(body, cuts: cuts), whole, "garbage round \(round)")

            var json = CompletionJSONScanner()
            body.withUnsafeBytes { json.scan($0) }
            _ = json.event
            _ = json.errorMessage
        }
    }
}

/// A JSON value with members in a chosen order, written with random blanks and random escaping.
private indirect enum JSON {
    case string(String), number(Int), null, bool(Bool), array([JSON]), object([(String, JSON)])
}

/// Writes random streams in the shapes vLLM, SGLang and llama.cpp produce, with random key order,
/// blanks, escapes, line ends, comments, multi-line data, usage and error events.
private struct StreamGenerator {
    var random: TestRandom
    private var lineEnd = "\n"
    private var spacing = 0  // percent chance of a blank between tokens

    init(random: TestRandom) { self.random = random }

    mutating func stream() -> [UInt8] {
        lineEnd = ["\n", "\r\n", "\r"][random.below(3)]
        spacing = [0, 0, 30, 80][random.below(4)]
        var out = random.chance(5) ? "\u{FEFF}" : ""
        let completions = random.chance(25)
        for _ in 0..<(1 + random.below(12)) {
            if random.chance(15) { out += ": ping - 2026-11-29" + lineEnd + (random.chance(50) ? lineEnd : "") }
            if random.chance(5) { out += "id: \(random.below(100))" + lineEnd }
            if random.chance(3) { out += "retry: 3000" + lineEnd }
            switch random.below(20) {
            case 0: out += event(errorEvent())
            case 1: out += "event: error" + lineEnd + "data: " + plainText() + lineEnd + lineEnd
            case 2: out += event(usageChunk())
            default: out += event(chunk(completions: completions))
            }
        }
        if random.chance(85) { out += "data: [DONE]" + lineEnd + (random.chance(90) ? lineEnd : "") }
        return Array(out.utf8)
    }

    /// One event: its JSON written out, blanks that are newlines becoming new `data` lines.
    private mutating func event(_ value: JSON) -> String {
        var text = ""
        write(value, into: &text)
        var out = random.chance(10) ? "event: \(random.chance(50) ? "message" : "error")" + lineEnd : ""
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        for (index, line) in lines.enumerated() {
            out += (random.chance(70) ? "data: " : "data:") + line + lineEnd
            if index < lines.count - 1, random.chance(10) { out += ": inside" + lineEnd }
        }
        return out + lineEnd
    }

    private mutating func chunk(completions: Bool) -> JSON {
        var choice: [(String, JSON)] = [("index", .number(0)), ("logprobs", .null)]
        if completions {
            choice.append(("text", .string(randomText())))
        } else {
            var delta: [(String, JSON)] = []
            if random.chance(20) { delta.append(("role", random.chance(50) ? .string("assistant") : .null)) }
            if random.chance(85) { delta.append(("content", contentValue())) }
            if random.chance(15) { delta.append(("reasoning_content", contentValue())) }
            if random.chance(5) { delta.append(("reasoning", contentValue())) }
            if random.chance(10) { delta.append(("tool_calls", .null)) }
            choice.append(("delta", .object(shuffled(delta))))
        }
        let reasons: [JSON] = [.null, .null, .null, .string("stop"), .string("length"), .string("tool_calls")]
        choice.append(("finish_reason", reasons[random.below(reasons.count)]))
        if random.chance(20) { choice.append(("stop_reason", random.chance(50) ? .null : .number(128009))) }
        var top: [(String, JSON)] = [
            ("id", .string("chatcmpl-" + randomText())), ("created", .number(1_795_940_000 + random.below(1000))),
            ("object", .string(completions ? "text_completion" : "chat.completion.chunk")),
            ("model", .string("m")), ("choices", .array([.object(shuffled(choice))])),
        ]
        if random.chance(40) { top.append(("usage", random.chance(80) ? .null : usage())) }
        return .object(shuffled(top))
    }

    private mutating func usageChunk() -> JSON {
        .object(shuffled([("id", .string("u")), ("choices", .array([])), ("usage", usage())]))
    }

    private mutating func usage() -> JSON {
        let prompt = random.below(100_000), completion = random.below(5000)
        var members: [(String, JSON)] = [("prompt_tokens", .number(prompt)), ("completion_tokens", .number(completion)),
                                         ("total_tokens", .number(prompt + completion))]
        if random.chance(30) { members.append(("prompt_tokens_details", random.chance(50) ? .null : .object([("cached_tokens", .number(7))]))) }
        if random.chance(20) { members.append(("completion_tokens_details", .object([("reasoning_tokens", .number(3))]))) }
        return .object(shuffled(members))
    }

    private mutating func errorEvent() -> JSON {
        let message = JSON.string(randomText(long: random.chance(30)))
        switch random.below(3) {
        case 0: return .object(shuffled([("error", .object(shuffled([("message", message), ("code", .number(500)), ("type", .string("X"))])))]))
        case 1: return .object(shuffled([("object", .string("error")), ("message", message), ("type", .string("BadRequestError")),
                                         ("param", .null), ("code", .number(400))]))
        default: return .object([("error", .null), ("choices", .array([]))])  // an "error": null is not an error
        }
    }

    private mutating func contentValue() -> JSON {
        random.chance(20) ? (random.chance(50) ? .string("") : .null) : .string(randomText())
    }

    private mutating func plainText() -> String {
        let words = ["upstream", "disconnected", "é", "😀", "\"quoted\"", ":", "x"]
        return (0..<(1 + random.below(6))).map { _ in words[random.below(words.count)] }.joined(separator: " ")
    }

    private mutating func randomText(long: Bool = false) -> String {
        let pieces = ["a", "Hello", " ", "\"content\":\"x\"", "\\", "\n", "\t", "é", "€", "😀", "{", "}", "[", "]", ":",
                      ",", "\"usage\":{\"prompt_tokens\":1}", "data: [DONE]", "\r\n", "/", "\u{1}", "finish_reason"]
        let count = long ? 40 + random.below(60) : random.below(6)
        return (0..<count).map { _ in pieces[random.below(pieces.count)] }.joined()
    }

    private mutating func shuffled(_ members: [(String, JSON)]) -> [(String, JSON)] {
        var members = members
        for i in stride(from: members.count - 1, to: 0, by: -1) { members.swapAt(i, random.below(i + 1)) }
        return members
    }

    private mutating func blank(_ out: inout String) {
        guard spacing > 0, random.chance(spacing) else { return }
        out += [" ", " ", "\t", "\n"][random.below(4)]
    }

    private mutating func write(_ value: JSON, into out: inout String) {
        blank(&out)
        switch value {
        case .string(let text): writeString(text, into: &out)
        case .number(let n): out += String(n)
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .array(let elements):
            out += "["
            for (i, element) in elements.enumerated() {
                if i > 0 { blank(&out); out += "," }
                write(element, into: &out)
            }
            blank(&out)
            out += "]"
        case .object(let members):
            out += "{"
            for (i, (key, member)) in members.enumerated() {
                if i > 0 { blank(&out); out += "," }
                blank(&out)
                out += "\"\(key)\""
                blank(&out)
                out += ":"
                write(member, into: &out)
            }
            blank(&out)
            out += "}"
        }
        blank(&out)
    }

    private mutating func writeString(_ text: String, into out: inout String) {
        out += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += random.chance(50) ? "\\n" : "\\u000a"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "/": out += random.chance(50) ? "\\/" : "/"
            default:
                if scalar.value < 0x20 || (scalar.value > 0x7F && random.chance(50)) {
                    for unit in String(scalar).utf16 { out += "\\u" + String(format: "%04x", unit) }
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }
}
