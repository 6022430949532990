// How many tokens a text is, without a tokenizer: the estimate behind every "requested" count.

/// One token per run of ASCII letters or digits, plus one per other non-space character
/// (punctuation, symbols, each non-ASCII character). Common English words are one token in the
/// large BPE vocabularies (GPT's cl100k/o200k, Llama 3, Gemma), and punctuation is split off:
/// on the llama.cpp fixture's prompt (Gemma 3, /work/shared/fixtures/llamacpp) it gives 185, and
/// the server counted 194 = 185 + the 9 tokens of Gemma's chat template. ⌈characters / 4⌉ gives
/// 247 there; words × 1.3 gives 202. Long or rare words and code split into more pieces, so the
/// estimate reads low for them.
public enum TokenEstimate {
    public static func tokens(_ text: String) -> Int {
        var count = 0
        var inWord = false
        for scalar in text.unicodeScalars {
            let value = scalar.value
            let isWordByte = (value >= 0x30 && value <= 0x39) || (value >= 0x41 && value <= 0x5A) || (value >= 0x61 && value <= 0x7A)
            if isWordByte {
                if !inWord { count += 1 }
                inWord = true
                continue
            }
            inWord = false
            if !scalar.properties.isWhitespace { count += 1 }
        }
        return count
    }
}
