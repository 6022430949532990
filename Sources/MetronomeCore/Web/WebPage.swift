// The web view's one page: figures and charts rendered by the server, then kept live by a small script.

enum WebPage {
    /// Self-contained (no external assets): the first HTML carries the current figures and the charts
    /// so far as inline SVG, readable without script; the script then redraws both from `/events`.
    static func render(_ view: LiveView, controls: Bool, tokenNeeded: Bool) -> String {
        let f = view.figures
        let esc = HTMLText.escape
        func ms(_ value: Double) -> String { Format.fixed(value, decimals: 1) }
        func row(_ label: String, _ id: String, _ value: String) -> String {
            "<tr><th>\(label)</th><td id=\"\(id)\">\(esc(value))</td></tr>"
        }
        func triple(_ values: [Double]) -> String { values.map(ms).joined(separator: " / ") }
        var figures = row("state", "state", f.state)
            + row("elapsed", "elapsed", "\(Format.fixed(f.elapsedS, decimals: 0)) s of \(Format.fixed(f.durationS, decimals: 0)) s")
            + row("stage", "stage", f.stage)
            + row("target rate", "target", Format.fixed(f.targetRps, decimals: 1) + " /s")
            + row("offered rate", "offered", Format.fixed(f.offeredRps, decimals: 1) + " /s")
            + row("achieved rate", "achieved", Format.fixed(f.achievedRps, decimals: 1) + " /s")
            + row("in flight / queued", "inflight", "\(f.inFlight) / \(f.queued)")
            + row("sent / succeeded", "sent", "\(f.sent) / \(f.succeeded)")
            + row("errors", "errors", "\(f.errors)")
            + row("latency p50/p95/p99, last \(LiveView.windowSeconds) s (ms)", "latency", triple(f.latencyMs))
            + row("latency p50/p95/p99, run (ms)", "latencyrun", triple(f.latencyRunMs))
        if view.isLLM {
            figures += row("TTFT p50/p95/p99, last \(LiveView.windowSeconds) s (ms)", "ttft", triple(f.ttftMs))
                + row("ITL p50/p95/p99, last \(LiveView.windowSeconds) s (ms)", "itl", triple(f.itlMs))
        }
        figures += row("send lag p50/p95/p99, run (ms)", "sendlag", triple(f.sendLagMs))
        let errors = f.errorsByKind.isEmpty ? "none" : f.errorsByKind.map { "\($0.0) \($0.1)" }.joined(separator: ", ")
        let stages = f.stages.map { stage in
            "<tr><td>\(esc(stage.name))</td><td>\(Format.fixed(Double(stage.startNs) / 1e9, decimals: 1))–\(Format.fixed(Double(stage.startNs + stage.durationNs) / 1e9, decimals: 1)) s</td><td>\(Format.trimmed(stage.startRatePerSec, decimals: 2)) → \(Format.trimmed(stage.endRatePerSec, decimals: 2)) /s</td></tr>"
        }.joined()
        let slo = f.slo.map { check in
            "<tr class=\"\(check.passed ? "pass" : "fail")\"><td>\(check.passed ? "PASS" : "FAIL")</td><td>\(esc(check.expression))</td><td>\(esc(Format.fixed(check.measured, decimals: 2))) \(esc(check.unit))</td></tr>"
        }.joined()
        let history = view.history
        let rateSeries = [history.map { ($0.t, $0.target) }, history.map { ($0.t, $0.offered) }, history.map { ($0.t, $0.achieved) }]
        let latencySeries = [history.map { ($0.t, $0.p50) }, history.map { ($0.t, $0.p95) }, history.map { ($0.t, $0.p99) }]
        let report = f.report.map { "<p id=\"report\">Run ended; report: <a href=\"/report\">\(esc($0))</a></p>" } ?? "<p id=\"report\"></p>"
        var out = """
        <!doctype html><html lang="en"><head><meta charset="utf-8"><title>Metronome live: \(esc(view.title))</title>
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <style>
        body{font:14px system-ui,sans-serif;margin:16px;color:#222;background:#fafafa}
        h1{font-size:18px;margin:0 0 8px}
        .grid{display:flex;flex-wrap:wrap;gap:16px}
        .card{background:#fff;border:1px solid #ddd;border-radius:6px;padding:10px}
        table{border-collapse:collapse}th,td{text-align:left;padding:2px 8px;border-bottom:1px solid #eee}
        th{font-weight:normal;color:#555}td{font-variant-numeric:tabular-nums}
        svg{background:#fff}.legend span{margin-right:10px}
        tr.pass td:first-child{color:#0a7d2c;font-weight:bold}tr.fail td:first-child{color:#b00020;font-weight:bold}
        #state.running{color:#0a7d2c}#state.draining{color:#b26b00}#state.done{color:#555}
        input{width:90px}#msg{margin-left:8px}
        </style></head><body>
        <h1>Metronome live: \(esc(view.title))</h1>
        <div class="grid">
        <div class="card"><table>\(figures)</table><p>errors by kind: <span id="errkinds">\(esc(errors))</span></p></div>
        <div class="card">
        <div class="legend"><b>rate /s</b> <span style="color:#999">— target</span><span style="color:#1f77b4">— offered</span><span style="color:#2ca02c">— achieved</span></div>
        \(chart("ratechart", rateSeries))
        <div class="legend"><b>latency ms, last \(LiveView.windowSeconds) s</b> <span style="color:#2ca02c">— p50</span><span style="color:#ff7f0e">— p95</span><span style="color:#d62728">— p99</span></div>
        \(chart("latchart", latencySeries))
        </div>
        <div class="card"><b>plan</b><table id="stages">\(stages)</table></div>
        """
        if !view.slo.isEmpty {
            out += "<div class=\"card\"><b>SLO, run so far</b><table id=\"slo\">\(slo)</table><p style=\"color:#555\">The exit code judges the hold stages at the end.</p></div>\n"
        }
        if controls {
            out += """
            <div class="card"><b>controls</b><form id="rateform" onsubmit="return setRate()">
            <p>rate <input id="rate" type="number" min="0" step="any" required> /s over
            <input id="ramp" type="number" min="0" step="any" value="0"> s
            \(tokenNeeded ? "token <input id=\"token\" type=\"password\">" : "")
            <button type="submit">Apply</button> <button type="button" onclick="stopRun()">Stop run</button><span id="msg"></span></p>
            <p style="color:#555">A change replaces the rest of the plan: a ramp from now, then a hold until the planned end.</p>
            </form></div>
            """
        }
        // The script's history starts from the server's, so its first redraw keeps the curves so far.
        let seed = history.map { point in
            "[" + [point.t, point.target, point.offered, point.achieved, point.p50, point.p95, point.p99]
                .map { Format.fixed($0, decimals: 3) }.joined(separator: ",") + "]"
        }.joined(separator: ",")
        out += "</div>\(report)<script>const H0=[\(seed)];\(script)</script></body></html>\n"
        return out
    }

    static let chartWidth = 560.0, chartHeight = 150.0
    static let colors = ["#999", "#1f77b4", "#2ca02c"]
    static let latencyColors = ["#2ca02c", "#ff7f0e", "#d62728"]

    /// The same drawing as the script's `draw`: polylines scaled to the largest value, axis labels.
    static func chart(_ id: String, _ series: [[(Double, Double)]]) -> String {
        let palette = id == "ratechart" ? colors : latencyColors
        let xs = series.flatMap { $0.map(\.0) }
        let t0 = xs.min() ?? 0, t1 = max(xs.max() ?? 1, t0 + 1)
        let top = max(series.flatMap { $0.map(\.1) }.max() ?? 1, 1e-9) * 1.1
        var lines = ""
        for (index, points) in series.enumerated() {
            let text = points.map { point in
                Format.fixed((point.0 - t0) / (t1 - t0) * chartWidth, decimals: 1) + ","
                    + Format.fixed(chartHeight - point.1 / top * chartHeight, decimals: 1)
            }.joined(separator: " ")
            lines += "<polyline fill=\"none\" stroke=\"\(palette[index])\" stroke-width=\"1.5\" points=\"\(text)\"/>"
        }
        return "<svg id=\"\(id)\" width=\"\(Int(chartWidth) + 60)\" height=\"\(Int(chartHeight) + 20)\" viewBox=\"-50 -5 \(Int(chartWidth) + 60) \(Int(chartHeight) + 20)\">"
            + "<line x1=\"0\" y1=\"\(Int(chartHeight))\" x2=\"\(Int(chartWidth))\" y2=\"\(Int(chartHeight))\" stroke=\"#ccc\"/>"
            + "<text x=\"-5\" y=\"8\" text-anchor=\"end\" font-size=\"10\">\(Format.trimmed(top, decimals: 1))</text>"
            + "<text x=\"-5\" y=\"\(Int(chartHeight))\" text-anchor=\"end\" font-size=\"10\">0</text>"
            + "<text x=\"\(Int(chartWidth))\" y=\"\(Int(chartHeight) + 12)\" text-anchor=\"end\" font-size=\"10\">\(Format.fixed(t1, decimals: 0)) s</text>"
            + lines + "</svg>"
    }

    static let script = #"""
    const H={t:[],s:[[],[],[],[],[],[]]};const W=560,HT=150;
    H0.forEach(p=>{H.t.push(p[0]);for(let i=0;i<6;i++)H.s[i].push(p[i+1])});
    function f1(v){return (v||0).toFixed(1)}
    function tri(o){return o?[o.p50,o.p95,o.p99].map(f1).join(' / '):''}
    function set(id,v){const e=document.getElementById(id);if(e)e.textContent=v}
    function draw(id,cols,ser){const svg=document.getElementById(id);if(!svg||!H.t.length)return;
     const t0=H.t[0],t1=Math.max(H.t[H.t.length-1],t0+1);let top=1e-9;ser.forEach(s=>s.forEach(v=>{if(v>top)top=v}));top*=1.1;
     let h='<line x1="0" y1="'+HT+'" x2="'+W+'" y2="'+HT+'" stroke="#ccc"/><text x="-5" y="8" text-anchor="end" font-size="10">'+top.toFixed(1)+'</text><text x="-5" y="'+HT+'" text-anchor="end" font-size="10">0</text><text x="'+W+'" y="'+(HT+12)+'" text-anchor="end" font-size="10">'+t1.toFixed(0)+' s</text>';
     ser.forEach((s,i)=>{h+='<polyline fill="none" stroke="'+cols[i]+'" stroke-width="1.5" points="'+s.map((v,k)=>((H.t[k]-t0)/(t1-t0)*W).toFixed(1)+','+(HT-v/top*HT).toFixed(1)).join(' ')+'"/>'});
     svg.innerHTML=h}
    function update(d){
     const st=document.getElementById('state');if(st){st.textContent=d.state;st.className=d.state}
     set('elapsed',d.elapsed_s.toFixed(0)+' s of '+d.duration_s.toFixed(0)+' s');set('stage',d.stage);
     set('target',f1(d.target_rps)+' /s');set('offered',f1(d.offered_rps)+' /s');set('achieved',f1(d.achieved_rps)+' /s');
     set('inflight',d.in_flight+' / '+d.queued);set('sent',d.sent+' / '+d.succeeded);set('errors',d.errors);
     set('latency',tri(d.latency_ms));set('latencyrun',tri(d.latency_run_ms));set('ttft',tri(d.ttft_ms));set('itl',tri(d.itl_ms));set('sendlag',tri(d.send_lag_ms));
     const k=Object.entries(d.errors_by_kind||{});set('errkinds',k.length?k.map(e=>e[0]+' '+e[1]).join(', '):'none');
     const tb=document.getElementById('stages');if(tb){tb.textContent='';(d.stages||[]).forEach(s=>{const r=tb.insertRow();r.insertCell().textContent=s.name;r.insertCell().textContent=s.start_s.toFixed(1)+'–'+s.end_s.toFixed(1)+' s';r.insertCell().textContent=s.start_rps+' → '+s.end_rps+' /s'})}
     const sl=document.getElementById('slo');if(sl){sl.textContent='';(d.slo||[]).forEach(c=>{const r=sl.insertRow();r.className=c.passed?'pass':'fail';r.insertCell().textContent=c.passed?'PASS':'FAIL';r.insertCell().textContent=c.expression;r.insertCell().textContent=c.measured.toFixed(2)+' '+c.unit})}
     H.t.push(d.elapsed_s);[d.target_rps,d.offered_rps,d.achieved_rps,d.latency_ms.p50,d.latency_ms.p95,d.latency_ms.p99].forEach((v,i)=>H.s[i].push(v));
     if(H.t.length>600){H.t.shift();H.s.forEach(s=>s.shift())}
     draw('ratechart',['#999','#1f77b4','#2ca02c'],H.s.slice(0,3));draw('latchart',['#2ca02c','#ff7f0e','#d62728'],H.s.slice(3));
     if(d.report){const r=document.getElementById('report');r.textContent='Run ended; report: ';const a=document.createElement('a');a.href='/report';a.textContent=d.report;r.appendChild(a)}
     else if(d.state==='done'){set('report','Run ended.')}}
    function post(path,body){const h={'Content-Type':'application/json'};const t=document.getElementById('token');if(t&&t.value)h['Authorization']='Bearer '+t.value;
     return fetch(path,{method:'POST',headers:h,body:JSON.stringify(body)}).then(r=>r.json()).then(j=>set('msg',j.ok?'applied':j.error)).catch(e=>set('msg',String(e)))}
    function setRate(){post('/rate',{rate:parseFloat(document.getElementById('rate').value),ramp_s:parseFloat(document.getElementById('ramp').value||'0')});return false}
    function stopRun(){post('/stop',{})}
    if(window.EventSource){const es=new EventSource('/events');es.onmessage=e=>{try{update(JSON.parse(e.data))}catch(x){}}}
    """#
}
