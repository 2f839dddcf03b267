"""Write an MNIST-sized network: 784-128-10, 2,000 generated 28×28 "images", minibatch 64.

    python benchmarks/mnist_size.py big.yaml        # then: backprop train big.yaml -f json

The weights and samples are written out in full (a file of about 10 MB) so that `backprop` and
PyTorch (benchmarks/torch_mnist_size.py) train exactly the same numbers from the same file.
Ten classes of noisy prototype images (pixels in [0, 1], three decimals, as a scanned digit's
grey levels), a sigmoid hidden layer of 128 and a softmax output with cross-entropy, 5 epochs.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

INPUTS, HIDDEN, OUTPUTS, SAMPLES, BATCH, EPOCHS = 784, 128, 10, 2000, 64, 5


def network(seed: int = 1) -> str:
    """The config as YAML text (written directly: PyYAML's emitter takes a minute on this)."""
    rng = random.Random(seed)
    protos = [[rng.random() for _ in range(INPUTS)] for _ in range(OUTPUTS)]

    def row(values: list[float], digits: int | None = None) -> str:
        return (
            "[" + ", ".join(repr(v) if digits is None else f"{v:.{digits}f}" for v in values) + "]"
        )

    def matrix(rows: int, cols: int) -> list[str]:
        limit = (6.0 / (rows + cols)) ** 0.5
        return [
            f"      - {row([rng.uniform(-limit, limit) for _ in range(cols)])}" for _ in range(rows)
        ]

    lines = [
        f"name: MNIST-sized benchmark ({INPUTS}-{HIDDEN}-{OUTPUTS}, {SAMPLES} samples)",
        f"inputs: {INPUTS}",
        "layers:",
        "  - name: h",
        "    activation: sigmoid",
        "    weights:",
        *matrix(HIDDEN, INPUTS),
        f"    bias: {row([0.0] * HIDDEN)}",
        "  - name: o",
        "    activation: softmax",
        "    weights:",
        *matrix(OUTPUTS, HIDDEN),
        f"    bias: {row([0.0] * OUTPUTS)}",
        "loss: cross_entropy",
        "training:",
        "  learning_rate: 0.1",
        "  mode: minibatch",
        f"  batch_size: {BATCH}",
        f"  epochs: {EPOCHS}",
        "samples:",
    ]
    for s in range(SAMPLES):
        c = s % OUTPUTS
        x = [min(1.0, max(0.0, p + rng.gauss(0, 0.2))) for p in protos[c]]
        t = [1.0 if j == c else 0.0 for j in range(OUTPUTS)]
        lines.append(f"  - {{inputs: {row(x, 3)}, targets: {row(t, 1)}}}")
    return "\n".join(lines) + "\n"


def write(path: Path) -> Path:
    path.write_text(network())
    return path


if __name__ == "__main__":
    print(write(Path(sys.argv[1] if len(sys.argv) > 1 else "mnist_size.yaml")))
