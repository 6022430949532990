// Asks the server which model it serves (`GET /v1/models`), once at start, as vLLM's clients do.
import CLinux
import Foundation
import Glibc

public struct ModelDiscoveryError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

public enum ModelDiscovery {
    /// The first model id of `GET /v1/models`. Blocking, bounded by `timeoutNs`; setup only.
    public static func firstModel(address: SocketAddress, hostHeader: String, headers: [(name: String, value: String)],
                                  timeoutNs: UInt64) throws -> String {
        let (status, body) = try get(path: "/v1/models", address: address, hostHeader: hostHeader, headers: headers, timeoutNs: timeoutNs)
        let hint = "; pass --model NAME"
        guard status == 200 else {
            throw ModelDiscoveryError(message: "GET /v1/models on \(address) answered HTTP \(status)\(hint)")
        }
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
              let data = object["data"] as? [[String: Any]], let id = data.first?["id"] as? String, !id.isEmpty else {
            throw ModelDiscoveryError(message: "GET /v1/models on \(address) did not list a model id\(hint)")
        }
        return id
    }

    /// One GET on a fresh connection with `Connection: close`, read with the load path's parser.
    static func get(path: String, address: SocketAddress, hostHeader: String, headers: [(name: String, value: String)],
                    timeoutNs: UInt64) throws -> (status: Int, body: [UInt8]) {
        let fd = socket(address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SystemError("socket", errno: errno) }
        defer { closeDescriptor(fd) }
        var timeout = timeval(tv_sec: Int(timeoutNs / 1_000_000_000), tv_usec: Int(timeoutNs % 1_000_000_000 / 1000))
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        _ = setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var storage = address.storage
        let connected = withUnsafePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, address.length) }
        }
        guard connected == 0 else {
            throw ModelDiscoveryError(message: "cannot connect to \(address) to ask GET /v1/models: \(errnoDescription(errno)); pass --model NAME or check the URL")
        }
        let request = RequestTemplate(method: "GET", target: path, hostHeader: hostHeader,
                                      headers: headers + [("Connection", "close")], body: nil)
        var offset = 0
        while offset < request.count {
            guard case .bytes(let n) = writeSome(fd, request.bytes.baseAddress! + offset, request.count - offset) else {
                throw ModelDiscoveryError(message: "GET /v1/models on \(address): the connection failed while sending")
            }
            offset += n
        }
        var parser = ResponseParser()
        parser.begin(isHeadRequest: false)
        var sink = CollectingSink()
        var buffer = [UInt8](repeating: 0, count: 16384)
        while true {
            let result = buffer.withUnsafeMutableBytes { readSome(fd, $0.baseAddress!, $0.count) }
            let step: ParseStep
            switch result {
            case .bytes(let n):
                step = buffer.withUnsafeBytes { parser.parse(UnsafeRawBufferPointer(rebasing: $0.prefix(n)), into: &sink) }
            case .endOfFile:
                step = parser.endOfInput(into: &sink)
            case .wouldBlock, .failed:
                throw ModelDiscoveryError(message: "GET /v1/models on \(address): no complete answer within \(Units.formatDuration(timeoutNs)); pass --model NAME")
            }
            switch step {
            case .needMore: continue
            case .complete: return (parser.status, sink.body)
            case .failed(let error):
                throw ModelDiscoveryError(message: "GET /v1/models on \(address): malformed HTTP response (\(error)); pass --model NAME")
            }
        }
    }
}

struct CollectingSink: ResponseSink {
    var body: [UInt8] = []
    mutating func responseHead(status: Int) {}
    mutating func responseBody(_ bytes: UnsafeRawBufferPointer) { body += bytes }
}
