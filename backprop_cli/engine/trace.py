"""Step and Trace: what the engine computed, in order, and its JSON form (our contract).

A step's formula is a template in which `{symbol}` stands for a named value (`{w1}`, `{out_h1}`,
`{dE_total/dw5}`); `formula` shows the symbols and `substituted(fmt)` shows the numbers.
"""

from __future__ import annotations

import fnmatch
import math
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from backprop_cli.specs.choices import PHASES as PHASES
from backprop_cli.specs.model import Param, Spec

SCHEMA_VERSION = 1
_SLOT = re.compile(r"\{([^{}]+)\}")


def full(x: float) -> str:
    """A float at full precision: the shortest text that reads back as the same float."""
    return repr(float(x))


@dataclass(frozen=True, slots=True)
class Step:
    """One computed quantity: its id, formula, the numbers it used, and its value."""

    id: str
    phase: str
    layer: int | None
    sample: int | None
    update: int | None
    template: str
    terms: dict[str, float]
    value: float
    inputs: tuple[str, ...]
    note: str | None = None

    @property
    def formula(self) -> str:
        """The formula in symbols: `w1*i1 + w2*i2 + b1*1`."""
        return "".join(_SLOT.split(self.template))  # text and symbols, without the braces

    def substituted(self, fmt: Callable[[float], str] = full) -> str:
        """The formula with every symbol replaced by its value, written by fmt."""

        def number(m: re.Match[str]) -> str:
            x = self.terms[m.group(1)]
            text = fmt(x)
            return f"({text})" if text.startswith("-") and m.start() > 0 else text

        return _SLOT.sub(number, self.template)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "id": self.id,
            "phase": self.phase,
            "layer": self.layer,
            "sample": self.sample,
            "update": self.update,
            "formula": self.formula,
            "substituted": self.substituted(),
            "value": json_number(self.value),
            "inputs": list(self.inputs),
        }
        if self.note:
            d["note"] = self.note
        return d


@dataclass(slots=True)
class Trace:
    """The ordered steps of one `backprop step`, with the parameters before and after."""

    spec: Spec
    steps: list[Step] = field(default_factory=list)
    parameters: list[Param] = field(default_factory=list)
    updated: dict[str, float] = field(default_factory=dict)
    loss_before: float = math.nan
    loss_after: float = math.nan

    def __iter__(self) -> Iterator[Step]:
        return iter(self.steps)

    def __repr__(self) -> str:
        return f"<Trace {self.spec.name!r}: {len(self.steps)} steps, E_total {self.loss_before!r}>"

    def find(self, step_id: str, sample: int | None = None) -> Step | None:
        """The first step with this id (in the given sample, if any)."""
        for s in self.steps:
            if s.id == step_id and (sample is None or s.sample == sample):
                return s
        return None

    def select(
        self,
        only: list[str] | None = None,
        phases: list[str] | None = None,
        sample: int | None = None,
    ) -> list[Step]:
        """Steps whose id matches any of the globs in `only`, in the given phases and sample."""
        out = []
        for s in self.steps:
            if only and not any(fnmatch.fnmatchcase(s.id, pat) for pat in only):
                continue
            if phases and s.phase not in phases:
                continue
            if sample is not None and s.sample != sample:
                continue
            out.append(s)
        return out

    def ids(self) -> list[str]:
        """Every distinct step id, in trace order."""
        return list(dict.fromkeys(s.id for s in self.steps))

    def to_dict(self) -> dict[str, Any]:
        """The JSON document described in docs/trace-format.md."""
        doc = self.document(self.steps)
        doc["steps"] = list(doc["steps"])
        return doc

    def document(self, steps: Iterable[Step]) -> dict[str, Any]:
        """to_dict() for the given steps, whose dicts are made one at a time as they are read
        (an iterator: render/jsonfmt.pieces writes it without holding them all)."""
        return {
            "schema_version": SCHEMA_VERSION,
            "network": self.spec.to_dict(),
            "parameters": [
                {
                    "id": p.id,
                    "kind": p.kind,
                    "layer": p.layer,
                    "neuron": p.neuron,
                    "input": p.input,
                    "value": p.value,
                }
                for p in self.parameters
            ],
            "steps": (s.to_dict() for s in steps),
            "updated": {k: json_number(v) for k, v in self.updated.items()},
            "loss_before": json_number(self.loss_before),
            "loss_after": json_number(self.loss_after),
        }


def json_number(x: float) -> float | None:
    """JSON has no NaN or Infinity: a non-finite value is written as null."""
    return x if math.isfinite(x) else None
