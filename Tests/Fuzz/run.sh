#!/usr/bin/env bash
# `make fuzz`: builds the libFuzzer targets (with AddressSanitizer), replays the committed
# regression inputs, then fuzzes each target for FUZZ_SECONDS (default 60). Fails on any crash,
# printing the crash file and the end of the fuzzer's log. Corpora grow in Tests/Fuzz/.work/
# (not in git) and are kept between runs; FUZZ_TARGETS picks a subset.
set -uo pipefail
cd "$(dirname "$0")"
export PATH="/opt/swift/usr/bin:$PATH"
SECONDS_EACH="${FUZZ_SECONDS:-60}"
TARGETS="${FUZZ_TARGETS:-FuzzResponseParser FuzzChunkedDecoder FuzzSSEScanner FuzzCompletionJSON FuzzRequestParser FuzzOpenAIRequest}"
WORK=.work
# The Swift runtime's backtracer and ASan's own report trip over each other; ASan reports alone.
export SWIFT_BACKTRACE=enable=no

# -enable-testing: the targets reach internal parsers with @testable import. lld: gold fails
# with an internal error on the fuzzer+ASan objects.
FLAGS=(-c release -Xswiftc -sanitize=fuzzer,address -Xswiftc -enable-testing -Xswiftc -use-ld=lld)
swift build "${FLAGS[@]}" || exit 1
BIN="$(swift build "${FLAGS[@]}" --show-bin-path)"
rm -rf "$WORK/seeds"
python3 seed.py "$WORK/seeds" >/dev/null || exit 1

failed=0
printf '%-20s %8s %10s %12s %s\n' target seconds execs/s corpus result
for target in $TARGETS; do
    corpus="$WORK/$target/corpus"
    crashes="$WORK/$target/crashes"
    log="$WORK/$target/fuzz.log"
    mkdir -p "$corpus" "$crashes"
    # Inputs that once failed run first, once each.
    if compgen -G "regressions/$target/*" >/dev/null; then
        if ! "$BIN/$target" regressions/$target/* >"$WORK/$target/regressions.log" 2>&1; then
            echo "$target: a regression input fails again; log: Tests/Fuzz/$WORK/$target/regressions.log"
            tail -n 30 "$WORK/$target/regressions.log"
            failed=1
            continue
        fi
    fi
    # libFuzzer stops itself after -max_total_time; timeout is the backstop for a hang.
    timeout $((SECONDS_EACH + 300)) "$BIN/$target" -max_total_time="$SECONDS_EACH" -print_final_stats=1 \
        -timeout=10 -rss_limit_mb=2048 -max_len=8192 -artifact_prefix="$crashes/" "$corpus" "$WORK/seeds/$target" >"$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    size=$(grep -o 'corp: [0-9]*/[0-9]*[a-zA-Z]*' "$log" | tail -n 1 | sed 's/corp: //')
    if [ $rc -eq 0 ]; then
        printf '%-20s %8s %10s %12s %s\n' "$target" "$SECONDS_EACH" "${execs:-?}" "${size:-?}" ok
    else
        printf '%-20s %8s %10s %12s %s\n' "$target" "$SECONDS_EACH" "${execs:-?}" "${size:-?}" "FAILED (exit $rc)"
        tail -n 40 "$log"
        grep -o 'Test unit written to .*' "$log" | sed 's/Test unit written to /crash file: Tests\/Fuzz\//'
        failed=1
    fi
done
exit $failed
