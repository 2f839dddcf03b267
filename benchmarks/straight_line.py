"""The practical limit: the worked example's epoch written out by hand as straight-line Python.

Every weight is a local variable; an epoch is the backward pass from the outputs already known,
the update of w1 ... w8, then the forward pass and E_total (written first in the loop: the pass
before the first epoch gives the outputs the first backward pass starts from). No lists, no
calls but math.exp, no objects: nothing a Python program can drop. The floats are those of
`backprop train` (same operations in the same order, but for the logistic function written the
short way), so both end at E_total 3.510187782978859e-05 after 10,000 epochs.

    python benchmarks/straight_line.py 10000     # prints E_total and the loop's µs per epoch
"""

from __future__ import annotations

import sys
import time
from math import exp


def train(epochs: int) -> tuple[float, list[float]]:
    """E_total after `epochs` epochs, and the outputs; the loop alone is timed by the caller."""
    w1, w2, w3, w4 = 0.15, 0.20, 0.25, 0.30
    w5, w6, w7, w8 = 0.40, 0.45, 0.50, 0.55
    b1, b2, lr = 0.35, 0.60, 0.5
    i1, i2, t1, t2 = 0.05, 0.10, 0.01, 0.99
    for epoch in range(epochs + 1):
        net_h1 = 0.0 + w1 * i1 + w2 * i2 + b1
        out_h1 = 1.0 / (1.0 + exp(-net_h1))
        net_h2 = 0.0 + w3 * i1 + w4 * i2 + b1
        out_h2 = 1.0 / (1.0 + exp(-net_h2))
        net_o1 = 0.0 + w5 * out_h1 + w6 * out_h2 + b2
        out_o1 = 1.0 / (1.0 + exp(-net_o1))
        net_o2 = 0.0 + w7 * out_h1 + w8 * out_h2 + b2
        out_o2 = 1.0 / (1.0 + exp(-net_o2))
        E_total = 0.0 + 0.5 * (t1 - out_o1) ** 2 + 0.5 * (t2 - out_o2) ** 2
        if epoch == epochs:
            break
        delta_o1 = -(t1 - out_o1) * out_o1 * (1.0 - out_o1)
        delta_o2 = -(t2 - out_o2) * out_o2 * (1.0 - out_o2)
        delta_h1 = (0.0 + delta_o1 * w5 + delta_o2 * w7) * out_h1 * (1.0 - out_h1)
        delta_h2 = (0.0 + delta_o1 * w6 + delta_o2 * w8) * out_h2 * (1.0 - out_h2)
        w1 = w1 - lr * (delta_h1 * i1)
        w2 = w2 - lr * (delta_h1 * i2)
        w3 = w3 - lr * (delta_h2 * i1)
        w4 = w4 - lr * (delta_h2 * i2)
        w5 = w5 - lr * (delta_o1 * out_h1)
        w6 = w6 - lr * (delta_o1 * out_h2)
        w7 = w7 - lr * (delta_o2 * out_h1)
        w8 = w8 - lr * (delta_o2 * out_h2)
    return E_total, [out_o1, out_o2]


def main(epochs: int) -> None:
    start = time.perf_counter()
    error, outputs = train(epochs)
    elapsed = time.perf_counter() - start
    print(f"E_total after {epochs} epochs: {error!r}")
    print("outputs:", outputs)
    print(f"loop: {elapsed / max(epochs, 1) * 1e6:.3f} us/epoch", file=sys.stderr)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
