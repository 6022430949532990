// Every OpenAI request body of a run, prepared before it starts: dataset rows, synthetic prompts, prefixes.

/// The bodies in send order (request k sends body k mod count), with what each asks for.
public struct PromptSet {
    public var bodies: [[UInt8]] = []
    /// Estimated prompt tokens of each body (`TokenEstimate`; exact for synthetic words).
    public var promptTokens: [Int] = []
    public var maxTokens: [Int] = []
    /// Every prompt is made of one-token words only (synthetic and prefix): the estimate is exact by
    /// construction, so a server that counts otherwise earns a warning.
    public var exactEstimate = false
    /// Said at setup only: what was loaded and how it is used.
    public var notes: [String] = []
    /// Said at setup and kept among the summary's warnings: rows skipped, rows repeated.
    public var warnings: [String] = []
    /// Longest synthetic pool: beyond it synthetic prompts repeat.
    public static var syntheticPoolCap: Int { 4096 }

    /// `basePrompt`: the built-in or --prompt-file prompt (used when no dataset and no synthetic
    /// lengths). `plannedRequests`: how many requests the plan schedules (at most what is needed).
    public static func prepare(options: RunOptions, model: String, chat: Bool, basePrompt: String,
                               plannedRequests: Int) throws -> PromptSet {
        var set = PromptSet()
        let planned = max(plannedRequests, 1)
        var random = SeededRandom(seed: options.seed ^ 0x776F_726B_6C6F_6164) // "workload": apart from the schedule's stream
        // The source prompts, in send order.
        var items: [DatasetRow] = []
        if let path = options.datasetPath {
            var dataset = try Dataset.load(path: path, format: options.datasetFormat, strict: options.strict)
            if !chat {
                let messageRows = dataset.rows.filter { if case .messages = $0.content { true } else { false } }
                if let first = messageRows.first, options.strict {
                    throw UsageError("--strict", "\(path):\(first.line): a \"messages\" row needs --workload openai-chat")
                }
                dataset.badRows += messageRows.map { ($0.line, "a \"messages\" row needs --workload openai-chat") }
                dataset.badRows.sort { $0.line < $1.line }
                dataset.rows.removeAll { if case .messages = $0.content { true } else { false } }
                if dataset.rows.isEmpty { throw UsageError("--dataset", "'\(path)' has no prompt rows for --workload openai-completions (\(messageRows.count) messages rows)") }
            }
            items = dataset.rows
            if options.datasetOrder == .shuffle {
                // Our own Fisher–Yates: the order depends on --seed alone, not on the standard library's shuffle.
                for position in stride(from: items.count - 1, to: 0, by: -1) {
                    items.swapAt(position, Int(random.next() % UInt64(position + 1)))
                }
            }
            if let limit = options.datasetLimit, limit < items.count { items.removeLast(items.count - limit) }
            set.notes.append("dataset \(path) (\(dataset.format.rawValue)): \(items.count) rows used")
            if !dataset.badRows.isEmpty {
                set.warnings.append("dataset \(path): \(dataset.badRows.count) bad rows skipped (\(Dataset.describe(dataset.badRows)))")
            }
            if planned > items.count {
                set.warnings.append("the plan schedules \(planned) requests, more than the dataset's \(items.count) rows: it cycles through them (each row about \(Format.fixed(Double(planned) / Double(items.count), decimals: 1)) times)")
            }
            if let outputTokens = options.outputTokens ?? options.outputSpread.nominal, items.contains(where: { $0.maxTokens != nil }) {
                set.notes.append("--output-tokens/--output-spread (\(outputTokens)) replace the dataset's own lengths of \(items.filter { $0.maxTokens != nil }.count) rows")
            }
        } else if let nominal = options.inputTokens ?? options.lengthSpread.nominal {
            let pool = min(planned, syntheticPoolCap)
            for _ in 0..<pool {
                let length = options.lengthSpread.sample(nominal: nominal, random: &random)
                items.append(DatasetRow(content: .prompt(SyntheticText.words(length, random: &random)), maxTokens: nil, line: 0))
            }
            set.exactEstimate = true
            if planned > pool {
                set.notes.append("\(planned) planned requests share a pool of \(pool) synthetic prompts: prompts repeat after \(pool)\(options.effectiveUniquePrompts ? "" : " (add --unique-prompts to number each)")")
            }
        } else {
            items = [DatasetRow(content: .prompt(basePrompt), maxTokens: nil, line: 0)]
        }
        let groups = options.prefixTokens > 0 ? options.prefixGroups : 1
        let prefixes = options.prefixTokens > 0 ? SyntheticText.prefixes(tokens: options.prefixTokens, groups: groups, seed: options.seed) : [""]
        let count = entryCount(sources: min(items.count, planned), groups: min(groups, planned))
        let unique = options.effectiveUniquePrompts
        let marker = unique ? "[##########] " : ""
        let markerTokens = unique ? TokenEstimate.tokens("[0000000001] ") : 0
        set.bodies.reserveCapacity(count)
        for index in 0..<count {
            let item = items[index % items.count]
            let group = index % groups
            let lead = (prefixes[group].isEmpty ? "" : prefixes[group] + " ") + marker
            let leadTokens = (options.prefixTokens > 0 ? options.prefixTokens : 0) + markerTokens
            var maxTokens: Int
            if options.outputTokens != nil || options.outputSpread.nominal != nil {
                maxTokens = options.outputSpread.sample(nominal: options.nominalOutputTokens, random: &random)
            } else if let own = item.maxTokens {
                maxTokens = own
            } else {
                maxTokens = options.outputSpread.sample(nominal: options.maxTokens, random: &random)
            }
            maxTokens = min(maxTokens, 10_000_000)
            let settings = OpenAIRequestSettings(model: model, prompt: "", maxTokens: maxTokens, temperature: options.temperature,
                                                 stream: options.stream, ignoreEOS: options.ignoreEOS, uniquePrompts: false)
            switch item.content {
            case .prompt(let text):
                var settings = settings
                settings.prompt = lead + text
                set.bodies.append(OpenAIRequestBody.make(settings, chat: chat))
                set.promptTokens.append(leadTokens + TokenEstimate.tokens(text))
            case .messages(let messages):
                let (json, tokens) = messagesJSON(messages, lead: lead)
                set.bodies.append(OpenAIRequestBody.make(settings, messagesJSON: json))
                set.promptTokens.append(leadTokens + tokens)
            }
            set.maxTokens.append(maxTokens)
        }
        return set
    }

    /// Bodies needed so that body k pairs source k mod S with prefix group k mod G for every k:
    /// S·G / gcd(S, G) when that is small, else the larger of the two (then pairs repeat unevenly).
    static func entryCount(sources: Int, groups: Int) -> Int {
        var a = sources, b = groups
        while b != 0 { (a, b) = (b, a % b) }
        let lcm = sources / a * groups
        return lcm <= 100_000 ? lcm : max(sources, groups)
    }

    /// The messages with `lead` (prefix and request number) put in front of the first string
    /// `content`; a conversation with none gets a first system message holding the lead. Written
    /// with sorted keys, so a row's messages make the same bytes however the file ordered them.
    static func messagesJSON(_ messages: [JSONValue], lead: String) -> (String, Int) {
        var list = messages
        var tokens = 0
        for message in list {
            if let text = message["content"]?.stringValue { tokens += TokenEstimate.tokens(text) }
            else if let parts = message["content"]?.objectsValue {
                for part in parts { if let text = part["text"]?.stringValue { tokens += TokenEstimate.tokens(text) } }
            }
        }
        if !lead.isEmpty {
            if let first = list.firstIndex(where: { $0["content"]?.stringValue != nil }) {
                list[first].set("content", .string(lead + list[first]["content"]!.stringValue!))
            } else {
                list.insert(.object([("role", .string("system")), ("content", .string(lead))]), at: 0)
            }
        }
        return (JSONValue.array(list).jsonText(sortedKeys: true), tokens)
    }
}
