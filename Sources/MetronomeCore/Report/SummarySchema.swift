// One description of a phase's members that both directions follow: `JSONReport` writes through it and
// `SummaryDecoder` reads through it, so a member cannot be written and then forgotten on the way back.

/// A direction over the summary's members: `SummaryWriter` puts each value into JSON, `SummaryReader`
/// takes each from parsed JSON. `optional` members are read as their default when the file lacks them
/// (files written before they existed, or by `--json`, which leaves some out).
protocol SummaryCoder {
    var detail: JSONReport.Detail { get }
    mutating func count(_ key: String, _ value: inout UInt64, optional: Bool) throws
    mutating func number(_ key: String, _ value: inout Double, decimals: Int, optional: Bool) throws
    mutating func percentiles(_ key: String, _ value: inout Percentiles, optional: Bool) throws
    mutating func tokens(_ key: String, _ value: inout TokenStats?) throws
    /// An array of numbers (`[]` read as missing when optional).
    mutating func numbers(_ key: String, _ value: inout [Double], decimals: Int, optional: Bool) throws
    /// Optional strings are left out when empty, and read as empty when missing.
    mutating func string(_ key: String, _ value: inout String, optional: Bool) throws
    mutating func bool(_ key: String, _ value: inout Bool) throws
    mutating func integer(_ key: String, _ value: inout Int, optional: Bool) throws
    /// A number or null (nil); a missing one reads as nil.
    mutating func optionalNumber(_ key: String, _ value: inout Double?, decimals: Int) throws
    /// `{kind: count}` in `Outcome` order (unknown kinds last, by name, when read).
    mutating func outcomeCounts(_ key: String, _ value: inout [(kind: String, count: UInt64)]) throws
}

extension SummaryCoder {
    mutating func count(_ key: String, _ value: inout UInt64) throws { try count(key, &value, optional: false) }
    mutating func number(_ key: String, _ value: inout Double, decimals: Int) throws { try number(key, &value, decimals: decimals, optional: false) }
    mutating func percentiles(_ key: String, _ value: inout Percentiles) throws { try percentiles(key, &value, optional: false) }
    mutating func string(_ key: String, _ value: inout String) throws { try string(key, &value, optional: false) }
}

extension RunSummary {
    /// The run's first members: what was loaded, and how (the closed loop's `mode` follows them).
    mutating func codeTarget<Coder: SummaryCoder>(_ coder: inout Coder) throws {
        try coder.string("target", &target)
        try coder.string("address", &address)
        try coder.string("workload", &workload)
    }

    /// The plan as it ran (after `mode`; the scale-out members follow `seed` in the writer).
    mutating func codeSchedule<Coder: SummaryCoder>(_ coder: inout Coder) throws {
        try coder.string("arrival", &arrival)
        try coder.count("seed", &seed)
    }

    mutating func codeDurations<Coder: SummaryCoder>(_ coder: inout Coder) throws {
        let decimals = coder.detail.decimals
        try coder.integer("max_connections", &maxConnections, optional: false)
        try coder.number("planned_duration_s", &plannedDurationS, decimals: decimals)
        try coder.number("ran_s", &ranS, decimals: decimals)
        try coder.number("elapsed_s", &elapsedS, decimals: decimals)
        try coder.bool("interrupted", &interrupted)
        try coder.bool("target_unreachable", &targetUnreachable)
    }

    /// What the generator warnings are judged on (`GeneratorHealth`).
    mutating func codeGenerator<Coder: SummaryCoder>(_ coder: inout Coder) throws {
        try coder.number("generator_cpu_s", &loopCPUSeconds, decimals: coder.detail.decimals)
        try coder.integer("generator_involuntary_switches", &loopInvoluntarySwitches, optional: true)
        try coder.optionalNumber("load_average_1m", &hostLoad.loadAverage1m, decimals: 2)
        try coder.integer("cores", &hostLoad.cores, optional: true)
        // Files written before connect times were measured have none.
        try coder.percentiles("connect_ms", &connectTime, optional: true)
        try coder.string("tls_version", &tlsVersion, optional: true)
        try coder.string("tls_verify", &tlsVerify, optional: true)
        if !tlsVerify.isEmpty || coder is SummaryReader { try coder.percentiles("tls_handshake_ms", &tlsHandshakeTime, optional: true) }
    }
}

extension PhaseSummary {
    /// Every member of a phase (the whole run's, or a stage's) in file order, but the stage's name,
    /// times, rates and verdict, which its container writes. `llm`: the OpenAI members are there.
    mutating func code<Coder: SummaryCoder>(_ coder: inout Coder, llm: Bool) throws {
        let decimals = coder.detail.decimals
        try coder.count("scheduled", &scheduled)
        try coder.count("sent", &sent)
        try coder.count("completed", &completed)
        try coder.count("succeeded", &succeeded)
        try coder.count("failed", &failed)
        try coder.count("dropped", &dropped)
        try coder.count("unfinished", &unfinished)
        try coder.number("offered_rps", &offeredRps, decimals: decimals)
        try coder.number("achieved_rps", &achievedRps, decimals: decimals)
        try coder.number("error_rate", &errorRate, decimals: coder.detail.rateDecimals)
        try coder.percentiles("latency_ms", &latency)
        try coder.percentiles("service_time_ms", &serviceTime)
        try coder.percentiles("send_lag_ms", &sendLag)
        if coder.detail == .full { try coder.number("mean_response_bytes", &meanResponseBytes, decimals: decimals, optional: true) }
        if llm {
            try coder.percentiles("ttft_ms", &ttft)
            // Files written before TTFT from the first byte sent have none.
            try coder.percentiles("ttft_sent_ms", &ttftSent, optional: true)
            try coder.percentiles("itl_ms", &itl)
            try coder.percentiles("tpot_ms", &tpot)
            try coder.number("output_tokens_per_s", &outputTokensPerS, decimals: decimals)
            try coder.tokens("prompt_tokens", &promptTokens)
            try coder.tokens("completion_tokens", &completionTokens)
            if coder.detail == .full {
                try coder.count("usage_reported_requests", &usageReportedRequests, optional: true)
                try coder.count("token_counted_requests", &tokenCountedRequests, optional: true)
            }
        }
        try coder.outcomeCounts("errors", &errors)
    }

    /// A phase with its place in the plan and every figure zero, for a reader to fill in.
    init(name: String, startS: Double, endS: Double, startRate: Double, endRate: Double) {
        self.name = name
        self.startS = startS
        self.endS = endS
        self.startRate = startRate
        self.endRate = endRate
    }
}

extension SecondSample {
    /// Every member of a second of the series, in file order. The run-so-far members (what
    /// `_stats_history.csv` prints) are kept so that a merge or a re-render has them too.
    mutating func code<Coder: SummaryCoder>(_ coder: inout Coder) throws {
        let decimals = coder.detail.decimals
        try coder.number("end_s", &endS, decimals: decimals)
        try coder.number("wall_clock", &wallClockS, decimals: 6)
        try coder.count("offered", &scheduled)
        try coder.count("achieved", &succeeded)
        // Members added later: files written before them read 0.
        try coder.count("achieved_by_intended", &succeededByIntended, optional: true)
        try coder.count("failed", &failed)
        try coder.count("in_flight", &inFlight)
        try coder.count("queued", &queued)
        try coder.count("output_tokens", &outputTokens)
        try coder.number("p50_ms", &p50Ms, decimals: decimals)
        try coder.number("p95_ms", &p95Ms, decimals: decimals)
        try coder.number("p99_ms", &p99Ms, decimals: decimals)
        try coder.number("ttft_p50_ms", &ttftP50Ms, decimals: decimals, optional: true)
        try coder.number("ttft_p95_ms", &ttftP95Ms, decimals: decimals, optional: true)
        try coder.number("itl_p50_ms", &itlP50Ms, decimals: decimals, optional: true)
        try coder.number("itl_p95_ms", &itlP95Ms, decimals: decimals, optional: true)
        try coder.numbers("cumulative_ms", &cumulative, decimals: decimals, optional: true)
        try coder.count("cumulative_succeeded", &cumulativeSucceeded, optional: true)
        try coder.count("cumulative_failed", &cumulativeFailed, optional: true)
        try coder.number("cumulative_mean_ms", &cumulativeMeanMs, decimals: decimals, optional: true)
        try coder.number("cumulative_min_ms", &cumulativeMinMs, decimals: decimals, optional: true)
        try coder.number("cumulative_max_ms", &cumulativeMaxMs, decimals: decimals, optional: true)
        try coder.number("cumulative_mean_bytes", &cumulativeMeanBytes, decimals: decimals, optional: true)
    }
}

/// Writes each member into the JSON text the caller owns (lent for the call: no copy of the text).
struct SummaryWriter: SummaryCoder {
    let json: UnsafeMutablePointer<JSONWriter>
    let detail: JSONReport.Detail

    func count(_ key: String, _ value: inout UInt64, optional: Bool) { json.pointee.int(key, value) }
    func number(_ key: String, _ value: inout Double, decimals: Int, optional: Bool) { json.pointee.number(key, value, decimals: decimals) }
    func percentiles(_ key: String, _ value: inout Percentiles, optional: Bool) {
        JSONReport.percentiles(key, value, into: &json.pointee, detail: detail)
    }
    func tokens(_ key: String, _ value: inout TokenStats?) { JSONReport.tokens(key, value, into: &json.pointee, detail: detail) }
    func numbers(_ key: String, _ value: inout [Double], decimals: Int, optional: Bool) {
        json.pointee.beginArray(key)
        for number in value { json.pointee.number(nil, number, decimals: decimals) }
        json.pointee.endArray()
    }
    func string(_ key: String, _ value: inout String, optional: Bool) {
        if !optional || !value.isEmpty { json.pointee.string(key, value) }
    }
    func bool(_ key: String, _ value: inout Bool) { json.pointee.bool(key, value) }
    func integer(_ key: String, _ value: inout Int, optional: Bool) { json.pointee.int(key, value) }
    func optionalNumber(_ key: String, _ value: inout Double?, decimals: Int) {
        if let number = value { json.pointee.number(key, number, decimals: decimals) } else { json.pointee.null(key) }
    }
    func outcomeCounts(_ key: String, _ value: inout [(kind: String, count: UInt64)]) {
        json.pointee.beginObject(key)
        for (kind, count) in value { json.pointee.int(kind, count) }
        json.pointee.endObject()
    }
}

/// Reads each member from a parsed object of a summary file (always the full detail).
struct SummaryReader: SummaryCoder {
    let fields: JSONFields
    var detail: JSONReport.Detail { .full }

    func count(_ key: String, _ value: inout UInt64, optional: Bool) throws {
        if optional && !fields.has(key) { return }
        value = try fields.unsigned(key)
    }
    func number(_ key: String, _ value: inout Double, decimals: Int, optional: Bool) throws {
        if optional && !fields.has(key) { return }
        value = try fields.number(key)
    }
    func percentiles(_ key: String, _ value: inout Percentiles, optional: Bool) throws {
        if optional && !fields.has(key) { return }
        value = try fields.percentiles(key)
    }
    func tokens(_ key: String, _ value: inout TokenStats?) throws { value = try fields.tokens(key) }
    func numbers(_ key: String, _ value: inout [Double], decimals: Int, optional: Bool) throws {
        if optional && !fields.has(key) { return }
        value = try fields.array(key).enumerated().map { index, item in
            guard let number = item.doubleValue else { throw fields.fail("\(key)[\(index)]", "not a number") }
            return number
        }
    }
    func string(_ key: String, _ value: inout String, optional: Bool) throws {
        if optional && !fields.has(key) { return }
        value = try fields.string(key)
    }
    func bool(_ key: String, _ value: inout Bool) throws { value = try fields.bool(key) }
    func integer(_ key: String, _ value: inout Int, optional: Bool) throws {
        if optional && !fields.has(key) { return }
        value = try fields.integer(key)
    }
    func optionalNumber(_ key: String, _ value: inout Double?, decimals: Int) throws { value = try fields.optionalNumber(key) }
    func outcomeCounts(_ key: String, _ value: inout [(kind: String, count: UInt64)]) throws {
        // JSON objects forget their order; errors are listed in `Outcome` order, unknown kinds last.
        let object = try fields.object(key)
        let known = Outcome.allCases.map(\.key)
        let kinds = object.keys.sorted { (known.firstIndex(of: $0) ?? known.count, $0) < (known.firstIndex(of: $1) ?? known.count, $1) }
        value = try kinds.map { ($0, try object.unsigned($0)) }
    }
}
