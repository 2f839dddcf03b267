"""Calculating as a person with a calculator does: every intermediate rounded, how far that drifts
from the exact run, and training done that way (the recording engine, epoch by epoch)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .engine import dataset_loss, forward_values, step
from .spec import Spec, initial_values
from .state import State
from .trace import Trace, json_number


@dataclass(frozen=True)
class Drift:
    """One quantity in the rounded run and in the exact run."""

    id: str
    rounded: float
    exact: float

    @property
    def drift(self) -> float:
        return self.rounded - self.exact

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "rounded": json_number(self.rounded),
            "exact": json_number(self.exact),
            "drift": json_number(self.drift),
        }


def drift(rounded: Trace, exact: Trace) -> list[Drift]:
    """The error before and after the update, then every updated parameter."""
    out: list[Drift] = []
    # One sample: its error before and after; several: the reduced error after the update.
    ids = ("E+",) if len(exact.spec.samples) > 1 else ("E_total", "E_total+")
    for step_id in ids:
        r, e = rounded.find(step_id), exact.find(step_id)
        if r is not None and e is not None:
            out.append(Drift(step_id, r.value, e.value))
    for p in exact.parameters:
        new = exact.updated.get(p.id, p.value)
        if new != p.value:
            out.append(Drift(f"{p.id}+", rounded.updated.get(p.id, p.value), new))
    return out


class RoundKernel:
    """The recording engine, epoch by epoch, every intermediate rounded to `round_to` decimals:
    training as a person with a calculator would do it (slow, and meant to be). A kernel for
    kernels.Trainer: `Trainer(spec, kernel=RoundKernel.factory(4))`."""

    def __init__(self, spec: Spec, order: str, state: State, round_to: int) -> None:
        self.spec, self.order, self.state, self.round_to = spec, order, state, round_to
        self.params = initial_values(spec)

    @classmethod
    def factory(cls, round_to: int) -> Any:
        return lambda spec, order, state: cls(spec, order, state, round_to)

    def evaluate(self) -> float:
        return dataset_loss(self.spec, self.params, self.round_to)

    def epoch(self) -> float:
        spec = self.spec.with_parameters(self.params)
        trace = step(spec, update_order=self.order, round_to=self.round_to, state=self.state)
        self.params = dict(trace.updated)
        return trace.steps[-1].value  # E_total after the epoch, rounded as written down

    def snapshot(self) -> Any:
        slots = {s: dict(v) for s, v in self.state.slots.items()}
        return dict(self.params), slots, self.state.t

    def restore(self, snap: Any) -> None:
        self.params, self.state.slots, self.state.t = snap

    def parameters(self) -> dict[str, float]:
        return dict(self.params)

    def slots(self) -> dict[str, dict[str, float]]:
        return {s: dict(v) for s, v in self.state.slots.items()}

    def outputs(self) -> list[list[float]]:
        return [forward_values(self.spec, self.params, s.inputs)[-1] for s in self.spec.samples]
