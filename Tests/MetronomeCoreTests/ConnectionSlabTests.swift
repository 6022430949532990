// The intrusive lists and the request ring the engine keeps its connections and waiting requests in.
import XCTest
@testable import MetronomeCore

final class ConnectionSlabTests: XCTestCase {
    func testListsAgainstAnArrayModel() {
        let slab = ConnectionSlab(capacity: 64)
        defer { slab.deallocate() }
        var lists = [SlotList(), SlotList(), SlotList()]
        var model: [[Int32]] = [[], [], []]
        var where_ = [Int](repeating: -1, count: 64)
        var random = SeededRandom(seed: 1)
        for _ in 0..<20_000 {
            let index = Int32(random.next() % 64)
            let list = Int(random.next() % 3)
            if where_[Int(index)] < 0 {
                slab.pushBack(index, to: &lists[list])
                model[list].append(index)
                where_[Int(index)] = list
            } else {
                let from = where_[Int(index)]
                switch random.next() % 3 {
                case 0:
                    slab.remove(index, from: &lists[from])
                    model[from].removeAll { $0 == index }
                    where_[Int(index)] = -1
                case 1:
                    if let popped = slab.popFront(&lists[from]) {
                        XCTAssertEqual(popped, model[from].removeFirst())
                        where_[Int(popped)] = -1
                    }
                default:
                    if let popped = slab.popBack(&lists[from]) {
                        XCTAssertEqual(popped, model[from].removeLast())
                        where_[Int(popped)] = -1
                    }
                }
            }
            for list in 0..<3 {
                XCTAssertEqual(lists[list].count, model[list].count)
                XCTAssertEqual(lists[list].head, model[list].first ?? -1)
                XCTAssertEqual(lists[list].tail, model[list].last ?? -1)
            }
        }
    }

    func testRequestQueueWrapsAndKeepsOrder() {
        var queue = RequestQueue(capacity: 5)
        defer { queue.deallocate() }
        var model: [UInt64] = []
        var random = SeededRandom(seed: 2)
        var next: UInt64 = 0
        for _ in 0..<10_000 {
            switch random.next() % 3 {
            case 0 where !queue.isFull:
                queue.pushBack(QueuedRequest(intendedNs: next, sequence: next, stage: 0)); model.append(next); next += 1
            case 1 where !queue.isFull:
                queue.pushFront(QueuedRequest(intendedNs: next, sequence: next, stage: 0)); model.insert(next, at: 0); next += 1
            default:
                XCTAssertEqual(queue.popFront()?.intendedNs, model.isEmpty ? nil : model.removeFirst())
            }
            XCTAssertEqual(queue.count, model.count)
            var seen: [UInt64] = []
            queue.forEach { seen.append($0.intendedNs) }
            XCTAssertEqual(seen, model)
        }
    }
}
