#!/usr/bin/env bash
# Send lag of the same run with and without clients on the web view: ROUNDS pairs (default 2) of a
# RATE rps (default 1000) plain-HTTP run of DURATION (default 15s) against llmsim --fast, each with
# --web; in the "watched" run 8 /events streams, /stats.json every 50 ms and (if present) headless
# Chromium on the page (NO_BROWSER=1: the curls only; MODES="alone watched browser-elsewhere" adds
# the control: the same browser on a saved copy of the page, with no connection to the run;
# light-watcher: one Python process with 8 /events streams and /stats.json every 50 ms). Prints send-lag p50/p99 of each. Usage: bench/web-lag.sh BIN_DIR
set -euo pipefail
bin="$1"; rate="${RATE:-1000}"; duration="${DURATION:-15s}"; rounds="${ROUNDS:-2}"
simlog=$(mktemp); pids=()
"$bin/llmsim" --port 0 --fast >"$simlog" 2>&1 &
sim=$!
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; kill "$sim" 2>/dev/null || true; rm -f "$simlog"' EXIT
for _ in $(seq 1 100); do grep -q 'listening on' "$simlog" && break; sleep 0.05; done
url=$(sed -n 's/^llmsim listening on \(http:[^ ]*\).*/\1/p' "$simlog" | head -1)
lag() { python3 -c 'import json,sys; t=json.load(sys.stdin)["send_lag_ms"]; print("send lag p50 %.3f ms  p99 %.3f ms" % (t["p50"], t["p99"]))'; }
for round in $(seq 1 "$rounds"); do
  for mode in ${MODES:-alone watched}; do
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
    "$bin/metronome" run "$url/" --workload http --rate "$rate" --duration "$duration" --arrival constant --no-files --json \
      --web "127.0.0.1:$port" >/tmp/web-lag.json 2>/dev/null &
    run=$!
    pids=()
    if [ "$mode" = watched ]; then
      for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$port/stats.json" >/dev/null && break; sleep 0.1; done
      for _ in $(seq 1 8); do curl -sN "http://127.0.0.1:$port/events" >/dev/null 2>&1 & pids+=($!); done
      ( while curl -sf "http://127.0.0.1:$port/stats.json" >/dev/null; do sleep 0.05; done ) & pids+=($!)
      if [ -z "${NO_BROWSER:-}" ] && [ -x /usr/bin/chromium ]; then
        timeout 30 /usr/bin/chromium --headless --no-sandbox --disable-gpu --virtual-time-budget=20000 --dump-dom "http://127.0.0.1:$port/" >/dev/null 2>&1 & pids+=($!)
      fi
    fi
    if [ "$mode" = light-watcher ]; then
      for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$port/stats.json" >/dev/null && break; sleep 0.1; done
      python3 "$(dirname "$0")/web-watch.py" "$port" 30 2>>/tmp/web-watch.log & pids+=($!)
    fi
    if [ "$mode" = browser-elsewhere ] && [ -x /usr/bin/chromium ]; then
      # The control: the same browser on a saved copy of the page, not connected to this run.
      page=$(mktemp --suffix=.html); curl -sf "http://127.0.0.1:$port/" -o "$page" 2>/dev/null || sleep 1; curl -sf "http://127.0.0.1:$port/" -o "$page" || true
      timeout 30 /usr/bin/chromium --headless --no-sandbox --disable-gpu --virtual-time-budget=20000 --dump-dom "file://$page" >/dev/null 2>&1 & pids+=($!)
    fi
    wait "$run" || true
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    echo "round $round $mode: $(lag </tmp/web-lag.json)"
  done
done
