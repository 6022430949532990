# The load generators under comparison (Metronome, Locust, wrk): how each is run and how its output is read.
import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from .procs import BenchError, Finished, pinned, run_measured

PERCENTILES = ("p50", "p90", "p95", "p99")


@dataclass
class Measured:
    """One generator run, reduced to the figures the tables show."""
    tool: str
    command: str
    raw: str                       # file holding the tool's own output
    requests: int                  # responses counted (successes and failures)
    succeeded: int
    rps: float                     # achieved: successful responses per second, as the tool reports it
    error_rate: float              # fraction of requests that failed
    latency_ms: dict[str, float]   # p50/p90/p95/p99
    cpu_s: float
    max_rss_mb: float | None       # None: not above the bench's own peak, so not measurable by wait4
    wall_s: float
    involuntary_switches: int = 0
    voluntary_switches: int = 0           # its wake-ups (wait4's ru_nvcsw), every thread's
    run_delay_s: float | None = None      # time it waited for its core while ready to run
    offered_rps: float | None = None
    service_ms: dict[str, float] | None = None
    send_lag_ms: dict[str, float] | None = None
    extra: dict = field(default_factory=dict)

    @property
    def cpu_share(self) -> float:
        return self.cpu_s / self.wall_s if self.wall_s > 0 else 0.0

    def cpu_s_per_10k(self) -> float | None:
        return self.cpu_s * 10_000 / self.requests if self.requests else None


def _mb(kb: int | None) -> float | None:
    return None if kb is None else kb / 1024


def _check(done: Finished, tool: str) -> None:
    if done.timed_out:
        raise BenchError(f"{tool} ran past its time bound and was stopped: {done.command}")


# --- Metronome --------------------------------------------------------------------------------------

def metronome(binary: Path, url: str, args: list[str], *, cpu: int | None, timeout_sec: float,
              log_dir: Path, name: str, peak_rss_by_time: bool = False) -> Measured:
    argv = pinned([str(binary), "run", url, *args, "--json", "--quiet", "--no-files"], cpu)
    done = run_measured(argv, timeout_sec=timeout_sec, log_dir=log_dir, name=name, peak_rss_by_time=peak_rss_by_time)
    _check(done, "metronome")
    try:
        summary = json.loads(done.stdout)
    except json.JSONDecodeError:
        raise BenchError(f"metronome printed no JSON summary (exit {done.returncode}): {done.command}\n"
                         f"{done.stderr[-2000:]}")
    (log_dir / f"{name}.json").write_text(json.dumps(summary, indent=2))
    pick = lambda d: {p: float(d[p]) for p in PERCENTILES}
    return Measured(
        tool="Metronome", command=done.command, raw=str(log_dir / f"{name}.json"),
        requests=int(summary["completed"]), succeeded=int(summary["succeeded"]),
        rps=float(summary["achieved_rps"]), offered_rps=float(summary["offered_rps"]),
        error_rate=float(summary["error_rate"]), latency_ms=pick(summary["latency_ms"]),
        service_ms=pick(summary["service_time_ms"]), send_lag_ms=pick(summary["send_lag_ms"]),
        cpu_s=done.cpu_s, max_rss_mb=_mb(done.max_rss_kb), wall_s=done.wall_s,
        involuntary_switches=done.involuntary_switches, voluntary_switches=done.voluntary_switches,
        run_delay_s=done.run_delay_s, extra={"stages": summary.get("stages", []), "scheduled": summary["scheduled"], "dropped": summary["dropped"],
               "unfinished": summary["unfinished"], "generator_cpu_s": summary.get("generator_cpu_s"),
               "connections_opened": summary.get("connections_opened"), "exit_code": done.returncode,
               "connections": summary.get("connections", {}), "tls_version": summary.get("tls_version"),
               "tls_handshake_ms": summary.get("tls_handshake_ms"), "connect_ms": summary.get("connect_ms"),
               "warnings": summary.get("warnings", [])})


# --- Locust -----------------------------------------------------------------------------------------

def ensure_locust(repo: Path) -> tuple[Path | None, str]:
    """The venv's locust, installed on first use; (None, why) when that cannot be done."""
    venv = repo / ".bench-venv"
    locust = venv / "bin" / "locust"
    if locust.exists():
        version = subprocess.run([str(locust), "--version"], capture_output=True, text=True, timeout=60)
        if version.returncode == 0:
            return locust, version.stdout.strip().split(" from ")[0]
    print("Locust is not installed: python3 -m venv .bench-venv && .bench-venv/bin/pip install locust", flush=True)
    try:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
        subprocess.run([str(venv / "bin" / "pip"), "install", "--disable-pip-version-check", "-q", "locust"],
                       check=True, timeout=300)
        version = subprocess.run([str(locust), "--version"], capture_output=True, text=True, timeout=60, check=True)
        return locust, version.stdout.strip().split(" from ")[0]
    except (subprocess.SubprocessError, OSError) as error:
        return None, f"Locust could not be installed into .bench-venv ({error}); the Locust rows are skipped"


def locust_percentile(response_times: dict[int, int], total: int, fraction: float) -> float:
    """Locust's own calculate_response_time_percentile, on its rounded response-time buckets."""
    wanted = int(total * fraction)
    processed = 0
    for value in sorted(response_times, reverse=True):
        processed += response_times[value]
        if total - processed <= wanted:
            return float(value)
    return 0.0


def locust(binary: Path, locustfile: Path, host: str, *, users: int, spawn_rate: float, run_sec: float,
           env: dict[str, str], cpu: int | None, log_dir: Path, name: str, cwd: Path) -> Measured:
    argv = pinned([str(binary), "-f", str(locustfile), "--host", host, "--headless", "-u", str(users),
                   "-r", f"{spawn_rate:g}", "-t", f"{run_sec:g}s", "--stop-timeout", "0", "--json",
                   "--skip-log"], cpu)
    done = run_measured(argv, env=env, timeout_sec=run_sec + 60, log_dir=log_dir, name=name, cwd=cwd)
    _check(done, "locust")
    try:
        entries = json.loads(done.stdout)
    except json.JSONDecodeError:
        raise BenchError(f"locust printed no JSON stats (exit {done.returncode}): {done.command}\n"
                         f"{done.stderr[-2000:]}")
    (log_dir / f"{name}.json").write_text(json.dumps(entries, indent=2))
    if not entries:
        raise BenchError(f"locust made no requests: {done.command}\n{done.stderr[-2000:]}")
    total = sum(e["num_requests"] for e in entries)
    failures = sum(e["num_failures"] for e in entries)
    buckets: dict[int, int] = {}
    for entry in entries:
        for value, count in entry["response_times"].items():
            buckets[int(float(value))] = buckets.get(int(float(value)), 0) + count
    start = min(e["start_time"] for e in entries)
    last = max(e["last_request_timestamp"] or start for e in entries)
    fractions = {"p50": 0.50, "p90": 0.90, "p95": 0.95, "p99": 0.99}
    return Measured(
        tool="Locust", command=done.command, raw=str(log_dir / f"{name}.json"), requests=total,
        succeeded=total - failures,
        # Locust's own "Requests/s" (total_rps): requests over the span from start to the last request.
        rps=total / max(last - start, 1e-4), error_rate=failures / total if total else 0.0,
        latency_ms={p: locust_percentile(buckets, total, f) for p, f in fractions.items()},
        cpu_s=done.cpu_s, max_rss_mb=_mb(done.max_rss_kb), wall_s=done.wall_s,
        involuntary_switches=done.involuntary_switches, voluntary_switches=done.voluntary_switches,
        run_delay_s=done.run_delay_s, extra={"exit_code": done.returncode})


# --- wrk --------------------------------------------------------------------------------------------

_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(number) * _UNIT_MS[unit]


def wrk(binary: str, url: str, *, connections: int, duration_sec: int, cpu: int | None, log_dir: Path,
        name: str) -> Measured:
    return _wrk_run("wrk", binary, url, [], parse_wrk, connections=connections, duration_sec=duration_sec, cpu=cpu,
                    log_dir=log_dir, name=name)


def wrk2(binary: str, url: str, *, rate: int, connections: int, duration_sec: int, cpu: int | None, log_dir: Path,
         name: str) -> Measured:
    """wrk2 (open loop at a fixed rate) as Gil Tene's fork builds it: not packaged, so only when WRK2 names a binary."""
    return _wrk_run("wrk2", binary, url, [f"-R{rate}"], parse_wrk2, connections=connections,
                    duration_sec=duration_sec, cpu=cpu, log_dir=log_dir, name=name, offered_rps=float(rate))


def _wrk_run(tool: str, binary: str, url: str, extra: list[str], parse, *, connections: int, duration_sec: int,
             cpu: int | None, log_dir: Path, name: str, offered_rps: float | None = None) -> Measured:
    """One thread of wrk or wrk2 for duration_sec, its totals and latency percentiles read back by `parse`."""
    argv = pinned([binary, "-t1", f"-c{connections}", f"-d{duration_sec}s", *extra, "--latency", url], cpu)
    done = run_measured(argv, timeout_sec=duration_sec + 30, log_dir=log_dir, name=name)
    _check(done, tool)
    parsed = parse(done.stdout)
    if done.returncode != 0 or parsed is None:
        raise BenchError(f"{tool} output not understood (exit {done.returncode}): {done.command}\n{done.stdout[-2000:]}")
    requests, failed, rps, latency = parsed
    return Measured(
        tool=tool, command=done.command, raw=str(log_dir / f"{name}.stdout"), requests=requests,
        succeeded=max(requests - failed, 0), rps=rps, error_rate=failed / requests if requests else 0.0,
        latency_ms={p: latency.get(p) for p in PERCENTILES}, cpu_s=done.cpu_s,
        max_rss_mb=_mb(done.max_rss_kb), wall_s=done.wall_s, involuntary_switches=done.involuntary_switches,
        voluntary_switches=done.voluntary_switches, run_delay_s=done.run_delay_s, offered_rps=offered_rps)


def parse_wrk2(out: str) -> tuple[int, int, float, dict[str, float]] | None:
    """wrk's totals, with the percentiles from wrk2's HdrHistogram lines ("  99.000%    1.23ms")."""
    totals = parse_wrk(out)
    if totals is None:
        return None
    requests, failed, rps, _ = totals
    latency = {f"p{q}": _ms(v) for q, v in re.findall(r"^\s+(50|90|99)\.000%\s+([\d.]+(?:us|ms|s))$", out, re.M)}
    return requests, failed, rps, latency


def parse_wrk(out: str) -> tuple[int, int, float, dict[str, float]] | None:
    """(requests, failed, requests/s, {p50, p90, p99} ms) from wrk --latency's text, or None."""
    found = re.search(r"(\d+) requests in [\d.]+\w+", out)
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if not found or not rate:
        return None
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    latency = {f"p{q}": _ms(v) for q, v in re.findall(r"^\s+(50|90|99)%\s+([\d.]+(?:us|ms|s))$", out, re.M)}
    return int(found.group(1)), errors + (int(non2xx.group(1)) if non2xx else 0), float(rate.group(1)), latency


def find_binary(name: str) -> str | None:
    """PATH first, then the sbin directories Debian puts nginx in (not on every user's PATH)."""
    for candidate in (shutil.which(name), f"/usr/sbin/{name}", f"/usr/bin/{name}"):
        if candidate and Path(candidate).exists():
            return candidate
    return None
