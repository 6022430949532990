// https:// setup: the TLS options checked, libssl loaded and the client's context made, before the run.

extension RunOptions {
    /// `--cacert`, `--insecure` and `--no-tls-resume` say how to speak TLS: with an http:// URL they
    /// would silently do nothing, and `--cacert` with `--insecure` asks for a check and for none.
    func checkTLSOptions(isTLS: Bool) throws(UsageError) {
        if !isTLS {
            for (flag, given) in [("--cacert", caFile != nil), ("--insecure", insecure), ("--no-tls-resume", !tlsResume)] where given {
                throw UsageError(flag, "applies to https:// URLs only (the URL is http://)")
            }
        }
        if caFile != nil && insecure {
            throw UsageError("--insecure", "turns off the certificate check that --cacert configures; give one of them")
        }
    }
}

extension LoadRun {
    /// The run's TLS client for an https:// URL, nil for http://. A file given by the user that
    /// cannot be used is a usage error (64); a machine without libssl fails setup (1).
    static func makeTLSClient(url: TargetURL, options: RunOptions) throws -> TLSClient? {
        try options.checkTLSOptions(isTLS: url.isTLS)
        guard url.isTLS else { return nil }
        do {
            return try TLSClient(library: try TLSLibrary.load(), host: url.host, caFile: options.caFile,
                                 insecure: options.insecure, resume: options.tlsResume)
        } catch {
            if let flag = error.flag { throw UsageError(flag, error.message) }
            throw error
        }
    }
}
