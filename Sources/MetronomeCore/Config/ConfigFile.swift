// `--config FILE`: any run option from a JSON object, keyed by the option's name; flags override it.
import Foundation

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
        let parsed: Any
        do { parsed = try JSONSerialization.jsonObject(with: Data(bytes)) } catch {
            throw UsageError("--config", "'\(path)' is not valid JSON")
        }
        guard let object = parsed as? [String: Any] else { throw UsageError("--config", "'\(path)' must hold a JSON object") }
        let known = Set(OptionTable.run.map(\.name)).union(["url", "comment"]).subtracting(["config"])
        let unknown = object.keys.filter { !known.contains($0.replacingOccurrences(of: "_", with: "-")) }
        if !unknown.isEmpty {
            throw UsageError("--config", "'\(path)' has unknown keys: \(unknown.sorted().joined(separator: ", ")) (keys are option names, e.g. max-tokens)")
        }
        var arguments: [String] = []
        for key in object.keys.sorted() {
            let name = key.replacingOccurrences(of: "_", with: "-")
            let value = object[key]!
            if name == "comment" { continue }
            if name == "url" {
                guard let url = value as? String else { throw UsageError("--config", "key url must be a string") }
                arguments.append(url)
                continue
            }
            let spec = OptionTable.run.first { $0.name == name }!
            if spec.value == nil {
                guard let flag = value as? Bool else { throw UsageError("--config", "key \(key) must be true or false") }
                if flag { arguments.append(spec.flag) } else if let other = negations[name] { arguments.append("--" + other) }
                continue
            }
            let values = (value as? [Any]) ?? [value]
            for item in values {
                arguments.append(spec.flag)
                arguments.append(try text(item, key: key))
            }
        }
        return arguments
    }

    static func text(_ value: Any, key: String) throws(UsageError) -> String {
        if let string = value as? String { return string }
        // JSONSerialization gives booleans as NSNumber too; a Bool here is a mistake.
        if let number = value as? NSNumber, String(cString: number.objCType) != "c" {
            let double = number.doubleValue
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
