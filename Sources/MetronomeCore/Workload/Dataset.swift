// A dataset of prompts read at setup: plain text, JSONL or ShareGPT JSON, with bad rows counted by line.

public enum DatasetFormat: String, Sendable, CaseIterable {
    case auto, text, jsonl, sharegpt
}

public enum DatasetOrder: String, Sendable, CaseIterable {
    case sequential, shuffle
}

/// One prompt of a dataset, as written.
public struct DatasetRow: Sendable {
    public enum Content: Sendable {
        case prompt(String)
        /// Chat messages as given (JSON objects, each with at least a string `role`).
        case messages([JSONValue])
    }
    public var content: Content
    /// The row's own output length (`max_tokens`/`output_tokens`, or ShareGPT's estimated answer length).
    public var maxTokens: Int?
    /// 1-based line of the file where the row starts.
    public var line: Int
}

public struct Dataset: Sendable {
    public var format: DatasetFormat
    public var rows: [DatasetRow] = []
    /// Skipped rows: (line, why), in file order.
    public var badRows: [(line: Int, reason: String)] = []

    /// Reads and parses `path`. Bad rows are kept in `badRows`; `strict` makes the first one a usage error.
    public static func load(path: String, format: DatasetFormat, strict: Bool) throws -> Dataset {
        let bytes: [UInt8]
        do { bytes = try readFile(path) } catch let error as FileError {
            throw UsageError("--dataset", "cannot read '\(path)': \(error.reason)")
        }
        let dataset = parse(bytes, format: format)
        if strict, let bad = dataset.badRows.first {
            throw UsageError("--strict", "\(path):\(bad.line): \(bad.reason)")
        }
        if dataset.rows.isEmpty {
            let why = dataset.badRows.isEmpty ? "no rows" : "no usable rows (\(dataset.badRows.count) bad: \(describe(dataset.badRows)))"
            throw UsageError("--dataset", "'\(path)' (\(dataset.format.rawValue)) has \(why)")
        }
        return dataset
    }

    /// `line 3: not JSON, line 9: no "prompt" or "messages"` for the first few, then a count.
    public static func describe(_ bad: [(line: Int, reason: String)], first: Int = 3) -> String {
        var text = bad.prefix(first).map { "line \($0.line): \($0.reason)" }.joined(separator: ", ")
        if bad.count > first { text += " and \(bad.count - first) more" }
        return text
    }

    public static func parse(_ raw: [UInt8], format: DatasetFormat) -> Dataset {
        var bytes = raw[...]
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes = bytes.dropFirst(3) }
        let resolved = format == .auto ? detect(bytes) : format
        var dataset = Dataset(format: resolved)
        switch resolved {
        case .auto, .text: dataset.readText(bytes)
        case .jsonl: dataset.readJSONLines(bytes)
        case .sharegpt: dataset.readShareGPT(bytes)
        }
        return dataset
    }

    /// A leading `[` is a ShareGPT array; a first non-empty line that parses as a JSON object is
    /// JSONL; anything else is plain text.
    static func detect(_ bytes: ArraySlice<UInt8>) -> DatasetFormat {
        guard let first = bytes.firstIndex(where: { !isSpace($0) }) else { return .text }
        if bytes[first] == UInt8(ascii: "[") { return .sharegpt }
        guard bytes[first] == UInt8(ascii: "{") else { return .text }
        let end = bytes[first...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.endIndex
        let object = try? JSONValue.parse(bytes[first..<end])
        return object?.objectValue != nil ? .jsonl : .text
    }

    static func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D }

    /// Calls `body` with each line (without its `\n` or `\r\n`) and its 1-based number.
    static func forEachLine(_ bytes: ArraySlice<UInt8>, _ body: (ArraySlice<UInt8>, Int) -> Void) {
        var start = bytes.startIndex
        var number = 1
        while start < bytes.endIndex {
            let end = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.endIndex
            var line = bytes[start..<end]
            if line.last == 0x0D { line = line.dropLast() }
            body(line, number)
            number += 1
            start = end < bytes.endIndex ? end + 1 : end
        }
    }

    mutating func readText(_ bytes: ArraySlice<UInt8>) {
        Dataset.forEachLine(bytes) { line, number in
            guard line.contains(where: { !Dataset.isSpace($0) }) else { return }
            guard let text = String(validating: line, as: UTF8.self) else {
                badRows.append((number, "not valid UTF-8"))
                return
            }
            rows.append(DatasetRow(content: .prompt(text), maxTokens: nil, line: number))
        }
    }

    mutating func readJSONLines(_ bytes: ArraySlice<UInt8>) {
        Dataset.forEachLine(bytes) { line, number in
            guard line.contains(where: { !Dataset.isSpace($0) }) else { return }
            guard let object = try? JSONValue.parse(line) else {
                badRows.append((number, String(validating: line, as: UTF8.self) == nil ? "not valid UTF-8" : "not JSON"))
                return
            }
            guard object.objectValue != nil else {
                badRows.append((number, "not a JSON object"))
                return
            }
            switch Dataset.row(object, line: number) {
            case .success(let row): rows.append(row)
            case .failure(let bad): badRows.append((number, bad.reason))
            }
        }
    }

    struct BadRow: Error { let reason: String }

    /// A JSONL object: `prompt` (a non-empty string) or `messages` (an array of objects with `role`),
    /// with an optional positive whole `max_tokens` or `output_tokens`.
    static func row(_ object: JSONValue, line: Int) -> Result<DatasetRow, BadRow> {
        var maxTokens: Int?
        for key in ["max_tokens", "output_tokens"] {
            guard let field = object[key] else { continue }
            guard let value = field.doubleValue, value >= 1, value <= 10_000_000, value == value.rounded() else {
                return .failure(BadRow(reason: "\(key) must be a whole number from 1 to 10000000"))
            }
            maxTokens = Int(value)
        }
        if let prompt = object["prompt"] {
            guard let text = prompt.stringValue, !text.isEmpty else { return .failure(BadRow(reason: "\"prompt\" must be a non-empty string")) }
            return .success(DatasetRow(content: .prompt(text), maxTokens: maxTokens, line: line))
        }
        if let messages = object["messages"] {
            guard let list = messages.arrayValue, !list.isEmpty, list.allSatisfy({ $0["role"]?.stringValue != nil }) else {
                return .failure(BadRow(reason: "\"messages\" must be a non-empty array of objects with a \"role\""))
            }
            return .success(DatasetRow(content: .messages(list), maxTokens: maxTokens, line: line))
        }
        return .failure(BadRow(reason: "no \"prompt\" or \"messages\""))
    }
}
