"""The worked example's training loop alone, three ways side by side in one process.

    python benchmarks/loops.py [EPOCHS] [ROUNDS]     # default 10,000 epochs, 9 rounds

- the hand-unrolled straight-line epoch (benchmarks/straight_line.py): the practical limit;
- the plain object-per-neuron script (benchmarks/plain_backprop.py), its loop only;
- `backprop`'s trainer as `backprop train` runs it (Trainer.chunks, the curve kept), loop only;
- the same with `--round 4` (rounded_kernel(4)).
Each round runs each loop once, in turn, so that a busy moment of a shared machine hits all of
them alike; the figure is the median per epoch, and the ratio is to the straight-line limit.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import plain_backprop
import straight_line

from backprop_cli import load_spec
from backprop_cli.kernels import Curve, Trainer
from backprop_cli.kernels.rounded import rounded_kernel


def plain(epochs: int) -> float:
    samples = [([0.05, 0.10], [0.01, 0.99])]
    net = plain_backprop.Network()
    start = time.perf_counter()
    for _ in range(epochs):
        for inputs, targets in samples:
            net.train(inputs, targets)
        net.total_error(samples)
    return time.perf_counter() - start


def limit(epochs: int) -> float:
    start = time.perf_counter()
    straight_line.train(epochs)
    return time.perf_counter() - start


def ours(kernel: object = "auto") -> Callable[[int], float]:
    spec = load_spec(None)

    def run(epochs: int) -> float:
        trainer = Trainer(spec, kernel=kernel)  # type: ignore[arg-type]
        curve = Curve()
        curve.add(trainer.epochs_done, trainer.loss)
        start = time.perf_counter()
        for first, losses in trainer.chunks(epochs):
            curve.extend(first, losses)
        return time.perf_counter() - start

    return run


def main() -> None:
    epochs = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 9
    cases = {
        "hand-unrolled straight-line epoch (the limit)": limit,
        "plain Python, object per neuron": plain,
        "backprop train's loop": ours(),
        "backprop train --round 4's loop": ours(rounded_kernel(4)),
    }
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(rounds):
        for name, fn in cases.items():
            times[name].append(fn(epochs))
    print(f"load average before/after: {os.getloadavg()[0]:.1f}; {epochs} epochs, {rounds} rounds")
    print("| loop | µs per epoch (median) | ratio to the limit |")
    print("|---|---:|---:|")
    base = statistics.median(times[next(iter(cases))])
    for name, ts in times.items():
        t = statistics.median(ts)
        print(f"| {name} | {t / epochs * 1e6:.3f} | {t / base:.2f} |")


if __name__ == "__main__":
    main()
