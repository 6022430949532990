// Did the 200/200 workload hold? Where token counts came from, and warnings when they drift.

extension RunSummary {
    /// `usage` when every successful request carried the server's counts, `events` when none did
    /// (counted from content events), `mixed` otherwise, `none` without successes.
    public var usageSource: String {
        let counted = total.tokenCountedRequests
        guard counted > 0 else { return "none" }
        if total.usageReportedRequests == counted { return "usage" }
        return total.usageReportedRequests == 0 ? "events" : "mixed"
    }

    /// `requestedOutputMean`: the mean max_tokens of the bodies sent, when they vary (dataset rows, --output-spread).
    mutating func addTokenChecks(options: RunOptions, requestedOutputMean: Double? = nil) {
        isLLM = true
        stream = options.stream
        maxTokens = options.nominalOutputTokens
        uniquePrompts = options.effectiveUniquePrompts
        if usageSource == "events" || usageSource == "mixed" {
            warnings.append("the server sent no usage for \(total.tokenCountedRequests - total.usageReportedRequests) requests: their completion tokens were counted from content events (one per event), which undercounts when a server packs several tokens in one event")
        }
        let asked = requestedOutputMean ?? Double(options.nominalOutputTokens)
        if let completion = total.completionTokens, completion.mean < 0.95 * asked {
            let what = requestedOutputMean == nil ? "max_tokens \(options.nominalOutputTokens)" : "the \(Format.fixed(asked, decimals: 1)) max_tokens asked on average"
            warnings.append("completion tokens averaged \(Format.fixed(completion.mean, decimals: 1)), below 95 % of \(what): the server stopped early (end of sequence); add --ignore-eos for a fixed output length")
        }
        if let expected = options.expectPromptTokens, let prompt = total.promptTokens,
           abs(prompt.mean - Double(expected)) > 0.10 * Double(expected) {
            warnings.append("prompt tokens averaged \(Format.fixed(prompt.mean, decimals: 1)), more than 10 % away from --expect-prompt-tokens \(expected)")
        }
    }
}
