// Locust 2.x's stats, stats-history and failures CSV files from a run summary: its headers, its row shapes.

/// The files Locust's `--csv PREFIX` writes, so scripts written for Locust read Metronome's runs unchanged.
/// Rows are written the way Python's `csv` module writes them (Locust's writer): CRLF after every row,
/// a field quoted only when it holds a comma, a quote or a line break.
///
/// Where Metronome's numbers differ from Locust's, on purpose:
/// - times are milliseconds with three decimals (µs), read exactly from the histogram, where Locust
///   rounds percentiles to two significant figures and prints whole milliseconds;
/// - latency is measured from each request's intended start (open loop), for successful requests;
/// - `Request Count` is every request the plan scheduled, and `Failure Count` every one that did not
///   succeed (HTTP and network failures, dropped and unfinished requests), so that
///   `Requests/s − Failures/s` is the achieved rate;
/// - rates are over the planned duration (`Requests/s` is the offered rate), with six decimals.
public enum LocustCSV {
    public static let statsHeader = "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%"
    public static let historyHeader = "Timestamp,User Count,Type,Name,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%,Total Request Count,Total Failure Count,Total Median Response Time,Total Average Response Time,Total Min Response Time,Total Max Response Time,Total Average Content Size"
    /// Locust's own is `Method,Name,Error,Occurrences`; the two time columns follow it, so readers that
    /// pick columns by name see Locust's four unchanged.
    public static let failuresHeader = "Method,Name,Error,Occurrences,First Seen,Last Seen"

    /// `PREFIX_stats.csv`: one row for the request (Type = method, Name = path), then Locust's
    /// `Aggregated` row (empty Type). A run has one request, so both rows carry the same numbers.
    public static func stats(_ summary: RunSummary) -> String {
        let summary = summary.maskingSecrets()
        let request = requestName(summary)
        let phase = summary.total
        let requests = phase.scheduled
        let failures = requests - min(phase.succeeded, requests)
        func fields(_ type: String, _ name: String) -> [String] {
            var row = [type, name, String(requests), String(failures)]
            row += [phase.latency.p50, phase.latency.mean, phase.latency.min, phase.latency.max].map { milliseconds($0, of: phase.latency.count) }
            row.append(Format.fixed(phase.meanResponseBytes, decimals: 2))
            row.append(rate(Double(requests), overS: summary.ranS))
            row.append(rate(Double(failures), overS: summary.ranS))
            return row + percentileFields(phase.latency.values, count: phase.latency.count)
        }
        return statsHeader + "\r\n" + row(fields(request.method, request.name)) + row(fields("", "Aggregated"))
    }

    /// `PREFIX_stats_history.csv`: Locust's default history, one `Aggregated` row a second. The rates
    /// count the requests that ended in that second (the last sample's window may be shorter than a
    /// second; its rates are scaled to it); percentiles and `Total` columns cover the run so far.
    public static func statsHistory(_ summary: RunSummary) -> String {
        var out = historyHeader + "\r\n"
        var previousEndS = 0.0
        for sample in summary.series {
            let windowS = sample.endS - previousEndS
            previousEndS = sample.endS
            let ended = Double(sample.succeeded + sample.failed)
            let count = sample.cumulativeSucceeded
            var fields = [String(Int64(sample.wallClockS.rounded(.down))), String(sample.inFlight), "", "Aggregated",
                          rate(ended, overS: windowS), rate(Double(sample.failed), overS: windowS)]
            fields += percentileFields(sample.cumulative, count: count)
            fields += [String(sample.cumulativeSucceeded + sample.cumulativeFailed), String(sample.cumulativeFailed),
                       milliseconds(sample.cumulative.first ?? 0, of: count), milliseconds(sample.cumulativeMeanMs, of: count),
                       milliseconds(sample.cumulativeMinMs, of: count), milliseconds(sample.cumulativeMaxMs, of: count),
                       Format.fixed(sample.cumulativeMeanBytes, decimals: 2)]
            out += row(fields)
        }
        return out
    }

    /// `PREFIX_failures.csv`: one row per kind of failure (HTTP errors one per status), dropped and
    /// unfinished requests included: they are requests of the plan that did not succeed. First and
    /// last seen are UTC wall-clock times with milliseconds.
    public static func failures(_ summary: RunSummary) -> String {
        let summary = summary.maskingSecrets()
        let request = requestName(summary)
        var out = failuresHeader + "\r\n"
        for entry in summary.failures {
            out += row([request.method, request.name, errorText(entry, messages: summary.errorMessages), String(entry.count),
                        isoTimestampMillis(unixS: summary.startedAtUnixS + Double(entry.firstSeenNs) / 1e9),
                        isoTimestampMillis(unixS: summary.startedAtUnixS + Double(entry.lastSeenNs) / 1e9)])
        }
        return out
    }

    /// `HTTP 500: <the server's message>`, `timeout`, `connect_refused`: the outcome's key (the status for
    /// HTTP errors) and the message the server sent most often for it, when one was kept.
    static func errorText(_ entry: FailureLog.Entry, messages: [(kind: String, status: Int, message: String, count: UInt64)]) -> String {
        let base = entry.kind == Outcome.httpError.key ? "HTTP \(entry.status)" : entry.kind
        let matching = messages.filter { $0.kind == entry.kind && (entry.kind != Outcome.httpError.key || $0.status == entry.status) }
        // max(by:) keeps the first of equal counts: the earliest message kept wins a tie.
        guard let best = matching.max(by: { $0.count < $1.count }) else { return base }
        return base + ": " + best.message
    }

    /// Method and path of `POST http://host:port/path?query`; Locust names a request by its path.
    /// A closed loop's request row is named for it (`/v1/chat/completions [closed loop: 8 workers]`):
    /// the `Aggregated` row scripts read stays as Locust writes it, and the mode travels with the file.
    static func requestName(_ summary: RunSummary) -> (method: String, name: String) {
        let request = requestName(summary.target)
        guard let closedLoop = summary.closedLoop else { return request }
        return (request.method, request.name + " [closed loop: \(closedLoop.workers) worker\(closedLoop.workers == 1 ? "" : "s")]")
    }

    static func requestName(_ target: String) -> (method: String, name: String) {
        guard let space = target.firstIndex(of: " ") else { return ("", target) }
        let method = String(target[..<space])
        let url = target[target.index(after: space)...]
        guard let scheme = url.firstRange(of: "://") else { return (method, String(url)) }
        let afterScheme = url[scheme.upperBound...]
        guard let slash = afterScheme.firstIndex(of: "/") else { return (method, "/") }
        return (method, String(afterScheme[slash...]))
    }

    /// Locust writes `N/A` for percentiles of an entry with no requests to rank.
    static func percentileFields(_ values: [Double], count: UInt64) -> [String] {
        guard count > 0, values.count == Percentiles.levels.count else {
            return Array(repeating: "N/A", count: Percentiles.levels.count)
        }
        return values.map { Format.fixed($0, decimals: 3) }
    }

    /// Milliseconds with three decimals; 0 without samples, as Locust writes it.
    static func milliseconds(_ ms: Double, of count: UInt64) -> String {
        Format.fixed(count > 0 ? ms : 0, decimals: 3)
    }

    /// Six decimals, like Locust's history (`f"{rps:2f}"`).
    static func rate(_ count: Double, overS seconds: Double) -> String {
        Format.fixed(seconds > 0 ? count / seconds : 0, decimals: 6)
    }

    static func row(_ fields: [String]) -> String {
        fields.map(field).joined(separator: ",") + "\r\n"
    }

    /// Python's `csv.QUOTE_MINIMAL`: quote a field holding the delimiter, the quote or a line break,
    /// doubling any quote inside.
    static func field(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == 0x0A || $0 == 0x0D }) else {
            return text
        }
        var quoted = "\""
        for character in text.unicodeScalars {
            if character == "\"" { quoted += "\"" }
            quoted.unicodeScalars.append(character)
        }
        return quoted + "\""
    }
}
