"""The huber loss is PyTorch's HuberLoss (mean over the outputs), gradients included."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from backprop_cli import load_spec, step

CONFIG = Path(__file__).parent / "valid_configs" / "huber.yaml"


def test_huber_is_squared_inside_delta_and_linear_beyond() -> None:
    trace = step(load_spec(CONFIG))
    e1, e2 = (trace.find(f"E_o{j}") for j in (1, 2))
    assert e1 is not None and e2 is not None
    out1, out2 = e1.terms["out_o1"], e2.terms["out_o2"]
    assert abs(out1 - 0.01) > 1.5 > abs(out2 - 0.99)  # one of each branch
    assert e1.value == 1.5 * (abs(out1 - 0.01) - 0.75) / 2
    assert e2.value == 0.5 * (out2 - 0.99) ** 2 / 2
    g = trace.find("dE_total/dout_o1")
    assert g is not None and g.value == 1.5 / 2 and g.terms["Δ"] == 1.5


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="needs PyTorch")
def test_huber_follows_pytorch() -> None:
    import torch

    spec = load_spec(CONFIG)
    trace = step(spec)
    (h, o) = spec.layers
    w1 = torch.tensor(h.weights, dtype=torch.float64, requires_grad=True)
    w2 = torch.tensor(o.weights, dtype=torch.float64, requires_grad=True)
    x = torch.tensor([spec.samples[0].inputs], dtype=torch.float64)
    t = torch.tensor([spec.samples[0].targets], dtype=torch.float64)
    assert h.bias is not None and o.bias is not None
    out = torch.sigmoid(x @ w1.T + h.bias[0]) @ w2.T + o.bias[0]
    loss = torch.nn.HuberLoss(delta=1.5)(out, t)
    loss.backward()
    assert trace.find("E_total").value == pytest.approx(loss.item(), rel=1e-15)  # type: ignore[union-attr]
    grads = [*w1.grad.flatten().tolist(), *w2.grad.flatten().tolist()]  # type: ignore[union-attr]
    for k, value in enumerate(grads):
        ours = trace.find(f"dE_total/dw{k + 1}")
        assert ours is not None and ours.value == pytest.approx(value, rel=1e-14)
