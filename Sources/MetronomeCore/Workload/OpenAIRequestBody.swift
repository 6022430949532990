// The JSON body of an OpenAI-compatible chat or completions request, built once per run.

public struct OpenAIRequestSettings: Sendable {
    public var model: String
    public var prompt: String
    public var maxTokens: Int
    public var temperature: Double
    public var stream: Bool
    /// vLLM's extensions: generate exactly `maxTokens` (`ignore_eos`, `min_tokens`).
    public var ignoreEOS: Bool
    /// Put a distinct request number in front of every prompt, so a prefix cache cannot serve it.
    public var uniquePrompts: Bool

    public init(model: String, prompt: String, maxTokens: Int, temperature: Double, stream: Bool, ignoreEOS: Bool, uniquePrompts: Bool) {
        self.model = model
        self.prompt = prompt
        self.maxTokens = maxTokens
        self.temperature = temperature
        self.stream = stream
        self.ignoreEOS = ignoreEOS
        self.uniquePrompts = uniquePrompts
    }
}

public enum OpenAIRequestBody {
    /// Ten digits patched per request into the serialised bytes (see `RequestTemplate`): enough for
    /// 10^10 requests, which no run reaches.
    public static let sequenceMarker = Array("##########".utf8)

    /// `{"model":…,"messages":[{"role":"user","content":"[##########] prompt"}],…}` or the
    /// completions form with `"prompt"`. Streaming asks for the usage chunk (`stream_options`).
    public static func make(_ settings: OpenAIRequestSettings, chat: Bool) -> [UInt8] {
        let text = (settings.uniquePrompts ? "[##########] " : "") + settings.prompt
        if chat { return make(settings, messagesJSON: "[{\"role\":\"user\",\"content\":" + JSONWriter.quote(text) + "}]") }
        return finish("{\"model\":" + JSONWriter.quote(settings.model) + ",\"prompt\":" + JSONWriter.quote(text), settings)
    }

    /// A chat body with `messages` as given (a JSON array, already serialised); the prompt settings are not used.
    public static func make(_ settings: OpenAIRequestSettings, messagesJSON: String) -> [UInt8] {
        finish("{\"model\":" + JSONWriter.quote(settings.model) + ",\"messages\":" + messagesJSON, settings)
    }

    private static func finish(_ start: String, _ settings: OpenAIRequestSettings) -> [UInt8] {
        var json = start
        json += ",\"max_tokens\":\(settings.maxTokens)"
        json += ",\"temperature\":" + Format.trimmed(settings.temperature, decimals: 6)
        json += ",\"stream\":" + (settings.stream ? "true" : "false")
        if settings.stream { json += ",\"stream_options\":{\"include_usage\":true}" }
        if settings.ignoreEOS { json += ",\"ignore_eos\":true,\"min_tokens\":\(settings.maxTokens)" }
        json += "}"
        return Array(json.utf8)
    }
}
