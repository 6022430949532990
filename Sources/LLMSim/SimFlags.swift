// llmsim's options as one `OptionSpec` table: metronome's parser reads it and its help layout prints it.
import MetronomeCore

extension SimConfig {
    static let version = "llmsim 0.1.0"

    static let groups = ["Server", "Time model", "Faults", "Limits"]

    /// Placeholders and wording follow `metronome run --help`; defaults come from `SimConfig()`.
    public static let options: [OptionSpec<SimConfig>] = {
        let defaults = SimConfig()
        return [
            OptionSpec(name: "host", value: "ADDR", defaultText: defaults.host, help: "Address to listen on (IPv4 or IPv6 literal).", group: "Server") { config, value throws(UsageError) in
                guard !value.isEmpty else { throw UsageError("--host", "needs an address") }
                config.host = value
            },
            OptionSpec(name: "port", value: "N", defaultText: "\(defaults.port)", help: "TCP port; 0 takes a free one (printed on the first line).", group: "Server") { config, value throws(UsageError) in
                guard let port = UInt16(value) else { throw UsageError("--port", "must be a whole number from 0 to 65535 (got '\(value)')") }
                config.port = port
            },
            OptionSpec(name: "model", value: "NAME", defaultText: defaults.model, help: "The one model served (GET /v1/models); requests naming another get 404.", group: "Server") { config, value throws(UsageError) in
                guard !value.isEmpty else { throw UsageError("--model", "needs a model name") }
                config.model = value
            },
            OptionSpec(name: "keep-alive-timeout", value: "D", defaultText: formatDuration(defaults.keepAliveTimeoutNs), help: "Close a keep-alive connection that has had no request in progress for D, as uvicorn's --timeout-keep-alive does; 0 never closes.", group: "Server") { config, value throws(UsageError) in
                config.keepAliveTimeoutNs = try OptionTable.duration(value, "--keep-alive-timeout", allowZero: true)
            },
            OptionSpec(name: "tls-cert", value: "FILE", defaultText: "off: plain HTTP", help: "Serve HTTPS with this PEM certificate chain (with --tls-key); a handshake must end within --keep-alive-timeout (10s when that is 0).", group: "Server") { config, value throws(UsageError) in
                guard !value.isEmpty else { throw UsageError("--tls-cert", "needs a PEM certificate file") }
                config.tlsCertificateFile = value
            },
            OptionSpec(name: "tls-key", value: "FILE", defaultText: "off", help: "The PEM private key of --tls-cert.", group: "Server") { config, value throws(UsageError) in
                guard !value.isEmpty else { throw UsageError("--tls-key", "needs a PEM private key file") }
                config.tlsKeyFile = value
            },
            OptionSpec(name: "fixed-created", value: "SECONDS", defaultText: "off: wall clock", help: "Put this value in every `created` field (golden files).", group: "Server") { config, value throws(UsageError) in
                guard let n = UInt64(value) else { throw UsageError("--fixed-created", "must be a whole number from 0 to 2^64-1 (got '\(value)')") }
                config.fixedCreated = n
            },
            OptionSpec(name: "ttft", value: "D", defaultText: formatDuration(defaults.ttftNs), help: "Base time from admission to the first token.", group: "Time model") { config, value throws(UsageError) in
                config.ttftNs = try OptionTable.duration(value, "--ttft", allowZero: true)
            },
            OptionSpec(name: "prefill-per-token", value: "D", defaultText: formatDuration(defaults.prefillPerTokenNs), help: "Added to the first token's time per prompt token.", group: "Time model") { config, value throws(UsageError) in
                config.prefillPerTokenNs = try OptionTable.duration(value, "--prefill-per-token", allowZero: true)
            },
            OptionSpec(name: "itl", value: "D", defaultText: formatDuration(defaults.itlNs), help: "Inter-token delay with one request running.", group: "Time model") { config, value throws(UsageError) in
                config.itlNs = try OptionTable.duration(value, "--itl", allowZero: true)
            },
            OptionSpec(name: "max-num-seqs", value: "N", defaultText: "\(defaults.maxNumSeqs)", help: "Running-batch capacity; later requests wait FIFO.", group: "Time model") { config, value throws(UsageError) in
                config.maxNumSeqs = try OptionTable.count(value, "--max-num-seqs", range: 1...1_000_000)
            },
            OptionSpec(name: "batch-itl-slope", value: "X", defaultText: "\(defaults.batchItlSlope)", help: "ITL × (1 + X·(running − 1)): slow-down as the batch grows.", group: "Time model") { config, value throws(UsageError) in
                config.batchItlSlope = try number(value, "--batch-itl-slope")
            },
            OptionSpec(name: "jitter", value: "X", defaultText: "\(defaults.jitter)", help: "Each delay × max(0, 1 + X·N(0,1)), seeded; 0 keeps time exactly.", group: "Time model") { config, value throws(UsageError) in
                config.jitter = try number(value, "--jitter")
            },
            OptionSpec(name: "seed", value: "N", defaultText: "\(defaults.seed)", help: "Seeds token text, lengths, jitter and fault choices.", group: "Time model") { config, value throws(UsageError) in
                guard let n = UInt64(value) else { throw UsageError("--seed", "must be a whole number from 0 to 2^64-1 (got '\(value)')") }
                config.seed = n
            },
            OptionSpec(name: "error-rate", value: "P", defaultText: "\(defaults.errorRate)", help: "Fraction of completion requests answered 500 (every request with --fast).", group: "Faults") { config, value throws(UsageError) in
                config.errorRate = try fraction(value, "--error-rate")
            },
            OptionSpec(name: "reject-when-waiting", value: "N", defaultText: "off: never", help: "Answer 429 when N requests already wait.", group: "Faults") { config, value throws(UsageError) in
                config.rejectWhenWaiting = try OptionTable.count(value, "--reject-when-waiting", range: 0...100_000_000)
            },
            OptionSpec(name: "freeze-every", value: "D", defaultText: formatDuration(defaults.freezeEveryNs), help: "Period P of freezes: no byte leaves in [k·P − F, k·P) after start, k ≥ 1.", group: "Faults") { config, value throws(UsageError) in
                config.freezeEveryNs = try OptionTable.duration(value, "--freeze-every", allowZero: true)
            },
            OptionSpec(name: "freeze-for", value: "D", defaultText: formatDuration(defaults.freezeForNs), help: "Length F of each freeze; held output leaves at the window's end.", group: "Faults") { config, value throws(UsageError) in
                config.freezeForNs = try OptionTable.duration(value, "--freeze-for", allowZero: true)
            },
            OptionSpec(name: "drop-rate", value: "P", defaultText: "\(defaults.dropRate)", help: "Fraction of responses whose connection is closed partway.", group: "Faults") { config, value throws(UsageError) in
                config.dropRate = try fraction(value, "--drop-rate")
            },
            OptionSpec(name: "fast", value: nil, defaultText: "off", help: "Answer any request at once: 200, Content-Length 2, body `ok`.", group: "Faults") { config, _ in
                config.fast = true
            },
            OptionSpec(name: "max-body-bytes", value: "N", defaultText: "\(defaults.maxBodyBytes)", help: "Larger request bodies get 413.", group: "Limits") { config, value throws(UsageError) in
                config.maxBodyBytes = try OptionTable.count(value, "--max-body-bytes", range: 1...1_073_741_824)
            },
            OptionSpec(name: "max-model-len", value: "N", defaultText: "\(defaults.maxModelLen)", help: "Prompt + completion token limit, as vLLM's --max-model-len; max_tokens defaults to what is left.", group: "Limits") { config, value throws(UsageError) in
                config.maxModelLen = try OptionTable.count(value, "--max-model-len", range: 2...100_000_000)
            },
        ]
    }()

    /// Parses the flags that follow the program name. `--name value` and `--name=value` both work.
    /// Throws `UsageError` for bad usage (exit 64) and `SimConfigExit` for `--help`/`--version`.
    public static func parse(arguments: [String]) throws -> SimConfig {
        if arguments.contains("-h") || arguments.contains("--help") { throw SimConfigExit(text: helpText) }
        if arguments.contains("--version") { throw SimConfigExit(text: version) }
        return try OptionParser.parse(arguments, table: options, into: SimConfig(), command: "llmsim").validated()
    }

    public static var helpText: String {
        var out = """
        OVERVIEW: A simulated vLLM (OpenAI-compatible) server that keeps time.

        USAGE: llmsim [options]

        """
        out += HelpText.optionSections(options, groups: groups)
        out += "\n  -h, --help                Show this help\n  --version                 Show the version\n"
        out += """

        ENDPOINTS: POST /v1/chat/completions, POST /v1/completions, GET /v1/models, GET /health.

        TIME: a request admitted at a sends token 1 at a + ttft + prefill-per-token × prompt_tokens,
          then one token per itl × (1 + batch-itl-slope·(running − 1)); at most max-num-seqs run,
          the rest wait FIFO and are admitted when a running request sends its last token.
        PROMPT TOKENS: chat Σ(⌈characters of content / 4⌉ + 4) over messages; completions
          ⌈characters / 4⌉ (or the number of token ids given).
        COMPLETION TOKENS: max_tokens when ignore_eos is true or min_tokens ≥ max_tokens, otherwise
          a seeded length between max(min_tokens, 1) and max_tokens.
        DURATIONS: 500ms, 10s, 2m, 1h30m, 250us, or bare seconds (0.1). Fractions: 0.05 or 5%.
        FAULTS: --error-rate, --drop-rate and --reject-when-waiting apply to completion requests
          (to every request with --fast); freezes hold every byte, of every response.
        """
        return out
    }
}

private func number(_ value: String, _ flag: String) throws(UsageError) -> Double {
    guard isPlainDecimal(Substring(value)), let x = Double(value), x >= 0, x <= 1_000_000 else {
        throw UsageError(flag, "must be a number from 0 to 1000000 (got '\(value)')")
    }
    return x
}

private func fraction(_ value: String, _ flag: String) throws(UsageError) -> Double {
    guard let p = parseFraction(value) else {
        throw UsageError(flag, "must be a fraction from 0 to 1, or 0% to 100% (got '\(value)')")
    }
    return p
}
