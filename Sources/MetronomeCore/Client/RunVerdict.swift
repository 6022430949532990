// The exit code of a finished run, and the reasons printed for it: one place, so the README table holds.

/// `metronome run`'s exit codes (the README's table).
public enum ExitCode {
    public static let completed: Int32 = 0
    /// Setup failed, the target was unreachable, or the report files or request log could not be written.
    public static let failed: Int32 = 1
    /// The run ended but did not measure the server: no request succeeded, or most never got an answer
    /// (dropped by the generator or unfinished).
    public static let notMeasured: Int32 = 2
    public static let sloFailed: Int32 = 3
    public static let usage: Int32 = 64
    public static let interrupted: Int32 = 130
}

public struct RunVerdict: Equatable, Sendable {
    public var code: Int32
    /// One line each, for stderr (`error: …`); empty for a clean pass.
    public var reasons: [String]

    /// Judges a finished run. Precedence: interrupted, unreachable, not measured, files not written, SLO.
    /// "Not measured" applies with or without `--slo`: an SLO such as `p95<=5s` can pass on a run in
    /// which every request failed fast, and a latency SLO over 10 % of the plan judges the generator.
    public static func judge(_ summary: RunSummary, interrupted: Bool, fileErrors: [String]) -> RunVerdict {
        var reasons: [String] = []
        let total = summary.total
        var notMeasured: String?
        if total.scheduled == 0 {
            notMeasured = "the plan scheduled no request (raise --rate or --duration)"
        } else if total.succeeded == 0 {
            let common = total.errors.max { $0.count < $1.count }.map { "; most common outcome: \($0.kind) (\($0.count))" } ?? ""
            let status = summary.statusCounts.filter { $0.status >= 300 }.max { $0.count < $1.count }
                .map { "; the server answered HTTP \($0.status) \($0.count) times (check the URL, --model and credentials)" } ?? ""
            notMeasured = "no request of \(total.scheduled) succeeded\(common)\(status)"
        } else if (total.dropped + total.unfinished) * 2 > total.scheduled {
            let lost = total.dropped + total.unfinished
            notMeasured = "\(lost) of \(total.scheduled) requests (\(Format.fixed(100 * Double(lost) / Double(total.scheduled), decimals: 1)) %) were dropped by the generator (\(total.dropped)) or unfinished (\(total.unfinished)), more than half"
        }
        // Interrupted and unreachable runs say why in their summary already.
        if let notMeasured, !interrupted, !summary.targetUnreachable {
            reasons.append("the run did not measure the server: \(notMeasured)")
        }
        reasons += fileErrors
        let code: Int32
        if interrupted { code = ExitCode.interrupted }
        else if summary.targetUnreachable { code = ExitCode.failed }
        else if notMeasured != nil { code = ExitCode.notMeasured }
        else if !fileErrors.isEmpty { code = ExitCode.failed }
        else if !summary.sloPassed { code = ExitCode.sloFailed }
        else { code = ExitCode.completed }
        return RunVerdict(code: code, reasons: reasons)
    }
}
