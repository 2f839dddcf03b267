"""The functions a formula of the catalogue may name: how each is computed on floats and how LaTeX
writes it. One table for every reader of formulas (a new entry that writes abs(…) needs nothing
outside ops/)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FormulaFunction:
    value: Callable[..., float]
    latex: str  # the command, e.g. \ln
    enclosed: str = "paren"  # its argument: "paren" (x), "brace" {x}, "bars" |x|


FORMULA_FUNCTIONS: dict[str, FormulaFunction] = {
    "ln": FormulaFunction(math.log, r"\ln"),
    "tanh": FormulaFunction(math.tanh, r"\tanh"),
    "max": FormulaFunction(max, r"\max"),
    "exp": FormulaFunction(math.exp, r"\exp"),
    "log": FormulaFunction(math.log, r"\log"),
    # ln(1 + x) without rounding 1 + x first: softplus and the logistic's logs as computed
    "log1p": FormulaFunction(math.log1p, r"\operatorname{log1p}"),
    "sqrt": FormulaFunction(math.sqrt, r"\sqrt", "brace"),  # adam's update
    "abs": FormulaFunction(abs, "", "bars"),
}
