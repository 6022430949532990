// The JSON reader: every kind of value, escapes, numbers, key order, malformed input at its byte, and Foundation as a reference.
import Foundation
import XCTest
@testable import MetronomeCore

final class JSONValueTests: XCTestCase {
    func number(_ literal: String) -> JSONValue { .number(JSONNumber(literal: literal, double: Double(literal)!)) }

    func parse(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> JSONValue? {
        do { return try JSONValue.parse(Array(text.utf8)) } catch {
            XCTFail("\(text): \(error)", file: file, line: line)
            return nil
        }
    }

    func failure(_ bytes: [UInt8]) -> JSONParseError? {
        do {
            _ = try JSONValue.parse(bytes)
            return nil
        } catch {
            return error
        }
    }

    func testEveryKindOfValue() {
        let text = " {\"n\": null, \"t\": true, \"f\": false, \"i\": -12, \"d\": 0.5, \"s\": \"hé\", \"a\": [1, [], {}], \"o\": {\"k\": \"v\"}}\r\n\t"
        XCTAssertEqual(parse(text), .object([("n", .null), ("t", .bool(true)), ("f", .bool(false)), ("i", number("-12")), ("d", number("0.5")),
                                             ("s", .string("hé")), ("a", .array([number("1"), .array([]), .object([])])),
                                             ("o", .object([("k", .string("v"))]))]))
        XCTAssertEqual(parse("[]"), .array([]))
        XCTAssertEqual(parse("{}"), .object([]))
        // Scalars are documents too (RFC 8259 §2).
        XCTAssertEqual(parse("  7 "), number("7"))
        XCTAssertEqual(parse("\"x\""), .string("x"))
        XCTAssertEqual(parse("null"), .null)
        XCTAssertEqual(parse("false"), .bool(false))
        // Booleans are not numbers, and the accessors say so.
        XCTAssertNil(JSONValue.bool(true).doubleValue)
        XCTAssertNil(number("1").boolValue)
        XCTAssertNil(JSONValue.null.doubleValue)
        XCTAssertEqual(parse("{\"a\": {\"b\": [true]}}")?["a"]?["b"]?.arrayValue, [.bool(true)])
        XCTAssertNil(parse("[1]")?["a"], "an array has no members")
    }

    func testEscapes() {
        XCTAssertEqual(parse(#""\"\\\/\b\f\n\r\t\u0041\u00e9\u20AC\u0000""#), .string("\"\\/\u{08}\u{0C}\n\r\tAé€\u{0}"))
        XCTAssertEqual(parse(#""a/b""#), .string("a/b"))
        XCTAssertEqual(parse("\"日本語 ✓\""), .string("日本語 ✓"))
        // An escape in the middle of a long plain run: the copying path keeps the bytes before it.
        let long = String(repeating: "x", count: 1000)
        XCTAssertEqual(parse("\"\(long)\\n\(long)\""), .string(long + "\n" + long))
    }

    func testSurrogatePairsMakeOneScalar() {
        XCTAssertEqual(parse(#""\uD83D\uDE00""#), .string("😀"))
        XCTAssertEqual(parse(#""\ud834\udd1e!""#), .string("𝄞!"))
        XCTAssertEqual(parse("\"😀\""), .string("😀"), "raw 4-byte UTF-8")
        XCTAssertEqual(parse(#""\uFFFF\uE000""#), .string("\u{FFFF}\u{E000}"), "beyond the surrogates, single escapes")
    }

    func testLoneSurrogatesAreErrors() {
        let cases: [(String, Int, String)] = [
            (#""\uD83D""#, 7, "expected a low surrogate"),
            (#""\uD83Dx""#, 7, "expected a low surrogate"),
            (#""\uD83D\n""#, 7, "expected a low surrogate"),
            (#""\uD83D\u0041""#, 7, "\\u0041 is not a low surrogate"),
            (#""\uD83D\uD83D""#, 7, "is not a low surrogate"),
            (#""ab\uDE00""#, 3, "a lone low surrogate \\uDE00"),
        ]
        for (text, offset, reason) in cases {
            let error = failure(Array(text.utf8))
            XCTAssertEqual(error?.offset, offset, text)
            XCTAssertTrue(error?.reason.contains(reason) == true, "\(text): \(String(describing: error))")
        }
    }

    func testNumbers() throws {
        let cases: [(String, Double, Int64?, UInt64?)] = [
            ("0", 0, 0, 0), ("-0", -0.0, 0, 0), ("12", 12, 12, 12), ("-12", -12, -12, nil),
            ("1.5", 1.5, nil, nil), ("-0.25", -0.25, nil, nil), ("1e3", 1000, nil, nil), ("1E+3", 1000, nil, nil),
            ("2.5e-3", 0.0025, nil, nil), ("1e-400", 0, nil, nil), ("0.1", 0.1, nil, nil),
            // 2^53 + 1: the Double rounds, the integer stays exact.
            ("9007199254740993", 9007199254740992, 9007199254740993, 9007199254740993),
            ("-9223372036854775808", -9223372036854775808, Int64.min, nil),
            ("18446744073709551615", 18446744073709551615, nil, UInt64.max),
            ("18446744073709551616", 18446744073709551616, nil, nil),
        ]
        for (literal, double, int64, uint64) in cases {
            let value = try XCTUnwrap(parse(literal)?.numberValue, literal)
            XCTAssertEqual(value.double, double, literal)
            XCTAssertEqual(value.double.sign, double.sign, literal)
            XCTAssertEqual(value.int64, int64, literal)
            XCTAssertEqual(value.uint64, uint64, literal)
            XCTAssertEqual(value.literal, literal)
        }
        XCTAssertEqual(failure(Array("1e400".utf8))?.reason, "the number 1e400 is beyond a Double's range")
        XCTAssertEqual(failure(Array("[-1e309]".utf8))?.offset, 1)
    }

    /// Python's float() agrees on these; JSONSerialization reads the first two as 7.106964017610001e-96
    /// and 1006616244049748.4.
    func testNumbersAreCorrectlyRounded() {
        XCTAssertEqual(parse("7106964017610E-108")?.doubleValue, 7.10696401761e-96)
        XCTAssertEqual(parse("1006616244049748.27784")?.doubleValue, 1006616244049748.2)
        XCTAssertEqual(parse("2.2250738585072011e-308")?.doubleValue, 2.225073858507201e-308)
        XCTAssertEqual(parse("9007199254740993.0")?.doubleValue, 9007199254740992)
        XCTAssertEqual(parse("0.30000000000000004")?.doubleValue, 0.1 + 0.2)
    }

    func testAByteOrderMarkInsideAStringIsKept() {
        XCTAssertEqual(parse("\"\u{FEFF}a\"")?.stringValue?.unicodeScalars.first, "\u{FEFF}")
        XCTAssertEqual(parse(#""\n\#u{FEFF}b""#)?.stringValue?.unicodeScalars.map(\.value), [0x0A, 0xFEFF, 0x62])
    }

    func testObjectsKeepTheirKeyOrder() {
        let value = parse(#"{"zeta": 1, "alpha": 2, "mid": {"y": 0, "b": 0, "x": 0}}"#)
        XCTAssertEqual(value?.objectValue?.map(\.key), ["zeta", "alpha", "mid"])
        XCTAssertEqual(value?["mid"]?.objectValue?.map(\.key), ["y", "b", "x"])
    }

    /// A repeated key's last value wins, in the first one's place, as JSONSerialization's dictionary
    /// keeps the last; both below and above the member count where a hash table takes over.
    func testRepeatedKeysKeepTheLastValueInTheFirstPlace() {
        XCTAssertEqual(parse(#"{"a": 1, "b": 2, "a": 3}"#), .object([("a", number("3")), ("b", number("2"))]))
        let keys = (0..<40).map { "k\($0)" }
        let text = "{" + keys.enumerated().map { "\"\($1)\": \($0)" }.joined(separator: ", ") + ", \"k0\": \"first\", \"k39\": \"last\", \"k20\": null}"
        let members = parse(text)?.objectValue ?? []
        XCTAssertEqual(members.map(\.key), keys)
        XCTAssertEqual(members[0].value, .string("first"))
        XCTAssertEqual(members[39].value, .string("last"))
        XCTAssertEqual(members[20].value, .null)
        XCTAssertEqual(members[1].value, number("1"))
    }

    func testMalformedInputFailsAtTheByteThatBreaksIt() {
        let cases: [(String, Int, String)] = [
            ("", 0, "expected a value, found the end of the input"),
            ("   ", 3, "expected a value, found the end of the input"),
            ("[1, 2", 5, "expected ',' or ']' after an array element, found the end of the input"),
            ("{\"a\": 1", 7, "expected ',' or '}' after an object member, found the end of the input"),
            ("{\"a\"", 4, "expected ':' after an object key, found the end of the input"),
            ("[1,]", 3, "expected a value, found ']'"),
            ("{\"a\":1,}", 7, "expected a string key, found '}'"),
            ("{1:2}", 1, "expected a string key, found '1'"),
            ("{\"a\" 1}", 5, "expected ':' after an object key, found '1'"),
            ("[\"a\" \"b\"]", 5, "expected ',' or ']' after an array element, found '\"'"),
            ("\"a\\qb\"", 3, "expected an escape (\\\" \\\\ \\/ \\b \\f \\n \\r \\t or \\uXXXX) after '\\', found 'q'"),
            ("\"\\u12G4\"", 5, "expected four hex digits after \\u, found 'G'"),
            ("\"\\u12\"", 5, "expected four hex digits after \\u, found '\"'"),
            ("\"a\u{01}b\"", 2, "an unescaped control character (byte 0x01) in a string; write it as an escape such as \\n or \\u001F"),
            ("\"ab\ncd\"", 3, "an unescaped control character (byte 0x0A) in a string; write it as an escape such as \\n or \\u001F"),
            ("\"abc", 4, "expected '\"' to close the string that opens at byte 0, found the end of the input"),
            ("01", 1, "a number with a leading zero"),
            ("-012", 2, "a number with a leading zero"),
            ("1.", 2, "expected a digit after the decimal point, found the end of the input"),
            ("1.e5", 2, "expected a digit after the decimal point, found 'e'"),
            ("1e", 2, "expected a digit in the exponent, found the end of the input"),
            ("1e+", 3, "expected a digit in the exponent, found the end of the input"),
            ("-", 1, "expected a digit, found the end of the input"),
            ("-a", 1, "expected a digit, found 'a'"),
            ("+1", 0, "expected a value, found '+'"),
            (".5", 0, "expected a value, found '.'"),
            ("[1] x", 4, "expected the end of the document after its value, found 'x'"),
            ("{} {}", 3, "expected the end of the document after its value, found '{'"),
            ("1 2", 2, "expected the end of the document after its value, found '2'"),
            ("tru", 3, "expected true, found the end of the input"),
            ("nul1", 3, "expected null, found '1'"),
            ("True", 0, "expected a value, found 'T'"),
            ("'a'", 0, "expected a value, found '''"),
            ("NaN", 0, "expected a value, found 'N'"),
            ("[Infinity]", 1, "expected a value, found 'I'"),
            ("\u{0C}1", 0, "expected a value, found byte 0x0C"),
            ("[1,\n 2,\n x]", 9, "expected a value, found 'x'"),
        ]
        for (text, offset, reason) in cases {
            let error = failure(Array(text.utf8))
            XCTAssertEqual(error?.offset, offset, text)
            XCTAssertEqual(error?.reason, reason, text)
        }
        XCTAssertEqual(failure(Array("[1,\n 2,\n x]".utf8))?.description, "line 3, column 2 (byte 9): expected a value, found 'x'")
        XCTAssertEqual(failure(Array("\u{A0}1".utf8))?.reason, "expected a value, found byte 0xC2", "no-break space is not whitespace")
    }

    func testStringsMustBeUTF8() {
        XCTAssertEqual(failure([0x5B, 0x22, 0xFF, 0x22, 0x5D])?.offset, 1)
        XCTAssertEqual(failure([0x22, 0xC0, 0xAF, 0x22])?.reason, "a string that is not valid UTF-8", "overlong /")
        XCTAssertEqual(failure([0x22, 0xED, 0xA0, 0x80, 0x22])?.reason, "a string that is not valid UTF-8", "an encoded surrogate")
        XCTAssertEqual(failure([0x22, 0x5C, 0x6E, 0xE2, 0x82, 0x22])?.offset, 0, "truncated sequence after an escape")
        XCTAssertEqual(failure([0xFF])?.reason, "expected a value, found byte 0xFF")
    }

    func testALeadingByteOrderMarkIsSkippedAndNowhereElse() {
        XCTAssertEqual(try JSONValue.parse([0xEF, 0xBB, 0xBF] + Array("{\"a\":1}".utf8)), .object([("a", number("1"))]))
        XCTAssertEqual(failure(Array(" ".utf8) + [0xEF, 0xBB, 0xBF] + Array("{}".utf8))?.offset, 1)
    }

    func testNestingIsLimited() {
        let deepest = String(repeating: "[", count: JSONValue.maxDepth) + String(repeating: "]", count: JSONValue.maxDepth)
        XCTAssertNotNil(parse(deepest))
        let tooDeep = String(repeating: "[", count: JSONValue.maxDepth + 1) + String(repeating: "]", count: JSONValue.maxDepth + 1)
        XCTAssertEqual(failure(Array(tooDeep.utf8))?.offset, JSONValue.maxDepth)
        XCTAssertEqual(failure(Array(tooDeep.utf8))?.reason, "more than 512 nested arrays and objects")
        let objects = String(repeating: "{\"a\":", count: JSONValue.maxDepth + 1) + "1" + String(repeating: "}", count: JSONValue.maxDepth + 1)
        XCTAssertEqual(failure(Array(objects.utf8))?.offset, JSONValue.maxDepth * 5)
        // Hostile: a megabyte of brackets fails at the limit, without a deep recursion.
        XCTAssertEqual(failure([UInt8](repeating: UInt8(ascii: "["), count: 1 << 20))?.offset, JSONValue.maxDepth)
    }

    func testAnyCollectionOfBytesParses() {
        let text = "{\"a\": [1, \"two\"]}"
        let expected = JSONValue.object([("a", .array([number("1"), .string("two")]))])
        XCTAssertEqual(try JSONValue.parse(text.utf8), expected)
        XCTAssertEqual(try JSONValue.parse(Array(("xx" + text).utf8)[2...]), expected, "a slice")
        XCTAssertEqual(try JSONValue.parse(text.utf8.lazy.map { $0 }), expected, "not contiguous")
    }

    func testWrittenBackItParsesToTheSameValue() throws {
        let text = #"{"z": [1.50, -0, 2e3, "a\"/\u0001\n😀"], "a": {"y": null, "b": true}}"#
        let value = try XCTUnwrap(parse(text))
        XCTAssertEqual(value.jsonText(), #"{"z":[1.50,-0,2e3,"a\"/\u0001\n😀"],"a":{"y":null,"b":true}}"#)
        XCTAssertEqual(value.jsonText(sortedKeys: true), #"{"a":{"b":true,"y":null},"z":[1.50,-0,2e3,"a\"/\u0001\n😀"]}"#)
        XCTAssertEqual(parse(value.jsonText()), value)
    }

    // MARK: Foundation as the reference

    /// Random documents (every kind of value, escapes of every sort, raw UTF-8 of 1–4 bytes, random
    /// whitespace) read alike by this parser and JSONSerialization: same values, same numbers,
    /// booleans as booleans; and the key order is the one written.
    func testRandomDocumentsReadAsFoundationReadsThem() throws {
        var random = TestRandom(seed: 0x4A53_4F4E)
        for iteration in 0..<400 {
            let document = RandomJSON.value(&random, depth: 0)
            let text = document.text
            let ours = try JSONValue.parse(Array(text.utf8))
            let theirs = try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
            if let difference = Self.difference(ours, theirs, path: "$") {
                XCTFail("document \(iteration): \(difference)\n\(text)")
            }
            XCTAssertTrue(document.matchesOrder(ours), "document \(iteration): key order\n\(text)")
        }
    }

    /// The same documents cut short or with one byte changed: accepted or refused alike, and when
    /// accepted, read alike.
    func testDamagedDocumentsAreRefusedAsFoundationRefusesThem() throws {
        var random = TestRandom(seed: 0xBAD_150)
        var refused = 0
        for iteration in 0..<400 {
            var bytes = Array(RandomJSON.value(&random, depth: 0).text.utf8)
            if random.chance(50) {
                bytes.removeLast(1 + random.below(bytes.count))
            } else {
                bytes[random.below(bytes.count)] = random.pick(Array("{}[],:\"\\ 0123456789.eE+-tfnlx\u{01}".utf8))
            }
            let ours = try? JSONValue.parse(bytes)
            let theirs = try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])
            let text = String(decoding: bytes, as: UTF8.self)
            XCTAssertEqual(ours == nil, theirs == nil, "document \(iteration): ours \(ours == nil ? "refused" : "accepted"), Foundation's the other\n\(text)")
            if let ours, let theirs, let difference = Self.difference(ours, theirs, path: "$") {
                XCTFail("document \(iteration): \(difference)\n\(text)")
            }
            if ours == nil { refused += 1 }
        }
        XCTAssertGreaterThan(refused, 200, "most damage breaks a document")
    }

    static func isBoolean(_ value: Any) -> Bool {
        guard let number = value as? NSNumber else { return value is Bool }
        return String(cString: number.objCType) == "c"
    }

    /// The first place where the two readings differ, or nil.
    static func difference(_ ours: JSONValue, _ theirs: Any, path: String) -> String? {
        switch ours {
        case .null:
            return theirs is NSNull ? nil : "\(path): null here, \(theirs) there"
        case .bool(let flag):
            guard isBoolean(theirs), let other = theirs as? Bool else { return "\(path): \(flag) here, \(theirs) there" }
            return flag == other ? nil : "\(path): \(flag) here, \(other) there"
        case .number(let number):
            guard !isBoolean(theirs), let other = theirs as? NSNumber else { return "\(path): \(number) here, \(theirs) there" }
            if let exact = number.int64 {
                return exact == other.int64Value ? nil : "\(path): \(exact) here, \(other.int64Value) there"
            }
            // JSONSerialization is a few units in the last place off for some literals with a
            // fraction or exponent (`testNumbersAreCorrectlyRounded` has two); this parser rounds
            // correctly, so a gap of a few ulps is Foundation's, anything more is a bug here.
            let theirs = other.doubleValue
            return abs(number.double - theirs) <= 8 * number.double.ulp
                ? nil : "\(path): \(number.literal) is \(number.double) here, \(theirs) there"
        case .string(let text):
            return (theirs as? String) == text ? nil : "\(path): \(text.debugDescription) here, \(theirs) there"
        case .array(let items):
            guard let others = theirs as? [Any], others.count == items.count else { return "\(path): \(items.count) items here, \(theirs) there" }
            return zip(items, others).enumerated().lazy.compactMap { difference($1.0, $1.1, path: "\(path)[\($0)]") }.first
        case .object(let members):
            guard let others = theirs as? [String: Any], others.count == members.count else { return "\(path): \(members.count) members here, \(theirs) there" }
            for (key, value) in members {
                guard let other = others[key] else { return "\(path).\(key): missing there" }
                if let difference = difference(value, other, path: "\(path).\(key)") { return difference }
            }
            return nil
        }
    }
}

/// A random JSON document as text, with the key order it was written in.
enum RandomJSON {
    indirect enum Node {
        case scalar(String)
        case array([Node])
        /// Keys in written order; a key may repeat (the last value counts).
        case object([(String, Node)])

        var text: String {
            switch self {
            case .scalar(let text): text
            case .array(let items): "[" + items.map { RandomJSON.space() + $0.text + RandomJSON.space() }.joined(separator: ",") + "]"
            case .object(let members):
                "{" + members.map { RandomJSON.space() + $0.0 + RandomJSON.space() + ":" + RandomJSON.space() + $0.1.text }.joined(separator: ",") + RandomJSON.space() + "}"
            }
        }

        /// The parsed object's keys are the written keys, each at its first place.
        func matchesOrder(_ value: JSONValue) -> Bool {
            switch (self, value) {
            case (.array(let items), .array(let values)):
                return zip(items, values).allSatisfy { $0.matchesOrder($1) }
            case (.object(let members), .object(let parsed)):
                var firstPlaces: [String] = []
                for (key, _) in members {
                    let decoded = try! JSONValue.parse(Array(key.utf8)).stringValue!
                    if !firstPlaces.contains(decoded) { firstPlaces.append(decoded) }
                }
                return firstPlaces == parsed.map(\.key)
            default:
                return true
            }
        }
    }

    // Whitespace is drawn from a fixed cycle: `text` stays a pure function of the node for a given run.
    nonisolated(unsafe) static var spaceCounter = 0
    static func space() -> String {
        spaceCounter += 1
        return ["", " ", "", "\n", "\t ", "", "\r\n  "][spaceCounter % 7]
    }

    static func value(_ random: inout TestRandom, depth: Int) -> Node {
        let kind = depth >= 4 ? random.below(4) : random.below(6)
        switch kind {
        case 0: return .scalar(random.pick(["null", "true", "false"]))
        case 1: return .scalar(number(&random))
        case 2, 3: return .scalar(string(&random))
        case 4: return .array((0..<random.below(5)).map { _ in value(&random, depth: depth + 1) })
        default:
            var keys: [String] = []
            return .object((0..<random.below(6)).map { _ in
                let key = !keys.isEmpty && random.chance(10) ? random.pick(keys) : string(&random)
                keys.append(key)
                return (key, value(&random, depth: depth + 1))
            })
        }
    }

    static func number(_ random: inout TestRandom) -> String {
        var text = random.chance(30) ? "-" : ""
        switch random.below(4) {
        case 0: text += "0"
        case 1: text += String(random.below(10))
        case 2: text += String(1 + random.below(9)) + String(random.next() % 1_000_000_000_000)
        default: text += String(random.next() >> UInt64(random.below(64)))
        }
        if random.chance(30) { text += "." + String(random.below(100_000)) }
        if random.chance(20) { text += random.pick(["e", "E", "e+", "e-", "E-"]) + String(random.below(280)) }
        return text
    }

    /// A quoted string: ASCII, 2-, 3- and 4-byte UTF-8, and every escape, surrogate pairs included.
    static func string(_ random: inout TestRandom) -> String {
        var text = "\""
        for _ in 0..<random.below(12) {
            switch random.below(10) {
            case 0: text += random.pick(["\\\"", "\\\\", "\\/", "\\b", "\\f", "\\n", "\\r", "\\t"])
            case 1: text += String(format: "\\u%04X", random.below(0xD800))
            case 2: text += String(format: "\\u%04x", 0xE000 + random.below(0x2000))
            case 3:
                let scalar = 0x10000 + random.below(0x100000)
                text += String(format: "\\u%04X\\u%04x", 0xD800 + ((scalar - 0x10000) >> 10), 0xDC00 + ((scalar - 0x10000) & 0x3FF))
            // Not U+FEFF: JSONSerialization drops it where a run of plain bytes starts (after the
            // quote or an escape); `testAByteOrderMarkInsideAStringIsKept` covers it.
            case 4: text += random.pick(["é", "ß", "€", "日", "😀", "𝄞", "\u{7F}", "\u{2028}"])
            default:
                let byte = UInt8(0x20 + random.below(0x5F))
                if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { text += "\\" }
                text.unicodeScalars.append(Unicode.Scalar(byte))
            }
        }
        return text + "\""
    }
}
