// What llmsim simulates: address, model name, the time model, faults, limits. Durations in ns.
import MetronomeCore

/// Every option of `llmsim --help`, with its default. Build one with `SimConfig()` and set fields,
/// or from a command line with `SimConfig.parse(arguments:)`.
///
/// Time model (continuous batching, as vLLM schedules):
/// - at most `maxNumSeqs` requests run; later ones wait in FIFO order;
/// - a request admitted at `a` sends its first token at
///   `a + (ttft + prefillPerToken × promptTokens) × J`,
///   then token k+1 at `t_k + itl × (1 + batchItlSlope × (running − 1)) × J`, where `running` is
///   the running count when token k leaves and `J = max(0, 1 + jitter × N(0,1))`, a fresh seeded
///   draw per delay (exactly 1 when `jitter` is 0);
/// - a finishing request frees its place at its last token's time, and the head of the waiting
///   queue is admitted at that same time.
///
/// Prompt tokens (`usage.prompt_tokens`) are estimated, not tokenized: chat counts
/// `Σ over messages (⌈characters of content / 4⌉ + 4)`, completions `⌈characters of prompt / 4⌉`
/// (a prompt given as token ids counts its ids). Characters are Unicode scalars.
public struct SimConfig: Sendable, Equatable {
    public var host = "127.0.0.1"
    public var port: UInt16 = 8000
    public var model = "llmsim"
    /// An idle keep-alive connection (no request in progress) is closed after this; 0 never.
    /// 5 s is uvicorn's default `--timeout-keep-alive`, which vLLM's server inherits.
    public var keepAliveTimeoutNs: UInt64 = 5_000_000_000
    /// HTTPS: the PEM certificate chain and its private key (`--tls-cert`, `--tls-key`), both or
    /// neither; nil serves plain HTTP. Read when the server starts (`SimServer.init` throws
    /// `TLSSetupError` for an unreadable file or a key that is not the certificate's).
    public var tlsCertificateFile: String? = nil
    public var tlsKeyFile: String? = nil

    public var ttftNs: UInt64 = 30_000_000
    public var prefillPerTokenNs: UInt64 = 100_000
    public var itlNs: UInt64 = 20_000_000
    public var maxNumSeqs = 256
    public var batchItlSlope = 0.0
    public var jitter = 0.0
    public var seed: UInt64 = 1

    /// Fraction of completion requests answered 500 (all requests with `fast`).
    public var errorRate = 0.0
    /// Answer 429 when this many requests already wait; nil never rejects.
    public var rejectWhenWaiting: Int? = nil
    /// Freeze windows `[start + k·every − for, start + k·every)`, k ≥ 1: see `FreezeSchedule`.
    public var freezeEveryNs: UInt64 = 0
    public var freezeForNs: UInt64 = 0
    /// Fraction of responses whose connection is closed partway through.
    public var dropRate = 0.0
    /// Answer every request at once with a 2-byte 200, for measuring the load generator itself.
    public var fast = false

    public var maxBodyBytes = 8 << 20
    /// Prompt plus completion tokens allowed; also sets `max_tokens` when a request omits it.
    public var maxModelLen = 8192
    /// When set, every `created` field carries this value (golden files); otherwise wall-clock seconds.
    public var fixedCreated: UInt64? = nil

    public init() {}

    /// `https` with `--tls-cert`, else `http`: the scheme of the server's URL.
    public var scheme: String { tlsCertificateFile == nil ? "http" : "https" }

    /// A TLS handshake must end within this, so a client that connects and never says hello
    /// cannot hold a connection forever: the keep-alive timeout (an unfinished handshake is an
    /// idle connection), or 10 s when that is 0 (never), asyncio's own handshake limit being 60 s.
    public var tlsHandshakeTimeoutNs: UInt64 { keepAliveTimeoutNs > 0 ? keepAliveTimeoutNs : 10_000_000_000 }

    /// Checks the combinations a flag table cannot: the freeze pair, capacities.
    public func validated() throws(UsageError) -> SimConfig {
        if maxNumSeqs < 1 { throw UsageError("--max-num-seqs", "must be at least 1 (got \(maxNumSeqs))") }
        if (freezeEveryNs == 0) != (freezeForNs == 0) {
            throw UsageError("--freeze-every", "and --freeze-for go together: give both, or neither")
        }
        if freezeEveryNs > 0 && freezeForNs >= freezeEveryNs {
            throw UsageError("--freeze-for", "(\(formatDuration(freezeForNs))) must be shorter than --freeze-every (\(formatDuration(freezeEveryNs)))")
        }
        if let waiting = rejectWhenWaiting, waiting < 0 {
            throw UsageError("--reject-when-waiting", "must be 0 or more (got \(waiting))")
        }
        if tlsCertificateFile != nil && tlsKeyFile == nil {
            throw UsageError("--tls-cert", "needs --tls-key (the certificate's private key): give both, or neither")
        }
        if tlsKeyFile != nil && tlsCertificateFile == nil {
            throw UsageError("--tls-key", "needs --tls-cert (the certificate it is the key of): give both, or neither")
        }
        if maxBodyBytes < 1 { throw UsageError("--max-body-bytes", "must be at least 1") }
        if maxModelLen < 2 { throw UsageError("--max-model-len", "must be at least 2") }
        if model.isEmpty { throw UsageError("--model", "must not be empty") }
        if !(jitter >= 0) || !jitter.isFinite { throw UsageError("--jitter", "must be 0 or more") }
        if !(batchItlSlope >= 0) || !batchItlSlope.isFinite { throw UsageError("--batch-itl-slope", "must be 0 or more") }
        return self
    }
}

/// `--help` or `--version` was given: print the text and exit 0.
public struct SimConfigExit: Error, Sendable {
    public let text: String
}
