"""Time whole processes side by side and print ratios (run from the repository root).

    python benchmarks/run.py            # 7 rounds; --rounds N to change
    python benchmarks/run.py --quick    # 5 rounds, fewer cases (a smoke run)

After one warm-up run of each command (not counted), each round runs every command once, in
turn, so that a slow moment of a shared machine hits all of them alike; a case's figure is the
median over the rounds of wall time (start-up, import, work and exit), measured with
time.perf_counter around the child process. Peak memory is the child's maximum resident set
size from os.wait4, taken by a small meter process.
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
# Children may cache bytecode, as an installed package does (pip compiles it at install time);
# with PYTHONDONTWRITEBYTECODE set, every run would recompile our modules from source.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
PY = sys.executable
BACKPROP = [PY, "-m", "backprop_cli", "train"]


# A process's peak RSS counts what it shared with its parent before exec, and this script grows
# large; so memory is measured by a small meter process that starts the command and reports.
METER = (
    "import os, subprocess, sys\n"
    "p = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
    "print(os.wait4(p.pid, 0)[2].ru_maxrss)"
)


def peak_rss(cmd: list[str]) -> float:
    """Peak resident memory of one run of cmd, in MiB."""
    out = subprocess.run([PY, "-S", "-c", METER, *cmd], capture_output=True, check=True, env=ENV)
    return int(out.stdout) / 1024


def measure(cmd: list[str]) -> float:
    """Wall seconds of one run of cmd (its output goes to /dev/null)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV)
    code = proc.wait()
    elapsed = time.perf_counter() - start
    if code:
        sys.exit(f"failed ({code}): {' '.join(cmd)}")
    return elapsed


def compare(cases: dict[str, list[str]], rounds: int) -> dict[str, float]:
    """Median wall time of each case, the cases alternating round by round."""
    times: dict[str, list[float]] = {name: [] for name in cases}
    for cmd in cases.values():
        measure(cmd)  # warm-up: bytecode caches and the disk cache, not counted
    for _ in range(rounds):
        for name, cmd in cases.items():
            times[name].append(measure(cmd))
    return {name: statistics.median(ts) for name, ts in times.items()}


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def report(title: str, medians: dict[str, float], base: str, other: str | None = None) -> None:
    """The medians with their ratio to `base` (and to `other`, a second baseline)."""
    print(f"\n### {title}\n")
    extra = f" ratio to {other} |" if other else ""
    print(f"| command | median wall time | ratio to backprop |{extra}")
    print("|---|---:|---:|" + ("---:|" if other else ""))
    for name, t in medians.items():
        more = f" {t / medians[other]:.2f} |" if other else ""
        print(f"| {name} | {t:.3f} s | {t / medians[base]:.2f} |{more}")


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
        # what any run of a command on typer, rich and PyYAML imports before it does anything
        "import floor: typer, rich.console, rich.table, yaml": [
            PY,
            "-c",
            "import typer, rich.console, rich.table, yaml",
        ],
        "python -c pass (Python's start-up alone)": [PY, "-c", "pass"],
    }
    if torch:
        worked["PyTorch float64"] = [PY, str(HERE / "torch_backprop.py"), "worked", "10000"]
    plain = "plain Python, object per neuron"
    report("Worked example, 10,000 epochs", compare(worked, rounds), next(iter(worked)), plain)

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
    print(f"(Python doing nothing: {peak_rss([PY, '-c', 'pass']):.1f} MiB)\n")
    print("| command | 1,000 epochs | 100,000 epochs |")
    print("|---|---:|---:|")
    for label, extra in (("summary (table)", []), ("--format jsonl", ["-f", "jsonl"])):
        small = peak_rss([*BACKPROP, "-n", "1000", "-q", *extra])
        big = peak_rss([*BACKPROP, "-n", "100000", "-q", *extra])
        print(f"| backprop train {label} | {small:.1f} MiB | {big:.1f} MiB |")


if __name__ == "__main__":
    main()
