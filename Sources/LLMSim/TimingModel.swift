// The engine's clock arithmetic: first-token and inter-token delays, jitter, completion lengths.

/// Pure functions of the configuration (and a random stream when jitter or lengths need one);
/// the loop applies them at the model times it keeps. See `SimConfig` for the formulas.
struct TimingModel {
    let ttftNs: UInt64
    let prefillPerTokenNs: UInt64
    let itlNs: UInt64
    let batchItlSlope: Double
    let jitter: Double

    init(_ config: SimConfig) {
        ttftNs = config.ttftNs
        prefillPerTokenNs = config.prefillPerTokenNs
        itlNs = config.itlNs
        batchItlSlope = config.batchItlSlope
        jitter = config.jitter
    }

    /// ttft + prefill-per-token × prompt tokens.
    func firstTokenDelayNs(promptTokens: Int) -> UInt64 {
        ttftNs &+ prefillPerTokenNs &* UInt64(max(promptTokens, 0))
    }

    /// itl × (1 + slope·(running − 1)); exactly itl when the slope is 0 or one request runs.
    func interTokenDelayNs(running: Int) -> UInt64 {
        guard batchItlSlope > 0, running > 1 else { return itlNs }
        return UInt64((Double(itlNs) * (1 + batchItlSlope * Double(running - 1))).rounded())
    }

    /// delay × max(0, 1 + jitter·N(0,1)); draws nothing when jitter is 0, so time stays exact.
    func jittered(_ delayNs: UInt64, _ random: inout SimRandom) -> UInt64 {
        guard jitter > 0 else { return delayNs }
        let factor = max(0, 1 + jitter * random.normal())
        return UInt64((Double(delayNs) * factor).rounded())
    }

    /// vLLM's length rule as a simulation: the full `max_tokens` when EOS is ignored or
    /// `min_tokens` reaches it, else uniform in [max(min_tokens, 1), max_tokens].
    static func completionTokens(maxTokens: Int, minTokens: Int, ignoreEos: Bool, _ random: inout SimRandom) -> Int {
        if ignoreEos || minTokens >= maxTokens { return maxTokens }
        let low = max(minTokens, 1)
        return low + random.below(maxTokens - low + 1)
    }
}
