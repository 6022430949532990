// Reads a command line against a table of `OptionSpec`s: one parser, one set of errors for every command.

public enum OptionParser {
    /// The option names (and `url`) an argument list sets, for `--config` overrides: the same
    /// scan for `run` and the capacity commands.
    static func names<Options>(in arguments: [String], table: [OptionSpec<Options>]) -> [String] {
        var names: [String] = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            guard argument.hasPrefix("--") else { names.append("url"); continue }
            var name = String(argument.dropFirst(2))
            if let equals = name.firstIndex(of: "=") { name = String(name[..<equals]) }
            else if table.first(where: { $0.name == name })?.value != nil { index += 1 }
            names.append(name)
        }
        return names
    }

    /// Applies `--name value`, `--name=value` and value-less flags in order, starting from `options`.
    /// `command` names the program in errors (`metronome run`, `llmsim`). A bare argument goes to
    /// `positional`; without one it is refused. `-h`/`--help` are the caller's to look for first.
    public static func parse<Options>(
        _ arguments: [String], table: [OptionSpec<Options>], into options: Options, command: String,
        positional: ((inout Options, String) throws(UsageError) -> Void)? = nil
    ) throws(UsageError) -> Options {
        var options = options
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            guard argument.hasPrefix("--") else {
                if argument.hasPrefix("-") && argument.count > 1 { throw UsageError(argument, "is not an option; see \(command) --help") }
                guard let positional else {
                    throw UsageError("", "unexpected argument '\(argument)': \(command) takes only options, which start with -- (see \(command) --help)")
                }
                try positional(&options, argument)
                continue
            }
            var name = String(argument.dropFirst(2))
            var inlineValue: String?
            if let equals = name.firstIndex(of: "=") {
                inlineValue = String(name[name.index(after: equals)...])
                name = String(name[..<equals])
            }
            guard let spec = table.first(where: { $0.name == name }) else {
                throw UsageError("--\(name)", "is not an option of \(command); see \(command) --help")
            }
            if spec.value == nil {
                guard inlineValue == nil else { throw UsageError(spec.flag, "takes no value") }
                try spec.apply(&options, "")
                continue
            }
            let value: String
            if let inlineValue {
                value = inlineValue
            } else {
                guard index < arguments.count else { throw UsageError(spec.flag, "needs a value (\(spec.value!))") }
                value = arguments[index]
                index += 1
            }
            try spec.apply(&options, value)
        }
        return options
    }
}
