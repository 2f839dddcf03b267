"""Gradient check: the engine's backpropagated gradient against central differences of the loss.

The loss is the dataset loss (engine.dataset_loss: each sample's E_total, reduced by mean or sum as
training.reduction says), so the analytic gradient is each sample's dE_total/dθ from the engine's
trace, reduced the same way. Every parameter is checked, biases included even when training holds
them fixed, with the gradient of one update taken at the weights before it (the simultaneous order;
the sequential order is not the gradient of the loss at one point, which is the post's own trap).

A central difference costs two passes over every sample, so a network too large to check whole in
a few seconds (WORK) has a seeded random sample of its parameters checked (every layer's weights
and biases among them), unless every one is asked for.
"""

from __future__ import annotations

import dataclasses
import random
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from backprop_cli.engine.passes import dataset_loss
from backprop_cli.engine.passes import step as run_step
from backprop_cli.specs.model import Param, Spec, initial_values

EPS = 1e-6
TOL = 1e-6
ROUNDOFF = 10.0  # safety factor on the round-off estimate of a central difference
# Backprop's own round-off, relative to its largest gradient (sums of many terms): a gradient below
# it is 0 as far as backprop can tell.
ZERO = 1e3 * sys.float_info.epsilon
# A central difference passes over every weight of every sample twice: checking each of P
# parameters of S samples costs about P·P·S weight evaluations (1 µs each; 10,000 parameters took
# 111 s). Past WORK of them a seeded sample of about WORK/(P·S) parameters is checked (every
# one of a 2,000-parameter network of one sample), at least PER_GROUP of each layer's weights and
# of its biases: about 4 s whatever the network.
WORK = 4_000_000
PER_GROUP = 10

# What a row says: the gradients agree; agree within the round-off of the central difference; the
# central difference cannot see this gradient (its round-off is larger), so nothing is checked;
# they disagree.
PASS, WITHIN_ROUNDOFF, UNRESOLVED, FAIL = "pass", "within round-off", "unresolved", "fail"


@dataclass(frozen=True, slots=True)
class Row:
    """One parameter: both gradients and whether they agree."""

    id: str
    analytic: float
    numeric: float
    rel_error: float
    noise: float  # round-off to expect in the central difference
    verdict: str  # PASS, WITHIN_ROUNDOFF, UNRESOLVED or FAIL

    @property
    def passed(self) -> bool:
        return self.verdict in (PASS, WITHIN_ROUNDOFF)

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
            "verdict": self.verdict,
        }


@dataclass(slots=True)
class GradCheck:
    """Every parameter's row, with the settings used."""

    rows: list[Row]
    eps: float
    tol: float
    loss: float
    total: int = 0  # parameters in the network (the rows may be a sample of them)
    seed: int | None = None  # the sample's seed; None when every parameter is checked

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.rows)

    def count(self, verdict: str) -> int:
        return sum(1 for r in self.rows if r.verdict == verdict)

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
            "checked": len(self.rows),
            "total": self.total,
            "sample_seed": self.seed,
            "parameters": [r.to_dict() for r in self.rows],
        }


def analytic_gradient(
    spec: Spec, progress: Callable[[int], None] | None = None
) -> dict[str, float]:
    """dE/dθ of the dataset loss for every parameter: per-sample engine gradients, reduced;
    progress(k) after the k-th sample."""
    training = dataclasses.replace(
        spec.training, update_biases=True, update_order="simultaneous", mode="online"
    )
    total: dict[str, float] = {p.id: 0.0 for p in spec.parameters()}
    for k, sample in enumerate(spec.samples, 1):
        one = dataclasses.replace(spec, training=training, samples=(sample,))
        trace = run_step(one)
        # by id, each once (trace.find for each parameter walked the trace P times: 10,000
        # parameters spent most of a minute there)
        found: dict[str, float] = {}
        for s in trace.steps:
            found.setdefault(s.id, s.value)
        for pid in total:
            total[pid] += found[f"dE_total/d{pid}"]
        if progress is not None:
            progress(k)
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


def sample_size(spec: Spec) -> int | None:
    """How many parameters a check samples (see WORK), or None when it checks every one."""
    p = len(spec.parameters())
    cost = p * len(spec.samples)  # weight evaluations of one pass over the samples
    return None if p * cost <= WORK else max(1, WORK // cost)


def sample(spec: Spec, n: int, seed: int = 0) -> list[Param]:
    """About n parameters chosen at random (seeded), in the network's order: from each layer's
    weights and from its biases in proportion to their number, and at least PER_GROUP of each
    (or all), so that no layer goes unchecked."""
    params = spec.parameters()
    groups: dict[tuple[int, str], list[int]] = {}
    for at, p in enumerate(params):
        groups.setdefault((p.layer, p.kind), []).append(at)
    rng = random.Random(seed)
    chosen: list[int] = []
    for members in groups.values():
        k = min(len(members), max(PER_GROUP, round(n * len(members) / len(params))))
        chosen += rng.sample(members, k)
    return [params[at] for at in sorted(chosen)]


def verdict(a: float, n: float, noise: float, tol: float, zero: float) -> str:
    """PASS when the relative error is at most tol; WITHIN_ROUNDOFF when the two differ by no
    more than the central difference's round-off and either the gradient is larger than that
    round-off or backprop's is 0 to its own precision (`zero`); UNRESOLVED when backprop gives a
    gradient the central difference is too coarse to see (1 against 0 with a round-off of 1000
    is no pass); else FAIL."""
    if relative_error(a, n) <= tol:
        return PASS
    if abs(a - n) > noise:
        return FAIL
    if max(abs(a), abs(n)) > noise or abs(a) <= zero:
        return WITHIN_ROUNDOFF
    return UNRESOLVED


def gradcheck(
    spec: Spec,
    eps: float = EPS,
    tol: float = TOL,
    *,
    every: bool = False,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> GradCheck:
    """Check every parameter (or, without `every`, the sample sample_size() asks for, drawn with
    `seed`); progress(done, total) is called after each sample's backprop and each parameter's
    central difference. See verdict() for what a row says."""
    params = spec.parameters()
    size = None if every else sample_size(spec)
    checked = params if size is None else sample(spec, size, seed)
    total = len(spec.samples) + len(checked)
    analytic = analytic_gradient(spec, None if progress is None else lambda k: progress(k, total))
    zero = ZERO * max((abs(g) for g in analytic.values()), default=0.0)
    rows = []
    for done, p in enumerate(checked, len(spec.samples) + 1):
        a = analytic[p.id]
        n, noise = numeric_gradient(spec, p.id, eps)
        rows.append(Row(p.id, a, n, relative_error(a, n), noise, verdict(a, n, noise, tol, zero)))
        if progress is not None:
            progress(done, total)
    loss = dataset_loss(spec, initial_values(spec))
    return GradCheck(rows, eps, tol, loss, len(params), None if size is None else seed)
