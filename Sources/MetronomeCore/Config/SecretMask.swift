// Which values are secrets (the API key, credential headers), and the functions that hide them in text.

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

    /// `masked` over `count` bytes in place, allocating nothing (the request log masks each failed
    /// request's error text with it): `***` is shorter than any secret, so the text only shrinks.
    /// Returns the new length.
    public func maskInPlace(_ bytes: UnsafeMutablePointer<UInt8>, count: Int) -> Int {
        guard !secrets.isEmpty, count > 0 else { return count }
        let text = UnsafeBufferPointer(start: bytes, count: count)
        let end = count - secretPrefixLength(atEndOf: text)
        var read = 0, written = 0
        scan: while read < end {
            for secret in secrets where secret.count <= end - read && bytes[read] == secret[0] {
                if UnsafeBufferPointer(rebasing: text[read ..< read + secret.count]).elementsEqual(secret) {
                    for byte in SecretMask.replacement.utf8 { bytes[written] = byte; written += 1 }
                    read += secret.count
                    continue scan
                }
            }
            bytes[written] = bytes[read]
            written += 1
            read += 1
        }
        if end < count { for byte in SecretMask.replacement.utf8 { bytes[written] = byte; written += 1 } }
        return written
    }

    /// The length of the longest proper prefix of a secret (at least `minimumLength`) that `bytes` ends with.
    private func secretPrefixLength<Bytes: RandomAccessCollection>(atEndOf bytes: Bytes) -> Int where Bytes.Element == UInt8, Bytes.Index == Int {
        var longest = 0
        for secret in secrets {
            var length = min(secret.count - 1, bytes.count)
            while length >= SecretMask.minimumLength && length > longest {
                if bytes[(bytes.endIndex - length)...].elementsEqual(secret[..<length]) {
                    longest = length
                    break
                }
                length -= 1
            }
        }
        return longest
    }
}

/// For usage errors: the secrets an argument list names, found before any option is parsed.
extension SecretMask {
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
