"""What every entry of the catalogue shares: hyper-parameters, and lookups that refuse what they
do not know."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, ValuesView
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


class UnknownOperation(KeyError):
    """A name the catalogue has no entry for: raised at once, never a silent fallback."""

    def __str__(self) -> str:
        return str(self.args[0])


@dataclass(frozen=True, slots=True)
class Hyper:
    """A hyper-parameter: its key in a config, its symbol in formulas, default and bounds."""

    key: str
    symbol: str
    default: float
    meaning: str
    minimum: float = 0.0
    maximum: float = math.inf
    below_maximum: bool = False  # maximum excluded (β < 1)
    above_minimum: bool = False  # minimum excluded (ε > 0)
    optional: bool = False  # left out of a saved config while at its default (off)
    latex: str = ""  # the symbol in LaTeX (\\alpha); empty: written as it is
    # The same number elsewhere: PyTorch's keyword (`betas[0]` for an item of one) and the ONNX
    # node's attribute; empty where it has none.
    torch: str = ""
    onnx: str = ""

    def problem(self, x: float) -> str | None:
        """Why x is not allowed here, or None."""
        if x < self.minimum or (self.above_minimum and x == self.minimum):
            word = "greater than" if self.above_minimum else "at least"
            return f"must be {word} {self.minimum:g}"
        if x > self.maximum or (self.below_maximum and x == self.maximum):
            return (
                f"must be below {self.maximum:g}"
                if self.below_maximum
                else (f"must be at most {self.maximum:g}")
            )
        return None

    @property
    def bounds(self) -> dict[str, float]:
        """The JSON Schema keywords for these bounds."""
        out: dict[str, float] = {}
        out["exclusiveMinimum" if self.above_minimum else "minimum"] = self.minimum
        if math.isfinite(self.maximum):
            out["exclusiveMaximum" if self.below_maximum else "maximum"] = self.maximum
        return out


class Table(Generic[T]):
    """Entries by name, in the order they were declared; an unknown name raises."""

    def __init__(self, kind: str, entries: Mapping[str, T]) -> None:
        self.kind, self.entries = kind, dict(entries)

    def __getitem__(self, name: str) -> T:
        try:
            return self.entries[name]
        except KeyError:
            raise UnknownOperation(
                f"unknown {self.kind} {name!r}; known: {', '.join(self.entries)}"
            ) from None

    def __contains__(self, name: object) -> bool:
        return name in self.entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def names(self) -> tuple[str, ...]:
        return tuple(self.entries)

    def values(self) -> ValuesView[T]:
        return self.entries.values()
