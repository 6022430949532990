// A parsed JSON document: objects keep their members in file order, numbers keep their literal.

/// One JSON value as `JSONValue.parse` reads it (setup and report code only; never per request).
/// An object is its members in the order the text gives them, each key once (a repeated key's last
/// value replaces the first, in the first one's place), so a report can list a file's keys as
/// written. Booleans are their own case, never numbers.
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(JSONNumber)
    case string(String)
    case array([JSONValue])
    case object([(key: String, value: JSONValue)])

    public static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): true
        case (.bool(let x), .bool(let y)): x == y
        case (.number(let x), .number(let y)): x == y
        case (.string(let x), .string(let y)): x == y
        case (.array(let x), .array(let y)): x == y
        case (.object(let x), .object(let y)): x.count == y.count && zip(x, y).allSatisfy { pair in pair.0.key == pair.1.key && pair.0.value == pair.1.value }
        default: false
        }
    }
}

/// A JSON number as written. `double` is the nearest Double; the literal stays, so a whole number
/// beyond 2^53 (a 64-bit seed, a nanosecond stamp) still reads back exactly through `int64`/`uint64`.
/// Equal when written alike: `1.0` and `1` are different literals here (compare `double` for value).
public struct JSONNumber: Sendable, Equatable, CustomStringConvertible {
    /// Valid JSON number text (the parser checked it), e.g. `-12`, `0.5`, `1e-3`.
    public let literal: String
    public let double: Double

    /// Only the parser makes these: `literal` must be JSON number syntax and `double` its value.
    init(literal: String, double: Double) {
        self.literal = literal
        self.double = double
    }

    /// The exact value of a whole-number literal (no fraction, no exponent) that fits; else nil.
    public var int64: Int64? { Int64(literal) }
    public var uint64: UInt64? { literal.hasPrefix("-") ? (literal == "-0" ? 0 : nil) : UInt64(literal) }

    public var description: String { literal }
}

extension JSONValue {
    /// An object's member, or nil when this is not an object or has no such key.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.key == key }?.value
    }

    public var isNull: Bool { if case .null = self { true } else { false } }

    public var boolValue: Bool? { if case .bool(let flag) = self { flag } else { nil } }

    public var numberValue: JSONNumber? { if case .number(let number) = self { number } else { nil } }

    /// A number's value; nil for anything else (true and false included).
    public var doubleValue: Double? { numberValue?.double }

    public var stringValue: String? { if case .string(let text) = self { text } else { nil } }

    public var arrayValue: [JSONValue]? { if case .array(let items) = self { items } else { nil } }

    public var objectValue: [(key: String, value: JSONValue)]? { if case .object(let members) = self { members } else { nil } }

    /// An array whose every item is an object (a list of records: chat turns, models); nil otherwise.
    public var objectsValue: [JSONValue]? {
        guard let items = arrayValue, items.allSatisfy({ $0.objectValue != nil }) else { return nil }
        return items
    }

    /// Sets an object's member (in place when the key exists, else appended); no effect on other values.
    public mutating func set(_ key: String, _ value: JSONValue) {
        guard case .object(var members) = self else { return }
        if let index = members.firstIndex(where: { $0.key == key }) {
            members[index].value = value
        } else {
            members.append((key, value))
        }
        self = .object(members)
    }
}
