// The one table of `metronome run` options: it drives parsing, `--help` and the README's option list.

/// One option of a command's table, generic over the options value it fills in (`RunOptions`
/// for `metronome run`, `SimConfig` for llmsim), so both get the same parser, errors and help.
public struct OptionSpec<Options>: Sendable {
    public let name: String
    /// The value's placeholder (`R`, `D`); nil for a flag without a value.
    public let value: String?
    public let defaultText: String
    public let help: String
    public let group: String
    let apply: @Sendable (inout Options, String) throws(UsageError) -> Void

    public init(name: String, value: String?, defaultText: String, help: String, group: String,
                apply: @escaping @Sendable (inout Options, String) throws(UsageError) -> Void) {
        self.name = name
        self.value = value
        self.defaultText = defaultText
        self.help = help
        self.group = group
        self.apply = apply
    }

    public var flag: String { "--\(name)" }
}

public enum OptionTable {
    public static let groups = ["Rate plan", "Connections and time", "Workload", "SLOs", "Output", "Scale-out"]

    public static let run: [OptionSpec<RunOptions>] = [
        OptionSpec(name: "rate", value: "R", defaultText: "", help: "Target arrival rate in requests/s (fractional allowed, `2k` = 2000). Held for --duration after --ramp.", group: "Rate plan") { options, text throws(UsageError) in
            options.rate = try rate(text, "--rate", allowZero: false)
        },
        OptionSpec(name: "ramp", value: "D", defaultText: "0s", help: "Ramp linearly from --start-rate to --rate over D before the hold.", group: "Rate plan") { options, text throws(UsageError) in
            options.rampNs = try duration(text, "--ramp", allowZero: true)
        },
        OptionSpec(name: "duration", value: "D", defaultText: "", help: "How long to hold --rate after the ramp (`500ms`, `10s`, `2m`, `1h30m`); with --concurrency, the whole run, spawning included.", group: "Rate plan") { options, text throws(UsageError) in
            options.durationNs = try duration(text, "--duration", allowZero: false)
        },
        OptionSpec(name: "start-rate", value: "R", defaultText: "1", help: "Rate at the start of the first ramp or stage.", group: "Rate plan") { options, text throws(UsageError) in
            options.startRate = try rate(text, "--start-rate", allowZero: true)
        },
        OptionSpec(name: "stage", value: "D:R", defaultText: "", help: "A stage, k6-style: go linearly to R requests/s over D (a D of 0s jumps to R at once). Repeat for more stages; replaces --rate/--ramp/--duration.", group: "Rate plan") { options, text throws(UsageError) in
            let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw UsageError("--stage", "takes DURATION:RATE, e.g. 60s:20 (got '\(text)')") }
            options.stages.append((try duration(parts[0], "--stage", allowZero: true), try rate(parts[1], "--stage", allowZero: true)))
        },
        OptionSpec(name: "arrival", value: "KIND", defaultText: "poisson", help: "Arrival process: `poisson` (exponential gaps, like independent users) or `constant` (even gaps).", group: "Rate plan") { options, text throws(UsageError) in
            guard let kind = ArrivalKind(rawValue: text) else { throw UsageError("--arrival", "must be constant or poisson (got '\(text)')") }
            options.arrival = kind
        },
        OptionSpec(name: "burstiness", value: "K", defaultText: "1", help: "Gamma shape of Poisson gaps, as vLLM's benchmark: 1 is Poisson, below 1 burstier, above 1 smoother.", group: "Rate plan") { options, text throws(UsageError) in
            guard let value = Units.parseDecimal(text), value > 0, value <= 1000 else {
                throw UsageError("--burstiness", "must be a number above 0 (got '\(text)')")
            }
            options.burstiness = value
        },
        OptionSpec(name: "seed", value: "N", defaultText: "42", help: "Seed of the arrival schedule: the same seed gives the same schedule.", group: "Rate plan") { options, text throws(UsageError) in
            guard let value = Units.parseWhole(text) else { throw UsageError("--seed", "must be a whole number from 0 to 2^64-1 (got '\(text)')") }
            options.seed = value
        },
        OptionSpec(name: "concurrency", value: "N", defaultText: "", help: "For comparison only: a closed loop of N workers, each sending its next request when its last one ends (Locust's -u N, vLLM's --max-concurrency), for --duration; latency then excludes waiting. Replaces --rate/--stage.", group: "Rate plan") { options, text throws(UsageError) in
            options.concurrency = try count(text, "--concurrency", range: 1...1_000_000)
        },
        OptionSpec(name: "spawn-rate", value: "R", defaultText: "all at once", help: "With --concurrency: start R workers per second (Locust's -r).", group: "Rate plan") { options, text throws(UsageError) in
            options.spawnRate = try rate(text, "--spawn-rate", allowZero: false)
        },
        OptionSpec(name: "think-time", value: "D", defaultText: "0s", help: "With --concurrency: each worker's pause between the end of its request and its next send.", group: "Rate plan") { options, text throws(UsageError) in
            options.thinkTimeNs = try duration(text, "--think-time", allowZero: true, atMostNs: RunOptions.maxThinkTimeNs)
        },
        OptionSpec(name: "max-connections", value: "N", defaultText: "10000", help: "Cap on open connections; the pool grows on demand up to it.", group: "Connections and time") { options, text throws(UsageError) in
            options.maxConnections = try count(text, "--max-connections", range: 1...1_000_000)
        },
        OptionSpec(name: "max-queue", value: "N", defaultText: "100000", help: "Requests that may wait for a connection past the cap; beyond it they are dropped and counted.", group: "Connections and time") { options, text throws(UsageError) in
            options.maxQueue = try count(text, "--max-queue", range: 1...100_000_000)
        },
        OptionSpec(name: "connect-timeout", value: "D", defaultText: "10s", help: "Per connection attempt; before the run, also the whole of model discovery (GET /v1/models: connect, send and answer).", group: "Connections and time") { options, text throws(UsageError) in
            options.connectTimeoutNs = try duration(text, "--connect-timeout", allowZero: false)
        },
        OptionSpec(name: "timeout", value: "D", defaultText: "120s", help: "Per request, from its first byte sent to the last byte of the response.", group: "Connections and time") { options, text throws(UsageError) in
            options.timeoutNs = try duration(text, "--timeout", allowZero: false)
        },
        OptionSpec(name: "drain", value: "D", defaultText: "the timeout", help: "After the plan, how long in-flight requests may finish; the rest count as unfinished.", group: "Connections and time") { options, text throws(UsageError) in
            options.drainNs = try duration(text, "--drain", allowZero: true)
        },
        OptionSpec(name: "idle-timeout", value: "D", defaultText: "4s", help: "Close a keep-alive connection idle this long, before the server does (uvicorn's default is 5s); 0 keeps it open.", group: "Connections and time") { options, text throws(UsageError) in
            options.idleTimeoutNs = try duration(text, "--idle-timeout", allowZero: true)
        },
        OptionSpec(name: "cacert", value: "FILE", defaultText: "the system's store", help: "https://: trust the CA certificates of this PEM file instead of the system's (as curl's --cacert), e.g. a private CA or a self-signed server.", group: "Connections and time") { options, text throws(UsageError) in
            guard !text.isEmpty else { throw UsageError("--cacert", "needs a PEM file path") }
            options.caFile = text
        },
        OptionSpec(name: "insecure", value: nil, defaultText: "off", help: "https://: do not check the server's certificate or name (said in the report's header).", group: "Connections and time") { options, _ in options.insecure = true },
        OptionSpec(name: "no-tls-resume", value: nil, defaultText: "off: resume", help: "https://: every new connection makes a full TLS handshake instead of resuming the last session.", group: "Connections and time") { options, _ in options.tlsResume = false },
        OptionSpec(name: "send-horizon", value: "D", defaultText: "500us", help: "Cap on how far ahead of its intended start a request may leave: from the rate that puts three arrivals in D (3/D per second: 6,000 rps for 500us), each wake-up also sends every request due within three arrivals, timed from its send (counted in early_sends); 0 sends none early. At most 10ms.", group: "Connections and time") { options, text throws(UsageError) in
            options.sendHorizonNs = try duration(text, "--send-horizon", allowZero: true, atMostNs: 10_000_000)
        },
        OptionSpec(name: "read-hold", value: "D", defaultText: "1ms", help: "--workload http over http://: when the loop's next deadline is at most this far off, it sleeps until then without waking for answers, and reads them with the kernel's receive time as their end (one wake-up per arrival instead of two; counted in reads_held). 0 reads each answer as it arrives. At most 10ms.", group: "Connections and time") { options, text throws(UsageError) in
            options.readHoldNs = try duration(text, "--read-hold", allowZero: true, atMostNs: 10_000_000)
        },
        OptionSpec(name: "workload", value: "KIND", defaultText: "openai-chat", help: "What to send: `openai-chat` (POST /v1/chat/completions), `openai-completions` (POST /v1/completions), or `http` (the URL as given, with --method, --header, --body).", group: "Workload") { options, text throws(UsageError) in
            guard let kind = WorkloadKind(rawValue: text) else {
                throw UsageError("--workload", "must be one of \(WorkloadKind.allCases.map(\.rawValue).joined(separator: ", ")) (got '\(text)')")
            }
            options.workload = kind
        },
        OptionSpec(name: "model", value: "NAME", defaultText: "first of GET /v1/models", help: "Model name sent in each request.", group: "Workload") { options, text throws(UsageError) in
            guard !text.isEmpty else { throw UsageError("--model", "needs a model name") }
            options.model = text
        },
        OptionSpec(name: "prompt-file", value: "FILE", defaultText: "built-in prompt_200", help: "Prompt text (UTF-8): the whole file is one prompt (several lines are warned about: see --dataset); the default is configs/prompts/prompt_200.txt, built in.", group: "Workload") { options, text throws(UsageError) in
            guard !text.isEmpty else { throw UsageError("--prompt-file", "needs a file path") }
            options.promptFile = text
        },
        OptionSpec(name: "dataset", value: "FILE", defaultText: "", help: "Send the prompts of FILE, one per request, as written: plain text (one prompt per non-empty line), JSONL (`{\"prompt\": …}` or `{\"messages\": […]}`, optional `max_tokens`/`output_tokens`) or ShareGPT JSON (first human turn; the answer's estimated length sets max_tokens). A run longer than the dataset cycles through it again.", group: "Workload") { options, text throws(UsageError) in
            guard !text.isEmpty else { throw UsageError("--dataset", "needs a file path") }
            options.datasetPath = text
        },
        OptionSpec(name: "dataset-format", value: "F", defaultText: "auto", help: "`auto` (a leading `[` is ShareGPT, JSON-object lines are JSONL, else text), `text`, `jsonl` or `sharegpt`.", group: "Workload") { options, text throws(UsageError) in
            guard let format = DatasetFormat(rawValue: text) else {
                throw UsageError("--dataset-format", "must be one of \(DatasetFormat.allCases.map(\.rawValue).joined(separator: ", ")) (got '\(text)')")
            }
            options.datasetFormat = format
        },
        OptionSpec(name: "dataset-order", value: "O", defaultText: "sequential", help: "`sequential` (file order) or `shuffle` (a permutation seeded by --seed).", group: "Workload") { options, text throws(UsageError) in
            guard let order = DatasetOrder(rawValue: text) else { throw UsageError("--dataset-order", "must be sequential or shuffle (got '\(text)')") }
            options.datasetOrder = order
        },
        OptionSpec(name: "dataset-limit", value: "N", defaultText: "all rows", help: "Use N rows: the first N (sequential) or N drawn at random (shuffle).", group: "Workload") { options, text throws(UsageError) in
            options.datasetLimit = try count(text, "--dataset-limit", range: 1...100_000_000)
        },
        OptionSpec(name: "strict", value: nil, defaultText: "off", help: "A bad dataset row is an error (exit 64, naming file:line) instead of being skipped and counted.", group: "Workload") { options, _ in options.strict = true },
        OptionSpec(name: "input-tokens", value: "N", defaultText: "", help: "Synthetic prompts of about N tokens: random common three-letter words, one token each in GPT and Llama tokenizers (and in llmsim's estimate).", group: "Workload") { options, text throws(UsageError) in
            options.inputTokens = try count(text, "--input-tokens", range: 1...10_000_000)
        },
        OptionSpec(name: "length-spread", value: "S", defaultText: "none", help: "Spread of --input-tokens: `10%` (uniform within ±10 %), `A:B` (uniform from A to B) or `normal:MEAN,SD` (clamped to at least 1); seeded by --seed.", group: "Workload") { options, text throws(UsageError) in
            options.lengthSpread = try LengthSpread.parse(text, flag: "--length-spread")
        },
        OptionSpec(name: "output-tokens", value: "N", defaultText: "--max-tokens", help: "max_tokens of each request; replaces --max-tokens and a dataset's per-row lengths (the report says so).", group: "Workload") { options, text throws(UsageError) in
            options.outputTokens = try count(text, "--output-tokens", range: 1...10_000_000)
        },
        OptionSpec(name: "output-spread", value: "S", defaultText: "none", help: "Spread of the output length, as --length-spread (`10%`, `A:B`, `normal:MEAN,SD`).", group: "Workload") { options, text throws(UsageError) in
            options.outputSpread = try LengthSpread.parse(text, flag: "--output-spread")
        },
        OptionSpec(name: "prefix-tokens", value: "N", defaultText: "0", help: "Put a shared prefix of N one-token words in front of every prompt (built-in, dataset row or synthetic), to measure prefix caching.", group: "Workload") { options, text throws(UsageError) in
            options.prefixTokens = try count(text, "--prefix-tokens", range: 1...10_000_000)
        },
        OptionSpec(name: "prefix-groups", value: "G", defaultText: "1", help: "G different prefixes: request k (k-th in the send order) uses prefix k mod G (once a run cycles, its body keeps its group).", group: "Workload") { options, text throws(UsageError) in
            options.prefixGroups = try count(text, "--prefix-groups", range: 1...100_000)
        },
        OptionSpec(name: "max-tokens", value: "N", defaultText: "200", help: "max_tokens of each request.", group: "Workload") { options, text throws(UsageError) in
            options.maxTokens = try count(text, "--max-tokens", range: 1...10_000_000)
        },
        OptionSpec(name: "temperature", value: "T", defaultText: "0", help: "Sampling temperature of each request.", group: "Workload") { options, text throws(UsageError) in
            guard let value = Units.parseDecimal(text), value <= 100 else {
                throw UsageError("--temperature", "must be a number from 0 to 100 (got '\(text)')")
            }
            options.temperature = value
        },
        OptionSpec(name: "stream", value: nil, defaultText: "on", help: "Stream the response (SSE) and measure TTFT, ITL and TPOT.", group: "Workload") { options, _ in options.stream = true },
        OptionSpec(name: "no-stream", value: nil, defaultText: "", help: "Ask for whole responses: latency and tokens only.", group: "Workload") { options, _ in options.stream = false },
        OptionSpec(name: "ignore-eos", value: nil, defaultText: "off", help: "Send vLLM's `ignore_eos` and `min_tokens`, so every response has exactly --max-tokens tokens.", group: "Workload") { options, _ in options.ignoreEOS = true },
        OptionSpec(name: "api-key", value: "KEY", defaultText: "", help: "Send `Authorization: Bearer KEY` (never shown in any output).", group: "Workload") { options, text throws(UsageError) in
            guard !text.isEmpty, !text.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) else { throw UsageError("--api-key", "must be non-empty printable text") }
            options.apiKey = text
        },
        OptionSpec(name: "unique-prompts", value: nil, defaultText: "on (built-in prompt)", help: "Start each prompt with a distinct request number (after any --prefix-tokens prefix), so the server's prefix cache cannot answer it. Dataset rows and synthetic prompts go as written unless this is given.", group: "Workload") { options, _ in
            options.uniquePrompts = true
            options.uniquePromptsGiven = true
        },
        OptionSpec(name: "same-prompt", value: nil, defaultText: "", help: "Send the identical prompt every time (measures prefix-cache hits).", group: "Workload") { options, _ in options.uniquePrompts = false },
        OptionSpec(name: "expect-prompt-tokens", value: "N", defaultText: "", help: "Warn when the server's prompt token count is more than 10 % away from N.", group: "Workload") { options, text throws(UsageError) in
            options.expectPromptTokens = try count(text, "--expect-prompt-tokens", range: 1...10_000_000)
        },
        OptionSpec(name: "method", value: "M", defaultText: "GET, or POST with --body", help: "HTTP method of the http workload.", group: "Workload") { options, text throws(UsageError) in
            guard !text.isEmpty, text.utf8.allSatisfy({ isTokenByte($0) }) else {
                throw UsageError("--method", "must be an HTTP token such as GET or POST (got '\(text)')")
            }
            options.method = text
        },
        OptionSpec(name: "header", value: "'K: V'", defaultText: "", help: "Add a request header; repeatable.", group: "Workload") { options, text throws(UsageError) in
            guard let colon = text.firstIndex(of: ":") else { throw UsageError("--header", "takes 'Name: value' (got '\(SecretMask.maskedHeaderText(text))')") }
            let name = String(text[..<colon]).trimmingSpaces()
            let value = String(text[text.index(after: colon)...]).trimmingSpaces()
            guard !name.isEmpty, name.utf8.allSatisfy({ isTokenByte($0) }) else { throw UsageError("--header", "has an invalid name in '\(SecretMask.maskedHeaderText(text))'") }
            guard !value.utf8.contains(where: { ($0 < 0x20 && $0 != 9) || $0 == 0x7F }) else { throw UsageError("--header", "value of \(name) may not contain a line break or control character") }
            options.headers.append((name, value))
        },
        OptionSpec(name: "body", value: "FILE", defaultText: "", help: "Send FILE's bytes as the request body (http workload).", group: "Workload") { options, text throws(UsageError) in
            guard !text.isEmpty else { throw UsageError("--body", "needs a file path") }
            options.bodyFile = text
        },
        OptionSpec(name: "slo", value: "CHECKS", defaultText: "", help: "Service-level objectives to judge, e.g. `p95<=5s,p99<=10s,errors<=0.1%,ttft_p95<=500ms,achieved>=99%`. A failed check exits 3.", group: "SLOs") { options, text throws(UsageError) in
            options.slo = try SLOParser.parse(text)
            options.sloText = text
        },
        OptionSpec(name: "slo-scope", value: "SCOPE", defaultText: "hold", help: "Judge SLOs on the `hold` stages (constant rate) or on `all` of the run.", group: "SLOs") { options, text throws(UsageError) in
            guard text == "hold" || text == "all" else { throw UsageError("--slo-scope", "must be hold or all (got '\(text)')") }
            options.sloScope = text
        },
        OptionSpec(name: "out", value: "DIR", defaultText: "experiments/runs", help: "Directory for the report files (created if missing; checked writable before the first request).", group: "Output") { options, text throws(UsageError) in
            guard !text.isEmpty else { throw UsageError("--out", "needs a directory") }
            options.outDirectory = text
        },
        OptionSpec(name: "name", value: "PREFIX", defaultText: "metronome_YYYYmmdd-HHMMSS", help: "File name prefix of the report files.", group: "Output") { options, text throws(UsageError) in
            guard !text.isEmpty, !text.contains("/"), text != ".", text != ".." else {
                throw UsageError("--name", "must be a non-empty file name prefix without '/' (got '\(text)')")
            }
            options.name = text
        },
        OptionSpec(name: "request-log", value: "FILE", defaultText: "", help: "Write one line per scheduled request, as JSON lines (FILE.jsonl) or CSV (FILE.csv): id, stage, intended/sent/first-token/completed times (ns since start), status, outcome, bytes, prompt and completion tokens, TTFT (from the intended start and from the first byte sent), TPOT, the server's error text (secrets masked).", group: "Output") { options, text throws(UsageError) in
            guard !text.isEmpty else { throw UsageError("--request-log", "needs a file path") }
            guard RequestLog.Format(path: text) != nil else {
                throw UsageError("--request-log", "must end in \(RequestLog.Format.allowedExtensions) (got '\(text)')")
            }
            options.requestLogPath = text
        },
        OptionSpec(name: "log-itl", value: nil, defaultText: "", help: "Add each request's inter-token gaps (ms) to --request-log: an array in JSON lines, a `;`-joined field in CSV.", group: "Output") { options, _ in options.logITL = true },
        OptionSpec(name: "hlog", value: nil, defaultText: "", help: "Also write PREFIX.hlog beside the other report files: HdrHistogram's interval log, one line a second of latency from the intended start (with Tag=ttft and Tag=itl lines for LLM workloads), in microseconds, V2-compressed; read with HdrHistogram's HistogramLogProcessor or Python's hdrh.log.HistogramLogReader.", group: "Output") { options, _ in options.hlog = true },
        OptionSpec(name: "config", value: "FILE", defaultText: "", help: "Read options from a JSON object keyed by option name (e.g. configs/fixed_200_200.json); flags given too win.", group: "Output") { _, _ throws(UsageError) in
            throw UsageError("--config", "may be given once")
        },
        OptionSpec(name: "quiet", value: nil, defaultText: "", help: "Print nothing but the summary.", group: "Output") { options, _ in options.quiet = true },
        OptionSpec(name: "no-files", value: nil, defaultText: "", help: "Write no report files.", group: "Output") { options, _ in options.noFiles = true },
        OptionSpec(name: "json", value: nil, defaultText: "", help: "Print the summary as one JSON object on stdout instead of text.", group: "Output") { options, _ in options.json = true },
        OptionSpec(name: "web", value: "[HOST:]PORT", defaultText: "", help: "Serve a live web view of the run at http://HOST:PORT/ (HOST 127.0.0.1 unless given; Locust's port is 8089): charts, `/stats.json`, `/events` (server-sent, one a second), and controls `POST /rate {\"rate\":R,\"ramp_s\":S}` (replaces the rest of the plan by a ramp and a hold, shown as stages) and `POST /stop` (ends the plan; reports as a normal end).", group: "Output") { options, text throws(UsageError) in
            options.web = try WebAddress.parse(text)
        },
        OptionSpec(name: "web-keep", value: nil, defaultText: "", help: "With --web: keep serving the final figures and a link to the report after the run, until Ctrl-C or `POST /stop`.", group: "Output") { options, _ in options.webKeep = true },
        OptionSpec(name: "web-token", value: "TOKEN", defaultText: "", help: "With --web: the token the controls need (`Authorization: Bearer TOKEN`); required when HOST is not loopback. 8 to 200 printable characters.", group: "Output") { options, text throws(UsageError) in
            guard (8...200).contains(text.utf8.count), text.utf8.allSatisfy({ $0 > 32 && $0 < 127 }) else {
                throw UsageError("--web-token", "must be 8 to 200 printable ASCII characters without spaces")
            }
            options.webToken = text
        },
        OptionSpec(name: "tag", value: "KEY=VALUE", defaultText: "", help: "Label the run (repeatable, keys distinct): carried into the JSON summary's `tags` and shown in the reports, so runs over server settings can be grouped.", group: "Output") { options, text throws(UsageError) in
            options.tags.append(try tag(text, existing: options.tags))
        },
        OptionSpec(name: "shard", value: "I/N", defaultText: "0/1", help: "Send only arrivals k ≡ I (mod N) of the one seeded schedule (I from 0): N processes with the same plan and --seed send the single-process schedule between them. Merge their summaries with metronome merge.", group: "Scale-out") { options, text throws(UsageError) in
            options.shard = try Shard(parsing: text)
        },
        OptionSpec(name: "start-at", value: "T", defaultText: "now", help: "Start the plan at Unix time T (seconds, fractional allowed), so shards on several machines share one zero; setup happens before it. A T already past starts at once, with a warning giving how late.", group: "Scale-out") { options, text throws(UsageError) in
            options.startAtUnixS = try unixTime(text, "--start-at")
        },
        OptionSpec(name: "processes", value: "N", defaultText: "1", help: "Run N shard processes of this command (one a core where allowed), one progress line, and merge their summaries at the end: how one machine uses all its cores.", group: "Scale-out") { options, text throws(UsageError) in
            options.processes = try count(text, "--processes", range: 1...256)
        },
    ]

    /// Parses `metronome run`'s arguments (after `run`). A `--config FILE` is read first; every
    /// option given on the command line then replaces the file's (repeatable ones as a whole).
    public static func parse(_ arguments: [String]) throws(UsageError) -> RunOptions {
        let (commandLine, fileArguments) = try ConfigFile.separate(arguments)
        guard !fileArguments.isEmpty else { return try parseArguments(commandLine) }
        let given = Set(OptionParser.names(in: commandLine, table: run))
        var kept: [String] = []
        var position = 0
        while position < fileArguments.count {
            let argument = fileArguments[position]
            let name = argument.hasPrefix("--") ? String(argument.dropFirst(2)) : "url"
            let takesValue = argument.hasPrefix("--") && run.first { $0.name == name }?.value != nil
            let width = takesValue ? 2 : 1
            let overridden = given.contains(name) || (ConfigFile.negations[name].map { given.contains($0) } ?? false)
            if !overridden { kept += fileArguments[position..<(position + width)] }
            position += width
        }
        return try parseArguments(kept + commandLine)
    }


    static func parseArguments(_ arguments: [String]) throws(UsageError) -> RunOptions {
        var sawURL = false
        var options = try OptionParser.parse(arguments, table: run, into: RunOptions(), command: "metronome run") { options, argument throws(UsageError) in
            guard !sawURL else { throw UsageError("", "more than one URL given ('\(argument)'); options start with --") }
            options.url = argument
            sawURL = true
        }
        try RunOptions.checkClosedLoop(options, given: OptionParser.names(in: arguments, table: run))
        try RunOptions.checkScaleOut(options)
        options.commandArguments = arguments
        return options
    }

    // MARK: Value parsers shared by the table

    public static func duration(_ text: String, _ flag: String, allowZero: Bool,
                                atMostNs: UInt64 = .max) throws(UsageError) -> UInt64 {
        guard let ns = Units.parseDuration(text), allowZero || ns > 0 else {
            throw UsageError(flag, "must be a duration\(allowZero ? "" : " above 0") such as 500ms, 10s, 2m or 1h30m (got '\(text)')")
        }
        guard ns <= atMostNs else { throw UsageError(flag, "must be at most \(Units.formatDuration(atMostNs)) (got '\(text)')") }
        return ns
    }

    /// A Unix time in seconds after 2001 and before 2100 (a value outside is a unit mistake: ms, or a duration).
    static func unixTime(_ text: String, _ flag: String) throws(UsageError) -> Double {
        guard let value = Double(text), value.isFinite, value >= 978_307_200, value < 4_102_444_800 else {
            throw UsageError(flag, "must be a Unix time in seconds such as 1764571200 or 1764571200.25, e.g. $(($(date +%s) + 30)) (got '\(text)')")
        }
        return value
    }

    static func rate(_ text: String, _ flag: String, allowZero: Bool) throws(UsageError) -> Double {
        guard let value = Units.parseRate(text), allowZero || value > 0, value <= 10_000_000 else {
            throw UsageError(flag, "must be a rate in requests/s\(allowZero ? "" : " above 0") such as 20, 0.5 or 2k (got '\(text)')")
        }
        return value
    }

    public static func count(_ text: String, _ flag: String, range: ClosedRange<Int>) throws(UsageError) -> Int {
        guard let value = Units.parseCount(text), range.contains(value) else {
            throw UsageError(flag, "must be a whole number from \(range.lowerBound) to \(range.upperBound) (got '\(text)')")
        }
        return value
    }

    /// `key=value`: the key of letters, digits, `_`, `.`, `-` (a column name in any tool), the value
    /// printable (no control character: it lands in text, CSV and HTML); a key given twice is refused.
    static func tag(_ text: String, existing: [(key: String, value: String)]) throws(UsageError) -> (key: String, value: String) {
        guard let equals = text.firstIndex(of: "=") else { throw UsageError("--tag", "takes KEY=VALUE, e.g. max_num_seqs=64 (got '\(text)')") }
        let key = String(text[..<equals])
        let value = String(text[text.index(after: equals)...])
        let keyBytes = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-".utf8
        guard !key.isEmpty, key.utf8.allSatisfy({ keyBytes.contains($0) }) else {
            throw UsageError("--tag", "key '\(key)' must be non-empty: letters, digits, '_', '.' or '-'")
        }
        guard !value.unicodeScalars.contains(where: { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) }) else {
            throw UsageError("--tag", "value of \(key) may not contain a line break or control character")
        }
        guard !existing.contains(where: { $0.key == key }) else { throw UsageError("--tag", "key '\(key)' given twice") }
        return (key, value)
    }

    static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }
}
