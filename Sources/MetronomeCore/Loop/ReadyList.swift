// Connections whose read budget ran out with bytes still waiting: read again on the next loop turn.

/// A ring of slot tokens (slot and generation), allocated once. Edge-triggered epoll reports no new
/// edge for bytes already waiting, so a connection that stopped reading early must be remembered here.
struct ReadyList {
    private let storage: UnsafeMutablePointer<UInt64>
    let capacity: Int
    private var head = 0
    private(set) var count = 0

    /// Room for every slot twice: a slot closed and reopened within one turn leaves a stale token
    /// (dropped by its generation) beside its new one.
    init(slots: Int) {
        capacity = max(2 * slots, 2)
        storage = .allocate(capacity: capacity)
    }

    func deallocate() { storage.deallocate() }

    var isEmpty: Bool { count == 0 }

    /// False when full: the caller then reads on instead of yielding.
    @inline(__always)
    mutating func pushBack(_ token: UInt64) -> Bool {
        guard count < capacity else { return false }
        var tail = head + count
        if tail >= capacity { tail -= capacity }
        storage[tail] = token
        count += 1
        return true
    }

    @inline(__always)
    mutating func popFront() -> UInt64? {
        guard count > 0 else { return nil }
        let token = storage[head]
        head += 1
        if head == capacity { head = 0 }
        count -= 1
        return token
    }
}
