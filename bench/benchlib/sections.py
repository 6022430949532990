# The bench's three sections: beside Locust, coordinated omission shown, and the generator's own cost.
import os
from dataclasses import dataclass, field
from pathlib import Path

from .procs import USABLE_CPUS, Server, load_average, start_llmsim, start_nginx, stop
from .report import Column, Row, Table
from .tools import Measured, locust, metronome, wrk


@dataclass
class Params:
    """Sizes of one mode (default, quick, smoke); every load is bounded by these."""
    s1_ttft_ms: int = 100
    s1_itl_ms: int = 10
    s1_tokens: int = 200
    s1_users: int = 20
    s1_locust_sec: int = 120
    s1_metronome_sec: int = 60
    s1_high_rate: float = 20       # the old harness's target rate (configs/fixed_200_200.json)
    s2_every_s: float = 5
    s2_for_s: float = 1.5
    s2_sec: int = 60
    s2_rate: float = 100
    s2_users: int = 10
    s3_start_rate: int = 4000
    s3_ramp_sec: float = 1          # each search step ramps from a tenth of its rate, then holds
    s3_step_sec: float = 5          # p99 over a longer hold is less at the mercy of one time slice
    s3_max_steps: int = 12
    s3_bisections: int = 4
    s3_rate_cap: int = 256_000
    s3_cost_rate: int = 5000
    s3_cost_sec: int = 15
    s3_locust_users: int = 50
    s3_wrk_connections: int = 50


@dataclass
class Context:
    repo: Path
    metronome: Path
    llmsim: Path
    raw: Path                      # tools' own outputs go here
    p: Params
    gen_cpu: int | None            # core for the generator, None when not pinning
    server_cpu: int | None
    locust: Path | None
    wrk: str | None
    nginx: str | None
    skip_reasons: dict[str, str] = field(default_factory=dict)   # tool -> why its rows are skipped
    wrk2: str | None = None        # Gil Tene's open-loop wrk2, built by hand (WRK2=path): not packaged

    @property
    def locustfile(self) -> Path:
        return self.repo / "bench" / "locust" / "locustfile.py"

    def run_metronome(self, url: str, args: list[str], name: str, duration_sec: float,
                      peak_rss_by_time: bool = False) -> Measured:
        return metronome(self.metronome, url, args, cpu=self.gen_cpu, timeout_sec=duration_sec + 90,
                         log_dir=self.raw, name=name, peak_rss_by_time=peak_rss_by_time)

    def run_locust(self, host: str, users: int, spawn_rate: float, run_sec: float, env: dict, name: str) -> Measured:
        return locust(self.locust, self.locustfile, host, users=users, spawn_rate=spawn_rate, run_sec=run_sec,
                      env=env, cpu=self.gen_cpu, log_dir=self.raw, name=name, cwd=self.repo)


def _pct(fraction: float | None) -> float | None:
    return None if fraction is None else fraction * 100


def _latency_values(m: Measured, keys: tuple[str, ...]) -> dict:
    return {k: m.latency_ms.get(k) for k in keys}


# --- 1. Beside Locust ---------------------------------------------------------------------------------

def beside_locust(ctx: Context) -> Table:
    p = ctx.p
    expected_ms = p.s1_ttft_ms + (p.s1_tokens - 1) * p.s1_itl_ms
    table = Table("beside_locust",
                  f"1. Beside Locust: the {p.s1_tokens}-token chat workload against llmsim "
                  f"(TTFT {p.s1_ttft_ms} ms, ITL {p.s1_itl_ms} ms, max-num-seqs 64)",
                  [Column("offered", "offered rps", 2), Column("rps", "achieved rps", 2),
                   Column("p50", "p50 ms", 0), Column("p95", "p95 ms", 0),
                   Column("p99", "p99 ms", 0), Column("errors_pct", "errors %", 2), Column("cpu_s", "CPU s", 2),
                   Column("cpu_per_10k", "CPU s / 10k req", 2), Column("rss_mb", "max RSS MB", 1),
                   Column("requests", "requests", 0)])
    server = start_llmsim(ctx.llmsim, ["--ttft", f"{p.s1_ttft_ms}ms", "--itl", f"{p.s1_itl_ms}ms",
                                       "--max-num-seqs", "64", "--prefill-per-token", "0"],
                          cpu=ctx.server_cpu, log_dir=ctx.raw, name="s1_llmsim")
    table.setup.append(server.command)
    try:
        table.add(Row("llmsim's model (no queueing)", {"p50": expected_ms, "p95": expected_ms, "p99": expected_ms},
                      note=f"analytic: TTFT + ({p.s1_tokens} − 1) × ITL = {expected_ms} ms"))

        def row(label: str, m: Measured) -> None:
            table.add(Row(label, {"offered": m.offered_rps, "rps": m.rps,
                                  **_latency_values(m, ("p50", "p95", "p99")),
                                  "errors_pct": _pct(m.error_rate), "cpu_s": m.cpu_s,
                                  "cpu_per_10k": m.cpu_s_per_10k(), "rss_mb": m.max_rss_mb,
                                  "requests": m.requests}, [m.command], [m.raw]))

        if ctx.locust:
            env = {"LOCUST_SCENARIO": "fixed_200_200", "LOCUST_MODEL": "llmsim",
                   "LOCUST_MAX_TOKENS": str(p.s1_tokens)}
            measured = ctx.run_locust(server.url, p.s1_users, 2, p.s1_locust_sec, env, "s1_locust")
            row(f"Locust -u {p.s1_users} -r 2, {p.s1_locust_sec} s (closed loop)", measured)
            matched_rate = round(measured.rps, 2)
            origin = "the rate Locust achieved"
        else:
            table.skipped(f"Locust -u {p.s1_users} -r 2", ctx.skip_reasons["locust"])
            matched_rate = round(p.s1_users * 1000 / expected_ms, 2)
            origin = f"{p.s1_users} users ÷ {expected_ms} ms, what {p.s1_users} closed-loop users would reach"
        runs = ((f"Metronome at {matched_rate:g} rps ({origin})", matched_rate, "s1_metronome_matched"),
                (f"Metronome at {p.s1_high_rate:g} rps (a higher fixed rate)", p.s1_high_rate,
                 "s1_metronome_high"))
        for label, rate, name in runs:
            args = ["--rate", f"{rate:g}", "--ramp", "0s", "--duration", f"{p.s1_metronome_sec}s",
                    "--max-tokens", str(p.s1_tokens), "--ignore-eos", "--timeout", "60s"]
            row(label, ctx.run_metronome(server.url, args, name, p.s1_metronome_sec))
    finally:
        stop(server.proc)
    table.notes += [
        "Latency: Metronome measures from each request's intended send time to its last byte; Locust from the "
        "moment its user sent the request to the last byte (it reads the whole stream before stopping the clock).",
        "Locust keeps its response times in rounded buckets (2 significant digits from 100 ms to 10 s), so its "
        "percentiles move in steps of 10 or 100 ms.",
        "CPU s and max RSS: user + system time and peak resident memory of the generator process, from wait4(2) "
        "when it exited (start-up included).",
        f"The server runs 64 requests at once, so about {64 * 1000 / expected_ms:.1f} rps are served without "
        "queueing (Poisson bursts queue a little before that); a closed loop of N users cannot offer more than "
        "N ÷ latency, whatever the server could take. Metronome's arrivals are Poisson (its default), so the rate "
        "offered in a short run differs from the one asked by chance; the offered column shows it.",
        "Locust's achieved rps is its own Requests/s (requests ÷ time from start to last request), its ramp "
        "included; Metronome's is successful responses ÷ the planned duration."]
    return table


# --- 2. Coordinated omission, shown -----------------------------------------------------------------

def coordinated_omission(ctx: Context) -> Table:
    p = ctx.p
    every, length = p.s2_every_s, p.s2_for_s
    keys = ("p50", "p90", "p95", "p99")
    table = Table("coordinated_omission",
                  f"2. Coordinated omission, shown: llmsim --fast frozen {length:g} s in every {every:g} s",
                  [Column("rps", "achieved rps", 1), *[Column(k, f"{k} ms", 0) for k in keys],
                   Column("requests", "requests", 0)])
    server = start_llmsim(ctx.llmsim, ["--fast", "--freeze-every", f"{every:g}s", "--freeze-for", f"{length:g}s"],
                          cpu=ctx.server_cpu, log_dir=ctx.raw, name="s2_llmsim")
    table.setup.append(server.command)
    quantile = {"p50": 0.50, "p90": 0.90, "p95": 0.95, "p99": 0.99}
    truth = {k: max(0.0, length - (1 - q) * every) * 1000 for k, q in quantile.items()}
    try:
        table.add(Row("analytic truth", truth,
                      note=f"analytic: q-quantile = b + max(0, F − (1−q)·P), F = {length:g} s, P = {every:g} s, b ≈ 0"))
        if ctx.locust:
            env = {"LOCUST_SCENARIO": "fast_http", "LOCUST_WAIT_SEC": f"{p.s2_users / p.s2_rate:g}"}
            m = ctx.run_locust(server.url, p.s2_users, p.s2_users, p.s2_sec, env, "s2_locust")
            table.add(Row(f"Locust, {p.s2_users} users × {p.s2_rate / p.s2_users:g} rps (closed loop)",
                          {"rps": m.rps, **_latency_values(m, keys), "requests": m.requests}, [m.command], [m.raw]))
        else:
            table.skipped("Locust (closed loop)", ctx.skip_reasons["locust"])
        args = ["--workload", "http", "--rate", f"{p.s2_rate:g}", "--arrival", "constant", "--ramp", "0s",
                "--duration", f"{p.s2_sec}s", "--timeout", "30s"]
        m = ctx.run_metronome(server.url + "/", args, "s2_metronome", p.s2_sec)
        table.add(Row(f"Metronome at {p.s2_rate:g} rps (open loop)",
                      {"rps": m.rps, **_latency_values(m, keys), "requests": m.requests}, [m.command], [m.raw]))
    finally:
        stop(server.proc)
    table.notes += [
        "Truth: with arrivals spread evenly over time, a request arriving during a freeze waits until its end, so a "
        f"fraction F/P = {length / every:.0%} of requests wait between 0 and F; the q-quantile of latency is "
        "b + max(0, F − (1−q)·P), b being the base latency (well under a millisecond for llmsim --fast).",
        "A closed loop hides this: each of its users has at most one request stuck in a freeze and sends nothing "
        "more until it ends, so nearly all of its samples come from the fast periods.",
        f"Metronome's run lasts a whole number of periods ({p.s2_sec} s) with evenly spaced arrivals (--arrival "
        "constant), the conditions of the formula."]
    return table


# --- 3. The generator's own cost --------------------------------------------------------------------

LAG_LIMIT_MS = 1.0
SHORTFALL_LIMIT = 0.005
# A step failed while the generator waited for its core (another process running there) longer than
# this fraction of its run says nothing about the generator: p99 tolerates 1 % of requests late, and a
# core taken for 0.5 % of the run delays about that share of them. Such a step is tried again.
WAIT_LIMIT = 0.005
ATTEMPTS = 3


def _targets(ctx: Context, stack) -> list[Server]:
    servers = [start_llmsim(ctx.llmsim, ["--fast"], cpu=ctx.server_cpu, log_dir=ctx.raw, name="s3_llmsim")]
    stack.append(servers[0])
    if ctx.nginx:
        servers.append(start_nginx(ctx.nginx, cpu=ctx.server_cpu, work_dir=ctx.raw / "nginx"))
        stack.append(servers[1])
    return servers


def _disturbed(m: Measured) -> bool:
    """Whether the machine, not the generator, may have made the step fail (see WAIT_LIMIT)."""
    return m.run_delay_s is not None and m.run_delay_s > WAIT_LIMIT * m.wall_s


def _step(ctx: Context, server: Server, rate: int, name: str) -> tuple[Measured, float, bool, str]:
    """One search step, judged on its hold stage (after a short ramp lets the connection pool grow)."""
    p = ctx.p
    args = ["--workload", "http", "--rate", str(rate), "--start-rate", str(rate // 10), "--arrival", "constant",
            "--ramp", f"{p.s3_ramp_sec:g}s", "--duration", f"{p.s3_step_sec:g}s", "--timeout", "10s",
            "--drain", "2s"]
    cpu_before = server.cpu_s()
    m = ctx.run_metronome(server.url + "/", args, name, p.s3_ramp_sec + p.s3_step_sec)
    server_share = (server.cpu_s() - cpu_before) / m.wall_s
    hold = [stage for stage in m.extra["stages"] if stage["name"] == "hold"][-1]
    shortfall = 1 - hold["achieved_rps"] / hold["offered_rps"] if hold["offered_rps"] else 1.0
    lag = hold["send_lag_ms"]["p99"]
    why = []
    if lag >= LAG_LIMIT_MS:
        why.append(f"send lag p99 {lag:.2f} ms")
    if shortfall >= SHORTFALL_LIMIT:
        why.append(f"shortfall {shortfall:.2%}")
    if why and _disturbed(m):
        why.append(f"the generator waited {m.run_delay_s * 1000:.0f} ms for its core")
    m.extra.update(shortfall=shortfall, hold_lag_p99=lag, hold_rps=hold["achieved_rps"])
    return m, server_share, not why, ", ".join(why)


def sustained_rate(ctx: Context, server: Server, steps: Table) -> Row:
    """Doubling from s3_start_rate until a rate fails, then bisection; at most s3_max_steps rates.

    A failing rate is tried once more before it counts as failed, and up to ATTEMPTS times while the
    generator waited for its core (schedstat): on a shared machine another tenant's burst can take the
    core for a few milliseconds, which is the machine's verdict, not the generator's. A rate that fails
    every attempt so disturbed ends the search: the figure is then a lower bound, and says so."""
    p = ctx.p
    best: tuple[int, Measured, float] | None = None
    failed: tuple[int, Measured, float, str] | None = None
    busy: int | None = None
    carried: Measured | None = None     # the highest rate achieved in full, passing or not: its CPU cost
    rate, bisections = p.s3_start_rate, 0
    for index in range(p.s3_max_steps):
        for attempt in range(ATTEMPTS):
            m, server_share, ok, why = _step(ctx, server, rate, f"s3_sustain_{server.name}_{index}_{attempt}")
            steps.add(Row(f"{server.name} @ {rate}" + (" (again)" if attempt else ""), {
                "rate": rate, "rps": m.extra["hold_rps"], "shortfall_pct": m.extra["shortfall"] * 100,
                "lag_p99": m.extra["hold_lag_p99"], "gen_cpu_pct": m.cpu_share * 100,
                "server_cpu_pct": server_share * 100, "preempted": m.involuntary_switches,
                "waited_ms": None if m.run_delay_s is None else m.run_delay_s * 1000, "pass": ok},
                [m.command], [m.raw], note="" if ok else f"fails: {why}"))
            if m.extra["shortfall"] < SHORTFALL_LIMIT and m.cpu_s > 0 and \
                    (carried is None or m.offered_rps >= carried.offered_rps):
                carried = m
            if ok or (attempt >= 1 and not _disturbed(m)):
                break
        if not ok and _disturbed(m):
            busy = rate
            break
        if ok:
            best = (rate, m, server_share)
        else:
            failed = (rate, m, server_share, why)
        if failed is None:
            if rate >= p.s3_rate_cap:
                break
            rate = min(rate * 2, p.s3_rate_cap)
        elif best is None:
            rate //= 2
            if rate < 100:
                break
        else:
            if bisections >= p.s3_bisections or failed[0] - best[0] <= max(100, best[0] // 50):
                break
            rate = (best[0] + failed[0]) // 20 * 10
            bisections += 1
    values = {"best": best[0] if best else None,
              "per_cpu_s": carried.requests / carried.cpu_s if carried else None,
              "lag_p99": best[1].extra["hold_lag_p99"] if best else None,
              "shortfall_pct": best[1].extra["shortfall"] * 100 if best else None,
              "gen_cpu_pct": best[1].cpu_share * 100 if best else None,
              "server_cpu_pct": best[2] * 100 if best else None,
              "first_fail": failed[0] if failed else None}
    runs = [r for r in (best[1] if best else None, failed[1] if failed else None, carried) if r is not None]
    commands = list(dict.fromkeys(r.command for r in runs))
    raws = list(dict.fromkeys(r.raw for r in runs))
    note = f"failing rate: {failed[3]}; server CPU {failed[2]:.0%} of a core there" if failed else \
        f"no rate failed up to the bound of {p.s3_max_steps} steps / {p.s3_rate_cap} rps"
    if busy is not None:
        note = (f"{'a lower bound' if best else 'no figure'}: at {busy} rps every attempt failed while the "
                f"generator waited for its core (another process ran there); run on a quiet machine for the "
                f"generator's own limit")
    return Row(f"Metronome → {server.name}", values, commands, raws, note)


def generator_cost(ctx: Context) -> list[Table]:
    p = ctx.p
    sustain = Table("sustained_rate",
                    f"3a. Highest rate Metronome sustains on one core (send lag p99 < {LAG_LIMIT_MS:g} ms, "
                    f"shortfall < {SHORTFALL_LIMIT:.1%})",
                    [Column("best", "highest passing rps", 0),
                     Column("per_cpu_s", "requests per CPU-second", 0), Column("lag_p99", "send lag p99 ms", 3),
                     Column("shortfall_pct", "shortfall %", 2), Column("gen_cpu_pct", "generator CPU %", 0),
                     Column("server_cpu_pct", "server CPU %", 0), Column("first_fail", "first failing rps", 0)])
    steps = Table("sustained_rate_steps", "3a′. The search, step by step",
                  [Column("rate", "offered rps", 0), Column("rps", "achieved rps", 0),
                   Column("shortfall_pct", "shortfall %", 2), Column("lag_p99", "send lag p99 ms", 3),
                   Column("gen_cpu_pct", "generator CPU %", 0), Column("server_cpu_pct", "server CPU %", 0),
                   Column("preempted", "preempted", 0), Column("waited_ms", "waited for core ms", 1),
                   Column("pass", "pass", 0)])
    cost = Table("cpu_cost",
                 f"3b. Generator CPU per 10,000 requests, aiming at {p.s3_cost_rate:,} rps for {p.s3_cost_sec} s",
                 [Column("rps", "achieved rps", 0), Column("requests", "requests", 0), Column("cpu_s", "CPU s", 2),
                  Column("cpu_per_10k", "CPU s / 10k req", 3), Column("gen_cpu_pct", "CPU % of a core", 0),
                  Column("rss_mb", "max RSS MB", 1), Column("errors_pct", "errors %", 2)])
    load_at_start = load_average()
    servers: list[Server] = []
    try:
        targets = _targets(ctx, servers)
        for table in (sustain, steps, cost):
            table.setup += [s.command for s in targets]
        for server in targets:
            sustain.add(sustained_rate(ctx, server, steps))
        if not ctx.nginx:
            sustain.skipped("Metronome → nginx", ctx.skip_reasons["nginx"])
        for server in targets:
            def row(label: str, m: Measured, note: str = "") -> None:
                if not note and m.rps < 0.95 * p.s3_cost_rate:
                    note = f"reached {m.rps / p.s3_cost_rate:.0%} of the rate aimed at" + \
                           (" (its core saturated)" if m.cpu_share >= 0.9 else "")
                cost.add(Row(label, {"rps": m.rps, "requests": m.requests, "cpu_s": m.cpu_s,
                                     "cpu_per_10k": m.cpu_s_per_10k(), "gen_cpu_pct": m.cpu_share * 100,
                                     "rss_mb": m.max_rss_mb, "errors_pct": _pct(m.error_rate)},
                             [m.command], [m.raw], note))
            args = ["--workload", "http", "--rate", str(p.s3_cost_rate), "--arrival", "constant", "--ramp", "0s",
                    "--duration", f"{p.s3_cost_sec}s", "--timeout", "10s", "--drain", "2s"]
            m = ctx.run_metronome(server.url + "/", args, f"s3_cost_metronome_{server.name}", p.s3_cost_sec)
            row(f"Metronome → {server.name} (open loop)", m)
            if ctx.wrk:
                m = wrk(ctx.wrk, server.url + "/", connections=p.s3_wrk_connections, duration_sec=p.s3_cost_sec,
                        cpu=ctx.gen_cpu, log_dir=ctx.raw, name=f"s3_cost_wrk_{server.name}")
                row(f"wrk → {server.name} (closed loop, flat out)", m, "as fast as it can: no rate to aim at")
            else:
                cost.skipped(f"wrk → {server.name}", ctx.skip_reasons["wrk"])
            if ctx.locust:
                env = {"LOCUST_SCENARIO": "fast_http",
                       "LOCUST_RATE_PER_USER": f"{p.s3_cost_rate / p.s3_locust_users:g}"}
                m = ctx.run_locust(server.url, p.s3_locust_users, p.s3_locust_users, p.s3_cost_sec, env,
                                   f"s3_cost_locust_{server.name}")
                row(f"Locust FastHttpUser → {server.name}", m)
            else:
                cost.skipped(f"Locust FastHttpUser → {server.name}", ctx.skip_reasons["locust"])
    finally:
        for server in servers:
            stop(server.proc)
    pin = (f"generator on CPU {ctx.gen_cpu}, server on CPU {ctx.server_cpu} (taskset)" if ctx.gen_cpu is not None
           else "not pinned (taskset missing or fewer than 2 CPUs)")
    sustain.notes += [
        f"Each step: Metronome with evenly spaced arrivals, ramping from a tenth of the rate over {p.s3_ramp_sec:g} s "
        f"(the connection pool grows) and holding it {p.s3_step_sec:g} s. A rate passes when, over the hold, the send "
        f"lag p99 (first byte written − intended send time) is under {LAG_LIMIT_MS:g} ms and the achieved rate is "
        f"within {SHORTFALL_LIMIT:.1%} of the offered one. Doubling from {p.s3_start_rate} rps until a rate fails, "
        f"then bisection (at most {p.s3_max_steps} rates); a failing rate is tried a second time before it counts.",
        f"{pin}. The limit found is the generator's or the server's, whichever saturates first: the CPU columns "
        "say which (100 % is one core; generator CPU is over the whole process life, start-up and drain included). "
        "'preempted' counts the generator's involuntary context switches (another process took its core) and "
        "'waited for core' the time it was ready to run but another process held its core (/proc/PID/schedstat): "
        f"on a busy machine they, not the generator, make the send lag. A failing step that waited more than "
        f"{WAIT_LIMIT:.1%} of its run is tried again (up to {ATTEMPTS} times); if every attempt is so disturbed the "
        "search stops and the figure is marked as a lower bound. The bench itself runs off the generator's core "
        "and sleeps on a pidfd while a tool runs. 'Requests per CPU-second' (requests ÷ the generator's CPU "
        "seconds, start-up included, at the highest rate it achieved in full, passing or not) is about what one "
        "core would carry if nothing else ran: CPU time hardly depends on the machine's load.",
        f"Load average (1, 5, 15 min) when this section started: {load_at_start} on {len(USABLE_CPUS)} "
        "CPUs. Above about one less than the CPU count, other work shares the generator's core and each time slice "
        "it takes (a few ms) shows as send lag: the rate found is then the machine's, not Metronome's."]
    cost.notes += [
        "CPU s: user + system time of the generator process from wait4(2), start-up included (Locust's Python "
        "start-up is part of its cost). CPU s / 10k req = CPU s × 10,000 ÷ requests answered. Max RSS: '—' when the "
        "tool stayed below the bench's own peak, which wait4 cannot tell apart (see section 4's notes).",
        f"wrk is a closed loop (-t1, {p.s3_wrk_connections} connections) with no rate to aim at: it runs flat out, "
        f"so its row is the reference cost of a lean C client. Locust: {p.s3_locust_users} FastHttpUsers, each "
        f"paced by constant_throughput({p.s3_cost_rate / p.s3_locust_users:g}).", pin + "."]
    return [sustain, steps, cost]
