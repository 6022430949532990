// `--help` text and the README's option table, both generated from `OptionTable`.

public enum HelpText {
    public static let overview = """
    OVERVIEW: Metronome \(metronomeVersion), an open-loop load generator for HTTP/1.1 services and
    OpenAI-compatible LLM servers. Requests leave on an arrival schedule that never waits for
    responses; latency counts from each request's intended start (no coordinated omission).

    USAGE: metronome <command> [options]

    COMMANDS:
      run URL [options]     Run a rate plan against URL (see metronome run --help)
      sweep URL --rates LIST [options]
                            Run steps of rising rate, each judged on its own hold; a table of
                            the steps (see metronome sweep --help)
      find-max URL --slo CHECKS [options]
                            Find the highest rate whose hold passes the SLO: double, then
                            bisect (see metronome find-max --help)
      report FILE [options] Print the summary and write the HTML report again from a saved
                            PREFIX_summary.json (see metronome report --help)
      merge FILE... [options]
                            Add several runs' summaries (shards, machines) into one run's report
                            files, exactly (see metronome merge --help)
      compare BASE NEW [options]
                            Two runs side by side, the change in each metric and a verdict; exit 3
                            on a regression past --threshold (see metronome compare --help)
      ui [--web [HOST:]PORT]
                            A web page that asks for URL, workload, rate, ramp and duration,
                            then starts the run and shows it live (see metronome ui --help)
      help-options          Print the option table as Markdown (the README's list)

    OPTIONS:
      -h, --help            Show help
      --version             Show the version

    EXIT CODES:
      0    the run completed
      1    the run could not be carried out (setup failed, or the target was unreachable), or its
           report files or request log could not be written
      2    the run did not measure the server: no request succeeded, or more than half were
           dropped by the generator or unfinished (with or without --slo)
      3    an SLO check failed (--slo)
      64   bad usage (a bad flag, value or URL; an --out or --request-log that cannot be written)
      130  interrupted by SIGINT/SIGTERM (during the run the summary is still printed)
      (sweep and find-max have their own: see metronome sweep --help)

    """

    public static let merge = """
    OVERVIEW: Add several runs of one plan into one: the shards of `run --shard I/N` (or of
    `run --processes N`), or runs of the same stages from several machines. Every counter and
    histogram adds exactly (the summaries keep them losslessly in `raw_stats`), so the merged
    percentiles are those of all the requests pooled, within the histograms' precision; per-second
    series are aligned on the wall clock. Writes the same files as a run and prints its summary.

    USAGE: metronome merge PREFIX_summary.json... [--out DIR] [--name PREFIX] [--json]

    OPTIONS:
      --out DIR                 Directory for the merged files (default: the first file's directory)
      --name PREFIX             File name prefix (default: merged_<date>-<time>)
      --json                    Print the merged summary as one JSON object instead of text
      -h, --help                Show this help

    Shards of one plan (same N, --seed and arrival) keep the plan's rates; other runs' rates add up
    stage by stage. Their stages must match (names and lengths); closed-loop runs are refused.
    The runs' --slo is judged again on the merged figures. Exit codes as for run (3: SLO failed).

    EXAMPLE: metronome merge results/shard-*_summary.json --out results --name merged

    """

    public static let compare = """
    OVERVIEW: Two runs side by side: achieved rate, latency p50/p95/p99, error %, and for LLM runs
    TTFT p50/p95/p99, ITL and TPOT p50/p95 and output tokens/s; the change in each and a verdict
    (better, worse or same within --threshold). Exit 3 when a metric is worse past the threshold.

    USAGE: metronome compare BASE_summary.json NEW_summary.json [--threshold 5%] [--out DIR]
                             [--name PREFIX] [--json]

    OPTIONS:
      --threshold P             A change counts past P percent of the base value (default 5%); the
                                error rate's, past P percent of the base or of 1 %, whichever is larger
      --out DIR                 Also write PREFIX_compare.html (both distributions) and PREFIX_compare.json
      --name PREFIX             File name prefix (default: compare_<date>-<time>; implies --out of NEW's directory)
      --json                    Print the comparison as JSON instead of the table
      -h, --help                Show this help

    Any two summaries compare (a --json output too); a note says when their plans or workloads differ.
    Exit codes: 0 no regression, 3 regression, 1 a file could not be read or written, 64 bad usage.

    """

    public static let report = """
    OVERVIEW: Print a saved run's summary and write its HTML report again (from PREFIX_summary.json);
    with --grid, one table across the settings of several sweep or find-max results.

    USAGE: metronome report PREFIX_summary.json [--out DIR] [--name PREFIX]
           metronome report --grid FILE... [--out DIR] [--name PREFIX] [--json]

    OPTIONS:
      --out DIR                 Directory for the HTML report (default: the summary file's directory)
      --name PREFIX             File name prefix of the report (default: the summary file's PREFIX)
      --grid                    Read FILE... (PREFIX_find_max.json, PREFIX_sweep.json) and print one row
                                per file: its --tag values, the max rate (find-max's answer, or a
                                sweep's highest passing step), the bracket, p95 and achieved rate at
                                that rate, steps run; rows sorted by tags. Writes PREFIX_grid.csv,
                                PREFIX_grid.json and PREFIX_grid.html (max rate per setting, latency
                                p95 against rate per file) to --out (default: the first file's
                                directory), PREFIX by default metronome_<date>-<time>
      --json                    With --grid: print the grid's JSON instead of the table
      -h, --help                Show this help

    EXAMPLE: metronome report --grid experiments/runs/grid-seqs*_find_max.json --name grid

    EXIT CODES: 0, or 3 when the saved run failed its SLO (not with --grid); 1 when a file cannot be
    read, is not the right kind of file, or cannot be written; 64 for bad usage.

    """

    public static let ui = """
    OVERVIEW: A web page to start a run from (Locust's web UI mode): it asks for the URL, workload,
    rate, ramp, duration, an API key and any other run options, checks them exactly as
    `metronome run` does (a bad value is shown on the page with the command line's message), then
    this process becomes `metronome run ... --web HOST:PORT --web-keep`, and the same page is the
    run's live view: charts, rate changes, stop, and the report link once it ends. The run prints
    its summary here, as on the command line; after it the view stays up until Ctrl-C or a second
    Stop (POST /stop), and the exit code is the run's.

    USAGE: metronome ui [--web [HOST:]PORT] [--web-token TOKEN]

    OPTIONS:
      --web [HOST:]PORT         Where the page listens (default: 127.0.0.1:8089; HOST 127.0.0.1 unless
                                given); the run's live view takes the same address
      --web-token TOKEN         Required when HOST is not loopback: the form's token field must match
                                it to start a run, and the run's controls need it too
                                (Authorization: Bearer TOKEN). 8 to 200 printable characters
      -h, --help                Show this help

    EXAMPLE: metronome ui            # then open http://127.0.0.1:8089/

    EXIT CODES: those of metronome run once a run started; 64 for bad usage (or a port that cannot
    be bound). Before a run, Ctrl-C ends it by the signal.

    """

    public static var run: String {
        var out = """
        OVERVIEW: Fire requests at URL on an arrival schedule that ramps to a target rate and holds it.

        USAGE: metronome run [URL] [options]
          URL defaults to http://127.0.0.1:8000 (http:// only; host name, IPv4 or [IPv6] literal).

        EXAMPLES:
          metronome run http://127.0.0.1:8000/health --rate 200 --ramp 10s --duration 1m
          metronome run http://HOST:8000 --start-rate 0 --stage 60s:20 --stage 10m:20 --stage 30s:0
          metronome run http://HOST:8000 --concurrency 8 --spawn-rate 2 --duration 5m
            (a closed loop, Locust's -u 8 -r 2, for comparison only: latency then excludes waiting)

        """
        out += optionSections(OptionTable.run, groups: OptionTable.groups)
        out += "\n  -h, --help                Show this help\n"
        return out
    }

    public static var sweep: String {
        var out = """
        OVERVIEW: Run one step per rate, in order: a ramp from the previous rate (--step-ramp), a hold
        of --step-duration judged on its own, then a cooldown without arrivals until the step's
        requests have finished (at most --cooldown), so each step starts with an empty server.
        Prints a table of the holds and writes PREFIX_sweep.csv and PREFIX_sweep.json (a step writes
        no report files of its own). Model discovery runs once, before the first step.

        USAGE: metronome sweep [URL] --rates LIST [options]

        EXAMPLES:
          metronome sweep http://HOST:8000 --rates 5,10,20,40 --slo 'p95<=5s,errors<=0.1%'
          metronome sweep http://HOST:8000 --rates 2..40x8 --step-duration 2m --cooldown 1m --json

        EXIT CODES: 0 when every step ran (the verdicts are data); 1 when setup failed, the target
        became unreachable or the files could not be written; 64 for bad usage; 130 when
        interrupted (the steps so far are printed and written).

        """
        out += optionSections(CapacityOptionTable.sweep, groups: ["Steps"] + OptionTable.groups)
        out += "\n  -h, --help                Show this help\n"
        return out
    }

    public static var findMax: String {
        var out = """
        OVERVIEW: Find the highest rate whose hold passes --slo: steps (as in metronome sweep) from
        --min-rate, doubling until one fails (or --max-rate passes), then bisecting between the
        highest pass and the lowest fail until they are within --precision. A fail within twice the
        precision of the highest pass is run again once (with the next --seed) before it counts.
        Every other step uses --seed, so run --seed N at a step's rate repeats it. Prints the steps and the
        maximum (the highest rate that passed, never a midpoint); writes PREFIX_find_max.csv and
        PREFIX_find_max.json.

        USAGE: metronome find-max [URL] --slo CHECKS [options]

        EXAMPLE:
          metronome find-max http://HOST:8000 --slo 'p95<=5s,errors<=0.1%' --min-rate 2 --max-rate 200

        EXIT CODES: 0 when a maximum was found; 3 when even --min-rate fails the SLO; 1 when setup
        failed, the target became unreachable or the files could not be written; 64 for bad usage;
        130 when interrupted (the steps so far are printed and written).

        """
        out += optionSections(CapacityOptionTable.findMax, groups: ["Steps"] + OptionTable.groups)
        out += "\n  -h, --help                Show this help\n"
        return out
    }

    /// One block per group: the group's name in capitals, then each option with its placeholder,
    /// help and default, wrapped at 100 columns. Every command's `--help` lists options this way.
    public static func optionSections<Options>(_ table: [OptionSpec<Options>], groups: [String]) -> String {
        var out = ""
        for group in groups {
            out += "\n\(group.uppercased()):\n"
            for spec in table where spec.group == group {
                let left = "  " + spec.flag + (spec.value.map { " " + $0 } ?? "")
                var help = spec.help.replacingBackticks()
                if !spec.defaultText.isEmpty { help += " (default: \(spec.defaultText))" }
                out += wrap(left: left, text: help, leftWidth: 28, width: 100)
            }
        }
        return out
    }

    /// The option table in Markdown, as the README shows it.
    public static var markdown: String { markdown(OptionTable.run) }

    public static func markdown<Options>(_ table: [OptionSpec<Options>]) -> String {
        var out = "| option | default | meaning |\n| --- | --- | --- |\n"
        for spec in table {
            let flag = "`" + spec.flag + (spec.value.map { " " + $0 } ?? "") + "`"
            out += "| \(flag) | \(spec.defaultText.isEmpty ? "" : spec.defaultText) | \(spec.help) |\n"
        }
        return out
    }

    public static func wrap(left: String, text: String, leftWidth: Int, width: Int) -> String {
        var lines: [String] = []
        var line = ""
        for word in text.split(separator: " ") {
            if !line.isEmpty && line.count + 1 + word.count > width - leftWidth {
                lines.append(line)
                line = ""
            }
            line += (line.isEmpty ? "" : " ") + word
        }
        if !line.isEmpty { lines.append(line) }
        var out = ""
        for (number, text) in lines.enumerated() {
            let prefix = number == 0 ? left : ""
            if number == 0 && prefix.count >= leftWidth {
                out += prefix + "\n" + String(repeating: " ", count: leftWidth) + text + "\n"
            } else {
                out += Format.padRight(prefix, leftWidth) + text + "\n"
            }
        }
        return out
    }
}

extension String {
    func replacingBackticks() -> String { String(filter { $0 != "`" }) }
}
