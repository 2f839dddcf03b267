"""The one number formatter: every number on screen (tables, documents, summaries, the curve's
axis) is written here. JSON never comes through here: it keeps full precision.

Rules (docs/trace-format.md, "How numbers are shown"):
- `precision` decimals, trailing zeros dropped as the post prints them (kept with `zeros`, for
  `--round N`, where 0.2910 says four decimals were kept);
- scientific notation below 10^-precision (rather than print 0) and from 10^max(precision, 6)
  up (rather than print a 300-digit integer);
- a hyper-parameter (η, α, β1, ...) keeps the digits it was written with, whatever `precision`;
- a step's value that is only the floating-point residue of an exact cancellation shows as 0.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from backprop_cli.engine.trace import Step
    from backprop_cli.render.mathtex import Node

BIG_DIGITS = 6  # integer digits always written out: --precision 2 still shows 1234.5
RESIDUE = 1e-15  # about 4.5 float64 epsilons of the terms' size: rounding noise, not a value
_SLOT = re.compile(r"\{([^{}]+)\}")


@functools.lru_cache(maxsize=8192)  # a big trace shows each input and output many times
def number(x: float, precision: int = 9, *, zeros: bool = False) -> str:
    """A value rounded for display to `precision` decimals (see the module's rules)."""
    if not math.isfinite(x):
        return "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")
    size = abs(x)
    if x != 0 and (size < 10.0**-precision or size >= 10.0 ** max(precision, BIG_DIGITS)):
        mantissa, _, exponent = f"{x:.{max(precision - 1, 0)}e}".partition("e")
        if not zeros and "." in mantissa:
            mantissa = mantissa.rstrip("0").rstrip(".")
        return f"{mantissa}e{int(exponent):+d}"
    text = f"{x:.{precision}f}"
    if not zeros and "." in text:
        text = text.rstrip("0").rstrip(".")
    if text.startswith("-") and not text.strip("-0."):
        text = text[1:]  # -0.0000 is 0
    return text or "0"


def difference(a: float, b: float) -> float:
    """a − b, or 0 where that is only the rounding float64 leaves between two equal values
    (below RESIDUE × (|a| + |b|)): a drift of 0.3925 from 0.39249999999999996 is none."""
    d = a - b
    return 0.0 if abs(d) < RESIDUE * (abs(a) + abs(b)) else d


def written(x: float, precision: int) -> str:
    """A value from the config at no fewer decimals than it was written with (η = 0.5 at
    --precision 0 is 0.5, not 0)."""
    text = repr(float(x))
    decimals = len(text.partition(".")[2]) if "e" not in text else precision
    return number(x, max(precision, decimals))


@functools.cache
def constants() -> frozenset[str]:
    """Symbols of values written in the config (η, α, β1, ...), from the catalogue; read when
    first needed, so that start-up does not load the catalogue."""
    from backprop_cli.ops import CONSTANTS

    return CONSTANTS


# --- floating-point residue ------------------------------------------------------------------


@functools.lru_cache(maxsize=512)
def _trees(shape: str) -> tuple[Sizer, ...] | None:
    from backprop_cli.render.mathtex import (
        parse,  # here: the command line imports this module at start-up
    )

    try:
        return tuple(_sized(parse(side)) for side in shape.split(" = "))
    except (ValueError, IndexError):
        return None


def _parsed(template: str) -> tuple[tuple[Sizer, ...] | None, list[str]]:
    """The template's sizers and the symbol of each of their slots. The template is parsed with
    its slots numbered ({0}, {1}, ...): once for all templates of one shape (the neurons of a
    layer, the updates of its weights), not once a step."""
    parts = _SLOT.split(template)  # text, symbol, text, symbol, ..., text
    names = parts[1::2]
    shape = [parts[0]]
    for k, rest in enumerate(parts[2::2]):
        shape.append(f"{{{k}}}{rest}")
    return _trees("".join(shape)), names


Sizer = Callable[[Callable[[str], float]], tuple[float, float]]
_DEEP = 200  # a tree deeper than this is sized by _size itself (the same recursion limit)


def _sizer(node: Node, depth: int = 0) -> Sizer:
    """_size(node, value) as a function of `value`, the node's kind looked at once for all the
    steps of one shape; the same arithmetic in the same order, so the same floats."""
    kind, args = node.kind, node.args
    if depth > _DEEP:
        raise _TooDeep
    if kind == "slot":
        text = node.text

        def slot(value: Callable[[str], float]) -> tuple[float, float]:
            v = value(text)
            return v, abs(v)

        return slot
    if kind == "bin" and node.text in ("+", "-", "*"):
        left, right = _sizer(args[0], depth + 1), _sizer(args[1], depth + 1)
        if node.text == "+":

            def plus(value: Callable[[str], float]) -> tuple[float, float]:
                (a, sa), (b, sb) = left(value), right(value)
                return a + b, sa + sb

            return plus
        if node.text == "-":

            def minus(value: Callable[[str], float]) -> tuple[float, float]:
                (a, sa), (b, sb) = left(value), right(value)
                return a - b, sa + sb

            return minus

        def times(value: Callable[[str], float]) -> tuple[float, float]:
            (a, sa), (b, sb) = left(value), right(value)
            return a * b, sa * sb

        return times
    return functools.partial(_size, node)  # the rarer kinds: as they always were


class _TooDeep(Exception):
    pass


def _sized(node: Node) -> Sizer:
    try:
        return _sizer(node)
    except _TooDeep:
        return functools.partial(_size, node)


def _size(node: Node, value: Callable[[str], float]) -> tuple[float, float]:
    """(value, size): size is the value with every sum adding the sizes of its terms, the scale
    of the rounding error float64 can leave in the value."""
    kind, args = node.kind, node.args
    if kind == "num":
        v = float(node.text)
        return v, abs(v)
    if kind == "slot":
        v = value(node.text)
        return v, abs(v)
    if kind == "word" and node.text == "e":
        return math.e, math.e
    if kind in ("neg", "half", "paren"):
        v, s = _size(args[0], value)
        scale = {"neg": -1.0, "half": 0.5, "paren": 1.0}[kind]
        return scale * v, abs(scale) * s
    if kind == "bin":
        (a, sa), (b, sb) = _size(args[0], value), _size(args[1], value)
        if node.text == "+":
            return a + b, sa + sb
        if node.text == "-":
            return a - b, sa + sb
        if node.text == "*":
            return a * b, sa * sb
        return a / b, sa / abs(b)
    if kind == "pow":
        (a, sa), (b, _) = _size(args[0], value), _size(args[1], value)
        v = math.exp(b) if args[0].kind == "word" else a**b
        return v, (sa**b if args[1].kind == "num" else abs(v))
    if kind == "call":
        xs = [_size(x, value)[0] for x in args]
        from backprop_cli.ops.functions import FORMULA_FUNCTIONS

        v = FORMULA_FUNCTIONS[node.text].value(*xs)
        return v, abs(v)
    if kind == "if":
        then, cond, other = args
        return _size(then if _size(cond, value)[0] else other, value)
    if kind == "cmp":
        return float(_size(args[0], value)[0] > _size(args[1], value)[0]), 1.0
    raise ValueError(kind)


def is_residue(step: Step) -> bool:
    """Whether the step's value is only rounding left by terms that cancel exactly:
    |value| < 1e-15 × the size of its formula (every sum adding the sizes of its terms)."""
    x = step.value
    if x == 0 or not math.isfinite(x) or not step.terms:
        return False
    if " + " not in step.template and " - " not in step.template:
        return False  # no sum, nothing to cancel
    sizers, names = _parsed(step.template)
    if sizers is None:
        return False
    terms = step.terms
    try:
        size = max(sized(lambda slot: terms[names[int(slot)]])[1] for sized in sizers)
    except (KeyError, ValueError, ZeroDivisionError, OverflowError, TypeError):
        return False
    except RecursionError:  # a batch sum of 10,000 terms is too deep to size: not a residue
        return False
    return abs(x) < RESIDUE * size


def _from_residue(step: Step, residue: set[tuple[str, float]]) -> bool:
    """Whether the step is 0 once the residue among its terms is taken as the 0 it stands for
    (out_o1 = net_o1 is residue too when net_o1 is)."""
    if not residue:
        return False
    zeroed = {k for k, x in step.terms.items() if (k, x) in residue}
    if not zeroed or step.value == 0:
        return False
    sizers, names = _parsed(step.template)
    if sizers is None:
        return False

    def value(slot: str) -> float:
        symbol = names[int(slot)]
        return 0.0 if symbol in zeroed else step.terms[symbol]

    try:
        return all(sized(value)[0] == 0 for sized in sizers)
    except (KeyError, ValueError, ZeroDivisionError, OverflowError, TypeError):
        return False


# --- one formatter for a whole trace ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Numbers:
    """How a trace's numbers are shown: precision, trailing zeros, hyper-parameters as written,
    and residue shown as 0 (the same value wherever it appears: as a value or as a term)."""

    precision: int = 9
    zeros: bool = False
    residue: frozenset[tuple[str, float]] = field(default_factory=frozenset)
    # each value's text, once: a big trace shows the same inputs and outputs many times
    texts: dict[float, str] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def of(cls, steps: Iterable[Step], precision: int = 9, zeros: bool = False) -> Numbers:
        found: set[tuple[str, float]] = set()
        for s in steps:
            if is_residue(s) or _from_residue(s, found):
                found.add((s.id, s.value))
        return cls(precision, zeros, frozenset(found))

    def __call__(self, x: float) -> str:
        text = self.texts.get(x)
        if text is None:
            text = self.texts[x] = number(x, self.precision, zeros=self.zeros)
        return text

    def term(self, symbol: str, x: float) -> str:
        """A number standing for `symbol` in a formula."""
        if self.residue and (symbol, x) in self.residue:
            return self(0.0)
        if symbol in constants():
            return written(x, self.precision)
        return self(x)

    def value(self, step: Step) -> str:
        return self.term(step.id, step.value)

    def substituted(self, step: Step) -> str:
        """The formula with its numbers; a negative number is bracketed unless it leads the
        formula, a bracket or an argument (`tanh(-0.1)`, not `tanh((-0.1))`), and always
        before a power (`(-0.5)^2`)."""
        return self.formula_and_numbers(step)[1]

    def formula_and_numbers(self, step: Step) -> tuple[str, str]:
        """The step's formula in symbols (Step.formula) and with its numbers (substituted)."""
        parts = _SLOT.split(step.template)  # text, symbol, text, symbol, ..., text
        formula = "".join(parts)
        terms, residue, constant = step.terms, self.residue, constants()
        texts = self.texts
        for k in range(1, len(parts), 2):
            symbol = parts[k]
            x = terms[symbol]
            if residue and (symbol, x) in residue:
                text = self(0.0)
            elif symbol in constant:
                text = written(x, self.precision)
            else:
                text = texts.get(x) or self(x)
            if text.startswith("-"):
                before = parts[k - 1]  # the template's text between the last slot and this one
                leads = (k == 1 and not before) or before.endswith(("(", ", "))
                if not leads or parts[k + 1].startswith("^"):
                    text = f"({text})"
            parts[k] = text
        return formula, "".join(parts)
