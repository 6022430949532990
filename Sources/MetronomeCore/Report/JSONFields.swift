// Typed, throwing access to the members of a parsed JSON object, for the summary and grid decoders.

/// One parsed JSON object; `path` names it in errors (`stages[0].latency_ms.p95: not a number`).
struct JSONFields {
    /// In the order the file lists them, each key once.
    let members: [(key: String, value: JSONValue)]
    let path: String

    init(_ members: [(key: String, value: JSONValue)], path: String) {
        self.members = members
        self.path = path
    }

    /// In file order.
    var keys: [String] { members.map(\.key) }
    func has(_ key: String) -> Bool { self[key] != nil }

    /// The member's value as parsed, or nil when missing.
    subscript(key: String) -> JSONValue? { members.first { $0.key == key }?.value }

    func fail(_ key: String, _ what: String) -> SummaryDecodeError {
        SummaryDecodeError(description: "\(path.isEmpty ? "" : path + ".")\(key): \(what)")
    }

    private func value(_ key: String) throws -> JSONValue {
        guard let value = self[key] else { throw fail(key, "missing") }
        return value
    }

    func string(_ key: String) throws -> String {
        guard let text = try value(key).stringValue else { throw fail(key, "not a string") }
        return text
    }

    func bool(_ key: String) throws -> Bool {
        guard let flag = try value(key).boolValue else { throw fail(key, "not true or false") }
        return flag
    }

    func optionalBool(_ key: String) throws -> Bool? {
        has(key) ? try bool(key) : nil
    }

    /// A number; null (how the writer spells NaN and infinity) reads as NaN.
    func number(_ key: String) throws -> Double {
        let raw = try value(key)
        if raw.isNull { return .nan }
        guard let number = raw.doubleValue else { throw fail(key, "not a number") }
        return number
    }

    /// Missing or null → nil.
    func optionalNumber(_ key: String) throws -> Double? {
        guard let raw = self[key], !raw.isNull else { return nil }
        guard let number = raw.doubleValue else { throw fail(key, "not a number") }
        return number
    }

    /// Exact for every UInt64 written as a whole number (a seed, a nanosecond stamp); a whole
    /// number written with a fraction or exponent (`3.0`, `1e3`) also reads.
    func unsigned(_ key: String) throws -> UInt64 {
        guard let number = try value(key).numberValue else { throw fail(key, "not a non-negative integer") }
        if let exact = number.uint64 { return exact }
        let value = number.double
        guard value >= 0, value < 0x1p64, value == value.rounded() else { throw fail(key, "not a non-negative integer") }
        return UInt64(value)
    }

    func integer(_ key: String) throws -> Int {
        let value = try number(key)
        guard value == value.rounded(), abs(value) < 0x1p53 else { throw fail(key, "not an integer") }
        return Int(value)
    }

    func object(_ key: String) throws -> JSONFields {
        guard let inner = try value(key).objectValue else { throw fail(key, "not an object") }
        return JSONFields(inner, path: path.isEmpty ? key : path + "." + key)
    }

    func optionalObject(_ key: String) throws -> JSONFields? {
        guard let raw = self[key], !raw.isNull else { return nil }
        return try object(key)
    }

    func array(_ key: String) throws -> [JSONValue] {
        guard let items = try value(key).arrayValue else { throw fail(key, "not an array") }
        return items
    }

    func objects(_ key: String) throws -> [JSONFields] {
        try array(key).enumerated().map { index, item in
            guard let inner = item.objectValue else { throw fail("\(key)[\(index)]", "not an object") }
            return JSONFields(inner, path: "\(path.isEmpty ? "" : path + ".")\(key)[\(index)]")
        }
    }

    func optionalObjects(_ key: String) throws -> [JSONFields]? {
        has(key) ? try objects(key) : nil
    }

    /// Count, minimum, every level of `Percentiles.levels`, max and mean; the `--json` output's
    /// levels alone also decode (the others read 0).
    func percentiles(_ key: String) throws -> Percentiles {
        let object = try object(key)
        var result = Percentiles()
        result.count = try object.unsigned("count")
        result.min = try object.optionalNumber("min") ?? 0
        result.values = try JSONReport.levelKeys.map { try object.optionalNumber($0) ?? 0 }
        result.max = try object.number("max")
        result.mean = try object.number("mean")
        return result
    }

    func tokens(_ key: String) throws -> TokenStats? {
        guard let object = try optionalObject(key) else { return nil }
        return TokenStats(mean: try object.number("mean"), min: try object.unsigned("min"), max: try object.unsigned("max"))
    }

    func distribution(_ key: String) throws -> [(percentile: Double, ms: Double)] {
        guard has(key) else { return [] }
        return try array(key).enumerated().map { index, item in
            guard let pair = item.arrayValue, pair.count == 2, let percentile = pair[0].doubleValue,
                  let ms = pair[1].doubleValue else { throw fail("\(key)[\(index)]", "not a [percentile, ms] pair") }
            return (percentile, ms)
        }
    }

    /// The `checks` of an `slo` object (the run's, or a stage's).
    func sloChecks() throws -> [SLOCheckResult] {
        try objects("checks").map { check in
            SLOCheckResult(expression: try check.string("expression"), metric: try check.string("metric"),
                           comparison: try check.string("comparison"), limit: try check.number("limit"),
                           measured: try check.number("measured"), unit: try check.string("unit"), passed: try check.bool("passed"))
        }
    }

    /// The config's entries in the order the file lists them; a repeatable option is an array.
    func configEntries() throws -> [(key: String, value: String)] {
        try members.flatMap { member -> [(key: String, value: String)] in
            if let value = member.value.stringValue { return [(member.key, value)] }
            guard let values = member.value.arrayValue else { throw fail(member.key, "not a string or an array of strings") }
            return try values.map { item in
                guard let value = item.stringValue else { throw fail(member.key, "not a string or an array of strings") }
                return (member.key, value)
            }
        }
    }
}
