// Writes a run's files under --out: Locust CSVs, the JSON summary, .hgrm distributions, the HTML report.
import Glibc

/// A file or directory that could not be written; the run itself is not lost (the summary was printed).
public struct ReportFileError: Error, CustomStringConvertible, Sendable {
    public let path: String
    public let reason: String
    public var description: String { "cannot write \(path): \(reason)" }
}

public enum ReportFiles {
    /// Writes `PREFIX_stats.csv`, `PREFIX_stats_history.csv`, `PREFIX_failures.csv`, `PREFIX_summary.json`,
    /// and, when given, `PREFIX_latency.hgrm` and `PREFIX_service.hgrm` (HdrHistogram's percentile
    /// distribution of the nanosecond histograms, in ms), `PREFIX_report.html` and `PREFIX.hlog` (the
    /// interval log of `--hlog`, see `IntervalLogWriter`). Creates `directory` and its parents like
    /// `mkdir -p`; existing files of the same names are replaced. Returns the paths written, in that order.
    public static func write(_ summary: RunSummary, latency: Histogram?, serviceTime: Histogram?, directory: String,
                             prefix: String, html: String?, intervalLog: String? = nil) throws -> [String] {
        try makeDirectories(directory)
        var files: [(suffix: String, text: String)] = [
            ("_stats.csv", LocustCSV.stats(summary)),
            ("_stats_history.csv", LocustCSV.statsHistory(summary)),
            ("_failures.csv", LocustCSV.failures(summary)),
            ("_summary.json", SummaryFile.render(summary)),
        ]
        if let latency { files.append(("_latency.hgrm", latency.percentileDistribution(unitScale: 1e6))) }
        if let serviceTime { files.append(("_service.hgrm", serviceTime.percentileDistribution(unitScale: 1e6))) }
        if let html { files.append(("_report.html", html)) }
        if let intervalLog { files.append((".hlog", intervalLog)) }
        let base = directory.isEmpty ? "" : directory.hasSuffix("/") ? directory : directory + "/"
        var written: [String] = []
        for file in files {
            let path = base + prefix + file.suffix
            try writeFile(path, file.text)
            written.append(path)
        }
        return written
    }

    /// Before the first request: creates `directory` (like `mkdir -p`) and writes, then removes, a
    /// probe file in it, so an unwritable `--out` is found before the run rather than after it.
    public static func checkWritable(directory: String, prefix: String) throws {
        try makeDirectories(directory)
        let base = directory.isEmpty ? "" : directory.hasSuffix("/") ? directory : directory + "/"
        let probe = base + ".\(prefix).probe-\(getpid())"
        let fd = open(probe, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw ReportFileError(path: directory.isEmpty ? "." : directory, reason: errorText(errno)) }
        var byte: UInt8 = 0x0A
        let written = Glibc.write(fd, &byte, 1)
        let writeError = errno
        close(fd)
        unlink(probe)
        guard written == 1 else { throw ReportFileError(path: directory.isEmpty ? "." : directory, reason: errorText(writeError)) }
    }

    /// `metronome_20261129-092000`: the run's start in local time (as the user's clock reads it,
    /// like Locust's and most tools' file names), to the second.
    public static func defaultPrefix(unixS: Double) -> String {
        let t = calendarFields(unixS: unixS, local: true)
        return "metronome_\(t.tm_year + 1900)\(twoDigits(t.tm_mon + 1))\(twoDigits(t.tm_mday))-"
            + "\(twoDigits(t.tm_hour))\(twoDigits(t.tm_min))\(twoDigits(t.tm_sec))"
    }

    /// `mkdir -p`: each missing component in turn; one that exists must be a directory.
    static func makeDirectories(_ path: String) throws {
        guard !path.isEmpty else { return }
        var prefix = path.hasPrefix("/") ? "/" : ""
        for component in path.split(separator: "/") {
            prefix += component
            if mkdir(prefix, 0o755) != 0 {
                let code = errno
                var status = stat()
                guard code == EEXIST, stat(prefix, &status) == 0, status.st_mode & S_IFMT == S_IFDIR else {
                    throw ReportFileError(path: prefix, reason: code == EEXIST ? "exists and is not a directory" : errorText(code))
                }
            }
            prefix += "/"
        }
    }

    public static func writeFile(_ path: String, _ text: String) throws {
        guard let file = fopen(path, "wb") else { throw ReportFileError(path: path, reason: errorText(errno)) }
        let bytes = Array(text.utf8)
        let count = bytes.count
        let written = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, count, file) }
        let writeError = written == count ? 0 : errno
        // fclose flushes, so a full disk may only show here.
        let closeFailed = fclose(file) != 0
        let closeError = errno
        if written != count { throw ReportFileError(path: path, reason: errorText(writeError)) }
        if closeFailed { throw ReportFileError(path: path, reason: errorText(closeError)) }
    }

    static func errorText(_ code: Int32) -> String {
        String(cString: strerror(code))
    }
}
