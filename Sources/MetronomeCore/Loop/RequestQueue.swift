// The bounded FIFO of requests that are due but have no connection yet.

struct QueuedRequest {
    var intendedNs: UInt64
    var sequence: UInt64
    var stage: Int32
    /// Re-sent after a stale keep-alive connection: its first send was already counted.
    var isRetry = false
}

/// A ring buffer allocated once at its full capacity (`--max-queue`).
struct RequestQueue {
    private let storage: UnsafeMutablePointer<QueuedRequest>
    let capacity: Int
    private var head = 0
    private(set) var count = 0

    init(capacity: Int) {
        self.capacity = max(capacity, 1)
        storage = .allocate(capacity: self.capacity)
    }

    func deallocate() { storage.deallocate() }

    var isEmpty: Bool { count == 0 }
    var isFull: Bool { count == capacity }

    @inline(__always)
    mutating func pushBack(_ request: QueuedRequest) {
        precondition(count < capacity)
        var tail = head + count
        if tail >= capacity { tail -= capacity }
        (storage + tail).initialize(to: request)
        count += 1
    }

    /// For a request that must keep its place, e.g. one retried after a stale keep-alive connection.
    @inline(__always)
    mutating func pushFront(_ request: QueuedRequest) {
        precondition(count < capacity)
        head = head == 0 ? capacity - 1 : head - 1
        (storage + head).initialize(to: request)
        count += 1
    }

    @inline(__always)
    mutating func popFront() -> QueuedRequest? {
        guard count > 0 else { return nil }
        let request = storage[head]
        head += 1
        if head == capacity { head = 0 }
        count -= 1
        return request
    }

    func forEach(_ body: (QueuedRequest) -> Void) {
        for offset in 0..<count {
            var index = head + offset
            if index >= capacity { index -= capacity }
            body(storage[index])
        }
    }
}
