"""Whole-process timings, side by side: what startup.py and tables.py share.

Each case runs once as a warm-up (not counted); then, round after round, every case runs once
in turn, so that a busy moment of a shared machine hits all cases alike. A case's figures are
medians over the rounds: wall time (time.perf_counter around the child) and CPU time (the
child's user + system time, from os.wait4), which a loaded machine disturbs less.
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

PY = sys.executable
BACKPROP = [PY, "-m", "backprop_cli"]
# Children cache bytecode, as an installed package does (pip compiles it at install time).
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def once(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """(wall, cpu) seconds of one run of cmd, its output thrown away."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**ENV, **(env or {})}
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        sys.exit(f"failed ({proc.returncode}): {' '.join(cmd)}")
    return wall, usage.ru_utime + usage.ru_stime


def side_by_side(
    cases: dict[str, list[str]], rounds: int, env: dict[str, str] | None = None
) -> dict[str, tuple[float, float]]:
    """Median (wall, cpu) of each case, the cases taking turns round by round."""
    walls: dict[str, list[float]] = {name: [] for name in cases}
    cpus: dict[str, list[float]] = {name: [] for name in cases}
    for cmd in cases.values():
        once(cmd, env)  # warm-up: bytecode and disk caches
    for _ in range(rounds):
        for name, cmd in cases.items():
            wall, cpu = once(cmd, env)
            walls[name].append(wall)
            cpus[name].append(cpu)
    return {n: (statistics.median(walls[n]), statistics.median(cpus[n])) for n in cases}


def machine() -> str:
    """CPUs, their model, Python, and the load average when the runs ended."""
    model = platform.processor() or "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"{os.cpu_count()} CPUs ({model}), {platform.system()}, Python "
        f"{platform.python_version()}; load average {load} (1, 5, 15 min) at the end"
    )
