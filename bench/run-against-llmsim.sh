#!/usr/bin/env bash
# Starts the bundled simulated server on a free port, runs metronome against it, stops the server.
# Usage: bench/run-against-llmsim.sh BIN_DIR [metronome run options…]
set -euo pipefail
bin="$1"; shift
log=$(mktemp)
"$bin/llmsim" --port 0 ${LLMSIM_ARGS:-} >"$log" 2>&1 &
sim=$!
trap 'kill "$sim" 2>/dev/null || true; wait "$sim" 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 1 100); do
  grep -q 'listening on' "$log" && break
  kill -0 "$sim" 2>/dev/null || { cat "$log"; exit 1; }
  sleep 0.05
done
url=$(sed -n 's/^llmsim listening on \(http:[^ ]*\).*/\1/p' "$log" | head -1)
[ -n "$url" ] || { echo "llmsim did not start:"; cat "$log"; exit 1; }
echo "llmsim (pid $sim) at $url"
status=0
"$bin/metronome" run "$url${TARGET_PATH:-}" "$@" || status=$?
exit $status
