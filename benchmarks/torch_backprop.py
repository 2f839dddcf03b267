"""The same training in PyTorch (float64), for the benchmark: the worked example or a config file.

    python benchmarks/torch_backprop.py worked 10000     # the post's network, online, 10,000 epochs
    python benchmarks/torch_backprop.py mid FILE.yaml    # a sigmoid-softmax config (midsize.py)
    python benchmarks/torch_backprop.py mid FILE.yaml float32    # the same in float32

Like `backprop train`, every epoch ends with E_total over all samples, after the epoch's updates.
"""

from __future__ import annotations

import sys
import time

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


def mid(path: str) -> None:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with open(path, encoding="utf-8") as f:
        spec = yaml.load(f, Loader=loader)
    hidden, out = spec["layers"]
    train = spec["training"]
    w1 = torch.tensor(hidden["weights"], requires_grad=True)
    b1 = torch.tensor(hidden["bias"], requires_grad=True)
    w2 = torch.tensor(out["weights"], requires_grad=True)
    b2 = torch.tensor(out["bias"], requires_grad=True)
    x = torch.tensor([s["inputs"] for s in spec["samples"]])
    t = torch.tensor([s["targets"] for s in spec["samples"]])
    opt = torch.optim.SGD([w1, b1, w2, b2], lr=train["learning_rate"])
    size = train["batch_size"]
    began = time.perf_counter()

    def loss(xb: torch.Tensor, tb: torch.Tensor) -> torch.Tensor:
        logits = torch.sigmoid(xb @ w1.T + b1) @ w2.T + b2
        return -(tb * torch.log_softmax(logits, dim=1)).sum(dim=1).mean()

    error = 0.0
    for _ in range(train["epochs"]):
        for start in range(0, len(x), size):
            opt.zero_grad()
            loss(x[start : start + size], t[start : start + size]).backward()
            opt.step()
        with torch.no_grad():
            error = float(loss(x, t))
    loop = time.perf_counter() - began
    print(f"E_total after {train['epochs']} epochs: {error!r}")
    print(f"loop: {loop:.4f} s", file=sys.stderr)


if __name__ == "__main__":
    if sys.argv[1] == "worked":
        worked(int(sys.argv[2]) if len(sys.argv) > 2 else 10_000)
    else:
        if sys.argv[3:] == ["float32"]:
            torch.set_default_dtype(torch.float32)
        mid(sys.argv[2])
