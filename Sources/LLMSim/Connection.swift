// One client connection's state, kept in a slab slot that is reused with its buffers.

struct Connection {
    enum Phase: UInt8 {
        case free
        case handshaking  // TLS: the handshake has not ended
        case reading    // parsing a request
        case waiting    // a completion in the FIFO, not yet admitted
        case running    // a completion generating tokens
        case draining   // the whole response is in `output`; writing it out
    }

    var fd: Int32 = -1
    /// The OpenSSL connection (`SSL *`) with --tls-cert, else nil; freed by `ServerLoop.close`.
    var tls: UnsafeMutableRawPointer? = nil
    var generation: UInt32 = 0
    var ticket: UInt32 = 0
    var phase = Phase.free
    var input = ByteBuffer()
    var output = ByteBuffer()
    var body = ByteBuffer()        // a chunked request's decoded body
    var eventHead = ByteBuffer()   // this request's `data: {"id":…,"choices":` prefix
    var parser: RequestParser
    var keepAlive = true
    var closeAfterFlush = false
    var readPaused = false
    var held = false
    /// When the newest bytes reached the host (kernel stamp), CLOCK_MONOTONIC.
    var receivedNs: UInt64 = 0

    // The completion being generated.
    var isChat = true
    var stream = false
    var chunked = true
    var includeUsage = false
    var request: UInt64 = 0
    var created: UInt64 = 0
    var promptTokens = 0
    var totalTokens = 0
    var sentTokens = 0
    var reachedLength = true
    /// Tokens to deliver before the connection is cut (drop fault); −1 for none.
    var dropAfterTokens = -1

    init(maxBodyBytes: Int) {
        parser = RequestParser(maxBodyBytes: maxBodyBytes)
    }

    /// Back to a fresh slot. Buffers keep their memory unless a large body grew them.
    mutating func recycle() {
        fd = -1
        tls = nil
        phase = .free
        generation &+= 1
        ticket &+= 1
        let keep = 64 * 1024
        if input.capacity > keep { input.release() } else { input.clear() }
        if output.capacity > keep { output.release() } else { output.clear() }
        if body.capacity > keep { body.release() } else { body.clear() }
        eventHead.clear()
        parser.reset()
        keepAlive = true
        closeAfterFlush = false
        readPaused = false
        held = false
    }
}

/// Slots in one allocation that doubles when full; a slot is found again from an epoll token
/// holding (generation, slot), so an event for a closed and reused slot is recognised and dropped.
struct ConnectionSlab {
    private(set) var slots: UnsafeMutablePointer<Connection>
    private(set) var capacity: Int
    private var freeList: UnsafeMutablePointer<UInt32>
    private var freeCount: Int
    private let maxBodyBytes: Int

    init(capacity: Int, maxBodyBytes: Int) {
        self.capacity = capacity
        self.maxBodyBytes = maxBodyBytes
        slots = .allocate(capacity: capacity)
        slots.initialize(repeating: Connection(maxBodyBytes: maxBodyBytes), count: capacity)
        freeList = .allocate(capacity: capacity)
        freeCount = capacity
        for i in 0..<capacity { freeList[i] = UInt32(capacity - 1 - i) }
    }

    mutating func allocate() -> UInt32 {
        if freeCount == 0 { grow() }
        freeCount -= 1
        return freeList[freeCount]
    }

    mutating func free(_ slot: UInt32) {
        freeList[freeCount] = slot
        freeCount += 1
    }

    @inline(__always)
    func slot(_ index: UInt32) -> UnsafeMutablePointer<Connection> { slots + Int(index) }

    /// The live slot a token names, or nil when it was closed (and perhaps reused) since.
    @inline(__always)
    func lookup(slot index: UInt32, generation: UInt32) -> UnsafeMutablePointer<Connection>? {
        guard Int(index) < capacity else { return nil }
        let connection = slots + Int(index)
        guard connection.pointee.generation == generation, connection.pointee.phase != .free else { return nil }
        return connection
    }

    var liveCount: Int { capacity - freeCount }

    private mutating func grow() {
        let newCapacity = capacity * 2
        let grown = UnsafeMutablePointer<Connection>.allocate(capacity: newCapacity)
        grown.moveInitialize(from: slots, count: capacity)
        (grown + capacity).initialize(repeating: Connection(maxBodyBytes: maxBodyBytes), count: newCapacity - capacity)
        slots.deallocate()
        slots = grown
        let grownFree = UnsafeMutablePointer<UInt32>.allocate(capacity: newCapacity)
        for i in 0..<(newCapacity - capacity) { grownFree[i] = UInt32(newCapacity - 1 - i) }
        freeList.deallocate()
        freeList = grownFree
        freeCount = newCapacity - capacity
        capacity = newCapacity
    }

    /// Frees every buffer. Open descriptors must have been closed first.
    mutating func deallocate() {
        for i in 0..<capacity {
            slots[i].input.release()
            slots[i].output.release()
            slots[i].body.release()
            slots[i].eventHead.release()
        }
        slots.deinitialize(count: capacity)
        slots.deallocate()
        freeList.deallocate()
    }
}
