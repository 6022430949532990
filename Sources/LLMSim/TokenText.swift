// Deterministic generated text: token j of request r under a seed is a word from a fixed list.

/// The words live in one contiguous table built once, so picking a token is a hash and two loads.
/// Every word but a response's first starts with a space, as BPE tokens of English prose do.
struct TokenVocabulary {
    private let bytes: UnsafeMutablePointer<UInt8>
    private let offsets: UnsafeMutablePointer<Int>   // words + 1 entries: word i is offsets[i]..<offsets[i+1]
    let count: Int
    let seed: UInt64

    init(seed: UInt64) {
        let words = [
            "the", "of", "and", "to", "in", "a", "is", "that", "for", "it", "as", "was", "with", "be", "by", "on",
            "not", "this", "are", "or", "from", "at", "which", "but", "have", "an", "had", "they", "you", "were",
            "their", "one", "all", "we", "can", "has", "there", "been", "if", "more", "when", "will", "would",
            "who", "so", "no", "time", "model", "server", "token", "stream", "latency", "request", "queue",
            "batch", "load", "rate", "test", "simple", "clock", "steady", "open", "loop", "answer",
        ]
        let total = words.reduce(0) { $0 + $1.utf8.count + 1 }
        bytes = .allocate(capacity: total)
        offsets = .allocate(capacity: words.count + 1)
        var at = 0
        for (i, word) in words.enumerated() {
            offsets[i] = at
            bytes[at] = 0x20
            at += 1
            for byte in word.utf8 {
                bytes[at] = byte
                at += 1
            }
        }
        offsets[words.count] = at
        count = words.count
        self.seed = seed
    }

    func deallocate() {
        bytes.deallocate()
        offsets.deallocate()
    }

    /// Token `index` of request number `request`: its bytes (no leading space for index 0).
    @inline(__always)
    func token(request: UInt64, index: Int) -> UnsafeRawBufferPointer {
        let h = mix64(seed ^ mix64(request &+ 0x1234_5678) ^ (UInt64(truncatingIfNeeded: index) &* 0x9E37_79B9_7F4A_7C15))
        let word = Int(h % UInt64(count))
        var start = offsets[word]
        if index == 0 { start += 1 }
        return UnsafeRawBufferPointer(start: bytes + start, count: offsets[word + 1] - start)
    }
}
