// How a scheduled request ended: every request ends as exactly one of these.
public enum Outcome: Int, CaseIterable, Sendable {
    case success
    /// A complete response with a status outside 2xx.
    case httpError
    case connectRefused
    case connectTimeout
    /// Any other connect failure: unreachable network or host, no route, out of ports or descriptors.
    case connectError
    /// The peer reset the connection (RST) before the response was complete.
    case reset
    /// The peer closed the connection (FIN) after part of the response: headers or some of the body.
    case closedEarly
    /// The peer closed the connection (FIN) after the request was written and before any byte of a
    /// response. The server may have taken the request, so it is never re-sent (as Go's transport
    /// refuses to replay a written non-idempotent request).
    case closedBeforeResponse
    /// No complete response within `--timeout` of the send.
    case timeout
    /// Bytes that are not an HTTP/1.1 response.
    case protocolError
    /// https://: the TLS handshake failed (certificate, name, protocol version, timeout) or TLS broke
    /// mid-exchange (a bad record, an alert); the failures table keeps OpenSSL's reason.
    case tlsError
    /// HTTP 200 whose event stream carried an error event.
    case streamError
    /// An event stream that ended without its terminating event.
    case incompleteStream
    /// The generator had no connection and no queue room for it: counted, never silently skipped.
    case dropped
    /// Still waiting or in flight when the drain period ended.
    case unfinished

    public static let count = allCases.count

    /// The snake_case name used in JSON, CSV and the `errors` table.
    public var key: String {
        switch self {
        case .success: "success"
        case .httpError: "http_error"
        case .connectRefused: "connect_refused"
        case .connectTimeout: "connect_timeout"
        case .connectError: "connect_error"
        case .reset: "reset"
        case .closedEarly: "closed_early"
        case .closedBeforeResponse: "closed_before_response"
        case .timeout: "timeout"
        case .protocolError: "protocol_error"
        case .tlsError: "tls_error"
        case .streamError: "stream_error"
        case .incompleteStream: "incomplete_stream"
        case .dropped: "dropped"
        case .unfinished: "unfinished"
        }
    }

    public var isConnectFailure: Bool {
        self == .connectRefused || self == .connectTimeout || self == .connectError
    }

    /// Failures that reached the server's answer or the network, as opposed to the generator's
    /// own bookkeeping (dropped, unfinished), which the summary lists on separate lines.
    public var isFailure: Bool { self != .success && self != .dropped && self != .unfinished }
}
