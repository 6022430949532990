// Decodes and validates an OpenAI completion request body, once per request, as vLLM would.
import Foundation   // JSONSerialization, once per request; never on the per-token path

/// What a valid completion request asks of the simulated engine.
struct CompletionAsk: Equatable {
    var isChat: Bool
    var stream: Bool
    var includeUsage: Bool
    var promptTokens: Int
    var maxTokens: Int
    var minTokens: Int
    var ignoreEos: Bool
}

/// An error answered with vLLM's error JSON: `{"object":"error","message":…,"type":…,"param":null,"code":…}`.
struct APIError: Error, Equatable {
    let status: Int
    let type: String
    let message: String

    static func badRequest(_ message: String) -> APIError {
        APIError(status: 400, type: "BadRequestError", message: message)
    }
}

/// The prompt-token estimate (documented in `SimConfig` and `--help`): ⌈characters / 4⌉ per text,
/// plus 4 per chat message for the role and template tokens a chat template adds.
func estimatedTokens(_ text: String) -> Int {
    (text.unicodeScalars.count + 3) / 4
}

let chatTokensPerMessage = 4

func decodeCompletionRequest(isChat: Bool, body: UnsafeRawBufferPointer, model: String, maxModelLen: Int) -> Result<CompletionAsk, APIError> {
    guard body.count > 0 else { return .failure(.badRequest("The request body is empty; expected a JSON object")) }
    let parsed: Any
    do {
        parsed = try JSONSerialization.jsonObject(with: Data(body), options: [.fragmentsAllowed])
    } catch {
        // Foundation names what it could not read, e.g. "Number 1e400 is not representable".
        let detail = ((error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String).map { " (\($0))" } ?? ""
        return .failure(.badRequest("JSON decode error: the body is not valid JSON\(detail)"))
    }
    guard let object = parsed as? [String: Any] else {
        return .failure(.badRequest("The body must be a JSON object"))
    }
    do {
        return .success(try validate(object, isChat: isChat, model: model, maxModelLen: maxModelLen))
    } catch let error as APIError {
        return .failure(error)
    } catch {
        return .failure(.badRequest("\(error)"))
    }
}

private func validate(_ object: [String: Any], isChat: Bool, model: String, maxModelLen: Int) throws -> CompletionAsk {
    if let requested = present(object["model"]) {
        guard let name = requested as? String else { throw APIError.badRequest("model: Input should be a valid string") }
        if name != model {
            throw APIError(status: 404, type: "NotFoundError", message: "The model `\(name)` does not exist.")
        }
    }
    let promptTokens = isChat ? try chatPromptTokens(object["messages"]) : try completionPromptTokens(object["prompt"])
    if promptTokens > maxModelLen { throw promptTooLong(promptTokens, maxModelLen) }

    // vLLM's wording (entrypoints' input validation). Every count is range-checked first: the
    // comparison is `maxTokens > maxModelLen - promptTokens`, never a sum a client can overflow.
    let maxTokensKey = isChat && present(object["max_completion_tokens"]) != nil ? "max_completion_tokens" : "max_tokens"
    let maxTokens: Int
    if let value = present(object[maxTokensKey]) {
        let tooLarge = { (text: String) in
            APIError.badRequest("'max_tokens' or 'max_completion_tokens' is too large: \(text). This model's maximum context length is "
                + "\(maxModelLen) tokens and your request has \(promptTokens) input tokens (\(text) > \(maxModelLen) - \(promptTokens)).")
        }
        switch integerField(value) {
        case .invalid: throw APIError.badRequest("\(maxTokensKey): Input should be a valid integer")
        case .fractional: throw APIError.badRequest("\(maxTokensKey): Input should be a valid integer, got a number with a fractional part")
        case .outOfRange(let text, negative: true): throw APIError.badRequest("max_tokens must be at least 1, got \(text).")
        case .outOfRange(let text, negative: false): throw tooLarge(text)
        case .value(let n):
            guard n >= 1 else { throw APIError.badRequest("max_tokens must be at least 1, got \(n).") }
            guard n <= maxModelLen - promptTokens else { throw tooLarge("\(n)") }
            maxTokens = n
        }
    } else {
        guard promptTokens < maxModelLen else { throw promptTooLong(promptTokens, maxModelLen) }
        maxTokens = maxModelLen - promptTokens
    }

    var minTokens = 0
    if let value = present(object["min_tokens"]) {
        switch integerField(value) {
        case .invalid, .fractional: throw APIError.badRequest("min_tokens: Input should be a valid integer")
        case .outOfRange(let text, let negative):
            throw APIError.badRequest(negative ? "min_tokens must be greater than or equal to 0, got \(text)."
                                               : "min_tokens must be less than or equal to max_tokens=\(maxTokens), got \(text).")
        case .value(let n):
            guard n >= 0 else { throw APIError.badRequest("min_tokens must be greater than or equal to 0, got \(n).") }
            guard n <= maxTokens else { throw APIError.badRequest("min_tokens must be less than or equal to max_tokens=\(maxTokens), got \(n).") }
            minTokens = n
        }
    }
    try checkSampling(object)
    let ignoreEos = try flag(object, "ignore_eos")
    let stream = try flag(object, "stream")
    var includeUsage = false
    if let options = present(object["stream_options"]) {
        guard let fields = options as? [String: Any] else { throw APIError.badRequest("stream_options: Input should be an object") }
        guard stream else { throw APIError.badRequest("Stream options can only be defined when `stream=True`.") }
        includeUsage = try flag(fields, "include_usage")
    }
    return CompletionAsk(isChat: isChat, stream: stream, includeUsage: includeUsage, promptTokens: promptTokens,
                         maxTokens: maxTokens, minTokens: minTokens, ignoreEos: ignoreEos)
}

private func chatPromptTokens(_ value: Any?) throws -> Int {
    guard let value = present(value) else { throw APIError.badRequest("messages: Field required") }
    guard let messages = value as? [Any], !messages.isEmpty else {
        throw APIError.badRequest("messages: Input should be a non-empty list of messages")
    }
    var tokens = 0
    for (index, item) in messages.enumerated() {
        guard let message = item as? [String: Any], message["role"] is String else {
            throw APIError.badRequest("messages[\(index)]: Input should be an object with a string 'role'")
        }
        tokens += chatTokensPerMessage
        switch present(message["content"]) {
        case nil: break
        case let text as String: tokens += estimatedTokens(text)
        case let parts as [Any]:
            for part in parts {
                guard let fields = part as? [String: Any] else {
                    throw APIError.badRequest("messages[\(index)].content: each part should be an object")
                }
                if let text = fields["text"] as? String { tokens += estimatedTokens(text) }
            }
        default:
            throw APIError.badRequest("messages[\(index)].content: Input should be a string or a list of parts")
        }
    }
    return tokens
}

/// A string, a list of strings (counted together), or token ids (a list of integers, or lists of
/// them), never a mixture.
private func completionPromptTokens(_ value: Any?) throws -> Int {
    guard let value = present(value) else { throw APIError.badRequest("prompt: Field required") }
    if let text = value as? String { return max(1, estimatedTokens(text)) }
    guard let items = value as? [Any], !items.isEmpty else {
        throw APIError.badRequest("prompt: Input should be a string, a list of strings or a list of token ids")
    }
    let invalid = APIError.badRequest("prompt: Input should be a string, a list of strings or a list of token ids")
    if items.allSatisfy({ $0 is String }) {
        return max(1, items.reduce(0) { $0 + estimatedTokens($1 as! String) })
    }
    if items.allSatisfy(isTokenID) { return items.count }
    var tokens = 0
    for item in items {
        guard let ids = item as? [Any], !ids.isEmpty, ids.allSatisfy(isTokenID) else { throw invalid }
        tokens += ids.count
    }
    return max(1, tokens)
}

/// The sampling numbers llmsim does not use but vLLM checks (`SamplingParams._verify_args`), so a
/// request vLLM refuses is refused here too, in its words.
private func checkSampling(_ object: [String: Any]) throws {
    if let value = present(object["n"]) {
        switch integerField(value) {
        case .invalid, .fractional: throw APIError.badRequest("n: Input should be a valid integer")
        case .outOfRange(let text, _): throw APIError.badRequest("n must be 1 (llmsim answers one choice), got \(text).")
        case .value(let n):
            guard n >= 1 else { throw APIError.badRequest("n must be at least 1, got \(n).") }
            guard n == 1 else { throw APIError.badRequest("n must be 1 (llmsim answers one choice), got \(n).") }
        }
    }
    if let value = present(object["temperature"]) {
        guard let (temperature, text) = floatField(value) else { throw APIError.badRequest("temperature: Input should be a valid number") }
        guard temperature.isFinite else { throw APIError.badRequest("temperature: Input should be a finite number") }
        guard temperature >= 0 else { throw APIError.badRequest("temperature must be non-negative, got \(text).") }
    }
    if let value = present(object["top_p"]) {
        guard let (topP, text) = floatField(value) else { throw APIError.badRequest("top_p: Input should be a valid number") }
        guard topP > 0 && topP <= 1 else { throw APIError.badRequest("top_p must be in (0, 1], got \(text).") }
    }
}

private func promptTooLong(_ promptTokens: Int, _ maxModelLen: Int) -> APIError {
    .badRequest("This model's maximum context length is \(maxModelLen) tokens. However, your request has \(promptTokens) input tokens. "
        + "Please reduce the length of the input messages.")
}

private func flag(_ object: [String: Any], _ key: String) throws -> Bool {
    guard let value = present(object[key]) else { return false }
    guard let number = value as? NSNumber, isBoolean(number) else { throw APIError.badRequest("\(key): Input should be a valid boolean") }
    return number.boolValue
}

/// JSON null counts as absent, as pydantic's Optional fields treat it.
private func present(_ value: Any?) -> Any? {
    guard let value, !(value is NSNull) else { return nil }
    return value
}

/// A token id: any whole number (the count of ids is what matters here, never their values).
private func isTokenID(_ value: Any) -> Bool {
    if case .value = integerField(value) { return true }
    if case .outOfRange = integerField(value) { return true }
    return false
}
