// The run's secret values (API key, credential headers) and the one function that hides them in text.

/// A server may echo the credentials it was sent (a 401 body quoting the `Authorization` header, a
/// stream error naming the key); whatever Metronome keeps of a server's words goes through `masked`
/// before it is stored, and the writers pass every text field through it again.
public struct SecretMask: Sendable {
    public static let replacement = "***"
    /// Values shorter than this are not searched for in free text: they would hide ordinary words and
    /// numbers while protecting nothing (a three-byte key is no secret).
    public static var minimumLength: Int { 4 }

    /// The values to hide, longest first, so `Bearer X` is hidden whole before `X` alone.
    public let secrets: [[UInt8]]

    public init() { secrets = [] }

    /// The API key (and `Bearer KEY`) and the values of secret headers (`isSecretHeader`); of a `Scheme X` value (Bearer,
    /// Basic, Token …) also `X` alone, and of a cookie list also each cookie's value.
    public init(apiKey: String?, headers: [(name: String, value: String)]) {
        var values: [String] = []
        func add(_ value: Substring) {
            let trimmed = String(value).trimmingSpaces()
            guard trimmed.utf8.count >= SecretMask.minimumLength, !values.contains(trimmed) else { return }
            values.append(trimmed)
        }
        // `--api-key K` is sent as `Authorization: Bearer K`.
        if let apiKey { add(Substring("Bearer " + apiKey)); add(Substring(apiKey)) }
        for header in headers where SecretMask.isSecretHeader(header.name) {
            let value = Substring(header.value)
            add(value)
            if header.name.lowercased().contains("cookie") {
                for pair in value.split(separator: ";") {
                    if let equals = pair.firstIndex(of: "=") { add(pair[pair.index(after: equals)...]) }
                }
            } else if let space = value.firstIndex(where: { $0 == " " || $0 == "\t" }) {
                add(value[space...])
            }
        }
        secrets = values.map { Array($0.utf8) }.sorted { $0.count > $1.count }
    }

    public var isEmpty: Bool { secrets.isEmpty }

    /// Headers whose values are credentials: the usual ones, and any whose name says so.
    public static func isSecretHeader(_ name: String) -> Bool {
        let lower = name.lowercased()
        return ["authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "api-key"].contains(lower)
            || ["token", "key", "secret", "auth"].contains { lower.contains($0) }
    }

    /// `text` with every secret replaced by `***`. Text cut short (a message clipped at a byte limit)
    /// may end partway through a secret: a tail of `minimumLength` bytes or more that begins a secret
    /// is hidden too.
    public func masked(_ text: String) -> String {
        guard !secrets.isEmpty else { return text }
        let bytes = Array(text.utf8)
        let end = bytes.count - secretPrefixLength(atEndOf: bytes)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        var changed = end < bytes.count
        scan: while i < end {
            for secret in secrets where secret.count <= end - i && bytes[i] == secret[0] {
                if bytes[i ..< i + secret.count].elementsEqual(secret) {
                    out += SecretMask.replacement.utf8
                    i += secret.count
                    changed = true
                    continue scan
                }
            }
            out.append(bytes[i])
            i += 1
        }
        guard changed else { return text }
        if end < bytes.count { out += SecretMask.replacement.utf8 }
        return String(decoding: out, as: UTF8.self)
    }

    /// The length of the longest proper prefix of a secret (at least `minimumLength`) that `bytes` ends with.
    private func secretPrefixLength(atEndOf bytes: [UInt8]) -> Int {
        var longest = 0
        for secret in secrets {
            var length = min(secret.count - 1, bytes.count)
            while length >= SecretMask.minimumLength && length > longest {
                if bytes[(bytes.count - length)...].elementsEqual(secret[..<length]) {
                    longest = length
                    break
                }
                length -= 1
            }
        }
        return longest
    }
}

extension RunSummary {
    /// The summary with every text field a server or a caller could have filled passed through the
    /// mask, and secret headers in the config hidden by name: each writer renders this, so a secret
    /// that got past the capture (or a config entry a caller forgot to mask) still stays out.
    public func maskingSecrets() -> RunSummary {
        var copy = self
        let mask = secrets
        copy.target = mask.masked(target)
        copy.config = config.map { entry in (entry.key, mask.masked(SecretMask.maskedConfigValue(entry))) }
        copy.warnings = warnings.map(mask.masked)
        copy.errorMessages = errorMessages.map { ($0.kind, $0.status, mask.masked($0.message), $0.count) }
        return copy
    }
}

extension SecretMask {
    /// A config entry's value with the API key and secret headers (`Name: value`) hidden by name.
    static func maskedConfigValue(_ entry: (key: String, value: String)) -> String {
        if entry.key == "api_key" { return entry.value.isEmpty ? "" : replacement }
        guard entry.key == "header", let colon = entry.value.firstIndex(of: ":") else { return entry.value }
        let name = String(entry.value[..<colon])
        return isSecretHeader(name) ? "\(name): \(replacement)" : entry.value
    }
}
