// The dataset, length and prefix options: their checks against each other, and their lines in the config list.

extension RunOptions {
    /// Options that contradict each other are usage errors, never silently ignored.
    public func checkWorkloadShape() throws(UsageError) {
        let shaped = hasPromptSet || prefixTokens > 0 || outputTokens != nil || outputSpread != .none
        if shaped && !workload.isOpenAI {
            throw UsageError("--workload", "http sends --body as given: --dataset, --input-tokens, --output-tokens, --length-spread and --prefix-tokens need openai-chat or openai-completions")
        }
        if datasetPath != nil && promptFile != nil { throw UsageError("--dataset", "and --prompt-file both give the prompts; use one") }
        if let inputTokens {
            if datasetPath != nil { throw UsageError("--input-tokens", "makes synthetic prompts; it cannot be combined with --dataset (use --dataset-limit, or --prefix-tokens to lengthen rows)") }
            if promptFile != nil { throw UsageError("--input-tokens", "makes synthetic prompts; it cannot be combined with --prompt-file") }
            try lengthSpread.check(nominal: inputTokens, lengthFlag: "--input-tokens", flag: "--length-spread")
        } else if lengthSpread != .none {
            guard lengthSpread.nominal != nil else { throw UsageError("--length-spread", "P% needs --input-tokens N (the length it spreads around)") }
            if datasetPath != nil || promptFile != nil { throw UsageError("--length-spread", "shapes synthetic prompts; it cannot be combined with --dataset or --prompt-file") }
        }
        if let outputTokens { try outputSpread.check(nominal: outputTokens, lengthFlag: "--output-tokens", flag: "--output-spread") }
        if datasetPath == nil && (datasetLimit != nil || datasetOrder != .sequential || datasetFormat != .auto || strict) {
            throw UsageError("--dataset", "is needed by --dataset-format, --dataset-order, --dataset-limit and --strict")
        }
        if prefixGroups > 1 && prefixTokens == 0 { throw UsageError("--prefix-groups", "needs --prefix-tokens N (the length of each group's prefix)") }
        // Enough distinct word sequences for the groups to differ (see SyntheticText.prefixes).
        if prefixTokens > 0 && prefixTokens < 3 && Double(prefixGroups) > pow3(Double(SyntheticText.words.count), prefixTokens) / 2 {
            throw UsageError("--prefix-groups", "\(prefixGroups) groups need a longer --prefix-tokens than \(prefixTokens)")
        }
    }

    private func pow3(_ base: Double, _ exponent: Int) -> Double { exponent == 1 ? base : base * base }

    /// Output lengths: `--output-tokens` when given, else the dataset row's own, else `--max-tokens`.
    public var nominalOutputTokens: Int { outputTokens ?? outputSpread.nominal ?? maxTokens }

    /// The dataset, length and prefix settings, for the report header (only those in use).
    func workloadShapeConfig() -> [(key: String, value: String)] {
        var list: [(key: String, value: String)] = []
        if let datasetPath {
            list += [("dataset", datasetPath), ("dataset_format", datasetFormat.rawValue), ("dataset_order", datasetOrder.rawValue)]
            if let datasetLimit { list.append(("dataset_limit", String(datasetLimit))) }
            if strict { list.append(("strict", "true")) }
        }
        if let nominal = inputTokens ?? lengthSpread.nominal { list.append(("input_tokens", String(nominal))) }
        if lengthSpread != .none { list.append(("length_spread", lengthSpread.description)) }
        if let outputTokens { list.append(("output_tokens", String(outputTokens))) }
        if outputSpread != .none { list.append(("output_spread", outputSpread.description)) }
        if prefixTokens > 0 { list += [("prefix_tokens", String(prefixTokens)), ("prefix_groups", String(prefixGroups))] }
        return list
    }
}
