// Reads JSON text (RFC 8259) into a JSONValue; a malformed document fails at the byte that breaks it.

/// Where a document stops being JSON and what was expected there. `offset` counts bytes from the
/// start of the input (0-based); `line` and `column` (1-based, column in bytes) say the same for people.
public struct JSONParseError: Error, CustomStringConvertible, Sendable, Equatable {
    public let offset: Int
    public let line: Int
    public let column: Int
    public let reason: String

    public var description: String { "line \(line), column \(column) (byte \(offset)): \(reason)" }
}

extension JSONValue {
    /// Deeper nesting is an error rather than a deeper recursion: the parser (and the value's
    /// release) recurse once per level, and hostile input must not exhaust a thread's stack.
    public static var maxDepth: Int { 512 }

    /// Parses one JSON document: the value, with whitespace around it and nothing else. A leading
    /// UTF-8 byte order mark is skipped (RFC 8259 §8.1 allows it). Strings must be UTF-8, and a
    /// `\u` escape of half a surrogate pair without its other half is an error, never a U+FFFD.
    /// Numbers must fit a Double (1e400 is an error); a repeated key's last value wins.
    public static func parse(_ bytes: some Collection<UInt8>) throws(JSONParseError) -> JSONValue {
        func parse(_ buffer: UnsafeBufferPointer<UInt8>) -> Result<JSONValue, JSONParseError> {
            var parser = JSONParser(buffer)
            return Result { () throws(JSONParseError) in try parser.document() }
        }
        if let result = bytes.withContiguousStorageIfAvailable(parse) { return try result.get() }
        return try Array(bytes).withUnsafeBufferPointer(parse).get()
    }
}

/// A recursive-descent reader over the bytes of one document; `index` is the next byte to read.
struct JSONParser {
    private let bytes: UnsafeBufferPointer<UInt8>
    private var index = 0
    private var depth = 0

    init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    mutating func document() throws(JSONParseError) -> JSONValue {
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { index = 3 }
        skipWhitespace()
        let value = try parseValue()
        skipWhitespace()
        guard index == bytes.count else { throw failure("the end of the document after its value") }
        return value
    }

    // MARK: Values

    private mutating func parseValue() throws(JSONParseError) -> JSONValue {
        guard index < bytes.count else { throw failure("a value") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
        default: throw failure("a value")
        }
    }

    private mutating func literal(_ word: StaticString) throws(JSONParseError) {
        for byte in UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount) {
            guard index < bytes.count, bytes[index] == byte else { throw failure("\(word)") }
            index += 1
        }
    }

    private mutating func enterContainer() throws(JSONParseError) {
        depth += 1
        guard depth <= JSONValue.maxDepth else { throw failure(problem: "more than \(JSONValue.maxDepth) nested arrays and objects") }
        index += 1
    }

    private mutating func parseArray() throws(JSONParseError) -> JSONValue {
        try enterContainer()
        defer { depth -= 1 }
        var items: [JSONValue] = []
        skipWhitespace()
        if peek(UInt8(ascii: "]")) { return .array(items) }
        while true {
            skipWhitespace()
            items.append(try parseValue())
            skipWhitespace()
            if peek(UInt8(ascii: ",")) { continue }
            if peek(UInt8(ascii: "]")) { return .array(items) }
            throw failure("',' or ']' after an array element")
        }
    }

    private mutating func parseObject() throws(JSONParseError) -> JSONValue {
        try enterContainer()
        defer { depth -= 1 }
        var members: [(key: String, value: JSONValue)] = []
        // Past a few members a repeated key is found by hash, so a hostile object is not quadratic.
        var positions: [String: Int]?
        skipWhitespace()
        if peek(UInt8(ascii: "}")) { return .object(members) }
        while true {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw failure("a string key") }
            let key = try parseString()
            skipWhitespace()
            guard peek(UInt8(ascii: ":")) else { throw failure("':' after an object key") }
            skipWhitespace()
            let value = try parseValue()
            let earlier: Int?
            if let positions { earlier = positions[key] } else { earlier = members.firstIndex { $0.key == key } }
            if let earlier {
                members[earlier].value = value
            } else {
                members.append((key, value))
                positions?[key] = members.count - 1
                if positions == nil && members.count == 16 {
                    positions = Dictionary(members.enumerated().map { ($0.element.key, $0.offset) }, uniquingKeysWith: { first, _ in first })
                }
            }
            skipWhitespace()
            if peek(UInt8(ascii: ",")) { continue }
            if peek(UInt8(ascii: "}")) { return .object(members) }
            throw failure("',' or '}' after an object member")
        }
    }

    // MARK: Numbers

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
    private mutating func parseNumber() throws(JSONParseError) -> JSONNumber {
        let start = index
        _ = peek(UInt8(ascii: "-"))
        if peek(UInt8(ascii: "0")) {
            if index < bytes.count, isDigit(bytes[index]) { throw failure(problem: "a number with a leading zero") }
        } else {
            try digits(after: "a digit")
        }
        if peek(UInt8(ascii: ".")) { try digits(after: "a digit after the decimal point") }
        if peek(UInt8(ascii: "e")) || peek(UInt8(ascii: "E")) {
            if !peek(UInt8(ascii: "+")) { _ = peek(UInt8(ascii: "-")) }
            try digits(after: "a digit in the exponent")
        }
        let literal = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        guard let double = Double(literal), double.isFinite else {
            throw failure(problem: "the number \(literal) is beyond a Double's range", at: start)
        }
        return JSONNumber(literal: literal, double: double)
    }

    private mutating func digits(after what: String) throws(JSONParseError) {
        guard index < bytes.count, isDigit(bytes[index]) else { throw failure(what) }
        while index < bytes.count, isDigit(bytes[index]) { index += 1 }
    }

    private func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    // MARK: Strings

    /// At the opening quote. A string without escapes is validated in place; one with escapes is
    /// copied byte by byte, the escapes written as UTF-8.
    private mutating func parseString() throws(JSONParseError) -> String {
        let open = index
        index += 1
        let start = index
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                index += 1
                return try validated(bytes[start..<index - 1], openedAt: open)
            }
            if byte == UInt8(ascii: "\\") || byte < 0x20 { break }
            index += 1
        }
        var text = Array(bytes[start..<index])
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                return try validated(text, openedAt: open)
            case UInt8(ascii: "\\"):
                try unescape(into: &text)
            case 0..<0x20:
                throw failure(problem: "an unescaped control character (\(describe(index))) in a string; write it as an escape such as \\n or \\u001F")
            default:
                text.append(byte)
                index += 1
            }
        }
        throw failure("'\"' to close the string that opens at byte \(open)")
    }

    private func validated(_ utf8: some Collection<UInt8>, openedAt open: Int) throws(JSONParseError) -> String {
        guard let text = String(validating: utf8, as: UTF8.self) else {
            throw failure(problem: "a string that is not valid UTF-8", at: open)
        }
        return text
    }

    /// At a backslash: one escape, appended to `text` as UTF-8.
    private mutating func unescape(into text: inout [UInt8]) throws(JSONParseError) {
        let escape = index
        index += 1
        guard index < bytes.count else { throw failure("an escape after '\\'") }
        let byte = bytes[index]
        index += 1
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): text.append(byte)
        case UInt8(ascii: "b"): text.append(0x08)
        case UInt8(ascii: "f"): text.append(0x0C)
        case UInt8(ascii: "n"): text.append(0x0A)
        case UInt8(ascii: "r"): text.append(0x0D)
        case UInt8(ascii: "t"): text.append(0x09)
        case UInt8(ascii: "u"):
            var value = try hex4()
            if value >= 0xDC00 && value <= 0xDFFF {
                throw failure(problem: "a lone low surrogate \\u\(hex(value)) (without a high surrogate before it)", at: escape)
            }
            if value >= 0xD800 && value <= 0xDBFF {
                let low = index
                guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                    throw failure("a low surrogate \\uDC00-\\uDFFF after the high surrogate at byte \(escape)", at: low)
                }
                index += 2
                let second = try hex4()
                guard second >= 0xDC00 && second <= 0xDFFF else {
                    throw failure(problem: "\\u\(hex(second)) is not a low surrogate (\\uDC00-\\uDFFF) to follow the high surrogate at byte \(escape)", at: low)
                }
                value = 0x10000 + ((value - 0xD800) << 10) + (second - 0xDC00)
            }
            text.append(contentsOf: UTF8.encode(Unicode.Scalar(value)!)!)
        default:
            throw failure("an escape (\\\" \\\\ \\/ \\b \\f \\n \\r \\t or \\uXXXX) after '\\'", at: index - 1)
        }
    }

    /// `0041` for 0x41: a code unit as its escape spells it.
    private func hex(_ unit: UInt32) -> String {
        let digits = String(unit, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }

    /// Four hex digits, as a code unit.
    private mutating func hex4() throws(JSONParseError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard index < bytes.count else { throw failure("four hex digits after \\u") }
            let byte = bytes[index]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw failure("four hex digits after \\u")
            }
            value = value << 4 | UInt32(digit)
            index += 1
        }
        return value
    }

    // MARK: Bytes

    /// Consumes `byte` if it is next.
    private mutating func peek(_ byte: UInt8) -> Bool {
        guard index < bytes.count, bytes[index] == byte else { return false }
        index += 1
        return true
    }

    /// RFC 8259's four: space, tab, line feed, carriage return.
    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    /// "expected WHAT, found X" at `offset` (the current byte unless given).
    private func failure(_ expected: String, at offset: Int? = nil) -> JSONParseError {
        let offset = offset ?? index
        return failure(problem: "expected \(expected), found \(describe(offset))", at: offset)
    }

    /// A reason that names the problem itself, at `offset` (the current byte unless given).
    private func failure(problem reason: String, at offset: Int? = nil) -> JSONParseError {
        let offset = offset ?? index
        var line = 1, lineStart = 0
        for position in 0..<min(offset, bytes.count) where bytes[position] == 0x0A {
            line += 1
            lineStart = position + 1
        }
        return JSONParseError(offset: offset, line: line, column: offset - lineStart + 1, reason: reason)
    }

    private func describe(_ offset: Int) -> String {
        guard offset < bytes.count else { return "the end of the input" }
        let byte = bytes[offset]
        if byte >= 0x21 && byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
        return "byte 0x" + (byte < 0x10 ? "0" : "") + String(byte, radix: 16, uppercase: true)
    }
}
