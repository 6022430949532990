// Whole HTTP responses llmsim answers at once: errors, /v1/models, /health, and --fast's tiny 200.

/// Response bytes are appended into a connection's output buffer; nothing here allocates except
/// the `String` messages of (rare) validation errors.
struct HTTPResponses {
    let modelName: String
    let maxModelLen: Int

    static func reason(_ status: Int) -> StaticString {
        switch status {
        case 100: return "Continue"
        case 200: return "OK"
        case 400: return "Bad Request"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 413: return "Content Too Large"
        case 414: return "URI Too Long"
        case 429: return "Too Many Requests"
        case 431: return "Request Header Fields Too Large"
        case 500: return "Internal Server Error"
        case 501: return "Not Implemented"
        case 505: return "HTTP Version Not Supported"
        default: return "Unknown"
        }
    }

    static func appendStatusLine(_ out: inout ByteBuffer, _ status: Int) {
        out.append("HTTP/1.1 ")
        out.appendDecimal(status)
        out.append(byte: 0x20)
        out.append(reason(status))
        out.append("\r\n")
    }

    /// `status` with a JSON body and Content-Length; `keepAlive` false adds `connection: close`.
    static func appendJSON(_ out: inout ByteBuffer, status: Int, body: borrowing ByteBuffer, keepAlive: Bool, allow: StaticString? = nil) {
        appendStatusLine(&out, status)
        out.append("content-type: application/json\r\ncontent-length: ")
        out.appendDecimal(body.count)
        out.append("\r\n")
        if let allow {
            out.append("allow: ")
            out.append(allow)
            out.append("\r\n")
        }
        if !keepAlive { out.append("connection: close\r\n") }
        out.append("\r\n")
        out.append(body)
    }

    /// vLLM's error body: `{"object":"error","message":…,"type":…,"param":null,"code":…}`.
    static func appendErrorBody(_ body: inout ByteBuffer, status: Int, type: String, message: String) {
        body.append("{\"object\":\"error\",\"message\":\"")
        body.appendJSONEscaped(message)
        body.append("\",\"type\":\"")
        body.appendJSONEscaped(type)
        body.append("\",\"param\":null,\"code\":")
        body.appendDecimal(status)
        body.append(byte: 0x7D)
    }

    static func appendError(_ out: inout ByteBuffer, scratch: inout ByteBuffer, _ error: APIError, keepAlive: Bool, allow: StaticString? = nil) {
        scratch.clear()
        appendErrorBody(&scratch, status: error.status, type: error.type, message: error.message)
        appendJSON(&out, status: error.status, body: scratch, keepAlive: keepAlive, allow: allow)
    }

    func appendModels(_ out: inout ByteBuffer, scratch: inout ByteBuffer, created: UInt64, keepAlive: Bool) {
        scratch.clear()
        scratch.append("{\"object\":\"list\",\"data\":[{\"id\":\"")
        scratch.appendJSONEscaped(modelName)
        scratch.append("\",\"object\":\"model\",\"created\":")
        scratch.appendDecimal(created)
        scratch.append(",\"owned_by\":\"vllm\",\"root\":\"")
        scratch.appendJSONEscaped(modelName)
        scratch.append("\",\"parent\":null,\"max_model_len\":")
        scratch.appendDecimal(maxModelLen)
        scratch.append(",\"permission\":[]}]}")
        HTTPResponses.appendJSON(&out, status: 200, body: scratch, keepAlive: keepAlive)
    }

    static func appendHealth(_ out: inout ByteBuffer, keepAlive: Bool) {
        out.append(keepAlive ? "HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n" : "HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
    }

    static func appendContinue(_ out: inout ByteBuffer) {
        out.append("HTTP/1.1 100 Continue\r\n\r\n")
    }

    /// --fast: the same 2-byte answer to anything. `truncated` stops after half the body (drop fault).
    static func appendFastOK(_ out: inout ByteBuffer, keepAlive: Bool, truncated: Bool) {
        if truncated {
            out.append("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\no")
        } else if keepAlive {
            out.append("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        } else {
            out.append("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
        }
    }

    static let injectedError = APIError(status: 500, type: "InternalServerError", message: "llmsim: injected error (--error-rate)")

    static func tooManyWaiting(_ limit: Int) -> APIError {
        APIError(status: 429, type: "TooManyRequestsError", message: "llmsim: \(limit) requests already waiting (--reject-when-waiting)")
    }

    static func parseError(_ failure: ParseFailure) -> APIError {
        APIError(status: failure.status, type: failure.status == 413 ? "RequestEntityTooLarge" : "BadRequestError", message: failure.message)
    }

    static let notFound = APIError(status: 404, type: "NotFoundError", message: "Not Found")
    static let methodNotAllowed = APIError(status: 405, type: "MethodNotAllowed", message: "Method Not Allowed")
}
