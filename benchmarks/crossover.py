"""Where numpy starts to beat plain floats: the size rule of kernels.trainer.choose_kernel.

    python benchmarks/crossover.py          # a table: per-epoch time of each kernel by size

For W-W-W networks (sigmoid, half_sse: the compiled kernels apply) and W-W-W with a softmax
output (cross-entropy: the loop kernel), with S samples trained online (S updates an epoch) or
in one batch, it times `Trainer(spec, kernel="python")` and `kernel="numpy"` in this process,
alternating, the median of 5 runs of enough epochs to last about 0.1 s each; and the set-up
(building the kernel: code generation and compilation for the compiled kernels). The last
column is the work per numpy call, parameters × samples / (updates × layers): the rule's x.
"""

from __future__ import annotations

import random
import statistics
import sys
import time

from backprop_cli import loads_spec
from backprop_cli.kernels import Trainer, work
from backprop_cli.specs.model import Spec, batches


def network(width: int, samples: int, mode: str, softmax: bool, seed: int = 1) -> Spec:
    rng = random.Random(seed)

    def rows(n: int, m: int) -> str:
        return (
            "["
            + ", ".join(
                "[" + ", ".join(f"{rng.uniform(-1, 1):.6f}" for _ in range(m)) + "]"
                for _ in range(n)
            )
            + "]"
        )

    out, loss = ("softmax", "cross_entropy") if softmax else ("sigmoid", "half_sse")
    data = []
    for s in range(samples):
        x = ", ".join(f"{rng.random():.4f}" for _ in range(width))
        c = s % width
        t = ", ".join("1.0" if j == c else "0.0" for j in range(width))
        data.append(f"  - {{inputs: [{x}], targets: [{t}]}}")
    text = (
        f"inputs: {width}\nlayers:\n"
        f"  - {{activation: sigmoid, weights: {rows(width, width)}, bias: {[0.1] * width}}}\n"
        f"  - {{activation: {out}, weights: {rows(width, width)}, bias: {[0.1] * width}}}\n"
        f"loss: {loss}\ntraining: {{learning_rate: 0.1, mode: {mode}}}\nsamples:\n"
        + "\n".join(data)
        + "\n"
    )
    return loads_spec(text)


def per_epoch(spec: Spec, kernel: str) -> tuple[float, float, str]:
    """(seconds per epoch, seconds to build the kernel, the kernel's class)."""
    start = time.perf_counter()
    trainer = Trainer(spec, kernel=kernel)
    setup = time.perf_counter() - start
    epochs, took = 1, 0.0
    while took < 0.05:  # enough epochs to last a while
        start = time.perf_counter()
        for _ in trainer.chunks(epochs):
            pass
        took = time.perf_counter() - start
        if took < 0.05:
            epochs *= 4
    runs = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in trainer.chunks(epochs):
            pass
        runs.append((time.perf_counter() - start) / epochs)
    return statistics.median(runs), setup, type(trainer.kernel).__name__


def main() -> None:
    widths = [int(w) for w in sys.argv[1:]] or [2, 4, 8, 16, 32, 64, 100]
    print(
        "| network | samples, mode | python kernel | python µs/epoch | set-up ms "
        "| numpy µs/epoch | numpy/python | work per numpy call |"
    )
    print("|---|---|---|---:|---:|---:|---:|---:|")
    for softmax in (False, True):
        for width in widths:
            for samples, mode in ((1, "online"), (16, "online"), (16, "batch"), (256, "batch")):
                spec = network(width, samples, mode, softmax)
                py, setup, name = per_epoch(spec, "python")
                np_, _, _ = per_epoch(spec, "numpy")
                calls = len(batches(spec)) * len(spec.layers)
                kind = "softmax" if softmax else "sigmoid"
                print(
                    f"| {width}-{width}-{width} {kind} | {samples}, {mode} | {name} "
                    f"| {py * 1e6:.1f} | {setup * 1e3:.1f} | {np_ * 1e6:.1f} | {np_ / py:.2f} "
                    f"| {work(spec) // calls} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
