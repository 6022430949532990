# BENCH_SMOKE's checks: the parsers on known output, and the figures of a smoke run against ground truth.
from .tools import locust_percentile, parse_wrk, parse_wrk2

# wrk 4.1.0's own output (Debian package), kept verbatim.
WRK_SAMPLE = """\
Running 1s test @ http://127.0.0.1:44743/
  1 threads and 10 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    54.40us   25.26us 667.00us   79.35%
    Req/Sec   116.10k     1.67k  118.94k    60.00%
  Latency Distribution
     50%   44.00us
     75%   76.00us
     90%   84.00us
     99%    1.98ms
  115402 requests in 1.00s, 4.40MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 4
Requests/sec: 115374.66
Transfer/sec:      4.40MB
"""

# wrk2 4.0.0's (github.com/giltene/wrk2, built here) at -R1000 against nginx, its detailed spectrum cut.
WRK2_SAMPLE = """\
Running 10s test @ http://127.0.0.1:57543/
  1 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     0.89ms  446.11us   4.58ms   65.64%
    Req/Sec       -nan      -nan   0.00      0.00%
  Latency Distribution (HdrHistogram - Recorded Latency)
 50.000%    0.86ms
 75.000%    1.20ms
 90.000%    1.46ms
 99.000%    1.99ms
 99.900%    2.76ms
 99.990%    4.49ms
 99.999%    4.58ms
100.000%    4.58ms
#[Buckets =           27, SubBuckets     =         2048]
----------------------------------------------------------
  9901 requests in 10.00s, 1.41MB read
Requests/sec:    990.05
Transfer/sec:    144.06KB
"""


def parsers() -> list[str]:
    found = []
    parsed2 = parse_wrk2(WRK2_SAMPLE)
    expected2 = (9901, 0, 990.05, {"p50": 0.86, "p90": 1.46, "p99": 1.99})
    if parsed2 is None or parsed2[:3] != expected2[:3] or \
            any(abs(parsed2[3][k] - v) > 1e-9 for k, v in expected2[3].items()):
        found.append(f"parse_wrk2 gave {parsed2}, expected {expected2}")
    parsed = parse_wrk(WRK_SAMPLE)
    expected = (115402, 7, 115374.66, {"p50": 0.044, "p90": 0.084, "p99": 1.98})
    if parsed is None or parsed[:3] != expected[:3] or \
            any(abs(parsed[3][k] - v) > 1e-9 for k, v in expected[3].items()):
        found.append(f"parse_wrk gave {parsed}, expected {expected}")
    # Locust's rule, walking down from the top bucket: the first value with at most ⌊q·n⌋ requests
    # below it. Expected values from locust.stats.calculate_response_time_percentile (Locust 2.47).
    buckets = {10: 50, 20: 40, 100: 9, 1500: 1}
    for fraction, want in ((0.5, 20), (0.9, 100), (0.95, 100), (0.99, 1500), (1.0, 1500)):
        got = locust_percentile(buckets, 100, fraction)
        if got != want:
            found.append(f"locust_percentile(q={fraction}) = {got}, expected {want}")
    return found


def smoke_figures(doc: dict, p) -> list[str]:
    """Ground truth the smoke run must show whatever the machine's load (load only adds latency)."""
    found = []
    tables = {t["key"]: t for t in doc["tables"]}
    expected_ms = p.s1_ttft_ms + (p.s1_tokens - 1) * p.s1_itl_ms
    for row in tables["beside_locust"]["rows"] if "beside_locust" in tables else []:
        if not row["label"].startswith("Metronome"):
            continue
        v = row["values"]
        if not v["requests"] or v["errors_pct"] != 0:
            found.append(f"beside_locust/{row['label']}: {v['requests']} requests, {v['errors_pct']} % errors")
        # No response can finish before the model's TTFT + (n − 1) × ITL (1 % for histogram precision).
        if v["p50"] is None or v["p50"] < expected_ms * 0.99:
            found.append(f"beside_locust/{row['label']}: p50 {v['p50']} ms is below the model's {expected_ms} ms")
    if "coordinated_omission" in tables:
        co = {r["label"]: r["values"] for r in tables["coordinated_omission"]["rows"]}
        truth = co["analytic truth"]
        open_loop = next(v for label, v in co.items() if label.startswith("Metronome"))
        # A request caught at the start of a freeze waits nearly F: the open loop's p99 must show the freeze.
        if open_loop["p99"] is None or open_loop["p99"] < truth["p99"] * 0.5:
            found.append(f"coordinated_omission: Metronome p99 {open_loop['p99']} ms hides the freeze "
                         f"(truth {truth['p99']} ms)")
    for row in tables["cpu_cost"]["rows"] if "cpu_cost" in tables else []:
        if row["label"].startswith("Metronome") and not row["values"]["requests"]:
            found.append(f"cpu_cost/{row['label']}: no requests answered")
    if "sustained_rate_steps" in tables and not tables["sustained_rate_steps"]["rows"]:
        found.append("sustained_rate_steps: the search ran no step")
    for row in tables["speed_cpu"]["rows"] if "speed_cpu" in tables else []:
        v = row["values"]
        if row["label"].startswith("Metronome") and (not v["cpu_per_10k"] or v["rps"] < 0.9 * v["rate"]):
            found.append(f"speed_cpu/{row['label']}: {v['rps']} rps of {v['rate']}, CPU/10k {v['cpu_per_10k']}")
    for row in tables["speed_instructions"]["rows"] if "speed_instructions" in tables else []:
        count = row["values"]["instructions"]
        # A request or an event costs something, and far less than a million instructions.
        if count is not None and not 100 < count < 1_000_000:
            found.append(f"speed_instructions/{row['label']}: {count} instructions is not plausible")
    for row in tables["speed_tls"]["rows"] if "speed_tls" in tables else []:
        v = row["values"]
        if row["note"].startswith("skipped"):
            continue
        if not v["rps"] or row["note"]:
            found.append(f"speed_tls/{row['label']}: {v['rps']} rps, {row['note'] or 'no answers'}")
        if row["label"].startswith("https") and not v["handshakes"]:
            found.append(f"speed_tls/{row['label']}: no TLS handshake counted")
        if "--no-tls-resume" in row["label"] and v["resumed"]:
            found.append(f"speed_tls/{row['label']}: {v['resumed']} handshakes resumed with --no-tls-resume")
    for row in tables["speed_memory"]["rows"] if "speed_memory" in tables else []:
        if not row["values"]["requests"]:
            found.append(f"speed_memory/{row['label']}: no requests answered")
    return found
