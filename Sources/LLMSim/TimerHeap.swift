// The loop's deadlines: a binary min-heap of (deadline, slot, ticket), behind the one timerfd.

struct TimerEntry {
    var deadlineNs: UInt64
    var slot: UInt32
    /// Must equal the slot's ticket when the entry fires; a slot bumps its ticket to cancel.
    var ticket: UInt32
}

/// Entries are never removed early: a cancelled one stays until it reaches the top and is
/// skipped by its stale ticket, which keeps push and pop O(log n) and the heap a flat array.
struct TimerHeap {
    private var entries: UnsafeMutablePointer<TimerEntry>
    private var capacity: Int
    private(set) var count = 0

    init(capacity: Int = 1024) {
        self.capacity = capacity
        entries = .allocate(capacity: capacity)
    }

    func deallocate() { entries.deallocate() }

    var isEmpty: Bool { count == 0 }

    /// The earliest deadline, or 0 when there is none.
    var earliestNs: UInt64 { count > 0 ? entries[0].deadlineNs : 0 }

    mutating func push(_ entry: TimerEntry) {
        if count == capacity { grow() }
        var child = count
        count += 1
        while child > 0 {
            let parent = (child - 1) >> 1
            if entries[parent].deadlineNs <= entry.deadlineNs { break }
            entries[child] = entries[parent]
            child = parent
        }
        entries[child] = entry
    }

    /// Removes and returns the earliest entry if it is due by `nowNs`.
    mutating func popDue(nowNs: UInt64) -> TimerEntry? {
        guard count > 0, entries[0].deadlineNs <= nowNs else { return nil }
        let top = entries[0]
        count -= 1
        if count > 0 { siftDown(entries[count]) }
        return top
    }

    private mutating func siftDown(_ entry: TimerEntry) {
        var parent = 0
        while true {
            var child = 2 * parent + 1
            if child >= count { break }
            if child + 1 < count && entries[child + 1].deadlineNs < entries[child].deadlineNs { child += 1 }
            if entry.deadlineNs <= entries[child].deadlineNs { break }
            entries[parent] = entries[child]
            parent = child
        }
        entries[parent] = entry
    }

    private mutating func grow() {
        let grown = UnsafeMutablePointer<TimerEntry>.allocate(capacity: capacity * 2)
        grown.moveInitialize(from: entries, count: count)
        entries.deallocate()
        entries = grown
        capacity *= 2
    }
}

/// A FIFO of (slot, generation): the waiting queue and the freeze-held list. Entries for
/// connections closed meanwhile are skipped by their stale generation when popped.
struct SlotQueue {
    private var entries: UnsafeMutablePointer<UInt64>
    private var mask: Int
    private var head = 0
    private var tail = 0

    init(capacity: Int = 256) {
        var size = 1
        while size < capacity { size <<= 1 }
        entries = .allocate(capacity: size)
        mask = size - 1
    }

    func deallocate() { entries.deallocate() }

    var count: Int { tail - head }
    var isEmpty: Bool { head == tail }

    mutating func push(slot: UInt32, generation: UInt32) {
        if count == mask + 1 { grow() }
        entries[tail & mask] = UInt64(generation) << 32 | UInt64(slot)
        tail += 1
    }

    mutating func pop() -> (slot: UInt32, generation: UInt32)? {
        guard head < tail else { return nil }
        let value = entries[head & mask]
        head += 1
        if head == tail {
            head = 0
            tail = 0
        }
        return (UInt32(truncatingIfNeeded: value), UInt32(truncatingIfNeeded: value >> 32))
    }

    private mutating func grow() {
        let size = (mask + 1) * 2
        let grown = UnsafeMutablePointer<UInt64>.allocate(capacity: size)
        for i in 0..<count { grown[i] = entries[(head + i) & mask] }
        tail = count
        head = 0
        entries.deallocate()
        entries = grown
        mask = size - 1
    }
}
