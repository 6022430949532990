// Counters the loop thread writes and any thread may read: one relaxed atomic cell each.
import Synchronization

enum SimCounter: Int, CaseIterable {
    case connectionsAccepted, connectionsClosed, requests, completions, tokensSent, responses
    case errorsInjected, rejected, drops, freezeHolds, badRequests, clientAborts, running, waiting, idleClosed
    case tlsHandshakeFailures
}

/// One writer (the loop) does a relaxed load and store, ~5 ns and no locked instruction; readers
/// see each counter exactly, though not all counters at one instant.
final class SimCounters: @unchecked Sendable {
    private let cells: UnsafeMutablePointer<Atomic<UInt64>>

    init() {
        cells = .allocate(capacity: SimCounter.allCases.count)
        for i in 0..<SimCounter.allCases.count { (cells + i).initialize(to: Atomic(0)) }
    }

    deinit {
        cells.deinitialize(count: SimCounter.allCases.count)
        cells.deallocate()
    }

    @inline(__always)
    func add(_ counter: SimCounter, _ amount: UInt64 = 1) {
        let cell = cells + counter.rawValue
        cell.pointee.store(cell.pointee.load(ordering: .relaxed) &+ amount, ordering: .relaxed)
    }

    @inline(__always)
    func set(_ counter: SimCounter, _ value: Int) {
        cells[counter.rawValue].store(UInt64(max(value, 0)), ordering: .relaxed)
    }

    func value(_ counter: SimCounter) -> UInt64 {
        cells[counter.rawValue].load(ordering: .relaxed)
    }
}

/// A snapshot of the server's counters.
public struct SimStats: Sendable, Equatable, CustomStringConvertible {
    public var connectionsAccepted: UInt64
    public var connectionsClosed: UInt64
    /// HTTP requests parsed (every route, and every request with --fast).
    public var requests: UInt64
    /// Completion requests accepted into the engine (running or waiting), faults excluded.
    public var completions: UInt64
    /// Generated tokens: stream events sent, plus the tokens of non-streaming answers.
    public var tokensSent: UInt64
    /// Responses written to the end.
    public var responses: UInt64
    public var errorsInjected: UInt64
    /// 429s from --reject-when-waiting.
    public var rejected: UInt64
    /// Responses cut short by --drop-rate.
    public var drops: UInt64
    /// Times a connection's output was held by a freeze window.
    public var freezeHolds: UInt64
    /// 4xx/5xx answers to malformed or invalid requests.
    public var badRequests: UInt64
    /// Clients that closed while their request was waiting, running or being written.
    public var clientAborts: UInt64
    public var running: UInt64
    public var waiting: UInt64
    /// Keep-alive connections closed by --keep-alive-timeout.
    public var idleClosed: UInt64
    /// TLS handshakes that failed, or did not end within `SimConfig.tlsHandshakeTimeoutNs`.
    public var tlsHandshakeFailures: UInt64

    init(_ counters: SimCounters) {
        connectionsAccepted = counters.value(.connectionsAccepted)
        connectionsClosed = counters.value(.connectionsClosed)
        requests = counters.value(.requests)
        completions = counters.value(.completions)
        tokensSent = counters.value(.tokensSent)
        responses = counters.value(.responses)
        errorsInjected = counters.value(.errorsInjected)
        rejected = counters.value(.rejected)
        drops = counters.value(.drops)
        freezeHolds = counters.value(.freezeHolds)
        badRequests = counters.value(.badRequests)
        clientAborts = counters.value(.clientAborts)
        running = counters.value(.running)
        waiting = counters.value(.waiting)
        idleClosed = counters.value(.idleClosed)
        tlsHandshakeFailures = counters.value(.tlsHandshakeFailures)
    }

    public var description: String {
        "connections \(connectionsAccepted) accepted / \(connectionsClosed) closed, requests \(requests), "
            + "completions \(completions), tokens \(tokensSent), responses \(responses), injected errors \(errorsInjected), "
            + "rejected \(rejected), drops \(drops), freeze holds \(freezeHolds), bad requests \(badRequests), "
            + "client aborts \(clientAborts), idle closes \(idleClosed), running \(running), waiting \(waiting)"
            + (tlsHandshakeFailures > 0 ? ", TLS handshake failures \(tlsHandshakeFailures)" : "")
    }
}
