// `--shard I/N`: one of N processes that together send one seeded schedule.

/// The part of the schedule a process sends: the arrivals k ≡ `index` (mod `count`), k counted from 0
/// over the one seeded schedule every shard draws in full. The union of the N shards is then exactly
/// the single-process schedule, constant and Poisson alike, and a request keeps its global number k
/// (its body, its `--unique-prompts` number) whichever shard sends it.
public struct Shard: Sendable, Equatable, CustomStringConvertible {
    public let index: Int
    public let count: Int

    /// The whole schedule: shard 0 of 1.
    public static let whole = Shard(uncheckedIndex: 0, count: 1)

    init(uncheckedIndex index: Int, count: Int) {
        self.index = index
        self.count = count
    }

    /// `I/N` with 0 ≤ I < N ≤ 4096 (Kubernetes' completion index counts from 0 too).
    public init(parsing text: String) throws(UsageError) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let index = Int(parts[0]), let count = Int(parts[1]) else {
            throw UsageError("--shard", "takes I/N, this process's index from 0 and the number of shards, e.g. 0/4 (got '\(text)')")
        }
        guard (1...Shard.maxCount).contains(count) else {
            throw UsageError("--shard", "N must be from 1 to \(Shard.maxCount) (got '\(text)')")
        }
        guard (0..<count).contains(index) else {
            throw UsageError("--shard", "I must be from 0 to N-1 = \(count - 1): shards count from 0 (got '\(text)')")
        }
        self.init(uncheckedIndex: index, count: count)
    }

    public static let maxCount = 4096

    public var isWhole: Bool { count == 1 }
    public var description: String { "\(index)/\(count)" }

    /// Whether arrival k (from 0) of the schedule is this shard's.
    @inline(__always)
    func owns(_ k: UInt64) -> Bool { count == 1 || k % UInt64(count) == UInt64(index) }
}
