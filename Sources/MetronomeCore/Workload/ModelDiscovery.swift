// Asks the server which model it serves (`GET /v1/models`), once at start, as vLLM's clients do.
import CLinux
import Glibc

public struct ModelDiscoveryError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

public enum ModelDiscovery {
    /// The most a discovery answer may take, head and body: a model list is a few kB, and a server
    /// that streams without end must not grow the generator's memory before the run has begun.
    public static let maxResponseBytes = 1 << 20

    /// The first model id of `GET /v1/models`; setup only. `timeoutNs` bounds the whole exchange
    /// (connect, send and receive together), so a server that trickles a byte at a time cannot hold
    /// setup longer than it. `url` names the endpoint in messages.
    public static func firstModel(address: SocketAddress, hostHeader: String, headers: [(name: String, value: String)],
                                  timeoutNs: UInt64, tls: TLSClient? = nil, url: String? = nil) throws -> String {
        let endpoint = url ?? "\(tls == nil ? "http" : "https")://\(hostHeader)/v1/models"
        let (status, body) = try get(path: "/v1/models", address: address, hostHeader: hostHeader, headers: headers,
                                     timeoutNs: timeoutNs, tls: tls, endpoint: endpoint)
        let hint = "; pass --model NAME"
        guard status == 200 else {
            throw ModelDiscoveryError(message: "GET \(endpoint) (\(address)) answered HTTP \(status)\(hint)")
        }
        guard let object = try? JSONValue.parse(body), object.objectValue != nil,
              let data = object["data"]?.objectsValue,
              let id = data.first?["id"]?.stringValue, !id.isEmpty else {
            throw ModelDiscoveryError(message: "GET \(endpoint) (\(address)) did not list a model id\(hint)")
        }
        return id
    }

    /// One GET on a fresh non-blocking connection with `Connection: close`, read with the load
    /// path's parser. Every wait is a `poll` bounded by what is left of the one deadline.
    static func get(path: String, address: SocketAddress, hostHeader: String, headers: [(name: String, value: String)],
                    timeoutNs: UInt64, tls: TLSClient? = nil, endpoint: String, maxBytes: Int = maxResponseBytes) throws -> (status: Int, body: [UInt8]) {
        let deadlineNs = monotonicNs() &+ timeoutNs
        let timedOut = ModelDiscoveryError(message: "GET \(endpoint) (\(address)): no complete answer within \(Units.formatDuration(timeoutNs)) (--connect-timeout bounds the whole exchange); pass --model NAME")
        let fd: Int32
        switch startConnect(to: address) {
        case .connected(let descriptor): fd = descriptor
        case .inProgress(let descriptor): fd = descriptor
        case .failed(let code):
            throw ModelDiscoveryError(message: "cannot connect to \(address) to ask GET \(endpoint): \(errnoDescription(code)); pass --model NAME or check the URL")
        }
        defer { closeDescriptor(fd) }
        guard wait(fd, for: Int16(POLLOUT), deadlineNs: deadlineNs) else { throw timedOut }
        let connectError = pendingSocketError(fd)
        guard connectError == 0 else {
            throw ModelDiscoveryError(message: "cannot connect to \(address) to ask GET \(endpoint): \(errnoDescription(connectError)); pass --model NAME or check the URL")
        }
        let session = try tls.map { tls in
            try handshake(tls, fd: fd, deadlineNs: deadlineNs, timedOut: timedOut, failure: { reason in
                ModelDiscoveryError(message: "GET \(endpoint) (\(address)): \(reason); pass --model NAME, or see --cacert and --insecure")
            })
        }
        defer { session.map { tls?.library.free($0) } }
        func writeSome(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> IOResult {
            guard let tls, let session else { return MetronomeCore.writeSome(fd, buffer, count) }
            return tls.library.writeSome(session, buffer, count)
        }
        func readSome(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> IOResult {
            guard let tls, let session else { return MetronomeCore.readSome(fd, buffer, count) }
            let result = tls.library.readSome(session, buffer, count)
            // Without close_notify the end is still the end of a `Connection: close` answer; the
            // parser decides whether the answer was whole.
            if case .failed(TLSLibrary.closedWithoutNotify) = result { return .endOfFile }
            if case .failed(TLSLibrary.protocolFailure) = result { return .failed(EPROTO) }
            return result
        }
        let request = RequestTemplate(method: "GET", target: path, hostHeader: hostHeader,
                                      headers: headers + [("Connection", "close")], body: nil)
        var offset = 0
        while offset < request.count {
            switch writeSome(fd, request.bytes.baseAddress! + offset, request.count - offset) {
            case .bytes(let n): offset += n
            case .wouldBlock: guard wait(fd, for: Int16(POLLOUT), deadlineNs: deadlineNs) else { throw timedOut }
            case .endOfFile, .failed:
                throw ModelDiscoveryError(message: "GET \(endpoint) (\(address)): the connection failed while sending; pass --model NAME")
            }
        }
        var parser = ResponseParser()
        parser.begin(isHeadRequest: false)
        var sink = CollectingSink()
        var buffer = [UInt8](repeating: 0, count: 16384)
        var received = 0
        while true {
            let result = buffer.withUnsafeMutableBytes { readSome(fd, $0.baseAddress!, $0.count) }
            let step: ParseStep
            switch result {
            case .bytes(let n):
                received += n
                guard received <= maxBytes else {
                    throw ModelDiscoveryError(message: "GET \(endpoint) (\(address)): the answer exceeds \(maxBytes / 1024) KiB, more than a model list needs; pass --model NAME")
                }
                step = buffer.withUnsafeBytes { parser.parse(UnsafeRawBufferPointer(rebasing: $0.prefix(n)), into: &sink) }
            case .endOfFile:
                step = parser.endOfInput(into: &sink)
            case .wouldBlock:
                guard wait(fd, for: Int16(POLLIN), deadlineNs: deadlineNs) else { throw timedOut }
                continue
            case .failed(let code):
                throw ModelDiscoveryError(message: "GET \(endpoint) (\(address)): \(errnoDescription(code)) while reading the answer; pass --model NAME")
            }
            switch step {
            case .needMore: continue
            case .complete: return (parser.status, sink.body)
            case .failed(let error):
                throw ModelDiscoveryError(message: "GET \(endpoint) (\(address)): malformed HTTP response (\(error)); pass --model NAME")
            }
        }
    }

    /// Drives a TLS handshake on the connected `fd` to its end within the deadline.
    static func handshake(_ tls: TLSClient, fd: Int32, deadlineNs: UInt64, timedOut: ModelDiscoveryError,
                          failure: (String) -> ModelDiscoveryError) throws -> UnsafeMutableRawPointer {
        guard let session = tls.connection(fd: fd, resuming: nil) else { throw failure("OpenSSL could not make a connection") }
        while true {
            let ready: Bool
            switch tls.library.handshakeStep(session) {
            case .done: return session
            case .wantRead: ready = wait(fd, for: Int16(POLLIN), deadlineNs: deadlineNs)
            case .wantWrite: ready = wait(fd, for: Int16(POLLOUT), deadlineNs: deadlineNs)
            case .failed(let reason):
                tls.library.free(session)
                throw failure(reason)
            }
            if !ready {
                tls.library.free(session)
                throw timedOut
            }
        }
    }

    /// Waits until `fd` is ready for `events` (or has an error or hang-up, which the next call
    /// reports); false once the deadline has passed.
    static func wait(_ fd: Int32, for events: Int16, deadlineNs: UInt64) -> Bool {
        while true {
            let now = monotonicNs()
            guard now < deadlineNs else { return false }
            // Rounded up, so a wait never ends just short of the deadline and spins.
            let leftMs = Int32(min((deadlineNs - now + 999_999) / 1_000_000, UInt64(Int32.max)))
            var descriptor = pollfd(fd: fd, events: events, revents: 0)
            let ready = poll(&descriptor, 1, leftMs)
            if ready > 0 { return true }
            if ready < 0 && currentErrno() != EINTR { return false }
        }
    }
}

struct CollectingSink: ResponseSink {
    var body: [UInt8] = []
    mutating func responseHead(status: Int) {}
    mutating func responseBody(_ bytes: UnsafeRawBufferPointer) { body += bytes }
}
