// When each kind of failure was first and last seen, and the first distinct error messages.

import Glibc

/// Written by the loop thread on failure paths only; read after the run.
public final class FailureLog: @unchecked Sendable {
    public struct Entry: Sendable {
        /// The outcome's key, e.g. `http_error`, `timeout`.
        public var kind: String
        /// For `http_error`, the status code; 0 otherwise.
        public var status: Int
        public var count: UInt64
        public var firstSeenNs: UInt64
        public var lastSeenNs: UInt64
    }

    public static let maxMessages = 8
    public static let maxMessageBytes = 300

    /// First and last seen and count, by outcome (`outcome*`) and by HTTP status (`status*`): raw
    /// storage allocated once, so the loop's failure path neither allocates nor pays the exclusivity
    /// check of a class's array property.
    private let outcomeFirstNs = FailureLog.zeroed(Outcome.count)
    private let outcomeLastNs = FailureLog.zeroed(Outcome.count)
    private let outcomeCount = FailureLog.zeroed(Outcome.count)
    private let statusFirstNs = FailureLog.zeroed(RunStats.statusCodeCount)
    private let statusLastNs = FailureLog.zeroed(RunStats.statusCodeCount)
    private let statusCount = FailureLog.zeroed(RunStats.statusCodeCount)

    /// The first few distinct (kind, status, message) the server sent in error bodies or events,
    /// secrets masked.
    public var messages: [(kind: String, status: Int, message: String, count: UInt64)] {
        (0..<keptTexts.count).map { index in
            let kept = kept[index]
            return (Outcome(rawValue: Int(kept.outcome))!.key, kept.status, keptTexts[index], kept.count)
        }
    }
    /// The masked text of each kept message; appended to only when a new message is kept.
    private var keptTexts: [String] = []
    /// Each kept message's outcome, status, count, and its bytes as the server sent them (clipped,
    /// UTF-8 repaired as the text is): repeats are recognised by these bytes, compared in place, and
    /// they never leave this object.
    private struct Kept {
        var outcome: UInt8
        var status: Int
        var count: UInt64
        var length: Int
    }
    private let kept = UnsafeMutablePointer<Kept>.allocate(capacity: FailureLog.maxMessages)
    private let keptBytes = UnsafeMutablePointer<UInt8>.allocate(capacity: FailureLog.maxMessages * FailureLog.maxMessageBytes)
    /// Applied when a message is first kept, so no report can show what the server echoed of them.
    var mask: SecretMask

    init(mask: SecretMask = SecretMask()) { self.mask = mask }

    deinit {
        for storage in [outcomeFirstNs, outcomeLastNs, outcomeCount, statusFirstNs, statusLastNs, statusCount] {
            storage.deallocate()
        }
        kept.deallocate()
        keptBytes.deallocate()
    }

    private static func zeroed(_ count: Int) -> UnsafeMutablePointer<UInt64> {
        let storage = UnsafeMutablePointer<UInt64>.allocate(capacity: count)
        storage.initialize(repeating: 0, count: count)
        return storage
    }

    @inline(__always)
    func note(_ outcome: Outcome, status: Int, nowNs: UInt64) {
        if outcome == .httpError {
            let code = min(max(status, 0), RunStats.statusCodeCount - 1)
            if statusCount[code] == 0 { statusFirstNs[code] = nowNs }
            statusLastNs[code] = nowNs
            statusCount[code] &+= 1
        } else {
            let index = outcome.rawValue
            if outcomeCount[index] == 0 { outcomeFirstNs[index] = nowNs }
            outcomeLastNs[index] = nowNs
            outcomeCount[index] &+= 1
        }
    }

    /// Keeps a server's error message, its secrets masked once here (a server may echo the key it was
    /// sent); counts a repeat of one already kept, or drops a new one once `maxMessages` are kept,
    /// without allocating (unless its bytes are not valid UTF-8, which only the text can match).
    func noteMessage(_ outcome: Outcome, status: Int, message bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0 else { return }
        let clipped = UnsafeRawBufferPointer(rebasing: bytes.prefix(FailureLog.maxMessageBytes))
        if let index = keptIndex(outcome, status: status, bytes: clipped) {
            kept[index].count &+= 1
            return
        }
        // Valid UTF-8 is kept as received, so no kept message can match it differently.
        if keptTexts.count == FailureLog.maxMessages && Self.isValidUTF8(clipped) { return }
        // New, or invalid UTF-8 whose repaired text may match a kept one.
        var text = String(decoding: clipped, as: UTF8.self)
        let matched: Int? = text.withUTF8 { keptIndex(outcome, status: status, bytes: UnsafeRawBufferPointer($0)) }
        if let matched {
            kept[matched].count &+= 1
            return
        }
        guard keptTexts.count < FailureLog.maxMessages else { return }
        let index = keptTexts.count
        let length = text.withUTF8 { repaired in
            let length = min(repaired.count, FailureLog.maxMessageBytes)
            (keptBytes + index * FailureLog.maxMessageBytes).update(from: repaired.baseAddress!, count: length)
            return length
        }
        kept[index] = Kept(outcome: UInt8(outcome.rawValue), status: status, count: 1, length: length)
        keptTexts.append(mask.masked(text))
    }

    /// The kept message with these bytes, outcome and status, if any.
    private func keptIndex(_ outcome: Outcome, status: Int, bytes: UnsafeRawBufferPointer) -> Int? {
        for index in 0..<keptTexts.count {
            let entry = kept[index]
            guard entry.outcome == UInt8(outcome.rawValue), entry.status == status, entry.length == bytes.count else { continue }
            if memcmp(keptBytes + index * FailureLog.maxMessageBytes, bytes.baseAddress!, bytes.count) == 0 { return index }
        }
        return nil
    }

    private static func isValidUTF8(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue: continue
            case .emptyInput: return true
            case .error: return false
            }
        }
    }

    /// Every failure kind seen (HTTP errors by status), in outcome order.
    public var entries: [Entry] {
        var list: [Entry] = []
        for outcome in Outcome.allCases where outcome != .success {
            if outcome == .httpError {
                for code in 0..<RunStats.statusCodeCount where statusCount[code] > 0 {
                    list.append(Entry(kind: outcome.key, status: code, count: statusCount[code],
                                      firstSeenNs: statusFirstNs[code], lastSeenNs: statusLastNs[code]))
                }
            } else if outcomeCount[outcome.rawValue] > 0 {
                list.append(Entry(kind: outcome.key, status: 0, count: outcomeCount[outcome.rawValue],
                                  firstSeenNs: outcomeFirstNs[outcome.rawValue], lastSeenNs: outcomeLastNs[outcome.rawValue]))
            }
        }
        return list
    }
}
