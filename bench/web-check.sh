#!/usr/bin/env bash
# make web-check: the live web view in headless Chromium. Starts llmsim and a 20 s run with --web on
# free ports, then loads the page with `chromium --headless --dump-dom` (checks that the server's
# first HTML carries the figures and charts) and takes a screenshot; stops the run with POST /stop.
# Then loads `metronome ui`'s start form the same way (dump-dom checked, a screenshot; no run started).
# Skips (exit 0, with a message) where Chromium is absent. Usage: bench/web-check.sh BIN_DIR [OUT_DIR]
set -euo pipefail
bin="$1"
out="${2:-experiments/web-check}"
chromium="${CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$chromium" ]; then
  echo "web-check: skipped: no Chromium at $chromium (set CHROMIUM=/path/to/chromium)"
  exit 0
fi
mkdir -p "$out"
simlog=$(mktemp); runlog=$(mktemp)
"$bin/llmsim" --port 0 --ttft 100ms --itl 10ms --max-num-seqs 64 >"$simlog" 2>&1 &
sim=$!
run=""
cleanup() {
  [ -n "$run" ] && kill "$run" 2>/dev/null || true
  kill "$sim" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -f "$simlog" "$runlog"
}
trap cleanup EXIT
for _ in $(seq 1 100); do grep -q 'listening on' "$simlog" && break; sleep 0.05; done
url=$(sed -n 's/^llmsim listening on \(http:[^ ]*\).*/\1/p' "$simlog" | head -1)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
"$bin/metronome" run "$url" --rate 20 --ramp 5s --start-rate 5 --duration 40s --ignore-eos --max-tokens 50 \
  --web "127.0.0.1:$port" --out "$out" --name web-check --slo 'p95<=5s' >"$runlog" 2>&1 &
run=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/stats.json" >/dev/null && break; sleep 0.1; done
sleep 7
curl -sf -X POST -H 'Content-Type: application/json' -d '{"rate": 40, "ramp_s": 2}' "http://127.0.0.1:$port/rate"; echo
sleep 4
flags=(--headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1280,1000)
timeout 60 "$chromium" "${flags[@]}" --dump-dom "http://127.0.0.1:$port/" >"$out/web-check.dom.html" 2>/dev/null
timeout 60 "$chromium" "${flags[@]}" --screenshot="$out/web-check.png" "http://127.0.0.1:$port/" >/dev/null 2>&1
curl -sf -X POST -H 'Content-Type: application/json' -d "{}" "http://127.0.0.1:$port/stop" || echo "web-check: POST /stop failed (did the run end already?)"; echo
status=0
wait "$run" || status=$?
run=""
fail=0
for needle in 'id="offered"' 'id="ratechart"' '<polyline' 'web 3' 'Metronome live'; do
  grep -q "$needle" "$out/web-check.dom.html" || { echo "web-check: the DOM lacks $needle"; fail=1; }
done
[ -s "$out/web-check.png" ] || { echo "web-check: no screenshot"; fail=1; }
# metronome ui: the start form renders (no script needed) and is screenshotted; no run is started.
uiport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
uilog=$(mktemp)
"$bin/metronome" ui --web "127.0.0.1:$uiport" >"$uilog" 2>&1 &
run=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$uiport/" >/dev/null && break; sleep 0.05; done
timeout 60 "$chromium" "${flags[@]}" --dump-dom "http://127.0.0.1:$uiport/" >"$out/web-check-ui.dom.html" 2>/dev/null || true
timeout 60 "$chromium" "${flags[@]}" --screenshot="$out/web-check-ui.png" "http://127.0.0.1:$uiport/" >/dev/null 2>&1 || true
kill "$run" 2>/dev/null || true
wait "$run" 2>/dev/null || true
run=""
rm -f "$uilog"
for needle in 'action="/start"' 'name="rate"' 'name="workload"' 'Metronome: start a run'; do
  grep -q "$needle" "$out/web-check-ui.dom.html" || { echo "web-check: the ui form's DOM lacks $needle"; fail=1; }
done
[ -s "$out/web-check-ui.png" ] || { echo "web-check: no screenshot of the ui form"; fail=1; }
[ "$status" = 0 ] || { echo "web-check: the run exited $status"; tail -20 "$runlog"; fail=1; }
[ "$fail" = 0 ] && echo "web-check: ok: $out/web-check.dom.html, $out/web-check.png (run exit $status), $out/web-check-ui.dom.html, $out/web-check-ui.png"
exit $fail
