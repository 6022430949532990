// The numbers of a request body, range-checked before any arithmetic and reported in the client's own digits.
import Foundation   // the NSNumbers JSONSerialization hands back; once per request, never per token

/// An integer field as the client sent it. JSONSerialization gives Int64s, UInt64s (≥ 2^63),
/// NSDecimalNumbers (beyond 2^64, or many digits) and doubles; `intValue` on the larger ones
/// wraps (2^63 reads as −2^63), so each kind is checked before it becomes an `Int`.
enum IntegerField: Equatable {
    /// Within ±`integerFieldLimit`, so sums of a few of them cannot overflow.
    case value(Int)
    /// Larger in magnitude than any count llmsim keeps: only compared, never added; `text` is
    /// the number as JSON read it (the client's digits for integers).
    case outOfRange(text: String, negative: Bool)
    /// A float with a fractional part (pydantic takes `200.0` as 200, refuses `2.5`).
    case fractional
    /// Not a number, or a boolean.
    case invalid
}

/// 10^15: beyond every token count and limit, far below where an `Int` sum could overflow.
let integerFieldLimit = 1_000_000_000_000_000

func integerField(_ value: Any) -> IntegerField {
    guard let number = value as? NSNumber, !isBoolean(number) else { return .invalid }
    if let decimal = number as? NSDecimalNumber {
        var exact = decimal.decimalValue
        var whole = Decimal()
        NSDecimalRound(&whole, &exact, 0, .plain)
        guard whole == exact else { return .fractional }
        guard exact.magnitude <= Decimal(integerFieldLimit) else { return .outOfRange(text: decimal.stringValue, negative: exact < 0) }
        return .value(NSDecimalNumber(decimal: exact).intValue)
    }
    switch String(cString: number.objCType) {
    case "d", "f":
        let double = number.doubleValue
        guard double.isFinite else { return .outOfRange(text: "\(double)", negative: double < 0) }
        guard double.rounded() == double else { return .fractional }
        guard double.magnitude <= Double(integerFieldLimit) else { return .outOfRange(text: number.stringValue, negative: double < 0) }
        return .value(Int(double))
    case "Q", "L", "I", "S", "C":
        let unsigned = number.uint64Value
        guard unsigned <= UInt64(integerFieldLimit) else { return .outOfRange(text: String(unsigned), negative: false) }
        return .value(Int(unsigned))
    default:
        let signed = number.int64Value
        guard signed.magnitude <= UInt64(integerFieldLimit) else { return .outOfRange(text: String(signed), negative: signed < 0) }
        return .value(Int(signed))
    }
}

/// A float field (temperature, top_p): any JSON number but a boolean, with its text for messages.
func floatField(_ value: Any) -> (value: Double, text: String)? {
    guard let number = value as? NSNumber, !isBoolean(number) else { return nil }
    return (number.doubleValue, number.stringValue)
}

/// Foundation on Linux parses `true`/`false` as NSNumbers whose objCType is "c".
func isBoolean(_ number: NSNumber) -> Bool {
    String(cString: number.objCType) == "c"
}
