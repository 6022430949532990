// When each kind of failure was first and last seen, and the first distinct error messages.

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

    private var outcomeFirstNs = [UInt64](repeating: 0, count: Outcome.count)
    private var outcomeLastNs = [UInt64](repeating: 0, count: Outcome.count)
    private var outcomeCount = [UInt64](repeating: 0, count: Outcome.count)
    private var statusFirstNs = [UInt64](repeating: 0, count: RunStats.statusCodeCount)
    private var statusLastNs = [UInt64](repeating: 0, count: RunStats.statusCodeCount)
    private var statusCount = [UInt64](repeating: 0, count: RunStats.statusCodeCount)
    /// The first few distinct (kind, status, message) the server sent in error bodies or events,
    /// secrets masked.
    public private(set) var messages: [(kind: String, status: Int, message: String, count: UInt64)] = []
    /// Each kept message as the server sent it (clipped): repeats are recognised by these bytes, and
    /// they never leave this object.
    private var receivedMessages: [[UInt8]] = []
    /// Applied when a message is first kept, so no report can show what the server echoed of them.
    var mask: SecretMask

    init(mask: SecretMask = SecretMask()) { self.mask = mask }

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
    /// sent); counts repeats of one already kept without allocating.
    func noteMessage(_ outcome: Outcome, status: Int, message bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0 else { return }
        let clipped = UnsafeRawBufferPointer(rebasing: bytes.prefix(FailureLog.maxMessageBytes))
        for index in messages.indices where messages[index].status == status && messages[index].kind == outcome.key {
            if receivedMessages[index].elementsEqual(clipped) {
                messages[index].count &+= 1
                return
            }
        }
        guard messages.count < FailureLog.maxMessages else { return }
        receivedMessages.append(Array(clipped))
        messages.append((outcome.key, status, mask.masked(String(decoding: clipped, as: UTF8.self)), 1))
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
