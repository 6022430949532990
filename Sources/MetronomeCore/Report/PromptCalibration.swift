// Requested vs actual prompt tokens: did the server see prompts of the length the workload asked for?

/// `requested`: the estimate of the bodies scheduled (`TokenEstimate`, see `PromptSet`);
/// `actual`: the server's `usage.prompt_tokens` of the successful requests.
public struct PromptCalibration: Sendable, Equatable {
    public var requestedMean = 0.0
    public var requestedSD = 0.0
    public var actualMean: Double?
    public var actualSD: Double?
    /// The requested counts are exact by construction (one-token words only): a gap of more than
    /// 10 % is worth a warning. For text prompts the estimate is shown but not judged.
    public var exact = false

    /// Actual over requested, minus one; nil without an actual count.
    public var relativeGap: Double? {
        guard let actualMean, requestedMean > 0 else { return nil }
        return actualMean / requestedMean - 1
    }

    static func meanAndSD(sum: Double, squares: Double, count: Double) -> (Double, Double) {
        guard count > 0 else { return (0, 0) }
        let mean = sum / count
        return (mean, (max(0, squares / count - mean * mean)).squareRoot())
    }

    /// Requests 0..<scheduled send body k mod count: whole cycles plus the first `scheduled mod count`.
    init(prompts: PromptSet, scheduled: UInt64, stats: StageStats) {
        let counts = prompts.promptTokens.map(Double.init)
        let n = max(Int(scheduled), 1)
        let cycles = Double(n / counts.count)
        let rest = counts.prefix(n % counts.count)
        let sum = cycles * counts.reduce(0, +) + rest.reduce(0, +)
        let squares = cycles * counts.reduce(0) { $0 + $1 * $1 } + rest.reduce(0) { $0 + $1 * $1 }
        (requestedMean, requestedSD) = Self.meanAndSD(sum: sum, squares: squares, count: Double(n))
        let reported = Double(stats[.promptCountedRequests])
        if reported > 0 {
            let (mean, sd) = Self.meanAndSD(sum: Double(stats[.promptTokensSum]), squares: Double(stats[.promptTokensSquaresSum]), count: reported)
            actualMean = mean
            actualSD = sd
        }
        exact = prompts.exactEstimate
    }

    public init(requestedMean: Double, requestedSD: Double, actualMean: Double?, actualSD: Double?, exact: Bool) {
        self.requestedMean = requestedMean
        self.requestedSD = requestedSD
        self.actualMean = actualMean
        self.actualSD = actualSD
        self.exact = exact
    }

    /// `Prompt tokens: requested 500.0 ± 57.7 (exact: one-token words) · server 504.0 ± 57.7 (+0.8 %)`
    public var textLine: String {
        var line = "Prompt tokens: requested \(Format.fixed(requestedMean, decimals: 1)) ± \(Format.fixed(requestedSD, decimals: 1))"
        line += exact ? " (one-token words)" : " (estimated: one per word or symbol)"
        if let actualMean, let actualSD, let gap = relativeGap {
            line += " · server \(Format.fixed(actualMean, decimals: 1)) ± \(Format.fixed(actualSD, decimals: 1))"
            line += " (\(gap >= 0 ? "+" : "")\(Format.fixed(gap * 100, decimals: 1)) %)"
        } else {
            line += " · server: no usage reported"
        }
        return line
    }

    func write(into json: inout JSONWriter) {
        json.beginObject("prompt_tokens_calibration")
        json.number("requested_mean", requestedMean, decimals: 3)
        json.number("requested_sd", requestedSD, decimals: 3)
        if let actualMean { json.number("actual_mean", actualMean, decimals: 3) } else { json.null("actual_mean") }
        if let actualSD { json.number("actual_sd", actualSD, decimals: 3) } else { json.null("actual_sd") }
        json.bool("exact", exact)
        json.endObject()
    }

    init?(decoding root: JSONFields) throws {
        guard let object = try root.optionalObject("prompt_tokens_calibration") else { return nil }
        self.init(requestedMean: try object.number("requested_mean"), requestedSD: try object.number("requested_sd"),
                  actualMean: try object.optionalNumber("actual_mean"), actualSD: try object.optionalNumber("actual_sd"),
                  exact: try object.bool("exact"))
    }
}

extension RunSummary {
    /// Sets the calibration and warns when exact requested lengths and the server's counts differ by more than 10 %.
    mutating func addPromptCalibration(_ prompts: PromptSet, scheduled: UInt64, stats: StageStats) {
        let calibration = PromptCalibration(prompts: prompts, scheduled: scheduled, stats: stats)
        promptCalibration = calibration
        if calibration.exact, let gap = calibration.relativeGap, abs(gap) > 0.10 {
            warnings.append("the server counted \(Format.fixed(calibration.actualMean ?? 0, decimals: 1)) prompt tokens on average where \(Format.fixed(calibration.requestedMean, decimals: 1)) were requested (\(gap >= 0 ? "+" : "")\(Format.fixed(gap * 100, decimals: 1)) %): its tokenizer splits the synthetic words differently, or a chat template adds tokens per message (a few to ~30), which weighs on short prompts")
        }
    }
}
