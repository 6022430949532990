// Which values are secrets (the API key, credential headers), and how every printed message hides them.

public enum SecretMask {
    /// Header names whose values never appear in any report, summary or message: the usual
    /// credential headers, and any name that says it carries one (`X-Auth-Token`, `Api-Key`).
    public static func isSecretHeader(_ name: String) -> Bool {
        let lower = name.lowercased()
        if lower == "cookie" || lower == "set-cookie" { return true }
        return ["auth", "token", "key", "secret"].contains { lower.contains($0) }
    }

    /// A `--header` argument for an error message: the name as typed, the value never (a header
    /// that failed to parse may not be recognisable as a credential, so nothing after the name shows).
    public static func maskedHeaderText(_ text: String) -> String {
        let nameEnd = text.firstIndex { $0 == ":" || $0 == " " } ?? text.endIndex
        let name = text[..<nameEnd]
        guard nameEnd != text.endIndex else { return String(name) }
        return name + (text[nameEnd] == ":" ? ": ***" : " ***")
    }

    /// The secret values an argument list carries: `--api-key`'s value and the values of
    /// credential `--header`s, from the command line and from a `--config` file it names. Read
    /// leniently (a malformed list is exactly when an error message is printed).
    public static func secrets(inArguments arguments: [String]) -> [String] {
        var found: [String] = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            var name = argument
            var value: String?
            if let equals = argument.firstIndex(of: "="), argument.hasPrefix("--") {
                name = String(argument[..<equals])
                value = String(argument[argument.index(after: equals)...])
            }
            guard ["--api-key", "--header", "--config"].contains(name) else { continue }
            if value == nil, index < arguments.count {
                value = arguments[index]
                index += 1
            }
            guard let value, !value.isEmpty else { continue }
            switch name {
            case "--api-key": found.append(value)
            case "--config":
                if let fileArguments = try? ConfigFile.arguments(fromFile: value) { found += secrets(inArguments: fileArguments) }
            default:
                found += headerSecrets(value)
            }
        }
        // Longest first, so a key that contains another is masked whole.
        return found.sorted { $0.count > $1.count }
    }

    /// The value of a credential header (and, for `Bearer X`/`Basic X`, X alone, which a server may echo).
    static func headerSecrets(_ text: String) -> [String] {
        guard let colon = text.firstIndex(of: ":"), isSecretHeader(String(text[..<colon]).trimmingSpaces()) else { return [] }
        let value = String(text[text.index(after: colon)...]).trimmingSpaces()
        guard !value.isEmpty else { return [] }
        var values = [value]
        if let space = value.firstIndex(of: " ") {
            let credential = String(value[value.index(after: space)...]).trimmingSpaces()
            if !credential.isEmpty { values.append(credential) }
        }
        return values
    }

    /// `text` with every occurrence of each secret replaced by `***`.
    public static func mask(_ text: String, secrets: [String]) -> String {
        var out = text
        for secret in secrets where !secret.isEmpty {
            out = out.replacingAll(secret, with: "***")
        }
        return out
    }
}

extension String {
    /// Plain substring replacement without Foundation (the Config module stays Foundation-light).
    func replacingAll(_ target: String, with replacement: String) -> String {
        let source = Array(utf8)
        let pattern = Array(target.utf8)
        guard !pattern.isEmpty, source.count >= pattern.count else { return self }
        var out: [UInt8] = []
        out.reserveCapacity(source.count)
        var index = 0
        while index < source.count {
            if index + pattern.count <= source.count && source[index..<index + pattern.count].elementsEqual(pattern) {
                out += replacement.utf8
                index += pattern.count
            } else {
                out.append(source[index])
                index += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
