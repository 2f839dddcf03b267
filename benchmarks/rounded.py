"""`train --round N` against exact training, whole processes side by side (run from the repository
root): `python benchmarks/rounded.py [--rounds 7] [--decimals 4]`. To measure another checkout
(say, before a change) with the same script: `PYTHONPATH=/path/to/checkout python benchmarks/...`.

After one warm-up run of each command (not counted), each round runs every command once, in turn;
a figure is the median over the rounds of the wall time of the whole child process.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
TRAIN = [sys.executable, "-m", "backprop_cli", "train", "-q", "-f", "json"]
XOR = str(HERE / "xor.yaml")

# name: (arguments, whether to time --round too)
CASES = {
    "worked example, 2,000 epochs": (["--epochs", "2000"], True),
    "XOR 2-2-1 (4 samples), 5,000 epochs": ([XOR, "--epochs", "5000"], True),
    "worked example, 10,000 epochs": (["--epochs", "10000"], False),
}


def wall(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=ENV)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--decimals", type=int, default=4)
    args = ap.parse_args()
    cmds = {}
    for name, (argv, rounded) in CASES.items():
        cmds[(name, "exact")] = [*TRAIN, *argv]
        if rounded:
            cmds[(name, "rounded")] = [*TRAIN, *argv, "--round", str(args.decimals)]
    for cmd in cmds.values():
        wall(cmd)  # warm-up
    times: dict[tuple[str, str], list[float]] = {key: [] for key in cmds}
    for _ in range(args.rounds):
        for key, cmd in cmds.items():
            times[key].append(wall(cmd))
    print(
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, {args.rounds} rounds, median wall time"
    )
    print(f"{'case':40} {'exact':>9} {'--round':>9} {'ratio':>7}")
    for name in CASES:
        exact = statistics.median(times[(name, "exact")])
        if (name, "rounded") not in times:
            print(f"{name:40} {exact:8.3f}s")
            continue
        rounded = statistics.median(times[(name, "rounded")])
        print(f"{name:40} {exact:8.3f}s {rounded:8.3f}s {rounded / exact:6.1f}×")


if __name__ == "__main__":
    main()
