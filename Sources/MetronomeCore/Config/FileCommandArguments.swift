// The arguments of the commands that read summary files (report, report --grid, merge, compare):
// file paths, `--out DIR`, `--name PREFIX`, and each command's few own options.

/// Parsed `metronome report|merge|compare` arguments. Options take `--flag VALUE` or `--flag=VALUE`;
/// anything not starting with `-` is a file.
public struct FileCommandArguments: Sendable {
    public var paths: [String] = []
    public var outDirectory: String?
    public var name: String?
    /// Flags without a value that were given (e.g. `json`, `grid`).
    public var flags: Set<String> = []
    /// Other options with a value, by name without `--`.
    public var values: [String: String] = [:]
    public var wantsHelp = false

    /// `flags`: the command's options without a value; `valued`: its options with one, besides
    /// --out and --name. `command` names the command in errors (`metronome merge`).
    public init(_ arguments: [String], command: String, flags known: Set<String> = [], valued: Set<String> = []) throws(UsageError) {
        var index = 0
        while index < arguments.count {
            var argument = arguments[index]
            index += 1
            var value: String?
            if argument.hasPrefix("--"), let equals = argument.firstIndex(of: "=") {
                value = String(argument[argument.index(after: equals)...])
                argument = String(argument[..<equals])
            }
            let name = argument.hasPrefix("--") ? String(argument.dropFirst(2)) : argument
            if argument == "-h" || argument == "--help" {
                wantsHelp = true
            } else if known.contains(name) && argument.hasPrefix("--") {
                guard value == nil else { throw UsageError(argument, "takes no value (got '\(value!)')") }
                flags.insert(name)
            } else if argument == "--out" || argument == "--name" || (valued.contains(name) && argument.hasPrefix("--")) {
                if value == nil {
                    guard index < arguments.count else { throw UsageError(argument, "needs a value; see \(command) --help") }
                    value = arguments[index]
                    index += 1
                }
                guard let value, !value.isEmpty else { throw UsageError(argument, "needs a non-empty value") }
                switch argument {
                case "--out": outDirectory = value
                case "--name":
                    guard !value.contains("/"), value != ".", value != ".." else {
                        throw UsageError("--name", "must be a file name prefix without '/' (got '\(value)')")
                    }
                    self.name = value
                default: values[name] = value
                }
            } else {
                guard !argument.hasPrefix("-") || argument == "-" else {
                    throw UsageError("", "\(argument) is not an option of \(command); see \(command) --help")
                }
                paths.append(argument)
            }
        }
    }

    /// `DIR/PREFIX_summary.json` → (`DIR/`, `PREFIX`): where a command that rewrites a summary's
    /// files puts them unless --out/--name say otherwise.
    public static func stem(ofSummary path: String) -> (directory: String, prefix: String) {
        let stem = path.hasSuffix("_summary.json") ? String(path.dropLast("_summary.json".count)) : path.hasSuffix(".json") ? String(path.dropLast(5)) : path
        guard let slash = stem.lastIndex(of: "/") else { return ("", stem) }
        return (String(stem[...slash]), String(stem[stem.index(after: slash)...]))
    }
}
