// Per-connection state, kept in a slab allocated once; slots link into intrusive lists.

enum SlotState: UInt8 {
    case free
    case connecting
    case idle
    /// Carrying a request: writing it or waiting for its response.
    case busy
}

struct ConnectionSlot {
    var fd: Int32 = -1
    /// Bumped whenever the slot is freed, so a late epoll event for an old socket is dropped.
    var generation: UInt32 = 0
    var state: SlotState = .free
    /// Whether the connection carried a request before the current one (for the stale keep-alive retry).
    var reused = false
    /// In the engine's ready list: its read budget ran out with bytes still waiting.
    var readPending = false
    /// An event carried the peer's FIN (EPOLLRDHUP/EPOLLHUP): read on to the end of file, and never
    /// put the connection back to idle.
    var peerClosed = false
    /// https://: connected, TLS handshake under way (state `.connecting`, in the connecting list).
    var handshaking = false
    /// https://: this connection's session was offered for resumption (once, after its first answer).
    var tlsSessionTaken = false
    var stage: Int32 = 0
    var prev: Int32 = -1
    var next: Int32 = -1
    /// `t`: intended start from the schedule.
    var intendedNs: UInt64 = 0
    /// `s`: first byte of the request written.
    var sentNs: UInt64 = 0
    /// When the connection last became idle.
    var idleSinceNs: UInt64 = 0
    /// Connect, request or idle timeout, absolute. Lists stay sorted by it because every slot in one
    /// list got the same timeout added to a monotonic clock.
    var deadlineNs: UInt64 = 0
    var sequence: UInt64 = 0
    /// https://: OpenSSL's connection over `fd`; nil for http://.
    var tls: UnsafeMutableRawPointer? = nil
    /// `connect` called, then (https://) the handshake begun: for the connect and TLS times.
    var connectStartNs: UInt64 = 0
    /// The `RequestSet` entry this request sends, so a partial write continues with the same bytes.
    var entry: Int32 = 0
    var written = 0
    var receivedBytes = 0
}

/// A doubly linked list threaded through the slab by index.
struct SlotList {
    var head: Int32 = -1
    var tail: Int32 = -1
    var count = 0
}

/// The slab: `capacity` slots with their links. All list operations are O(1).
struct ConnectionSlab {
    let slots: UnsafeMutablePointer<ConnectionSlot>
    let capacity: Int

    init(capacity: Int) {
        self.init(reserving: capacity)
        slots.initialize(repeating: ConnectionSlot(), count: capacity)
    }

    /// Room for `capacity` slots, none initialised: the engine prepares a slot when it first uses it,
    /// so the pages of slots never used (most of a 10,000 cap) are never touched and cost no memory.
    init(reserving capacity: Int) {
        self.capacity = capacity
        slots = .allocate(capacity: capacity)
    }

    /// Initialises slot `index` (not yet initialised) to a free slot.
    @inline(__always)
    func prepare(_ index: Int) {
        (slots + index).initialize(to: ConnectionSlot())
    }

    /// `ConnectionSlot` is plain data, so slots need no deinitialising, prepared or not.
    func deallocate() {
        slots.deallocate()
    }

    @inline(__always)
    func pushBack(_ index: Int32, to list: inout SlotList) {
        slots[Int(index)].prev = list.tail
        slots[Int(index)].next = -1
        if list.tail >= 0 { slots[Int(list.tail)].next = index } else { list.head = index }
        list.tail = index
        list.count += 1
    }

    @inline(__always)
    func remove(_ index: Int32, from list: inout SlotList) {
        let prev = slots[Int(index)].prev
        let next = slots[Int(index)].next
        if prev >= 0 { slots[Int(prev)].next = next } else { list.head = next }
        if next >= 0 { slots[Int(next)].prev = prev } else { list.tail = prev }
        slots[Int(index)].prev = -1
        slots[Int(index)].next = -1
        list.count -= 1
    }

    @inline(__always)
    func popFront(_ list: inout SlotList) -> Int32? {
        let index = list.head
        guard index >= 0 else { return nil }
        remove(index, from: &list)
        return index
    }

    @inline(__always)
    func popBack(_ list: inout SlotList) -> Int32? {
        let index = list.tail
        guard index >= 0 else { return nil }
        remove(index, from: &list)
        return index
    }
}
