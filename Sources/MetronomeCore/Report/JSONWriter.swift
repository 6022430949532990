// A tiny JSON writer that keeps keys in the order written, so output is stable and diffable.

public struct JSONWriter {
    public private(set) var text = ""
    private var needsComma = [false]
    private let indentUnit: String

    public init(pretty: Bool = true) { indentUnit = pretty ? "  " : "" }

    private var newline: String { indentUnit.isEmpty ? "" : "\n" }
    private var indent: String { String(repeating: indentUnit, count: needsComma.count - 1) }

    private mutating func separate() {
        if needsComma[needsComma.count - 1] { text += "," }
        if needsComma.count > 1 { text += newline + indent }
        needsComma[needsComma.count - 1] = true
    }

    private mutating func key(_ name: String?) {
        separate()
        if let name { text += JSONWriter.quote(name) + (indentUnit.isEmpty ? ":" : ": ") }
    }

    public mutating func beginObject(_ name: String? = nil) {
        key(name)
        text += "{"
        needsComma.append(false)
    }

    public mutating func endObject() { close("}") }

    public mutating func beginArray(_ name: String? = nil) {
        key(name)
        text += "["
        needsComma.append(false)
    }

    public mutating func endArray() { close("]") }

    private mutating func close(_ bracket: String) {
        let hadItems = needsComma.removeLast()
        if hadItems { text += newline + indent }
        text += bracket
    }

    public mutating func string(_ name: String?, _ value: String) { key(name); text += JSONWriter.quote(value) }
    public mutating func int(_ name: String?, _ value: some BinaryInteger) { key(name); text += String(value) }
    public mutating func bool(_ name: String?, _ value: Bool) { key(name); text += value ? "true" : "false" }
    public mutating func null(_ name: String?) { key(name); text += "null" }

    /// A parsed number as it was written.
    public mutating func number(_ name: String?, _ value: JSONNumber) { key(name); text += value.literal }

    /// Finite numbers with up to `decimals` digits (trailing zeros trimmed); NaN and infinity become null.
    public mutating func number(_ name: String?, _ value: Double, decimals: Int = 3) {
        key(name)
        text += value.isFinite ? Format.trimmed(value, decimals: decimals) : "null"
    }

    public static func quote(_ value: String) -> String {
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
