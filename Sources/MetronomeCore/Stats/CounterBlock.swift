// A fixed block of counters with one writer and lock-free readers on other threads.
import Synchronization

/// The loop thread is the only writer, so an increment is a relaxed load and store (no locked
/// read-modify-write); a progress thread reads with relaxed loads and never blocks the writer.
public final class CounterBlock: @unchecked Sendable {
    private let counters: UnsafeMutablePointer<Atomic<UInt64>>
    public let count: Int

    public init(count: Int) {
        self.count = count
        counters = .allocate(capacity: count)
        for index in 0..<count { (counters + index).initialize(to: Atomic(0)) }
    }

    deinit {
        counters.deinitialize(count: count)
        counters.deallocate()
    }

    @inline(__always)
    public func add(_ index: Int, _ amount: UInt64 = 1) {
        let counter = counters + index
        counter.pointee.store(counter.pointee.load(ordering: .relaxed) &+ amount, ordering: .relaxed)
    }

    @inline(__always)
    public func subtract(_ index: Int, _ amount: UInt64 = 1) {
        let counter = counters + index
        counter.pointee.store(counter.pointee.load(ordering: .relaxed) &- amount, ordering: .relaxed)
    }

    @inline(__always)
    public func set(_ index: Int, _ value: UInt64) {
        counters[index].store(value, ordering: .relaxed)
    }

    @inline(__always)
    public subscript(index: Int) -> UInt64 {
        counters[index].load(ordering: .relaxed)
    }

    public func merge(_ other: CounterBlock) {
        precondition(other.count == count)
        for index in 0..<count { add(index, other[index]) }
    }
}
