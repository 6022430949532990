#!/usr/bin/env python3
# `make soak`: a long run against a faulty llmsim, with 10,000 held connections beside it; memory flat, every request accounted for.
"""Usage: python3 bench/soak.py BIN_DIR      (BIN_DIR holds the release `metronome` and `llmsim`)

Two loads at once, each against its own llmsim on 127.0.0.1 (port 0):

  main   the 200/200 streaming chat workload (--ignore-eos) at SOAK_RATE requests/s (default 50,
         Poisson) for SOAK_MINUTES (default 10), against an llmsim that answers 1 % with 500, drops
         1 % of connections partway and freezes 2 s in every 50 s.
  held   from 65 s: `--workload http` at 2,500 requests/s for 6 s against an llmsim (`--fast`) that
         holds every response from 2 s to 60 s after its start, so 10,000 connections (metronome's
         cap) stay open for most of a minute; the rest queue and finish when the freeze ends.

Checks (exit 1 if any fails):
  - the peak RSS (VmHWM) of the main metronome and its llmsim at the end is within 10 % of the
    peak at minute 1;
  - every scheduled request of each run ends as one outcome (scheduled = succeeded + each error
    kind + dropped + unfinished), and each llmsim parsed exactly as many requests as metronome sent
    (plus any retries the summary reports);
  - the held run kept at least 9,500 connections open half a minute into the freeze.

Every process started is ended by its pid on every exit path.
"""
import json
import os
import re
import resource
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

MINUTES = float(os.environ.get("SOAK_MINUTES", "10"))
RATE = os.environ.get("SOAK_RATE", "50")
HELD_START_S = 65
HELD_CONNECTIONS_MIN = 9500
RSS_TOLERANCE = 0.10

started: list[subprocess.Popen] = []


def say(text: str) -> None:
    print(text, flush=True)


def stop_all() -> None:
    for proc in started:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in started:
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def start_llmsim(llmsim: Path, args: list[str]) -> tuple[subprocess.Popen, str]:
    """Starts llmsim on a free port; returns it and its URL (from its first line)."""
    proc = subprocess.Popen([str(llmsim), "--port", "0", *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    started.append(proc)
    line = proc.stdout.readline()
    found = re.search(r"listening on (http://\S+)", line)
    if not found:
        raise RuntimeError(f"llmsim did not start: {line!r}")
    return proc, found.group(1)


def llmsim_requests(proc: subprocess.Popen) -> int:
    """Stops llmsim (SIGTERM, by pid) and reads `requests N` from the line it prints on the way out."""
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=30)
    found = re.search(r"requests (\d+)", out)
    if not found:
        raise RuntimeError(f"llmsim printed no request count: {out!r}")
    return int(found.group(1))


def memory_kb(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) in kB from /proc/PID/status; (0, 0) once the process is gone."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0, 0
    fields = dict(re.findall(r"^(VmRSS|VmHWM):\s+(\d+) kB", text, re.M))
    return int(fields.get("VmRSS", 0)), int(fields.get("VmHWM", 0))


def open_sockets(pid: int) -> int:
    try:
        return sum(1 for fd in os.listdir(f"/proc/{pid}/fd") if os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:"))
    except OSError:
        return 0


def accounted(name: str, summary: dict, received: int, failures: list[str]) -> None:
    errors = summary.get("errors", {})
    ended = summary["succeeded"] + sum(errors.values()) + summary["dropped"] + summary["unfinished"]
    retries = int(summary.get("retries", 0))
    say(f"{name}: scheduled {summary['scheduled']} = succeeded {summary['succeeded']} + errors {errors} "
        f"+ dropped {summary['dropped']} + unfinished {summary['unfinished']} ({ended}); "
        f"sent {summary['sent']}, retries {retries}; llmsim parsed {received}")
    if ended != summary["scheduled"]:
        failures.append(f"{name}: {summary['scheduled']} scheduled but {ended} accounted for")
    if summary["failed"] != sum(errors.values()):
        failures.append(f"{name}: failed {summary['failed']} but the error kinds add up to {sum(errors.values())}")
    if received != summary["sent"] + retries:
        failures.append(f"{name}: llmsim parsed {received} requests, metronome reports {summary['sent']} sent + {retries} retries")


def run_metronome(metronome: Path, args: list[str]) -> subprocess.Popen:
    proc = subprocess.Popen([str(metronome), "run", *args, "--json", "--no-files"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    started.append(proc)
    return proc


def summary_of(name: str, proc: subprocess.Popen, timeout_s: float) -> dict:
    out, err = proc.communicate(timeout=timeout_s)
    try:
        return json.loads(out)
    except json.JSONDecodeError:
        raise RuntimeError(f"{name}: metronome exited {proc.returncode} without a JSON summary:\n{out[-2000:]}\n{err[-2000:]}")


def held_run(metronome: Path, llmsim: Path, result: dict) -> None:
    """The 10,000-connection load; fills `result` with its summary, socket counts and llmsim's count."""
    try:
        sim, url = start_llmsim(llmsim, ["--fast", "--freeze-every", "60s", "--freeze-for", "58s"])
        t0 = time.monotonic()
        proc = run_metronome(metronome, [url + "/", "--workload", "http", "--rate", "2500", "--duration", "6s",
                                         "--arrival", "constant", "--drain", "80s", "--timeout", "100s"])
        samples = {}
        for at in (15, 35, 55):
            time.sleep(max(0.0, t0 + at - time.monotonic()))
            samples[at] = open_sockets(proc.pid)
            say(f"held: {samples[at]} sockets open in metronome at {at} s (llmsim holds until 60 s)")
        result["rss_kb"] = memory_kb(proc.pid)
        result["summary"] = summary_of("held", proc, 120)
        result["sockets"] = samples
        result["received"] = llmsim_requests(sim)
    except Exception as error:  # reported by the main thread
        result["error"] = repr(error)


def main() -> int:
    bin_dir = Path(sys.argv[1])
    metronome, llmsim = bin_dir / "metronome", bin_dir / "llmsim"
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # inherited: 10,000 sockets a side
    duration_s = int(MINUTES * 60)
    say(f"soak: {duration_s} s at {RATE} requests/s (200/200, faults), 10,000 held connections from {HELD_START_S} s; "
        f"open-file limit {hard}")
    failures: list[str] = []
    try:
        sim, url = start_llmsim(llmsim, ["--ttft", "100ms", "--itl", "10ms", "--max-num-seqs", "256", "--error-rate", "0.01",
                                         "--drop-rate", "0.01", "--freeze-every", "50s", "--freeze-for", "2s", "--seed", "7"])
        t0 = time.monotonic()
        main_run = run_metronome(metronome, [url, "--model", "llmsim", "--ignore-eos", "--rate", RATE,
                                             "--duration", f"{duration_s}s", "--arrival", "poisson", "--timeout", "30s", "--drain", "30s"])
        held: dict = {}
        held_thread = threading.Thread(target=lambda: (time.sleep(HELD_START_S), held_run(metronome, llmsim, held)))
        held_thread.start()

        # Peak and current RSS at minute 1 and at the end of the plan (2 s before, still running).
        marks = {"minute 1": 60.0, f"minute {MINUTES:g}": duration_s - 2.0}
        memory = {}
        for label, at in marks.items():
            time.sleep(max(0.0, t0 + at - time.monotonic()))
            memory[label] = {"metronome": memory_kb(main_run.pid), "llmsim": memory_kb(sim.pid)}
        summary = summary_of("main", main_run, 120)
        received = llmsim_requests(sim)
        held_thread.join(timeout=200)

        say("")
        say("RSS (kB)           metronome: now / peak      llmsim: now / peak")
        for label, m in memory.items():
            say(f"  {label:<16} {m['metronome'][0]:>10} / {m['metronome'][1]:<10} {m['llmsim'][0]:>10} / {m['llmsim'][1]}")
        first, last = memory["minute 1"], memory[f"minute {MINUTES:g}"]
        for proc_name in ("metronome", "llmsim"):
            growth = last[proc_name][1] / max(first[proc_name][1], 1) - 1
            say(f"  {proc_name} peak RSS growth from minute 1: {growth * 100:+.1f} %")
            if growth > RSS_TOLERANCE:
                failures.append(f"{proc_name} peak RSS grew {growth * 100:.1f} % after minute 1 (limit {RSS_TOLERANCE * 100:.0f} %)")
        say(f"main: achieved {summary.get('achieved_rps')} rps, latency p50 {summary['latency_ms'].get('p50')} ms, "
            f"p99 {summary['latency_ms'].get('p99')} ms, exit {main_run.returncode}")
        accounted("main", summary, received, failures)

        if "error" in held or "summary" not in held:
            failures.append(f"held run did not finish: {held.get('error', 'timed out')}")
        else:
            say(f"held: metronome RSS at the end {held['rss_kb'][0]} kB, peak {held['rss_kb'][1]} kB")
            accounted("held", held["summary"], held["received"], failures)
            most = max(held["sockets"].values())
            if held["sockets"][35] < HELD_CONNECTIONS_MIN:
                failures.append(f"held: only {held['sockets'][35]} sockets open 35 s in (most {most})")
    finally:
        stop_all()
    say("")
    for failure in failures:
        say(f"FAIL {failure}")
    say("soak: ok" if not failures else f"soak: {len(failures)} check(s) failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
