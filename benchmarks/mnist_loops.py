"""The 784-128-10 training loop against PyTorch's, side by side in one process.

    python benchmarks/mnist_size.py big.yaml
    python benchmarks/mnist_loops.py big.yaml [--rounds 7]

Reads the config once (our reader for `backprop`, PyYAML's for PyTorch: the same numbers), then
runs the loops in turn, round after round, so that a busy moment of the machine hits all of them
alike: `backprop`'s trainer as `backprop train` runs it (fresh each round, numpy kernel), and
the same training in PyTorch, float32 and float64, one thread each (benchmarks/torch_backprop.py
has why). Each loop is the epochs with E_total over all samples after each; the median of the
rounds is reported with its ratio to PyTorch float32, in wall time and in CPU time (each loop
runs on one thread; CPU time is less disturbed by other jobs on a shared machine).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as `backprop train` sets it

import torch
from timing import machine
from torch_backprop import mid_training

from backprop_cli import load_spec
from backprop_cli.kernels import Curve, Trainer


def ours(path: str) -> Callable[[], float]:
    spec = load_spec(path)
    epochs = spec.training.epochs or 1

    def run() -> float:
        trainer = Trainer(spec, kernel="numpy")
        curve = Curve()
        for first, losses in trainer.chunks(epochs):
            curve.extend(first, losses)
        return trainer.loss

    return run


def pytorch(path: str, dtype: torch.dtype) -> Callable[[], float]:
    fresh, _ = mid_training(path, dtype)
    return lambda: fresh()()  # new parameters each round, made inside the timing as ours are


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    torch.set_num_threads(1)
    loops = {
        "PyTorch float32, one thread": pytorch(args.config, torch.float32),
        "`backprop train` loop, numpy kernel (float64)": ours(args.config),
        "PyTorch float64, one thread": pytorch(args.config, torch.float64),
    }
    wall: dict[str, list[float]] = {name: [] for name in loops}
    cpu: dict[str, list[float]] = {name: [] for name in loops}
    ends: dict[str, float] = {}
    for _ in range(args.rounds):
        for name, run in loops.items():
            began, began_cpu = time.perf_counter(), time.process_time()
            ends[name] = run()
            wall[name].append(time.perf_counter() - began)
            cpu[name].append(time.process_time() - began_cpu)
    # CPU time too: every loop runs on one thread, and a loaded machine disturbs it less.
    first = next(iter(loops))
    base, base_cpu = statistics.median(wall[first]), statistics.median(cpu[first])
    print(f"{args.rounds} rounds, median; {machine()}\n", file=sys.stderr)
    print(
        "| loop (5 epochs, E_total after each) | seconds | ratio to PyTorch float32 "
        "| CPU seconds | CPU ratio | E_total |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for name in loops:
        mid, mid_cpu = statistics.median(wall[name]), statistics.median(cpu[name])
        print(
            f"| {name} | {mid:.3f} | {mid / base:.2f} | {mid_cpu:.3f} | {mid_cpu / base_cpu:.2f} "
            f"| {ends[name]!r} |"
        )


if __name__ == "__main__":
    main()
