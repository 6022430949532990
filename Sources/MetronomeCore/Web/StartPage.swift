// `metronome ui`: the start form and the short page that hands over to the run's live view.

enum StartPage {
    /// A plain HTML form (no script needed, no external assets). `error` is the CLI's message,
    /// secrets already masked; every value is escaped; the API key is never filled back in.
    static func render(_ form: StartForm, error: String? = nil, command: String? = nil, tokenNeeded: Bool, note: String? = nil) -> String {
        let esc = HTMLText.escape
        func field(_ label: String, _ name: String, _ value: String, hint: String, size: Int = 12, type: String = "text") -> String {
            "<tr><th><label for=\"\(name)\">\(label)</label></th><td><input id=\"\(name)\" name=\"\(name)\" type=\"\(type)\" value=\"\(esc(value))\" size=\"\(size)\""
                + (type == "password" ? " autocomplete=\"off\"" : "") + "></td><td class=\"hint\">\(hint)</td></tr>\n"
        }
        let workloads = WorkloadKind.allCases.map { kind in
            "<option value=\"\(kind.rawValue)\"\(kind.rawValue == form.workload ? " selected" : "")>\(kind.rawValue)</option>"
        }.joined()
        var rows = field("URL", "url", form.url, hint: "an OpenAI server's base URL (the endpoint is implied), or the full URL for http", size: 44)
        rows += "<tr><th><label for=\"workload\">workload</label></th><td><select id=\"workload\" name=\"workload\">\(workloads)</select></td>"
            + "<td class=\"hint\">openai-chat: POST /v1/chat/completions, streamed; openai-completions: POST /v1/completions; http: the URL as given (GET, or --method, --body)</td></tr>\n"
        rows += field("rate", "rate", form.rate, hint: "arrivals per second (open loop: they do not wait for answers), e.g. 20, 0.5, 2k")
        rows += field("ramp", "ramp", form.ramp, hint: "from 1 /s up to the rate, e.g. 0s, 10s, 1m")
        rows += field("duration", "duration", form.duration, hint: "the hold at the rate after the ramp, e.g. 30s, 5m, 1h")
        rows += field("API key", "api_key", "", hint: "optional: sent as Authorization: Bearer; never shown", size: 24, type: "password")
        rows += field("more options", "extra", form.extra, hint: "any other metronome run options, as on a command line, e.g. --arrival constant --slo 'p95&lt;=5s' --max-tokens 200", size: 44)
        if tokenNeeded { rows += field("token", "token", "", hint: "the --web-token this ui was started with", size: 24, type: "password") }
        var out = head("Metronome: start a run")
        out += "<h1>Metronome: start a run</h1>\n"
        if let error {
            out += "<p id=\"error\" class=\"error\">error: \(esc(error))</p>\n"
        }
        if let command { out += "<p class=\"hint\">the run asked: <code id=\"command\">\(esc(command))</code></p>\n" }
        if let note { out += "<p id=\"note\" class=\"hint\">\(esc(note))</p>\n" }
        out += """
        <form method="post" action="/start"><table>
        \(rows)</table>
        <p><button type="submit">Start</button></p></form>
        <p class="hint">Starts <code>metronome run</code> with these options; this page then becomes the run's live view
        (charts, rate changes, stop), which stays up after the run with a link to the report.
        The options are checked as on the command line first, so a bad value is shown here instead.
        An empty field leaves its option out: clear rate, ramp and duration to give <code>--stage</code> or
        <code>--concurrency</code> in the options instead.</p>
        </body></html>

        """
        return out
    }

    /// The answer to a good POST /start. The run needs a moment to set up and bind the port this
    /// page came from: the script waits for its /stats.json, a page without script refreshes.
    static func starting(command: String) -> String {
        head("Metronome: starting", extraHead: "<noscript><meta http-equiv=\"refresh\" content=\"1;url=/\"></noscript>")
            + """
            <h1>Starting the run</h1>
            <p><code id="command">\(HTMLText.escape(command))</code></p>
            <p id="wait">The live view opens here in a moment (<a href="/">open it</a>).</p>
            <script>
            let tries=0;function t(){tries++;fetch('/stats.json',{cache:'no-store'}).then(r=>{if(r.ok)location.replace('/');else again()}).catch(again)}
            function again(){if(tries<240)setTimeout(t,250);else document.getElementById('wait').textContent='The run did not open its live view within a minute: see the terminal running metronome ui.'}
            setTimeout(t,250)
            </script></body></html>

            """
    }

    private static func head(_ title: String, extraHead: String = "") -> String {
        """
        <!doctype html><html lang="en"><head><meta charset="utf-8"><title>\(title)</title>
        <meta name="viewport" content="width=device-width, initial-scale=1">\(extraHead)
        <style>
        body{font:14px system-ui,sans-serif;margin:16px;color:#222;background:#fafafa}
        h1{font-size:18px;margin:0 0 8px}
        table{border-collapse:collapse;background:#fff;border:1px solid #ddd}th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #eee}
        th{font-weight:normal;color:#555}.hint{color:#666}.error{color:#b00020;font-weight:bold}
        code{background:#eee;padding:1px 3px}
        </style></head><body>

        """
    }
}
