// ShareGPT JSON (vLLM's benchmark dataset): the first human turn is the prompt, the answer's length the output length.

extension Dataset {
    /// The top-level array is cut into its elements by one byte scan (strings and nesting tracked),
    /// and each element is parsed on its own: a 650 MB ShareGPT_V3 file never becomes one object
    /// tree, a bad conversation costs only itself, and each carries the line it starts on.
    mutating func readShareGPT(_ bytes: ArraySlice<UInt8>) {
        var line = 1
        var index = bytes.startIndex
        func skipSpace() {
            while index < bytes.endIndex, Dataset.isSpace(bytes[index]) {
                if bytes[index] == 0x0A { line += 1 }
                index += 1
            }
        }
        skipSpace()
        guard index < bytes.endIndex, bytes[index] == UInt8(ascii: "[") else {
            badRows.append((line, "a ShareGPT file is one JSON array"))
            return
        }
        index += 1
        while true {
            skipSpace()
            guard index < bytes.endIndex else {
                badRows.append((line, "the array is not closed"))
                return
            }
            if bytes[index] == UInt8(ascii: "]") { return }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
                continue
            }
            let startLine = line
            let start = index
            guard let end = Dataset.elementEnd(bytes, from: start, line: &line) else {
                badRows.append((startLine, "an unterminated element"))
                return
            }
            index = end
            readConversation(bytes[start..<end], line: startLine)
        }
    }

    /// The end of the JSON value starting at `start` (an object, array, string or scalar), counting
    /// newlines into `line`; nil if the input ends first.
    static func elementEnd(_ bytes: ArraySlice<UInt8>, from start: Int, line: inout Int) -> Int? {
        var depth = 0
        var inString = false
        var escaped = false
        var index = start
        while index < bytes.endIndex {
            let byte = bytes[index]
            if byte == 0x0A { line += 1 }
            if inString {
                if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") {
                    inString = false
                    if depth == 0 { return index + 1 }
                }
            } else {
                switch byte {
                case UInt8(ascii: "\""): inString = true
                case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    if depth == 0 { return index }
                    depth -= 1
                    if depth == 0 { return index + 1 }
                case UInt8(ascii: ","):
                    if depth == 0 { return index }
                default: break
                }
            }
            index += 1
        }
        return nil
    }

    /// `{"conversations": [{"from": "human", "value": …}, {"from": "gpt", "value": …}, …]}` (also
    /// `role`/`content` turns, `user`/`assistant`). The answer after the first human turn sets the
    /// row's output length by `TokenEstimate`, as vLLM sets it from the tokenised answer.
    mutating func readConversation(_ element: ArraySlice<UInt8>, line: Int) {
        guard let object = try? JSONValue.parse(element) else {
            badRows.append((line, String(validating: element, as: UTF8.self) == nil ? "not valid UTF-8" : "not JSON"))
            return
        }
        guard let turns = (object["conversations"] ?? object["messages"])?.objectsValue else {
            badRows.append((line, "no \"conversations\" array"))
            return
        }
        func speaker(_ turn: JSONValue) -> String? { (turn["from"] ?? turn["role"])?.stringValue?.lowercased() }
        func text(_ turn: JSONValue) -> String? { (turn["value"] ?? turn["content"])?.stringValue }
        guard let first = turns.firstIndex(where: { ["human", "user"].contains(speaker($0) ?? "") }),
              let prompt = text(turns[first]), !prompt.isEmpty else {
            badRows.append((line, "no human turn with text"))
            return
        }
        var maxTokens: Int?
        if first + 1 < turns.count, ["gpt", "assistant", "chatgpt", "bard", "bing"].contains(speaker(turns[first + 1]) ?? ""),
           let answer = text(turns[first + 1]) {
            maxTokens = max(1, TokenEstimate.tokens(answer))
        }
        rows.append(DatasetRow(content: .prompt(prompt), maxTokens: maxTokens, line: line))
    }
}
