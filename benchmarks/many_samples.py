"""Write a 2-3-2 network with many samples, batch mode: one `backprop step` on it is a big trace.

`python benchmarks/many_samples.py big.yaml 10000` writes 10,000 samples (the default); the
numbers are generated from a fixed seed, so every run writes the same file.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path


def network(samples: int, seed: int = 1) -> str:
    """The config as YAML text, one sample a line (as a person would write it)."""
    rng = random.Random(seed)

    def row(n: int) -> str:
        return "[" + ", ".join(f"{rng.uniform(-1, 1):.4f}" for _ in range(n)) + "]"

    lines = [
        f"name: 2-3-2, {samples:,} samples",
        "inputs: 2",
        "layers:",
        f"  - {{name: h, activation: sigmoid, weights: [{row(2)}, {row(2)}, {row(2)}], bias: 0.1}}",
        f"  - {{name: o, activation: sigmoid, weights: [{row(3)}, {row(3)}], bias: 0.2}}",
        "loss: half_sse",
        "training: {learning_rate: 0.5, mode: batch}",
        "samples:",
    ]
    for _ in range(samples):
        lines.append(f"  - {{inputs: {row(2)}, targets: [{rng.random():.3f}, {rng.random():.3f}]}}")
    return "\n".join(lines) + "\n"


def write(path: Path, samples: int = 10_000) -> Path:
    path.write_text(network(samples))
    return path


if __name__ == "__main__":
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 10_000
    print(write(Path(sys.argv[1] if len(sys.argv) > 1 else "many_samples.yaml"), count))
