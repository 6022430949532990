# Section 4: what a request costs the generator: CPU per 10k at fixed rates beside wrk, instructions,
# allocations and resident memory. `make bench-speed` runs this section alone.
import json
import re
import statistics
from dataclasses import dataclass

from .procs import BenchError, Finished, pinned, run_measured, start_llmsim, start_nginx, stop
from .report import Column, Row, Table
from .sections import Context
from .tls_cost import tls_table
from .kernel_floor import build_floor, burst_of, floor_cpu_per_10k
from .tools import Measured, wrk, wrk2

VALGRIND = "/usr/bin/valgrind"
# Callgrind counts only inside the engine's run loop (Swift-mangled OpenLoopEngine.run): the report at
# the end does work that depends on the values measured (percentile walks, number lengths), which would
# otherwise add ±1 M instructions of noise to each pair. If a rename makes it match nothing, the bench
# counts the whole program instead and says so.
LOOP_SYMBOL = "*OpenLoopEngineV3run*"


@dataclass
class SpeedParams:
    rates: tuple = (1000, 10_000, 30_000)
    run_sec: int = 10
    repeats: int = 3               # interleaved runs per rate; the table shows the median
    wrk_connections: int = 50
    # Marginal costs under valgrind: two runs that differ only in the requests (or events) they carry.
    http_rates: tuple = (50, 550)
    http_sec: int = 4
    sse_rate: int = 20
    sse_sec: int = 3
    sse_tokens: tuple = (20, 120)
    memcheck: bool = True
    small_rate: int = 10
    small_sec: int = 3
    # A server frozen from the start (llmsim answers nothing after its first millisecond): no service
    # time is ever measured, so the pool doubles once a second from max(256, 10 ms of arrivals).
    frozen_rate: int = 30_000
    frozen_sec: int = 2
    # The same frozen server at a rate whose pool reaches the 10,000 cap in 6 s: memory at the cap.
    cap_rate: int = 2500
    cap_sec: int = 7


SPEED_MODES = {
    "default": SpeedParams(),
    "quick": SpeedParams(run_sec=5, repeats=1),
    "smoke": SpeedParams(rates=(200, 500), run_sec=1, repeats=1, http_rates=(20, 60), http_sec=1, sse_rate=10,
                         sse_sec=1, sse_tokens=(5, 25), memcheck=False, small_sec=1, frozen_rate=5000, frozen_sec=1,
                         cap_rate=500, cap_sec=1),
}


def _http_args(rate: int, seconds: float) -> list[str]:
    return ["--workload", "http", "--rate", str(rate), "--arrival", "constant", "--ramp", "0s",
            "--duration", f"{seconds:g}s", "--timeout", "10s", "--drain", "2s"]


def cpu_table(ctx: Context, sp: SpeedParams) -> Table:
    table = Table("speed_cpu", f"4a. Generator CPU per 10,000 requests at fixed rates ({sp.run_sec} s each, "
                  f"median of {sp.repeats}), wrk beside it",
                  [Column("rate", "offered rps", 0), Column("rps", "achieved rps", 0),
                   Column("cpu_per_10k", "CPU s / 10k req", 3), Column("lag_p99", "send lag p99 ms", 3),
                   Column("connections", "connections", 0),
                   Column("waited_ms", "waited for core ms", 1), Column("vs_wrk2", "× wrk2's CPU", 2),
                   Column("wakeups", "wake-ups / req", 2), Column("floor", "kernel floor s / 10k", 3)])
    server = start_nginx(ctx.nginx, cpu=ctx.server_cpu, work_dir=ctx.raw / "nginx4") if ctx.nginx else \
        start_llmsim(ctx.llmsim, ["--fast"], cpu=ctx.server_cpu, log_dir=ctx.raw, name="s4_llmsim")
    table.setup.append(server.command)
    # The floor reads one answer per readiness event, as nginx's one-segment `return 200` gives.
    floor, no_floor = build_floor(ctx.repo, ctx.raw) if ctx.nginx else \
        (None, "the kernel floor needs nginx (one segment per answer)")
    # (tool, rate) -> each floor run's (CPU s / 10k, command, output file), shown in the tool's row.
    floors: dict[tuple[str, int], list[tuple[float, str, str]]] = {}

    def floor_beside(tool: str, rate: int, attempt: int, run: Measured) -> None:
        """The floor at the rate and wake-ups per request `run` had, right after it."""
        if floor is not None:
            floors.setdefault((tool, rate), []).append(floor_cpu_per_10k(
                floor, server.url, rate=rate, seconds=sp.run_sec, burst=burst_of(run.requests, run.voluntary_switches),
                cpu=ctx.gen_cpu, log_dir=ctx.raw, name=f"s4_floor_{tool}_{rate}_{attempt}"))

    try:
        runs: dict[int, list[Measured]] = {rate: [] for rate in sp.rates}
        wrk_runs: list[Measured] = []
        wrk2_runs: dict[int, list[Measured]] = {rate: [] for rate in sp.rates}
        for attempt in range(sp.repeats):          # interleaved, so a busy minute spreads over every rate
            for rate in sp.rates:
                runs[rate].append(ctx.run_metronome(server.url + "/", _http_args(rate, sp.run_sec),
                                                    f"s4_cpu_{rate}_{attempt}", sp.run_sec))
                floor_beside("metronome", rate, attempt, runs[rate][-1])
                if ctx.wrk2:
                    wrk2_runs[rate].append(wrk2(ctx.wrk2, server.url + "/", rate=rate, connections=sp.wrk_connections,
                                                duration_sec=sp.run_sec, cpu=ctx.gen_cpu, log_dir=ctx.raw,
                                                name=f"s4_wrk2_{rate}_{attempt}"))
                    floor_beside("wrk2", rate, attempt, wrk2_runs[rate][-1])
            if ctx.wrk:
                wrk_runs.append(wrk(ctx.wrk, server.url + "/", connections=sp.wrk_connections,
                                    duration_sec=sp.run_sec, cpu=ctx.gen_cpu, log_dir=ctx.raw, name=f"s4_wrk_{attempt}"))
        median = lambda values: statistics.median(v for v in values if v is not None) \
            if any(v is not None for v in values) else None

        def floor_of(tool: str, rate: int) -> tuple[float | None, list[str], list[str]]:
            """The median floor beside a tool's rows, with the commands and outputs of its runs."""
            found = floors.get((tool, rate), [])
            return median([f[0] for f in found]), [f[1] for f in found], [f[2] for f in found]

        for rate in sp.rates:
            ms = runs[rate]
            floor_cost, floor_commands, floor_raws = floor_of("metronome", rate)
            per_10k = [m.cpu_s_per_10k() for m in ms]
            theirs = median([m.cpu_s_per_10k() for m in wrk2_runs[rate]]) if wrk2_runs[rate] else None
            ours = median(per_10k)
            table.add(Row(f"Metronome → {server.name} @ {rate:,}", {
                "vs_wrk2": ours / theirs if ours is not None and theirs else None,
                "wakeups": median([_wakeups(m) for m in ms]), "floor": floor_cost,
                "rate": rate, "rps": median([m.rps for m in ms]), "cpu_per_10k": median(per_10k),
                "lag_p99": median([m.send_lag_ms["p99"] for m in ms]),
                "connections": median([m.extra["connections_opened"] for m in ms]),
                "waited_ms": median([m.run_delay_s * 1000 if m.run_delay_s is not None else None for m in ms])},
                [m.command for m in ms] + floor_commands, [m.raw for m in ms] + floor_raws,
                note="runs: " + ", ".join(f"{v:.3f}" for v in per_10k if v is not None) if len(ms) > 1 else ""))
            if wrk2_runs[rate]:
                w2 = wrk2_runs[rate]
                floor_cost, floor_commands, floor_raws = floor_of("wrk2", rate)
                table.add(Row(f"wrk2 -t1 -c{sp.wrk_connections} -R{rate} → {server.name}", {
                    "rate": rate, "rps": median([m.rps for m in w2]), "cpu_per_10k": median([m.cpu_s_per_10k() for m in w2]),
                    "connections": sp.wrk_connections, "wakeups": median([_wakeups(m) for m in w2]),
                    "floor": floor_cost,
                    "waited_ms": median([m.run_delay_s * 1000 if m.run_delay_s is not None else None for m in w2])},
                    [m.command for m in w2] + floor_commands, [m.raw for m in w2] + floor_raws,
                    note="open loop at the same rate; runs: " +
                         ", ".join(f"{m.cpu_s_per_10k():.3f}" for m in w2 if m.cpu_s_per_10k() is not None)))
        if floor is None:
            table.skipped("kernel floor", no_floor)
        if not ctx.wrk2:
            table.skipped("wrk2 (open loop)", "WRK2 is not set: wrk2 is in no package registry (build "
                          "github.com/giltene/wrk2 with make, then WRK2=path/to/wrk make bench-speed)")
        if wrk_runs:
            per_10k = [m.cpu_s_per_10k() for m in wrk_runs]
            table.add(Row(f"wrk -t1 -c{sp.wrk_connections} → {server.name} (closed loop, flat out)", {
                "rps": median([m.rps for m in wrk_runs]), "cpu_per_10k": median(per_10k),
                "connections": sp.wrk_connections,
                "waited_ms": median([m.run_delay_s * 1000 if m.run_delay_s is not None else None for m in wrk_runs])},
                [m.command for m in wrk_runs], [m.raw for m in wrk_runs],
                note="no rate to aim at: as fast as it can" +
                     (" (runs: " + ", ".join(f"{v:.3f}" for v in per_10k if v is not None) + ")" if len(wrk_runs) > 1 else "")))
        else:
            table.skipped("wrk (closed loop)", ctx.skip_reasons.get("wrk", "wrk is not installed"))
    finally:
        stop(server.proc)
    table.notes += [
        "CPU s / 10k req: user + system seconds of the generator process (wait4, start-up included) × 10,000 ÷ "
        "requests answered. Send lag p99: first byte written − intended send time, from Metronome's --json.",
        "wrk is a closed loop: it sends the next request when one returns, flat out, so it has no rate and no send "
        "lag; its row is the per-request cost of a lean C client at its own (much higher) rate, where a busy loop "
        "amortises each wake-up over many requests. wrk2 (open loop, -R) is in no package registry: with WRK2=path "
        "it runs at each rate, interleaved with Metronome, and '× wrk2's CPU' is the ratio of the two medians.",
        "wake-ups / req: the generator's voluntary context switches (wait4's ru_nvcsw) ÷ requests answered. "
        "Kernel floor: experiments/kernel-floor/floor.c, a C loop that sleeps to its next burst, writes one request "
        "on each of B connections and reads every answer in, with no parsing, timing or statistics, run right after "
        "the row's run at its rate with B = its requests per wake-up: what the kernel alone charges for that many "
        "wake-ups and requests (medians). A tool cannot go below the floor of its own wake-ups; Metronome's come "
        "from keeping each send within three arrivals of its time (see 'Send horizon' in the README), wrk2's from "
        "its 1 ms timer, which sends late (its latency p50 here is mostly its own lateness).",
        "'waited for core': time the generator was ready to run while another process held its core "
        "(/proc/PID/schedstat). Large values mean the machine, not the generator, set the send lag.",
        "Memory is table 4c's: wait4(2) here would report the larger of the tool's peak and the bench's own (the "
        "kernel keeps the peak a process had before exec), and every tool in this table stays below the bench's."]
    return table


def _wakeups(run: Measured) -> float | None:
    return run.voluntary_switches / run.requests if run.requests else None


# --- valgrind ---------------------------------------------------------------------------------------

def _valgrind(ctx: Context, tool: str, args: list[str], name: str, seconds: float,
              whole: bool = False) -> tuple[int, Finished, str]:
    """(count, run, command): instructions collected (callgrind) or heap allocations (memcheck)."""
    extra = [f"--callgrind-out-file={ctx.raw / (name + '.callgrind')}"] + \
        ([] if whole else [f"--toggle-collect={LOOP_SYMBOL}"]) if tool == "callgrind" else ["--leak-check=no"]
    argv = pinned([VALGRIND, f"--tool={tool}", *extra, str(ctx.metronome), "run", *args, "--json", "--quiet",
                   "--no-files"], ctx.gen_cpu)
    done = run_measured(argv, timeout_sec=seconds * 20 + 120, log_dir=ctx.raw, name=name)
    pattern = r"Collected : (\d+)" if tool == "callgrind" else r"total heap usage: ([\d,]+) allocs"
    found = re.search(pattern, done.stderr)
    if done.timed_out or not found:
        raise BenchError(f"valgrind gave no {tool} total (exit {done.returncode}): {done.command}\n{done.stderr[-1500:]}")
    return int(found.group(1).replace(",", "")), done, done.command


def _completed(done: Finished) -> int:
    try:
        return int(json.loads(done.stdout)["completed"])
    except (ValueError, KeyError):
        raise BenchError(f"no JSON summary from {done.command}")


def instruction_table(ctx: Context, sp: SpeedParams, have_valgrind: bool) -> Table:
    table = Table("speed_instructions", "4b. Instructions and allocations per request and per SSE event "
                  "(valgrind: exact, whatever the machine's load)",
                  [Column("instructions", "instructions", 0), Column("allocations", "allocations", 2),
                   Column("units", "extra units", 0)])
    if not have_valgrind:
        for label in ("per http request", "per SSE event"):
            table.skipped(label, f"valgrind is not installed ({VALGRIND}; apt-get install -y valgrind)")
        return table
    fast = start_llmsim(ctx.llmsim, ["--fast"], cpu=ctx.server_cpu, log_dir=ctx.raw, name="s4_vg_fast")
    stream = start_llmsim(ctx.llmsim, ["--ttft", "1ms", "--itl", "1ms", "--prefill-per-token", "0"],
                          cpu=ctx.server_cpu, log_dir=ctx.raw, name="s4_vg_stream")
    table.setup += [fast.command, stream.command]
    tools = ["callgrind"] + (["memcheck"] if sp.memcheck else [])
    try:
        low, high = sp.http_rates
        http = {r: [fast.url + "/", *_http_args(r, sp.http_sec)] for r in (low, high)}
        sse = {t: [stream.url, "--rate", str(sp.sse_rate), "--arrival", "constant", "--ramp", "0s",
                   "--duration", f"{sp.sse_sec}s", "--max-tokens", str(t), "--ignore-eos"] for t in sp.sse_tokens}
        figures: dict[tuple[str, str], float] = {}
        commands: dict[str, list[str]] = {"http": [], "sse": []}
        units: dict[str, int] = {}
        whole = False
        for tool in tools:
            a, run_a, cmd_a = _valgrind(ctx, tool, http[low], f"s4_{tool}_http_{low}", sp.http_sec)
            b, run_b, cmd_b = _valgrind(ctx, tool, http[high], f"s4_{tool}_http_{high}", sp.http_sec)
            if tool == "callgrind" and (a == 0 or b == 0):
                whole = True     # the loop symbol matched nothing: count everything
                a, run_a, cmd_a = _valgrind(ctx, tool, http[low], f"s4_{tool}_http_{low}", sp.http_sec, True)
                b, run_b, cmd_b = _valgrind(ctx, tool, http[high], f"s4_{tool}_http_{high}", sp.http_sec, True)
            extra = _completed(run_b) - _completed(run_a)
            if extra <= 0:
                raise BenchError(f"{tool}: the larger http run answered no more requests ({cmd_a} / {cmd_b})")
            figures[("http", tool)] = (b - a) / extra
            units["http"] = extra
            commands["http"] += [cmd_a, cmd_b]
            few, many = sp.sse_tokens
            a, run_a, cmd_a = _valgrind(ctx, tool, sse[few], f"s4_{tool}_sse_{few}", sp.sse_sec, whole)
            b, run_b, cmd_b = _valgrind(ctx, tool, sse[many], f"s4_{tool}_sse_{many}", sp.sse_sec, whole)
            requests = min(_completed(run_a), _completed(run_b))
            events = requests * (many - few)
            if events <= 0:
                raise BenchError(f"{tool}: no streamed requests completed ({cmd_a} / {cmd_b})")
            figures[("sse", tool)] = (b - a) / events
            units["sse"] = events
            commands["sse"] += [cmd_a, cmd_b]
        for key, label in (("http", f"per http request (llmsim --fast, {low} vs {high} rps, {sp.http_sec} s)"),
                           ("sse", f"per SSE event (chat, {sp.sse_rate} rps × {sp.sse_sec} s, --max-tokens "
                                   f"{sp.sse_tokens[0]} vs {sp.sse_tokens[1]}, ITL 1 ms)")):
            table.add(Row(label, {"instructions": figures[(key, "callgrind")],
                                  "allocations": figures.get((key, "memcheck")), "units": units[key]},
                          commands[key], note="; ".join(
                              (["instructions of the whole program: the engine loop symbol "
                                f"{LOOP_SYMBOL} matched nothing"] if whole else []) +
                              ([] if sp.memcheck else ["allocations: not counted in BENCH_SMOKE (make test's "
                                                       "allocation tests count them)"]))))
    finally:
        stop(fast.proc)
        stop(stream.proc)
    table.notes += [
        "Marginal cost: two runs that differ only in the requests (or SSE events) they carry; the difference in "
        "instructions (callgrind's Collected, user space only, counted inside the engine's run loop: "
        f"--toggle-collect='{LOOP_SYMBOL}') or heap allocations (memcheck's total heap usage, whole program) divided "
        "by the extra requests (events). Start-up, setup, the report and the per-second series cancel out (the runs "
        "last equally long); the loop's per-request work, its wake-ups and the kernel's share do not (the kernel's "
        "is not counted: see the CPU table).",
        "Per request at these rates the loop wakes once per arrival, so the figure includes one wake-up; per SSE "
        "event at a 1 ms ITL each event is its own read."]
    return table


# --- memory -----------------------------------------------------------------------------------------

def memory_table(ctx: Context, sp: SpeedParams) -> Table:
    table = Table("speed_memory", "4c. Peak resident memory, and the pool against a server frozen from the start",
                  [Column("rss_mb", "max RSS MB", 1), Column("connections", "connections opened", 0),
                   Column("requests", "requests sent", 0), Column("succeeded", "answered", 0)])
    fast = start_llmsim(ctx.llmsim, ["--fast"], cpu=ctx.server_cpu, log_dir=ctx.raw, name="s4_mem_fast")
    # Windows [k·P − F, k·P): with F = P − 1 ms nothing leaves from 1 ms after start until P.
    frozen = start_llmsim(ctx.llmsim, ["--fast", "--freeze-every", "600s", "--freeze-for", "599.999s"],
                          cpu=ctx.server_cpu, log_dir=ctx.raw, name="s4_mem_frozen")
    table.setup += [fast.command, frozen.command]
    frozen_args = lambda rate, sec: ["--workload", "http", "--rate", str(rate), "--arrival", "constant", "--ramp", "0s",
                                     "--duration", f"{sec}s", "--drain", "0s"]
    try:
        for label, url, args, name, seconds in (
                (f"{sp.small_rate} rps http, {sp.small_sec} s (default --max-connections 10,000)", fast.url + "/",
                 _http_args(sp.small_rate, sp.small_sec), "s4_mem_small", sp.small_sec),
                (f"{sp.frozen_rate:,} rps for {sp.frozen_sec} s against a server frozen from the start "
                 f"({sp.frozen_rate * sp.frozen_sec:,} requests due)", frozen.url + "/",
                 frozen_args(sp.frozen_rate, sp.frozen_sec), "s4_mem_frozen", sp.frozen_sec),
                (f"{sp.cap_rate:,} rps for {sp.cap_sec} s against the same frozen server (the pool doubles "
                 f"once a second up to the cap)", frozen.url + "/",
                 frozen_args(sp.cap_rate, sp.cap_sec), "s4_mem_cap", sp.cap_sec)):
            m = ctx.run_metronome(url, args, name, seconds, peak_rss_by_time=True)
            table.add(Row(label, {"rss_mb": m.max_rss_mb, "connections": m.extra["connections_opened"],
                                  "requests": m.extra["scheduled"], "succeeded": m.succeeded}, [m.command], [m.raw]))
    finally:
        stop(fast.proc)
        stop(frozen.proc)
    table.notes += [
        "Max RSS of the generator alone, from GNU time's wait4(2) (/usr/bin/time -f %M, Debian's `time`; without "
        "it, '—' where the figure would be the bench's own peak). `make build` links the Swift runtime and "
        "Foundation into the binary (--static-swift-stdlib), so a small run's memory is its own code pages, libc's "
        "and libstdc++'s, and a few hundred KiB of heap; a two-line Swift program importing Foundation is 16.3 MB "
        "linked dynamically, 5.1 MB statically. Per-connection state is initialised when a connection is first "
        "used, so memory follows the connections opened, not --max-connections.",
        "Frozen from the start: no request ever finishes, so no service time paces the pool; it starts at "
        "max(256, 10 ms of arrivals) and doubles once a second (ConnectionPacing). Before, every request due "
        "opened its own connection up to --max-connections. Requests that wait are queued and counted; the runs "
        "end with --drain 0s, so every request sent is counted unfinished (exit 2: nothing was measured)."]
    return table


def speed(ctx: Context, mode: str, have_valgrind: bool) -> list[Table]:
    sp = SPEED_MODES[mode]
    return [cpu_table(ctx, sp), instruction_table(ctx, sp, have_valgrind), memory_table(ctx, sp), tls_table(ctx, mode)]
