"""Time whole processes side by side and print ratios (run from the repository root).

    python benchmarks/run.py            # 7 rounds; --rounds N to change
    python benchmarks/run.py --quick    # 5 rounds, fewer cases (a smoke run)

Each round runs every command once, in turn, so that a slow moment of a shared machine hits all
of them alike; a case's figure is the median over the rounds of wall time (start-up, import, work
and exit), measured with time.perf_counter around the child process. Peak memory is the child's
maximum resident set size from os.wait4.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from importlib.util import find_spec
from pathlib import Path

HERE = Path(__file__).resolve().parent
PY = sys.executable
BACKPROP = [PY, "-m", "backprop_cli", "train"]


# A child's peak RSS counts the memory it shared with its parent before exec; this benchmark's own
# process is large, so memory is measured through a small launcher that execs the command.
LAUNCH = [PY, "-S", "-c", "import os, sys; os.execv(sys.argv[1], sys.argv[1:])"]


def measure(cmd: list[str]) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB) of one run of cmd (its output goes to /dev/null)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        sys.exit(f"failed ({proc.returncode}): {' '.join(cmd)}")
    return elapsed, usage.ru_maxrss


def compare(cases: dict[str, list[str]], rounds: int) -> dict[str, float]:
    """Median wall time of each case, the cases alternating round by round."""
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(rounds):
        for name, cmd in cases.items():
            times[name].append(measure(cmd)[0])
    return {name: statistics.median(ts) for name, ts in times.items()}


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def report(title: str, medians: dict[str, float], base: str) -> None:
    print(f"\n### {title}\n")
    print("| command | median wall time | ratio to backprop |")
    print("|---|---:|---:|")
    for name, t in medians.items():
        print(f"| {name} | {t:.3f} s | {t / medians[base]:.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    rounds = 5 if args.quick else max(args.rounds, 5)
    torch = find_spec("torch") is not None
    print(f"machine: {os.cpu_count()} CPUs ({cpu_model()}), Python {platform.python_version()}")
    print(f"rounds: {rounds} (median); torch: {'yes' if torch else 'not installed'}")

    worked = {
        "backprop train --epochs 10000": [*BACKPROP, "--epochs", "10000"],
        "backprop train --epochs 10000 --format json": [*BACKPROP, "-n", "10000", "-f", "json"],
        "plain Python, object per neuron": [PY, str(HERE / "plain_backprop.py"), "10000"],
        "backprop --version (our start-up alone)": [PY, "-m", "backprop_cli", "--version"],
        "python -c pass (Python's start-up alone)": [PY, "-c", "pass"],
    }
    if torch:
        worked["PyTorch float64"] = [PY, str(HERE / "torch_backprop.py"), "worked", "10000"]
    report("Worked example, 10,000 epochs", compare(worked, rounds), next(iter(worked)))

    with tempfile.TemporaryDirectory() as tmp:
        sys.path.insert(0, str(HERE))
        from midsize import write

        mid = str(write(Path(tmp) / "midsize.yaml"))
        midcases = {
            "backprop train (64-32-10, minibatch 32, 20 epochs)": [*BACKPROP, mid, "-f", "json"]
        }
        if torch:
            midcases["PyTorch float64"] = [PY, str(HERE / "torch_backprop.py"), "mid", mid]
        if not args.quick or torch:
            report("Mid-size network", compare(midcases, rounds), next(iter(midcases)))

    print("\n### Memory (peak RSS of the whole process)\n")
    print(f"(the launcher alone: {measure([*LAUNCH, PY, '-c', 'pass'])[1] / 1024:.1f} MiB)\n")
    print("| command | 1,000 epochs | 100,000 epochs |")
    print("|---|---:|---:|")
    for label, extra in (("summary (table)", []), ("--format jsonl", ["-f", "jsonl"])):
        small = measure([*LAUNCH, *BACKPROP, "-n", "1000", "-q", *extra])[1]
        big = measure([*LAUNCH, *BACKPROP, "-n", "100000", "-q", *extra])[1]
        print(f"| backprop train {label} | {small / 1024:.1f} MiB | {big / 1024:.1f} MiB |")


if __name__ == "__main__":
    main()
