"""Write the mid-size benchmark network: 64-32-10, 1,000 generated samples, minibatch 32.

The weights and samples are written out in full (not as an `init` seed) so that every program in
the benchmark trains exactly the same numbers from the same file.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

import yaml

INPUTS, HIDDEN, OUTPUTS, SAMPLES, BATCH, EPOCHS = 64, 32, 10, 1000, 32, 20


def network(seed: int = 1) -> dict[str, object]:
    """Ten classes of noisy 64-pixel prototypes, a sigmoid hidden layer and a softmax output."""
    rng = random.Random(seed)
    protos = [[rng.random() for _ in range(INPUTS)] for _ in range(OUTPUTS)]
    samples = []
    for s in range(SAMPLES):
        c = s % OUTPUTS
        x = [min(1.0, max(0.0, p + rng.gauss(0, 0.2))) for p in protos[c]]
        samples.append({"inputs": x, "targets": [1.0 if j == c else 0.0 for j in range(OUTPUTS)]})

    def matrix(rows: int, cols: int) -> list[list[float]]:
        limit = (6.0 / (rows + cols)) ** 0.5
        return [[rng.uniform(-limit, limit) for _ in range(cols)] for _ in range(rows)]

    return {
        "name": "mid-size benchmark (64-32-10)",
        "inputs": INPUTS,
        "layers": [
            {
                "name": "h",
                "activation": "sigmoid",
                "weights": matrix(HIDDEN, INPUTS),
                "bias": [0.0] * HIDDEN,
            },
            {
                "name": "o",
                "activation": "softmax",
                "weights": matrix(OUTPUTS, HIDDEN),
                "bias": [0.0] * OUTPUTS,
            },
        ],
        "loss": "cross_entropy",
        "training": {
            "learning_rate": 0.1,
            "mode": "minibatch",
            "batch_size": BATCH,
            "epochs": EPOCHS,
        },
        "samples": samples,
    }


def write(path: Path) -> Path:
    path.write_text(
        yaml.safe_dump(network(), sort_keys=False, default_flow_style=None, width=10**6)
    )
    return path


if __name__ == "__main__":
    print(write(Path(sys.argv[1] if len(sys.argv) > 1 else "midsize.yaml")))
