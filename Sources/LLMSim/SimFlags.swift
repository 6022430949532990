// The command line as one table: parsing `llmsim` flags and writing `--help` both read it.

struct SimFlag: Sendable {
    let name: String
    let valueName: String?   // nil: a switch that takes no value
    let help: String
    let defaultText: @Sendable (SimConfig) -> String
    let apply: @Sendable (inout SimConfig, String) throws -> Void
}

extension SimConfig {
    static let version = "llmsim 0.1.0"

    static let flags: [SimFlag] = [
        SimFlag(name: "host", valueName: "addr", help: "address to listen on", defaultText: { $0.host }) { config, value in
            config.host = value
        },
        SimFlag(name: "port", valueName: "n", help: "TCP port; 0 takes a free one (printed on the first line)",
                defaultText: { "\($0.port)" }) { config, value in
            guard let port = UInt16(value) else { throw SimConfigError("--port takes 0…65535, got '\(value)'") }
            config.port = port
        },
        SimFlag(name: "model", valueName: "name", help: "the one model served (GET /v1/models); requests naming another get 404",
                defaultText: { $0.model }) { config, value in
            config.model = value
        },
        SimFlag(name: "ttft", valueName: "duration", help: "base time from admission to the first token",
                defaultText: { formatDuration($0.ttftNs) }) { config, value in
            config.ttftNs = try duration(value, flag: "ttft")
        },
        SimFlag(name: "prefill-per-token", valueName: "duration", help: "added to the first token's time per prompt token",
                defaultText: { formatDuration($0.prefillPerTokenNs) }) { config, value in
            config.prefillPerTokenNs = try duration(value, flag: "prefill-per-token")
        },
        SimFlag(name: "itl", valueName: "duration", help: "inter-token delay with one request running",
                defaultText: { formatDuration($0.itlNs) }) { config, value in
            config.itlNs = try duration(value, flag: "itl")
        },
        SimFlag(name: "max-num-seqs", valueName: "n", help: "running-batch capacity; later requests wait FIFO",
                defaultText: { "\($0.maxNumSeqs)" }) { config, value in
            guard let n = Int(value), n >= 1 else { throw SimConfigError("--max-num-seqs takes an integer ≥ 1, got '\(value)'") }
            config.maxNumSeqs = n
        },
        SimFlag(name: "batch-itl-slope", valueName: "x", help: "ITL × (1 + x·(running − 1)): slow-down as the batch grows",
                defaultText: { "\($0.batchItlSlope)" }) { config, value in
            guard let x = Double(value), x >= 0, x.isFinite else { throw SimConfigError("--batch-itl-slope takes a number ≥ 0, got '\(value)'") }
            config.batchItlSlope = x
        },
        SimFlag(name: "jitter", valueName: "x", help: "each delay × max(0, 1 + x·N(0,1)), seeded; 0 keeps time exactly",
                defaultText: { "\($0.jitter)" }) { config, value in
            guard let x = Double(value), x >= 0, x.isFinite else { throw SimConfigError("--jitter takes a number ≥ 0, got '\(value)'") }
            config.jitter = x
        },
        SimFlag(name: "seed", valueName: "n", help: "seeds token text, lengths, jitter and fault choices",
                defaultText: { "\($0.seed)" }) { config, value in
            guard let n = UInt64(value) else { throw SimConfigError("--seed takes a non-negative integer, got '\(value)'") }
            config.seed = n
        },
        SimFlag(name: "error-rate", valueName: "p", help: "fraction of completion requests answered 500 (every request with --fast)",
                defaultText: { "\($0.errorRate)" }) { config, value in
            config.errorRate = try fraction(value, flag: "error-rate")
        },
        SimFlag(name: "reject-when-waiting", valueName: "n", help: "answer 429 when n requests already wait",
                defaultText: { $0.rejectWhenWaiting.map { "\($0)" } ?? "off: never" }) { config, value in
            guard let n = Int(value), n >= 0 else { throw SimConfigError("--reject-when-waiting takes an integer ≥ 0, got '\(value)'") }
            config.rejectWhenWaiting = n
        },
        SimFlag(name: "freeze-every", valueName: "duration", help: "period P of freezes: no byte leaves in [k·P − F, k·P) after start, k ≥ 1",
                defaultText: { formatDuration($0.freezeEveryNs) }) { config, value in
            config.freezeEveryNs = try duration(value, flag: "freeze-every")
        },
        SimFlag(name: "freeze-for", valueName: "duration", help: "length F of each freeze; held output leaves at the window's end",
                defaultText: { formatDuration($0.freezeForNs) }) { config, value in
            config.freezeForNs = try duration(value, flag: "freeze-for")
        },
        SimFlag(name: "drop-rate", valueName: "p", help: "fraction of responses whose connection is closed partway",
                defaultText: { "\($0.dropRate)" }) { config, value in
            config.dropRate = try fraction(value, flag: "drop-rate")
        },
        SimFlag(name: "fast", valueName: nil, help: "answer any request at once: 200, Content-Length 2, body 'ok'",
                defaultText: { $0.fast ? "on" : "off" }) { config, _ in
            config.fast = true
        },
        SimFlag(name: "max-body-bytes", valueName: "n", help: "larger request bodies get 413",
                defaultText: { "\($0.maxBodyBytes)" }) { config, value in
            guard let n = Int(value), n >= 1 else { throw SimConfigError("--max-body-bytes takes an integer ≥ 1, got '\(value)'") }
            config.maxBodyBytes = n
        },
        SimFlag(name: "max-model-len", valueName: "n", help: "prompt + completion token limit; max_tokens defaults to what is left",
                defaultText: { "\($0.maxModelLen)" }) { config, value in
            guard let n = Int(value), n >= 2 else { throw SimConfigError("--max-model-len takes an integer ≥ 2, got '\(value)'") }
            config.maxModelLen = n
        },
        SimFlag(name: "fixed-created", valueName: "seconds", help: "put this value in every 'created' field (golden files)",
                defaultText: { $0.fixedCreated.map { "\($0)" } ?? "off: wall clock" }) { config, value in
            guard let n = UInt64(value) else { throw SimConfigError("--fixed-created takes a non-negative integer, got '\(value)'") }
            config.fixedCreated = n
        },
    ]

    /// Parses the flags that follow the program name. `--name value` and `--name=value` both work.
    /// Throws `SimConfigError` for bad usage and `SimConfigExit` for `--help`/`--version`.
    public static func parse(arguments: [String]) throws -> SimConfig {
        var config = SimConfig()
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            if argument == "-h" || argument == "--help" { throw SimConfigExit(text: helpText) }
            if argument == "--version" { throw SimConfigExit(text: version) }
            guard argument.hasPrefix("--") else {
                throw SimConfigError("unexpected argument '\(argument)' (flags start with --; see --help)")
            }
            var name = String(argument.dropFirst(2))
            var inlineValue: String?
            if let equals = name.firstIndex(of: "=") {
                inlineValue = String(name[name.index(after: equals)...])
                name = String(name[..<equals])
            }
            guard let flag = flags.first(where: { $0.name == name }) else {
                throw SimConfigError("unknown flag --\(name) (see --help)")
            }
            if flag.valueName == nil {
                if inlineValue != nil { throw SimConfigError("--\(name) takes no value") }
                try flag.apply(&config, "")
                continue
            }
            let value: String
            if let inlineValue {
                value = inlineValue
            } else {
                guard index < arguments.count else { throw SimConfigError("--\(name) needs a value: <\(flag.valueName!)>") }
                value = arguments[index]
                index += 1
            }
            try flag.apply(&config, value)
        }
        return try config.validated()
    }

    public static var helpText: String {
        let defaults = SimConfig()
        var lines = [
            "OVERVIEW: a simulated vLLM (OpenAI-compatible) server that keeps time.",
            "",
            "USAGE: llmsim [options]",
            "",
            "OPTIONS:",
        ]
        for flag in flags {
            let left = "  --\(flag.name)" + (flag.valueName.map { " <\($0)>" } ?? "")
            let padded = left.count < 34 ? left + String(repeating: " ", count: 34 - left.count) : left + "  "
            lines.append(padded + flag.help + " (default: \(flag.defaultText(defaults)))")
        }
        lines.append("  -h, --help" + String(repeating: " ", count: 24) + "show this text")
        lines.append("  --version" + String(repeating: " ", count: 25) + "print the version")
        lines += [
            "",
            "ENDPOINTS: POST /v1/chat/completions, POST /v1/completions, GET /v1/models, GET /health.",
            "",
            "TIME: a request admitted at a sends token 1 at a + ttft + prefill-per-token × prompt_tokens,",
            "  then one token per itl × (1 + batch-itl-slope·(running − 1)); at most max-num-seqs run,",
            "  the rest wait FIFO and are admitted when a running request sends its last token.",
            "PROMPT TOKENS: chat Σ(⌈characters of content / 4⌉ + 4) over messages; completions",
            "  ⌈characters / 4⌉ (or the number of token ids given).",
            "COMPLETION TOKENS: max_tokens when ignore_eos is true or min_tokens ≥ max_tokens, otherwise",
            "  a seeded length between max(min_tokens, 1) and max_tokens.",
            "DURATIONS: 500ms, 10s, 2m, 1h30m, 250us, or bare seconds (0.1). Fractions: 0.05 or 5%.",
            "FAULTS: --error-rate, --drop-rate and --reject-when-waiting apply to completion requests",
            "  (to every request with --fast); freezes hold every byte, of every response.",
        ]
        return lines.joined(separator: "\n")
    }
}

private func duration(_ value: String, flag: String) throws -> UInt64 {
    guard let ns = parseDurationNs(value) else {
        throw SimConfigError("--\(flag) takes a duration such as 500ms, 10s, 2m, 1h30m or bare seconds 0.1, got '\(value)'")
    }
    return ns
}

private func fraction(_ value: String, flag: String) throws -> Double {
    guard let p = parseFraction(value) else {
        throw SimConfigError("--\(flag) takes a fraction from 0 to 1 (or 0%…100%), got '\(value)'")
    }
    return p
}
