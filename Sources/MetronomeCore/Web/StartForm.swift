// `metronome ui`: the start form's fields, read from a POST and turned into a `metronome run` command line.

/// What the page asks (the old harness's inputs). The run's own parser judges every value: this
/// only carries the text over, so an error names the flag and value exactly as the CLI would.
struct StartForm: Equatable {
    var url = "http://127.0.0.1:8000"
    var workload = WorkloadKind.openaiChat.rawValue
    var rate = "20"
    var ramp = "10s"
    var duration = "1m"
    /// Never rendered back into a page.
    var apiKey = ""
    /// More `metronome run` options, split as a shell would (quotes and backslashes).
    var extra = ""
    /// The `--web-token`, from the form (a plain form cannot send an Authorization header).
    var token = ""

    /// Options `ui` sets itself: the run serves its live view where the form was.
    static let reservedOptions = ["--web", "--web-keep", "--web-token"]

    /// Reads an `application/x-www-form-urlencoded` body; nil when it is not one (bad escapes or UTF-8).
    static func decode(_ body: [UInt8]) -> StartForm? {
        var form = StartForm()
        form.url = ""
        form.rate = ""
        form.ramp = ""
        form.duration = ""
        guard let text = String(validating: body, as: UTF8.self) else { return nil }
        for pair in text.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = percentDecoded(parts[0]), let value = percentDecoded(parts.count > 1 ? parts[1] : "") else { return nil }
            switch name {
            case "url": form.url = value
            case "workload": form.workload = value
            case "rate": form.rate = value
            case "ramp": form.ramp = value
            case "duration": form.duration = value
            case "api_key": form.apiKey = value
            case "extra": form.extra = value
            case "token": form.token = value
            default: break
            }
        }
        return form
    }

    /// `+` is a space, `%XX` a byte; the bytes must be UTF-8.
    static func percentDecoded(_ text: Substring) -> String? {
        var bytes: [UInt8] = []
        var index = text.utf8.startIndex
        let utf8 = text.utf8
        while index < utf8.endIndex {
            let byte = utf8[index]
            if byte == UInt8(ascii: "+") {
                bytes.append(32)
            } else if byte == UInt8(ascii: "%") {
                let high = utf8.index(after: index)
                guard high < utf8.endIndex, utf8.index(after: high) < utf8.endIndex,
                      let h = hexValue(utf8[high]), let l = hexValue(utf8[utf8.index(after: high)]) else { return nil }
                bytes.append(h << 4 | l)
                index = utf8.index(after: high)
            } else {
                bytes.append(byte)
            }
            index = utf8.index(after: index)
        }
        return String(validating: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// The arguments after `metronome run`: the fields as options (an empty field is left out, so
    /// the run's default or its "needs" message applies), the extra options, then the live view's.
    func runArguments(web: WebAddress, token: String?) throws(UsageError) -> [String] {
        var arguments: [String] = []
        if !url.isEmpty { arguments.append(url) }
        if !workload.isEmpty { arguments += ["--workload", workload] }
        if !rate.isEmpty { arguments += ["--rate", rate] }
        if !ramp.isEmpty { arguments += ["--ramp", ramp] }
        if !duration.isEmpty { arguments += ["--duration", duration] }
        if !apiKey.isEmpty { arguments += ["--api-key", apiKey] }
        let extraWords = try Self.shellWords(extra)
        if let reserved = extraWords.first(where: { word in Self.reservedOptions.contains { word == $0 || word.hasPrefix($0 + "=") } }) {
            let name = reserved.prefix { $0 != "=" }
            throw UsageError(String(name), "is set by metronome ui (the run serves its live view at this page's address); leave it out of the extra options")
        }
        arguments += extraWords
        arguments += ["--web", web.description, "--web-keep"]
        if let token { arguments += ["--web-token", token] }
        return arguments
    }

    /// Splits as a POSIX shell does for plain words: blanks separate, '…' is literal, "…" keeps
    /// blanks (a backslash there escapes `"`, `\`), a backslash outside quotes escapes the next character.
    static func shellWords(_ text: String) throws(UsageError) -> [String] {
        var words: [String] = []
        var word = ""
        var inWord = false
        var quote: Character?
        var escaped = false
        for character in text {
            if escaped {
                if quote == "\"" && character != "\"" && character != "\\" { word.append("\\") }
                word.append(character)
                escaped = false
                continue
            }
            switch (quote, character) {
            case (nil, " "), (nil, "\t"), (nil, "\n"), (nil, "\r"):
                if inWord { words.append(word) }
                word = ""
                inWord = false
            case (nil, "'"), (nil, "\""):
                quote = character
                inWord = true
            case ("'", "'"), ("\"", "\""):
                quote = nil
            case (nil, "\\"), ("\"", "\\"):
                escaped = true
                inWord = true
            default:
                word.append(character)
                inWord = true
            }
        }
        if quote != nil || escaped { throw UsageError("extra options", "end inside a quote or after a backslash (quote as in a shell: --slo 'p95<=5s')") }
        if inWord { words.append(word) }
        return words
    }
}
