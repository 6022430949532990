// `--config FILE`: any run option from a JSON object, keyed by the option's name; flags override it.

public enum ConfigFile {
    /// Options that are pairs of flags: a JSON `false` selects the other one.
    static let negations = ["stream": "no-stream", "unique-prompts": "same-prompt", "no-stream": "stream", "same-prompt": "unique-prompts"]

    /// The arguments a config file stands for, in table form (`--name value`). Keys may be
    /// kebab-case (`max-tokens`) or snake_case (`max_tokens`); `url` is the target. Repeatable
    /// options (`stage`, `header`) take arrays. Unknown keys are an error naming them.
    /// Splits off `--config FILE` (or `--config=FILE`): the other arguments as given, and the file's
    /// options as arguments (a later `--config` replaces an earlier one).
    static func separate(_ arguments: [String]) throws(UsageError) -> (commandLine: [String], fileArguments: [String]) {
        var commandLine: [String] = []
        var fileArguments: [String] = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            if argument == "--config" || argument.hasPrefix("--config=") {
                let path: String
                if argument == "--config" {
                    guard index + 1 < arguments.count else { throw UsageError("--config", "needs a file path") }
                    path = arguments[index + 1]
                    index += 2
                } else {
                    path = String(argument.dropFirst("--config=".count))
                    index += 1
                }
                fileArguments = try ConfigFile.arguments(fromFile: path)
                continue
            }
            commandLine.append(argument)
            index += 1
        }
        return (commandLine, fileArguments)
    }

    public static func arguments(fromFile path: String) throws(UsageError) -> [String] {
        let bytes: [UInt8]
        do { bytes = try readFile(path) } catch { throw UsageError("--config", "\(error)") }
        let parsed: JSONValue
        do { parsed = try JSONValue.parse(bytes) } catch {
            throw UsageError("--config", "'\(path)' is not valid JSON: \(error)")
        }
        guard let object = parsed.objectValue else { throw UsageError("--config", "'\(path)' must hold a JSON object") }
        let known = Set(OptionTable.run.map(\.name)).union(["url", "comment"]).subtracting(["config"])
        let unknown = object.map(\.key).filter { !known.contains(optionName($0)) }
        if !unknown.isEmpty {
            throw UsageError("--config", "'\(path)' has unknown keys: \(unknown.sorted().joined(separator: ", ")) (keys are option names, e.g. max-tokens)")
        }
        var arguments: [String] = []
        for (key, value) in object.sorted(by: { $0.key < $1.key }) {
            let name = optionName(key)
            if name == "comment" { continue }
            if name == "url" {
                guard let url = value.stringValue else { throw UsageError("--config", "key url must be a string") }
                arguments.append(url)
                continue
            }
            let spec = OptionTable.run.first { $0.name == name }!
            if spec.value == nil {
                guard let flag = value.boolValue else { throw UsageError("--config", "key \(key) must be true or false") }
                if flag { arguments.append(spec.flag) } else if let other = negations[name] { arguments.append("--" + other) }
                continue
            }
            let values = value.arrayValue ?? [value]
            for item in values {
                arguments.append(spec.flag)
                arguments.append(try text(item, key: key))
            }
        }
        return arguments
    }

    /// `max_tokens` → `max-tokens`: snake_case keys name the kebab-case option.
    static func optionName(_ key: String) -> String {
        String(key.map { $0 == "_" ? "-" : $0 })
    }

    /// A string as it is; a number as an option spells it (a whole number in digits, every digit of
    /// one beyond 2^53 kept). true, false, null, objects and nested arrays are mistakes.
    static func text(_ value: JSONValue, key: String) throws(UsageError) -> String {
        if let string = value.stringValue { return string }
        if let number = value.numberValue {
            if let whole = number.int64 { return String(whole) }
            if let whole = number.uint64 { return String(whole) }
            let double = number.double
            if double == double.rounded() && abs(double) < 1e15 { return String(Int64(double)) }
            // Options take plain decimals only; Swift prints 0.00001 as "1e-05", so spell it out.
            let text = String(double)
            return text.contains("e") ? Format.fixed(double, decimals: 12).trimmingTrailingZeros() : text
        }
        throw UsageError("--config", "key \(key) must be a string or a number")
    }
}

extension String {
    func trimmingTrailingZeros() -> String {
        guard contains(".") else { return self }
        var text = self
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text
    }
}
