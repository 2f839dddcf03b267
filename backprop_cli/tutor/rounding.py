"""Calculating as a person with a calculator does: every intermediate rounded, and how far that
drifts from the exact run. Training done that way is kernels.rounded.RoundedLoopKernel."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from backprop_cli.engine.trace import Trace, json_number


@dataclass(frozen=True, slots=True)
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
