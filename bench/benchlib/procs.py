# Processes of the bench: start, measure (wait4 rusage), and always end them by pid; the machine's facts.
import os
import select
import shlex
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

CLOCK_TICKS_PER_SEC = os.sysconf("SC_CLK_TCK")
# The CPUs the bench may use, read before keep_off narrows the bench's own affinity.
USABLE_CPUS = sorted(os.sched_getaffinity(0))


class BenchError(Exception):
    """A broken step: the bench prints it and exits non-zero."""


# Every process the bench starts, so that any exit path (error, Ctrl-C, SIGTERM) ends them.
_live: dict[int, subprocess.Popen] = {}


def stop(proc: subprocess.Popen, grace_sec: float = 5.0) -> None:
    """SIGTERM, then SIGKILL after the grace period; by pid only."""
    if proc.returncode is None:
        try:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=grace_sec)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        except ProcessLookupError:
            pass
    _live.pop(proc.pid, None)


def stop_all() -> None:
    for proc in list(_live.values()):
        stop(proc)


def _raise_on_sigterm(signum, frame):
    raise SystemExit(128 + signum)


signal.signal(signal.SIGTERM, _raise_on_sigterm)


def quote(argv: list[str], env: dict[str, str] | None = None) -> str:
    """The exact command line, as a shell would take it (environment assignments first)."""
    prefix = " ".join(f"{k}={shlex.quote(v)}" for k, v in (env or {}).items())
    line = " ".join(shlex.quote(a) for a in argv)
    return f"{prefix} {line}" if prefix else line


def pinned(argv: list[str], cpu: int | None) -> list[str]:
    """taskset -c CPU argv when pinning is possible (taskset execs, so the pid stays the tool's)."""
    return ["taskset", "-c", str(cpu)] + argv if cpu is not None else argv


@dataclass
class Finished:
    argv: list[str]
    env: dict[str, str]
    returncode: int
    wall_s: float
    user_s: float
    sys_s: float
    max_rss_kb: int | None         # None when not above the bench's own peak (see _own_peak_kb)
    involuntary_switches: int      # times the kernel took the CPU away: a busy shared machine shows here
    voluntary_switches: int        # times it went to sleep by itself: its wake-ups
    run_delay_s: float | None      # time it was ready to run but waited for its core (/proc/PID/schedstat)
    stdout: str
    stderr: str
    timed_out: bool

    @property
    def cpu_s(self) -> float:
        return self.user_s + self.sys_s

    @property
    def command(self) -> str:
        return quote(self.argv, self.env)


def run_measured(argv: list[str], *, env: dict[str, str] | None = None, timeout_sec: float,
                 cwd: Path | None = None, log_dir: Path, name: str, peak_rss_by_time: bool = False) -> Finished:
    """Runs argv to its end (killed at timeout_sec) and reads its CPU and max RSS from wait4(2).

    stdout and stderr go to files under log_dir (never pipes: a chatty child cannot block on them).
    peak_rss_by_time: run it under GNU time (/usr/bin/time, Debian's `time`), whose own small peak is
    all the tool inherits, so a peak below the bench's is measured too; its CPU then includes time's
    (about a millisecond) and the wait for the core is not read."""
    out_path, err_path = log_dir / f"{name}.stdout", log_dir / f"{name}.stderr"
    rss_path = log_dir / f"{name}.maxrss"
    wrapped = peak_rss_by_time and os.access(GNU_TIME, os.X_OK)
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        started = time.monotonic()
        own_peak_kb = _own_peak_kb()
        # Wrapped, the tool and time share a new process group, so a timeout's signals reach the tool.
        run_argv = [GNU_TIME, "-f", "%M", "-o", str(rss_path), *argv] if wrapped else argv
        proc = subprocess.Popen(run_argv, stdout=out, stderr=err, stdin=subprocess.DEVNULL, cwd=cwd,
                                env={**os.environ, **(env or {})}, start_new_session=wrapped)
        signal_tool = (lambda sig: _signal_group(proc.pid, sig)) if wrapped else proc.send_signal
        _live[proc.pid] = proc
        timed_out, killed, reaped, run_delay_s = False, False, False, None
        # Waits on a pidfd: the bench sleeps until the child exits instead of waking 50 times a second
        # (a polling parent is one more process taking turns on the generator's core).
        pidfd = os.pidfd_open(proc.pid)
        try:
            while True:
                remaining = None if killed else \
                    max(timeout_sec + (5 if timed_out else 0) - (time.monotonic() - started), 0)
                if select.select([pidfd], [], [], remaining)[0]:
                    # Exited, not yet reaped: its scheduler statistics are still readable.
                    run_delay_s = None if wrapped else _run_delay_s(proc.pid)
                    pid, status, usage = os.wait4(proc.pid, 0)
                    reaped = True
                    break
                if not timed_out:
                    timed_out = True
                    signal_tool(signal.SIGTERM)
                else:
                    killed = True
                    signal_tool(signal.SIGKILL)
        finally:
            os.close(pidfd)
            if not reaped:
                # Reached only when interrupted mid-wait: end the child before leaving.
                signal_tool(signal.SIGKILL)
                os.wait4(proc.pid, 0)
                proc.returncode = -signal.SIGKILL
            elif wrapped and timed_out:
                _signal_group(proc.pid, signal.SIGKILL)      # time is gone; a tool that outlived it is not left running
            _live.pop(proc.pid, None)
        wall_s = time.monotonic() - started
    # wait4 reaped the child: tell Popen, so it never waits again.
    proc.returncode = os.waitstatus_to_exitcode(status)
    if wrapped:
        max_rss_kb = _time_peak_kb(rss_path)
    else:
        max_rss_kb = usage.ru_maxrss if usage.ru_maxrss > own_peak_kb else None
    return Finished(argv=run_argv, env=env or {}, returncode=proc.returncode, wall_s=wall_s,
                    user_s=usage.ru_utime, sys_s=usage.ru_stime, max_rss_kb=max_rss_kb,
                    involuntary_switches=usage.ru_nivcsw, voluntary_switches=usage.ru_nvcsw, run_delay_s=run_delay_s,
                    stdout=out_path.read_text(errors="replace"), stderr=err_path.read_text(errors="replace"),
                    timed_out=timed_out)


GNU_TIME = "/usr/bin/time"


def _time_peak_kb(path: Path) -> int | None:
    """The last line GNU time wrote (-f %M): the tool's max RSS in KiB; None if it wrote none."""
    try:
        lines = path.read_text(errors="replace").split()
        return int(lines[-1]) if lines else None
    except (OSError, ValueError):
        return None


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _own_peak_kb() -> int:
    """The bench's own peak RSS. On exec the kernel keeps the peak of the memory the child had before
    it (the bench's, copied at the fork) as the child's max RSS, so wait4 reports the larger of the
    tool's peak and about this; a figure not above it is the bench's, not the tool's."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _run_delay_s(pid: int) -> float | None:
    """Seconds the process was runnable but waiting for a CPU: the second field of schedstat (ns)."""
    try:
        return int(Path(f"/proc/{pid}/schedstat").read_text().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return None


def keep_off(cpu: int | None) -> str:
    """Moves the bench's own process (and what it starts unpinned) off the generator's core."""
    if cpu is None:
        return "not pinned"
    others = set(USABLE_CPUS) - {cpu}
    if not others:
        return "not pinned"
    os.sched_setaffinity(0, others)
    return f"the bench's own process on CPU {','.join(map(str, sorted(others)))}"


@dataclass
class Server:
    name: str
    url: str
    command: str
    proc: subprocess.Popen

    def cpu_s(self) -> float:
        """User + system CPU of the server and its children so far (nginx's worker is a child)."""
        return process_tree_cpu_s(self.proc.pid)


def process_tree_cpu_s(pid: int) -> float:
    total_ticks = 0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total_ticks += int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)
            for task in Path(f"/proc/{current}/task").iterdir():
                pending += [int(c) for c in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total_ticks / CLOCK_TICKS_PER_SEC


def start_llmsim(llmsim: Path, args: list[str], *, cpu: int | None, log_dir: Path, name: str) -> Server:
    """llmsim --port 0 …; its first stdout line names the URL."""
    argv = pinned([str(llmsim), "--port", "0", *args], cpu)
    log = log_dir / f"{name}.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    _live[proc.pid] = proc
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for line in log.read_text(errors="replace").splitlines():
            if line.startswith("llmsim listening on "):
                return Server("llmsim", line.split()[3], quote(argv), proc)
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    stop(proc)
    raise BenchError(f"llmsim did not start ({quote(argv)}):\n{log.read_text(errors='replace')[-2000:]}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port: int, proc: subprocess.Popen, timeout_sec: float = 10) -> bool:
    deadline = time.monotonic() + timeout_sec
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return True
        except OSError:
            time.sleep(0.05)
    return False


NGINX_CONF = """\
# Written by bench/bench.py: one worker answering every GET with a 2-byte 200, like llmsim --fast.
# In the foreground (daemon off) so that the bench owns its pid; the master only waits, the worker
# does the work either way. multi_accept and a deep backlog, so a growing pool's connects are
# accepted at once (the default backlog of 511 overflows in a connect burst and costs a 1 s SYN retry).
daemon off;
worker_processes 1;
worker_rlimit_nofile 65536;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 16384; multi_accept on; }}
http {{
    access_log off;
    keepalive_requests 100000000;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    server {{
        listen 127.0.0.1:{port} backlog={backlog};
        location / {{ return 200 "ok"; }}
    }}
}}
"""


def _somaxconn() -> int:
    """The kernel caps a listen backlog at net.core.somaxconn; ask for 4096 or that cap."""
    try:
        return min(4096, int(Path("/proc/sys/net/core/somaxconn").read_text()))
    except (OSError, ValueError):
        return 4096


def start_nginx(nginx: str, *, cpu: int | None, work_dir: Path) -> Server:
    work_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    conf = work_dir / "nginx.conf"
    conf.write_text(NGINX_CONF.format(dir=work_dir, port=port, backlog=_somaxconn()))
    argv = pinned([nginx, "-p", str(work_dir), "-e", str(work_dir / "error.log"), "-c", str(conf)], cpu)
    with open(work_dir / "stdout.log", "wb") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    _live[proc.pid] = proc
    if not wait_listening(port, proc):
        stop(proc)
        error_log = work_dir / "error.log"
        detail = error_log.read_text(errors="replace")[-2000:] if error_log.exists() else ""
        raise BenchError(f"nginx did not start ({quote(argv)}):\n{detail}")
    return Server("nginx", f"http://127.0.0.1:{port}", quote(argv), proc)


def machine() -> dict:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "cpus_usable": len(USABLE_CPUS), "cpu_model": model,
            "kernel": os.uname().release, "hostname": os.uname().nodename}


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]
