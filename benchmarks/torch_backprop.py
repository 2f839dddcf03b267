"""The same training in PyTorch (float64), for the benchmark: the worked example or a config file.

    python benchmarks/torch_backprop.py worked 10000     # the post's network, online, 10,000 epochs
    python benchmarks/torch_backprop.py mid FILE.yaml    # a sigmoid-softmax config (midsize.py)
    python benchmarks/torch_backprop.py mid FILE.yaml float32    # the same in float32

Like `backprop train`, every epoch ends with E_total over all samples, after the epoch's updates.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

import torch

torch.set_default_dtype(torch.float64)
# One thread: with its default (one per core) on a busy 2-core machine, OpenMP threads wait on
# each other and a small network runs 20x slower. One thread is PyTorch at its best here.
torch.set_num_threads(1)


def worked(epochs: int) -> None:
    w1 = torch.tensor([[0.15, 0.20], [0.25, 0.30]], requires_grad=True)
    w2 = torch.tensor([[0.40, 0.45], [0.50, 0.55]], requires_grad=True)
    x = torch.tensor([[0.05, 0.10]])
    t = torch.tensor([[0.01, 0.99]])
    opt = torch.optim.SGD([w1, w2], lr=0.5)

    def forward() -> torch.Tensor:
        return torch.sigmoid(torch.sigmoid(x @ w1.T + 0.35) @ w2.T + 0.60)

    error = 0.0
    for _ in range(epochs):
        opt.zero_grad()
        (0.5 * (t - forward()) ** 2).sum(dim=1).mean().backward()
        opt.step()
        with torch.no_grad():
            error = float((0.5 * (t - forward()) ** 2).sum(dim=1).mean())
    print(f"E_total after {epochs} epochs: {error!r}")


def mid_training(path: str, dtype: torch.dtype) -> tuple[Callable[[], Callable[[], float]], int]:
    """The training of a sigmoid-softmax config file, and its epochs. The first is `fresh`:
    each call makes the parameters and the optimizer from the file and returns the loop, which
    runs the epochs and returns the last E_total (benchmarks/mnist_loops.py runs it again and
    again)."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with open(path, encoding="utf-8") as f:
        spec = yaml.load(f, Loader=loader)
    hidden, out = spec["layers"]
    train = spec["training"]
    x = torch.tensor([s["inputs"] for s in spec["samples"]], dtype=dtype)
    t = torch.tensor([s["targets"] for s in spec["samples"]], dtype=dtype)
    size, epochs = train["batch_size"], train["epochs"]

    def fresh() -> Callable[[], float]:
        w1, b1, w2, b2 = (
            torch.tensor(v, dtype=dtype, requires_grad=True)
            for v in (hidden["weights"], hidden["bias"], out["weights"], out["bias"])
        )
        opt = torch.optim.SGD([w1, b1, w2, b2], lr=train["learning_rate"])

        def loss(xb: torch.Tensor, tb: torch.Tensor) -> torch.Tensor:
            logits = torch.sigmoid(xb @ w1.T + b1) @ w2.T + b2
            return -(tb * torch.log_softmax(logits, dim=1)).sum(dim=1).mean()

        def run() -> float:
            error = 0.0
            for _ in range(epochs):
                for start in range(0, len(x), size):
                    opt.zero_grad()
                    loss(x[start : start + size], t[start : start + size]).backward()
                    opt.step()
                with torch.no_grad():
                    error = float(loss(x, t))
            return error

        return run

    return fresh, epochs


def mid(path: str) -> None:
    fresh, epochs = mid_training(path, torch.get_default_dtype())
    run = fresh()
    began = time.perf_counter()
    error = run()
    loop = time.perf_counter() - began
    print(f"E_total after {epochs} epochs: {error!r}")
    print(f"loop: {loop:.4f} s", file=sys.stderr)


if __name__ == "__main__":
    if sys.argv[1] == "worked":
        worked(int(sys.argv[2]) if len(sys.argv) > 2 else 10_000)
    else:
        if sys.argv[3:] == ["float32"]:
            torch.set_default_dtype(torch.float32)
        mid(sys.argv[2])
