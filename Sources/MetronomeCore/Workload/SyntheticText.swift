// Prompts and shared prefixes of a chosen length in tokens, made of words that are one token each.

/// The words: common three-letter English words. With the leading space that joins them, each is a
/// single token in GPT's cl100k/o200k and Llama 3 vocabularies (and in Gemma's, larger still):
/// frequent short words are among the first merges of every English BPE. Three letters plus the
/// space is four characters, so llmsim's ⌈characters / 4⌉ also counts one token per word, and
/// `TokenEstimate` counts one. No tokenizer was run here; the calibration in every report
/// (requested vs the server's `usage.prompt_tokens`) is the check on a real server.
public enum SyntheticText {
    public static let words: [String] = [
        "the", "and", "for", "are", "but", "not", "you", "all", "any", "can", "had", "her", "was", "one", "our", "out",
        "day", "get", "has", "him", "his", "how", "man", "new", "now", "old", "see", "two", "way", "who", "did", "its",
        "let", "put", "say", "she", "too", "use", "big", "end", "far", "few", "got", "run", "set", "try", "ask", "own",
        "men", "why", "yes", "yet", "off", "may", "job", "top", "war", "law", "car", "age", "air", "art", "bad", "bed",
        "box", "buy", "cut", "dog", "eat", "eye", "fit", "fun", "gas", "hot", "key", "kid", "lot", "low", "map", "oil",
        "pay", "per", "red", "sea", "sit", "six", "sun", "ten", "tax", "win", "act", "add", "ago", "bit", "bus", "cup",
    ]

    /// `count` words drawn at random, joined by single spaces (one token each).
    public static func words(_ count: Int, random: inout SeededRandom) -> String {
        var text = ""
        text.reserveCapacity(count * 4)
        for index in 0..<count {
            if index > 0 { text += " " }
            text += words[Int(random.next() % UInt64(words.count))]
        }
        return text
    }

    /// `groups` distinct prefixes of `tokens` words each, seeded by `seed`. Two groups never share
    /// their first word when there are few enough groups (each starts with its own word), so no
    /// prefix cache block is shared between groups.
    public static func prefixes(tokens: Int, groups: Int, seed: UInt64) -> [String] {
        var random = SeededRandom(seed: seed ^ 0x7072_6566_6978) // "prefix": apart from the prompts' stream
        var seen = Set<String>()
        var result: [String] = []
        for group in 0..<groups {
            while true {
                var text = words(tokens, random: &random)
                if groups <= words.count && tokens > 0 {
                    // Replace the first word by the group's own, so groups differ from their first token.
                    let rest = text.firstIndex(of: " ").map { String(text[$0...]) } ?? ""
                    text = words[(group * 37) % words.count] + rest
                }
                if seen.insert(text).inserted { result.append(text); break }
            }
        }
        return result
    }
}
