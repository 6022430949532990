// Every writer renders the summary through the run's secret mask.

extension RunSummary {
    /// The summary with every text field a server or a caller could have filled passed through the
    /// mask, and secret headers in the config hidden by name: each writer renders this, so a secret
    /// that got past the capture (or a config entry a caller forgot to mask) still stays out.
    public func maskingSecrets() -> RunSummary {
        var copy = self
        let mask = secrets
        copy.target = mask.masked(target)
        copy.config = config.map { entry in (entry.key, mask.masked(SecretMask.maskedConfigValue(entry))) }
        copy.tags = tags.map { ($0.key, mask.masked($0.value)) }
        copy.warnings = warnings.map(mask.masked)
        copy.closedLoop?.openLoopCommand = mask.masked(closedLoop?.openLoopCommand ?? "")
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
