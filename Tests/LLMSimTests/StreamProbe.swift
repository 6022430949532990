// A raw epoll client for timing tests: many streams, each token event's arrival minus its model time.
import CLinux
import Foundation
import Glibc
import MetronomeCore
@testable import LLMSim

/// Sends one streaming chat request per connection at evenly staggered times, reads with
/// edge-triggered epoll, and for token k of a stream records `arrival − (send + ttft + k·itl)`.
/// The model time is counted from just before the client's write, so the figures include
/// loopback and the server's parse as well as its timer lateness: what a load generator sees.
///
/// Arrival is the kernel's receive timestamp of the newest byte each read returns
/// (SO_TIMESTAMPNS, read and converted as the engine's held reads are), so a client thread that runs late, on a machine shared with
/// other work, does not count against the server. A read holding several events stamps them all
/// with its newest byte's time: errors can be over-stated, never under-stated.
struct StreamProbe {
    var streams: Int
    var maxTokens: Int
    var ttftNs: UInt64
    var itlNs: UInt64
    var spreadNs: UInt64
    var timeoutNs: UInt64 = 30_000_000_000

    struct Result {
        var errorsNs: [Int64]
        var expectedTokens: Int
        var kernelStampedReads: Int
        var clientStampedReads: Int
        var clientCPUSeconds: Double
        var wallSeconds: Double

        func percentileUs(_ p: Double) -> Double {
            let sorted = errorsNs.sorted()
            guard !sorted.isEmpty else { return .nan }
            let rank = min(sorted.count - 1, max(0, Int((p / 100 * Double(sorted.count)).rounded(.up)) - 1))
            return Double(sorted[rank]) / 1000
        }

        var summary: String {
            let sorted = errorsNs.sorted()
            func us(_ p: Double) -> String {
                guard !sorted.isEmpty else { return "-" }
                let rank = min(sorted.count - 1, max(0, Int((p / 100 * Double(sorted.count)).rounded(.up)) - 1))
                return String(format: "%.0fµs", Double(sorted[rank]) / 1000)
            }
            return "events \(errorsNs.count)/\(expectedTokens), error p50=\(us(50)) p90=\(us(90)) p99=\(us(99)) p99.9=\(us(99.9)) max=\(us(100)) min=\(us(0))"
                + String(format: ", client CPU %.2fs over %.2fs", clientCPUSeconds, wallSeconds)
                + (clientStampedReads > 0 ? ", \(clientStampedReads) reads without a kernel stamp" : "")
        }
    }

    /// A token event holds `"delta":{"content":"` followed by a non-quote; the finish event's
    /// content is empty and the role event starts its delta with "role".
    static let marker = Array(#""delta":{"content":""#.utf8)
    static let braceOffset = 8   // the marker's `{`

    func run(port: UInt16) throws -> Result {
        let poller = try Poller(capacity: 1024)
        var fds: [Int32] = []
        defer { for fd in fds { Glibc.close(fd) } }
        for index in 0..<streams {
            let client = try RawClient(port: port)
            let fd = dup(client.fd)
            fds.append(fd)
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            _ = clinux_enable_receive_stamps(fd)
            try poller.add(fd, events: Poller.readEvents, token: UInt64(index))
        }
        let request = Array(post("/v1/chat/completions", chatBody(maxTokens: maxTokens, stream: true)).utf8)
        let markerLength = StreamProbe.marker.count
        let carryCapacity = 32
        var sendNs = [UInt64](repeating: 0, count: streams)
        var tokens = [Int](repeating: 0, count: streams)
        var carryLength = [Int](repeating: 0, count: streams)
        let carry = UnsafeMutablePointer<UInt8>.allocate(capacity: streams * carryCapacity)
        let batchCapacity = 8 << 20
        let batch = UnsafeMutablePointer<UInt8>.allocate(capacity: batchCapacity)
        var reads: [(index: Int, start: Int, end: Int, atNs: UInt64)] = []
        reads.reserveCapacity(4096)
        defer {
            carry.deallocate()
            batch.deallocate()
        }
        var errors: [Int64] = []
        errors.reserveCapacity(streams * maxTokens)

        var kernelStamped = 0
        var clientStamped = 0
        let cpuStart = threadCPUNs()
        let startNs = monotonicNs() + 2_000_000
        let deadlineNs = startNs + timeoutNs
        var nextSend = 0
        var finished = 0
        while finished < streams && monotonicNs() < deadlineNs {
            while nextSend < streams && startNs + UInt64(nextSend) * spreadNs / UInt64(streams) <= monotonicNs() {
                sendNs[nextSend] = monotonicNs()   // before the write: the server cannot admit earlier
                _ = request.withUnsafeBytes { Glibc.write(fds[nextSend], $0.baseAddress!, $0.count) }
                nextSend += 1
            }
            if nextSend < streams { poller.wake(byNs: startNs + UInt64(nextSend) * spreadNs / UInt64(streams), nowNs: monotonicNs()) }
            let ready = poller.wait(timeoutMs: nextSend < streams ? -1 : 100)
            // Pass 1: read and stamp. Each stream's unscanned tail is copied in front of its bytes.
            reads.removeAll(keepingCapacity: true)
            var used = 0
            for i in 0..<ready {
                let event = poller.event(at: i)
                if event.token == Poller.timerToken {
                    poller.acknowledgeTimer()
                    continue
                }
                let index = Int(event.token)
                let kept = carryLength[index]
                memcpy(batch + used, carry + index * carryCapacity, kept)
                var total = 0
                var atNs: UInt64 = 0
                while true {   // a second read is rare (> 64 KB ready); it only makes the stamp later
                    let room = min(64 * 1024, batchCapacity - used - kept - total)
                    var stampNs: Int64 = 0
                    guard case .bytes(let n) = readSomeStamped(fds[index], batch + used + kept + total, room, stampNs: &stampNs)
                    else { break }
                    let kernelNs = monotonicNs(ofReceiveStamp: stampNs)
                    atNs = kernelNs ?? monotonicNs()
                    if kernelNs != nil { kernelStamped += 1 } else { clientStamped += 1 }
                    total += n
                    if n < room { break }
                }
                guard total > 0 else { continue }
                reads.append((index, used, used + kept + total, atNs))
                carryLength[index] = 0
                used += kept + total
                if batchCapacity - used < 128 * 1024 { break }
            }
            // Pass 2: find token events; a marker cut by a read's end waits in the carry.
            for read in reads {
                var at = read.start
                while at < read.end, let found = memchr(batch + at, 0x7B, read.end - at) {
                    let brace = UnsafeMutablePointer<UInt8>(found.assumingMemoryBound(to: UInt8.self)) - batch
                    let start = brace - StreamProbe.braceOffset
                    at = brace + 1
                    guard start >= read.start else { continue }
                    if start + markerLength >= read.end {
                        at = start
                        break
                    }
                    guard memcmp(batch + start, StreamProbe.marker, markerLength) == 0 else { continue }
                    if batch[start + markerLength] != 0x22 {
                        let k = tokens[read.index]
                        errors.append(Int64(bitPattern: read.atNs &- (sendNs[read.index] + ttftNs + UInt64(k) * itlNs)))
                        tokens[read.index] = k + 1
                        if k + 1 == maxTokens { finished += 1 }
                    }
                    at = start + markerLength
                }
                let tail = min(read.end - min(at, read.end), carryCapacity)
                memcpy(carry + read.index * carryCapacity, batch + read.end - tail, tail)
                carryLength[read.index] = tail
            }
        }
        return Result(errorsNs: errors, expectedTokens: streams * maxTokens, kernelStampedReads: kernelStamped, clientStampedReads: clientStamped,
                      clientCPUSeconds: Double(threadCPUNs() - cpuStart) / 1e9,
                      wallSeconds: Double(monotonicNs() - startNs) / 1e9)
    }
}

func threadCPUNs() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

func processCPUNs() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

/// Nanoseconds the thread spent runnable but not running (/proc schedstat's second field): how
/// much CPU contention from other processes delayed it.
func runQueueWaitNs(taskPath: String) -> UInt64 {
    guard let text = try? String(contentsOfFile: taskPath + "/schedstat", encoding: .utf8) else { return 0 }
    let fields = text.split(separator: " ")
    return fields.count > 1 ? UInt64(fields[1]) ?? 0 : 0
}

/// The /proc task directories of this process's threads with the given name.
func threadTasks(named name: String) -> [String] {
    let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
    return tasks.map { "/proc/self/task/" + $0 }.filter {
        (try? String(contentsOfFile: $0 + "/comm", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) == name
    }
}

/// CPU time the hypervisor ran something else while this VM's CPUs wanted to run (/proc/stat's
/// steal, all CPUs): a stall no run-queue counter inside the VM can see. Counted in USER_HZ ticks,
/// so in 10 ms steps.
func stolenNs() -> UInt64 {
    guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
          let line = text.split(separator: "\n").first, line.hasPrefix("cpu ") else { return 0 }
    // cpu user nice system idle iowait irq softirq steal ...
    let fields = line.split(separator: " ")
    guard fields.count > 8, let ticks = UInt64(fields[8]) else { return 0 }
    return ticks * 1_000_000_000 / UInt64(sysconf(Int32(_SC_CLK_TCK)))
}

/// Run-queue waits of the server thread and of the calling thread, and the VM's stolen time, read together.
struct ContentionMeter {
    let serverTask: String?
    let clientTask: String
    private var start: (server: UInt64, client: UInt64, stolen: UInt64) = (0, 0, 0)

    init() {
        serverTask = threadTasks(named: "llmsim").first
        clientTask = "/proc/thread-self"
        start = read()
    }

    func read() -> (server: UInt64, client: UInt64, stolen: UInt64) {
        (serverTask.map { runQueueWaitNs(taskPath: $0) } ?? 0, runQueueWaitNs(taskPath: clientTask), stolenNs())
    }

    /// Time the hypervisor took from this VM since the meter started.
    var stolenSinceStartNs: UInt64 { read().stolen &- start.stolen }

    /// Read it while the server thread still runs: an ended thread's counters are gone.
    var summary: String {
        let now = read()
        return String(format: "run-queue wait (CPU taken by other processes): server thread %.1f ms, client thread %.1f ms; "
                      + "stolen by the hypervisor: %.0f ms",
                      Double(now.server &- start.server) / 1e6, Double(now.client &- start.client) / 1e6,
                      Double(now.stolen &- start.stolen) / 1e6)
    }
}
