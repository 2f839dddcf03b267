"""Every analytic gradient of the engine against a central difference of the loss.

Random networks for every activation × loss (hypothesis), plus the fixed softmax + cross-entropy and
two-hidden-layer configs. Central differences with h = 1e-6 are accurate to about 1e-9 relative
for these smooth functions (plus round-off of ε·E/h), so 1e-6 relative is a tolerance that a
wrong derivative cannot meet.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from backprop_cli import Spec, load_spec, loads_spec, step
from backprop_cli.engine.passes import forward_values, sample_loss
from backprop_cli.ops import ACTIVATIONS, LOSSES
from backprop_cli.specs.model import initial_values

H = 1e-6
# Every entry of the catalogue: hidden activations, and each loss with the outputs it takes.
HIDDEN = [a.name for a in ACTIVATIONS.values() if a.hidden]
CASES = [
    (loss.name, act) for loss in LOSSES.values() for act in loss.outputs or ACTIVATIONS.names()
]


def numeric_gradient(spec: Spec, pid: str, h: float = H) -> float:
    values = initial_values(spec)
    up, down = dict(values), dict(values)
    up[pid] += h
    down[pid] -= h
    return (sample_loss(spec, up, 0) - sample_loss(spec, down, 0)) / (2 * h)


def assert_gradients_match(spec: Spec) -> None:
    trace = step(spec)
    # The central difference itself carries round-off of about ε·E/h (ε = 2.2e-16), which is
    # what a large loss (linear outputs) makes visible; a wrong derivative is off by far more.
    noise = 1e-9 * max(1.0, abs(trace.loss_before))
    for p in spec.parameters():
        analytic = trace.find(f"dE_total/d{p.id}")
        if p.kind == "bias" and not spec.training.update_biases:
            assert analytic is None
            continue
        assert analytic is not None, p.id
        # A log-loss near out = 1 amplifies E's round-off by 1/(1 − out); a wider step (1e-4:
        # truncation error about 1e-9 relative here) then shows what h = 1e-6 cannot.
        for h in (H, 1e-4):
            numeric = numeric_gradient(spec, p.id, h)
            scale = max(abs(analytic.value), abs(numeric), 1e-3)
            if abs(analytic.value - numeric) < 1e-6 * scale + noise:
                break
        else:
            raise AssertionError((p.id, analytic, numeric))


def away_from_kinks(spec: Spec) -> bool:
    """An activation with a kink (relu) has no derivative at 0: keep every net input clear of it."""
    values = initial_values(spec)
    from backprop_cli.specs.model import Names

    names = Names.of(spec)
    prev = list(spec.samples[0].inputs)
    outs = forward_values(spec, values, prev)
    for k, layer in enumerate(spec.layers):
        if ACTIVATIONS[layer.activation].smooth:
            continue
        xs = prev if k == 0 else outs[k - 1]
        for j in range(layer.size):
            net = sum(values[names.weight[k][j][i]] * x for i, x in enumerate(xs))
            b = names.bias[k][j]
            net += values[b] if b else 0.0
            if abs(net) < 1e-3:
                return False
    return True


@st.composite
def networks(draw: Any, loss: str, output: str) -> dict[str, Any]:
    n_in = draw(st.integers(1, 3))
    hidden = draw(st.lists(st.integers(1, 3), min_size=1, max_size=2))
    n_out = draw(st.integers(1 if ACTIVATIONS[output].elementwise else 2, 3))
    sizes = [n_in, *hidden, n_out]
    num = st.floats(-1.5, 1.5, allow_nan=False).map(lambda x: round(x, 3))
    layers = []
    for k in range(1, len(sizes)):
        act = output if k == len(sizes) - 1 else draw(st.sampled_from(HIDDEN))
        bias_kind = draw(st.sampled_from(["shared", "per_neuron", "none"]))
        layer: dict[str, Any] = {
            "activation": act,
            "weights": [[draw(num) for _ in range(sizes[k - 1])] for _ in range(sizes[k])],
        }
        if bias_kind == "shared":
            layer["bias"] = draw(num)
        elif bias_kind == "per_neuron":
            layer["bias"] = [draw(num) for _ in range(sizes[k])]
        alpha = ACTIVATIONS[act].alpha
        if alpha is not None:
            layer["alpha"] = draw(st.sampled_from([alpha.default, 0.2]))
        layers.append(layer)
    if loss == "cross_entropy":
        raw = [draw(st.integers(0, 3)) for _ in range(n_out)]
        assume(sum(raw) > 0)
        targets = [r / sum(raw) for r in raw]
    else:  # within the range the output activation reaches (and [0, 1] for a log-loss)
        lo, hi = ACTIVATIONS[output].targets(0.01)
        if LOSSES[loss].outputs is not None:
            lo, hi = max(lo, 0.0), min(hi, 1.0)
        targets = [draw(st.floats(lo, hi).map(lambda x: round(x, 2))) for _ in range(n_out)]
    return {
        "inputs": n_in,
        "layers": layers,
        "loss": loss,
        "training": {"learning_rate": 0.1, "update_biases": True},
        "samples": [{"inputs": [draw(num) for _ in range(n_in)], "targets": targets}],
    }


@pytest.mark.parametrize(("loss", "output"), CASES)
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_random_networks(loss: str, output: str, data: st.DataObject) -> None:
    spec = loads_spec(yaml.safe_dump(data.draw(networks(loss, output))))
    assume(away_from_kinks(spec))
    assert_gradients_match(spec)


def test_worked_example_gradients() -> None:
    assert_gradients_match(load_spec())


def test_three_layers_tanh_relu_softmax_cross_entropy() -> None:
    spec = load_spec("configs/deep-softmax.yaml")
    assert [layer.activation for layer in spec.layers] == ["tanh", "relu", "softmax"]
    assert away_from_kinks(spec)
    assert_gradients_match(spec)


def test_sequential_order_differs_from_the_true_gradient() -> None:
    # The sequential order is a teaching device, not the gradient: its hidden-layer numbers
    # are computed with w5+ and so disagree with the central difference.
    spec = load_spec()
    seq = step(spec, update_order="sequential")
    g = seq.find("dE_total/dw1").value
    assert abs(g - numeric_gradient(spec, "w1")) > 1e-6
