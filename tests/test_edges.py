"""Numbers at the edges: net inputs of ±1000 never overflow, and saturated neurons are marked."""

from __future__ import annotations

import json
import math
from decimal import Decimal, getcontext
from pathlib import Path
from typing import Any

import pytest

from backprop_cli import loads_spec, step
from backprop_cli.ops import ACTIVATIONS as CATALOGUE_ACTIVATIONS
from backprop_cli.ops import FLOATS
from backprop_cli.ops import LOSSES as CATALOGUE_LOSSES

from .clihelp import run

ACTIVATIONS = list(CATALOGUE_ACTIVATIONS)
LOSSES = list(CATALOGUE_LOSSES)
# Pairs the spec accepts: the outputs each loss works with, from the catalogue.
PAIRS = [
    (a, loss.name)
    for loss in CATALOGUE_LOSSES.values()
    for a in ACTIVATIONS
    if loss.outputs is None or a in loss.outputs
]


def single_layer(activation: str, loss: str, targets: list[float], weight: float = 1000) -> str:
    """One input of 1 and output nets of +weight and −weight."""
    return f"""
inputs: 1
layers:
  - {{name: o, activation: {activation}, weights: [[{weight}], [{-weight}]]}}
loss: {loss}
samples:
  - {{inputs: [1], targets: {targets}}}
"""


def check_trace(doc: dict[str, Any]) -> None:
    """Every value finite, or null with a note that says why."""
    for s in doc["steps"]:
        if s["value"] is None:
            assert "JSON writes it as null" in s["note"], s
        else:
            assert math.isfinite(s["value"]), s
    assert doc["loss_before"] is not None and doc["loss_after"] is not None
    assert all(v is not None for v in doc["updated"].values())


def test_pairs_cover_every_activation_and_loss() -> None:
    assert {a for a, _ in PAIRS} == set(ACTIVATIONS)
    assert {loss for _, loss in PAIRS} == set(LOSSES)


@pytest.mark.parametrize(("activation", "loss"), PAIRS)
@pytest.mark.parametrize("targets", [[0.0, 1.0], [1.0, 0.0]])
def test_output_nets_of_1000(
    activation: str, loss: str, targets: list[float], tmp_path: Path
) -> None:
    path = tmp_path / "edge.yaml"
    path.write_text(single_layer(activation, loss, targets))
    result = run("step", str(path), "--format", "json")
    assert result.exit_code == 0, result.stderr
    check_trace(json.loads(result.stdout))
    # The table prints too (inf shown as inf, not a crash).
    assert run("step", str(path)).exit_code == 0


@pytest.mark.parametrize("activation", [a.name for a in CATALOGUE_ACTIVATIONS.values() if a.hidden])
def test_hidden_nets_of_1000(activation: str) -> None:
    spec = loads_spec(f"""
inputs: 1
layers:
  - {{name: h, activation: {activation}, weights: [[1000], [-1000]]}}
  - {{name: o, activation: sigmoid, weights: [[0.001, 0.001]]}}
samples:
  - {{inputs: [1], targets: [0.5]}}
""")
    trace = step(spec)
    check_trace(trace.to_dict())
    notes = {s.id: s.note for s in trace.steps if s.note}
    # A derivative of about 0 at net = ±1000: saturated where the catalogue says the activation
    # saturates, inactive where it is exactly 0 otherwise (a dead ReLU).
    act = CATALOGUE_ACTIVATIONS[activation]
    alpha = 0.0 if act.alpha is None else act.alpha.default
    expected = {}
    for j, net in enumerate((1000.0, -1000.0), 1):
        d = act.derivative(FLOATS, net, act.value(FLOATS, net, alpha), alpha)
        if act.saturates and abs(d) < 1e-6:
            expected[f"dout_h{j}/dnet_h{j}"] = "saturated"
        elif d == 0.0:
            expected[f"dout_h{j}/dnet_h{j}"] = "inactive"
    assert expected or activation in ("leaky_relu", "linear")
    assert {k: v.split(":")[0] for k, v in notes.items()} == expected


def test_saturation_note_in_json_and_table() -> None:
    spec = loads_spec(single_layer("sigmoid", "half_sse", [0.0, 1.0]))
    note = step(spec).find("dout_o1/dnet_o1")
    assert note is not None and note.value == 0.0
    assert note.note == "saturated: dout/dnet ≈ 0 (net = 1000), so almost no gradient flows back"
    assert note.to_dict()["note"] == note.note
    assert (
        "note"
        not in step(loads_spec(single_layer("sigmoid", "half_sse", [0, 1], 1))).steps[0].to_dict()
    )


def test_softmax_saturation_is_marked() -> None:
    trace = step(loads_spec(single_layer("softmax", "cross_entropy", [0.0, 1.0])))
    jac = trace.find("dout_o1/dnet_o1")
    assert jac is not None and jac.note is not None and jac.note.startswith("saturated")


def _reference_bce_softmax_gradient(nets: list[int], targets: list[float], k: int) -> float:
    """dE/dnet_k of softmax + binary cross-entropy, by central difference in 80-digit decimals.

    ln(out_j) and ln(1 − out_j) are taken as log-sum-exps of the nets, so nothing cancels.
    """
    getcontext().prec = 80

    def loss(xs: list[Decimal]) -> Decimal:
        total = sum(x.exp() for x in xs)
        out = Decimal(0)
        for j, t in enumerate(targets):
            log_o = xs[j] - total.ln()
            log_1m = sum(x.exp() for m, x in enumerate(xs) if m != j).ln() - total.ln()
            out += Decimal(t) * log_o + (1 - Decimal(t)) * log_1m
        return -out / len(xs)

    h = Decimal("1e-30")
    up = [Decimal(x) for x in nets]
    down = list(up)
    up[k] += h
    down[k] -= h
    return float((loss(up) - loss(down)) / (2 * h))


@pytest.mark.parametrize("w", [5, 30, 1000])
def test_softmax_binary_cross_entropy_gradient_near_saturation(w: int) -> None:
    # Input 1, so dE/dw_k = dE/dnet_k; outputs near 0 and 1 make the plain chain lose digits.
    targets = [0.0, 1.0, 0.5]
    spec = loads_spec(f"""
inputs: 1
layers:
  - {{name: o, activation: softmax, weights: [[{w}], [{-w}], [3]]}}
loss: binary_cross_entropy
samples:
  - {{inputs: [1], targets: {targets}}}
""")
    trace = step(spec)
    for k in range(3):
        got = trace.find(f"dE_total/dw{k + 1}")
        assert got is not None
        want = _reference_bce_softmax_gradient([w, -w, 3], targets, k)
        assert got.value == pytest.approx(want, rel=1e-12)


def test_bce_derivative_at_a_met_hard_target_is_finite() -> None:
    # out rounds to 1 with target 1: dE/dout = −1/(n·out) = −1/2, not inf.
    trace = step(loads_spec(single_layer("sigmoid", "binary_cross_entropy", [1.0, 0.0])))
    assert trace.find("dE_total/dout_o1").value == -0.5  # type: ignore[union-attr]
    assert trace.find("dE_total/dout_o2").value == 0.5  # type: ignore[union-attr]
