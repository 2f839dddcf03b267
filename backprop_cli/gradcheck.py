"""Gradient check: the engine's backpropagated gradient against central differences of the loss.

The loss is the dataset loss (engine.dataset_loss: each sample's E_total, reduced by mean or sum as
training.reduction says), so the analytic gradient is each sample's dE_total/dθ from the engine's
trace, reduced the same way. Every parameter is checked, biases included even when training holds
them fixed, with the gradient of one update taken at the weights before it (the simultaneous order;
the sequential order is not the gradient of the loss at one point, which is the post's own trap).
"""

from __future__ import annotations

import dataclasses
import sys
from typing import Any

from .engine import dataset_loss
from .engine import step as run_step
from .records import record
from .spec import Spec, initial_values

EPS = 1e-6
TOL = 1e-6
ROUNDOFF = 10.0  # safety factor on the round-off estimate of a central difference


@record(frozen=True)
class Row:
    """One parameter: both gradients and whether they agree."""

    id: str
    analytic: float
    numeric: float
    rel_error: float
    noise: float  # round-off to expect in the central difference
    passed: bool

    @property
    def abs_error(self) -> float:
        return abs(self.analytic - self.numeric)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "analytic": self.analytic,
            "numeric": self.numeric,
            "abs_error": self.abs_error,
            "rel_error": self.rel_error,
            "roundoff": self.noise,
            "passed": self.passed,
        }


@record
class GradCheck:
    """Every parameter's row, with the settings used."""

    rows: list[Row]
    eps: float
    tol: float
    loss: float

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.rows)

    @property
    def max_rel_error(self) -> float:
        return max((r.rel_error for r in self.rows), default=0.0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "eps": self.eps,
            "tol": self.tol,
            "loss": self.loss,
            "passed": self.passed,
            "max_rel_error": self.max_rel_error,
            "parameters": [r.to_dict() for r in self.rows],
        }


def analytic_gradient(spec: Spec) -> dict[str, float]:
    """dE/dθ of the dataset loss for every parameter: per-sample engine gradients, reduced."""
    training = dataclasses.replace(
        spec.training, update_biases=True, update_order="simultaneous", mode="online"
    )
    total: dict[str, float] = {p.id: 0.0 for p in spec.parameters()}
    for sample in spec.samples:
        one = dataclasses.replace(spec, training=training, samples=(sample,))
        trace = run_step(one)
        for pid in total:
            s = trace.find(f"dE_total/d{pid}")
            assert s is not None, pid
            total[pid] += s.value
    if spec.training.reduction == "mean":
        return {pid: g / len(spec.samples) for pid, g in total.items()}
    return total


def numeric_gradient(spec: Spec, pid: str, eps: float) -> tuple[float, float]:
    """Central difference (E(θ+ε) − E(θ−ε))/2ε, and the round-off to expect in it."""
    params = initial_values(spec)
    up = dict(params)
    up[pid] = params[pid] + eps
    down = dict(params)
    down[pid] = params[pid] - eps
    e_up, e_down = dataset_loss(spec, up), dataset_loss(spec, down)
    noise = ROUNDOFF * sys.float_info.epsilon * max(abs(e_up), abs(e_down)) / (2 * eps)
    return (e_up - e_down) / (2 * eps), noise


def relative_error(a: float, n: float) -> float:
    """|a − n| / max(|a|, |n|); 0 when both are 0."""
    scale = max(abs(a), abs(n))
    return abs(a - n) / scale if scale > 0 else 0.0


def gradcheck(spec: Spec, eps: float = EPS, tol: float = TOL) -> GradCheck:
    """Check every parameter; a row passes when the relative error is at most tol, or the two
    gradients differ by no more than the round-off of the central difference."""
    analytic = analytic_gradient(spec)
    rows = []
    for p in spec.parameters():
        a = analytic[p.id]
        n, noise = numeric_gradient(spec, p.id, eps)
        rel = relative_error(a, n)
        passed = rel <= tol or abs(a - n) <= noise
        rows.append(Row(p.id, a, n, rel, noise, passed))
    return GradCheck(rows, eps, tol, dataset_loss(spec, initial_values(spec)))
