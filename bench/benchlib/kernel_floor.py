# The kernel's share of a request: experiments/kernel-floor/floor.c, a C loop with no user-space work to
# speak of, sent at a generator's rate with that generator's wake-ups per request. No tool that wakes as
# often can cost less, so the gap between a row and its floor is what the tool itself adds.
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

from .procs import BenchError, pinned, run_measured

SOURCE = Path("experiments") / "kernel-floor" / "floor.c"


def build_floor(repo: Path, out_dir: Path) -> tuple[Path | None, str]:
    """(binary, "") or (None, why it cannot be built): cc -O2 of floor.c into the bench's output folder."""
    compiler = shutil.which("cc") or shutil.which("gcc")
    if not compiler:
        return None, "no C compiler (cc) to build experiments/kernel-floor/floor.c (apt-get install -y gcc)"
    binary = out_dir / "kernel-floor"
    done = subprocess.run([compiler, "-O2", "-o", str(binary), str(repo / SOURCE)], capture_output=True, text=True)
    if done.returncode != 0:
        raise BenchError(f"{compiler} could not build {SOURCE}:\n{done.stderr[-2000:]}")
    return binary, ""


def burst_of(requests: int, wakeups: int) -> float:
    """Requests per wake-up, at least one: the burst that gives the floor a run's own wake-ups."""
    return max(1.0, round(requests / wakeups, 2)) if wakeups > 0 else 1.0


def floor_cpu_per_10k(binary: Path, url: str, *, rate: int, seconds: int, burst: float, cpu: int | None,
                      log_dir: Path, name: str) -> tuple[float, str, str]:
    """(user + system seconds per 10,000 answered, by wait4 as for the tools; command; its output file)."""
    address = urlsplit(url)
    argv = pinned([str(binary), address.hostname, str(address.port), str(rate), str(seconds), f"{burst:g}"], cpu)
    done = run_measured(argv, timeout_sec=seconds + 30, log_dir=log_dir, name=name)
    found = re.search(r"(\d+) answered", done.stdout)
    if done.returncode != 0 or not found or int(found.group(1)) == 0:
        raise BenchError(f"kernel floor failed (exit {done.returncode}): {done.command}\n{done.stdout}{done.stderr[-1500:]}")
    return done.cpu_s * 10_000 / int(found.group(1)), done.command, str(log_dir / f"{name}.stdout")
