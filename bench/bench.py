#!/usr/bin/env python3
# `make bench`: Metronome beside Locust, coordinated omission shown, and the generator's own cost.
"""Usage: python3 bench/bench.py BIN_DIR      (BIN_DIR holds the release `metronome` and `llmsim`)

Modes (environment):
  default          about 10 minutes
  BENCH_QUICK=1    about 2 minutes, same sections with shorter runs
  BENCH_SMOKE=1    seconds: no Locust, nginx or wrk; runs every step of the pipeline on tiny loads, writes
                   the report into a temporary directory, checks it, and exits non-zero on any broken step
Other settings:
  BENCH_INSTALL=1  apt-get install nginx-light and wrk when missing (never done otherwise)
  BENCH_LLMSIM=P   llmsim binary to use instead of BIN_DIR/llmsim
  WRK2=P           wrk2 (github.com/giltene/wrk2, built with make; in no package registry): section 4 runs it
                   at the same fixed rates beside Metronome, and the table gives Metronome's cost as a ratio of it
  BENCH_OUT_DIR=D  write compare.md, compare.json and raw/ into D instead of experiments/bench/<timestamp>
  BENCH_SECTIONS=L the sections to run, comma-separated from 1,2,3,4 (default all); `make bench-speed` is 4:
                   CPU per 10k at 1k/10k/30k rps beside wrk, instructions and allocations per request and
                   per SSE event (valgrind), peak memory

Every process started is ended by its pid on every exit path; every load is bounded in count and time
and goes to 127.0.0.1 only.
"""
import os
import py_compile
import shutil
import subprocess
import sys
import tempfile
from datetime import datetime
from pathlib import Path

# No __pycache__ in the source tree, from this process or from Locust importing the scenarios.
sys.dont_write_bytecode = True
os.environ["PYTHONDONTWRITEBYTECODE"] = "1"
sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import report, selfcheck  # noqa: E402
from benchlib.procs import USABLE_CPUS, BenchError, keep_off, load_average, machine, stop_all  # noqa: E402
from benchlib.sections import Context, Params, beside_locust, coordinated_omission, generator_cost  # noqa: E402
from benchlib.speed import VALGRIND, speed  # noqa: E402
from benchlib.tools import ensure_locust, find_binary  # noqa: E402

MODES = {
    "default": Params(),
    "quick": Params(s1_locust_sec=25, s1_metronome_sec=12, s2_sec=10, s3_ramp_sec=1, s3_step_sec=3,
                    s3_max_steps=6, s3_bisections=2, s3_cost_sec=3),
    "smoke": Params(s1_ttft_ms=50, s1_itl_ms=5, s1_tokens=10, s1_metronome_sec=1, s1_high_rate=300,
                    s2_every_s=1, s2_for_s=0.3, s2_sec=2, s2_rate=100, s3_start_rate=1000, s3_ramp_sec=0.2,
                    s3_step_sec=0.5, s3_max_steps=2, s3_bisections=1, s3_cost_rate=1000, s3_cost_sec=1),
}
TABLE_KEYS = {"1": ["beside_locust"], "2": ["coordinated_omission"],
              "3": ["sustained_rate", "sustained_rate_steps", "cpu_cost"],
              "4": ["speed_cpu", "speed_instructions", "speed_memory", "speed_tls"]}


def say(text: str) -> None:
    print(text, flush=True)


def version(argv: list[str]) -> str:
    """The first word with a digit in what a tool prints for its version ("0.1.0", "nginx/1.22.1")."""
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=30)
        words = (done.stdout + done.stderr).split()
        return next((w for w in words if any(c.isdigit() for c in w)), "unknown")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def apt_install_if_asked(missing: list[str]) -> None:
    if not missing or os.environ.get("BENCH_INSTALL") != "1":
        return
    packages = ["nginx-light" if name == "nginx" else name for name in missing]
    say(f"BENCH_INSTALL=1: apt-get install -y {' '.join(packages)}")
    # A fresh machine's package lists are empty ("Unable to locate package"): update once and retry.
    if subprocess.run(["apt-get", "install", "-y", *packages], timeout=600).returncode != 0:
        subprocess.run(["apt-get", "update"], timeout=600)
        subprocess.run(["apt-get", "install", "-y", *packages], timeout=600)


def external_tools(repo: Path, mode: str, sections: list[str]) -> tuple[Path | None, str | None, str | None,
                                                                        dict[str, str]]:
    """Locust, wrk and nginx, each with the reason its rows are skipped when it is absent."""
    reasons: dict[str, str] = {}
    if mode == "smoke":
        return None, None, None, {t: "BENCH_SMOKE runs without it" for t in ("locust", "wrk", "nginx")}
    apt_install_if_asked([name for name in ("nginx", "wrk") if not find_binary(name)])
    locust = None
    if set(sections) & {"1", "2", "3"}:      # section 4 has no Locust row: do not install it for that
        locust, locust_note = ensure_locust(repo)
        if locust is None:
            reasons["locust"] = locust_note
    wrk, nginx = find_binary("wrk"), find_binary("nginx")
    for name, found in (("wrk", wrk), ("nginx", nginx)):
        if not found:
            package = "nginx-light" if name == "nginx" else name
            reasons[name] = f"{name} is not installed (apt-get install -y {package}, or run with BENCH_INSTALL=1)"
    return locust, wrk, nginx, reasons


def wrk2_binary(mode: str) -> str | None:
    """WRK2=PATH: wrk2 is in no package registry, so it is used only when the user has built it and says where."""
    path = os.environ.get("WRK2")
    if mode == "smoke" or not path:
        return None
    if not os.access(path, os.X_OK):
        raise BenchError(f"WRK2={path}: not an executable file (build github.com/giltene/wrk2 with make, then WRK2=its/wrk)")
    return path


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[1] in ("-h", "--help"):
        print(__doc__, file=sys.stderr)
        return 64
    bin_dir = Path(os.path.abspath(argv[1]))   # absolute, so the printed commands run from anywhere
    repo = Path(__file__).resolve().parents[1]
    mode = "smoke" if os.environ.get("BENCH_SMOKE") == "1" else "quick" if os.environ.get("BENCH_QUICK") == "1" \
        else "default"
    metronome = bin_dir / "metronome"
    llmsim = Path(os.environ.get("BENCH_LLMSIM") or bin_dir / "llmsim")
    for binary in (metronome, llmsim):
        if not os.access(binary, os.X_OK):
            raise BenchError(f"{binary} is missing: build first (swift build -c release)")
    started = datetime.now()
    stamp = started.strftime("%Y%m%d-%H%M%S")
    temporary = mode == "smoke" and not os.environ.get("BENCH_OUT_DIR")
    out_dir = Path(os.environ.get("BENCH_OUT_DIR") or
                   (tempfile.mkdtemp(prefix="metronome-bench-smoke-") if temporary
                    else repo / "experiments" / "bench" / stamp))
    raw = out_dir / "raw"
    raw.mkdir(parents=True, exist_ok=True)

    if mode == "smoke":
        for problem in selfcheck.parsers():
            raise BenchError(f"self-check: {problem}")
        for path in sorted((repo / "bench" / "locust").rglob("*.py")):
            py_compile.compile(str(path), cfile=str(raw / (path.name + "c")), doraise=True)

    sections = [x.strip() for x in os.environ.get("BENCH_SECTIONS", "1,2,3,4").split(",") if x.strip()]
    if not sections or any(x not in TABLE_KEYS for x in sections):
        raise BenchError(f"BENCH_SECTIONS={os.environ.get('BENCH_SECTIONS')!r}: a comma-separated list of 1, 2, 3, 4")
    cpus = USABLE_CPUS
    pin = shutil.which("taskset") is not None and len(cpus) >= 2
    # The bench's own Python stays off the generator's core (it starts every tool pinned explicitly).
    bench_place = keep_off(cpus[0] if pin else None)
    locust, wrk, nginx, reasons = external_tools(repo, mode, sections)
    have_valgrind = os.access(VALGRIND, os.X_OK)
    ctx = Context(repo=repo, metronome=metronome, llmsim=llmsim, raw=raw, p=MODES[mode],
                  gen_cpu=cpus[0] if pin else None, server_cpu=cpus[1] if pin else None,
                  locust=locust, wrk=wrk, nginx=nginx, skip_reasons=reasons, wrk2=wrk2_binary(mode))
    versions = {"metronome": version([str(metronome), "--version"]), "llmsim": version([str(llmsim), "--version"])}
    if locust:
        versions["locust"] = version([str(locust), "--version"])
    if wrk:
        versions["wrk"] = version([wrk, "-v"])
    if nginx:
        versions["nginx"] = version([nginx, "-v"])
    if ctx.wrk2:
        versions["wrk2"] = version([ctx.wrk2, "-v"])
    if have_valgrind and "4" in sections:
        versions["valgrind"] = version([VALGRIND, "--version"])
    meta = {"started": started.isoformat(timespec="seconds"), "mode": mode, "machine": machine(),
            "load_start": load_average(), "versions": versions,
            "pinning": f"generator on CPU {ctx.gen_cpu}, servers on CPU {ctx.server_cpu} (taskset), {bench_place}"
            if pin else "none (taskset missing or fewer than 2 usable CPUs)", "sections": sections,
            "skipped": [f"{tool}: {why}" for tool, why in reasons.items()]}
    say(f"metronome bench ({mode}) → {out_dir}")
    for line in meta["skipped"]:
        say(f"  skipped — {line}")

    tables: list[report.Table] = []
    try:
        if "1" in sections:
            say("== 1. beside Locust")
            tables.append(beside_locust(ctx))
        if "2" in sections:
            say("== 2. coordinated omission")
            tables.append(coordinated_omission(ctx))
        if "3" in sections:
            say("== 3. generator cost")
            tables += generator_cost(ctx)
        if "4" in sections:
            say("== 4. speed: CPU, instructions, allocations, memory" +
                ("" if have_valgrind else f" ({VALGRIND} missing: no instruction counts)"))
            tables += speed(ctx, mode, have_valgrind)
    finally:
        stop_all()
    meta["load_end"] = load_average()
    markdown = report.render_markdown(tables, meta)
    doc = report.to_json(tables, meta)
    (out_dir / "compare.md").write_text(markdown)
    (out_dir / "compare.json").write_text(report.dumps(doc))
    say("")
    say(markdown)
    say(f"written: {out_dir / 'compare.md'} and {out_dir / 'compare.json'}")

    if mode == "smoke":
        found = report.problems(doc, markdown, [k for x in sections for k in TABLE_KEYS[x]]) + \
            selfcheck.smoke_figures(doc, ctx.p)
        if found:
            say("BENCH_SMOKE FAILED:\n  " + "\n  ".join(found) + f"\n(report kept in {out_dir})")
            return 1
        if temporary:
            shutil.rmtree(out_dir)
        say("BENCH_SMOKE passed" + (" (temporary report removed)" if temporary else ""))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except BenchError as error:
        print(f"bench: error: {error}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print("bench: interrupted; every process it started has been stopped", file=sys.stderr)
        sys.exit(130)
    finally:
        stop_all()
