"""Every step's "with numbers" text reproduces its value, at the extremes too.

For every activation and loss of the catalogue, over nets of ±40, ±710, ±800 (outputs of exactly
0 and 1 in float64) and targets 0 and 1, `step` is run and each step's substituted text is
evaluated by a small evaluator written here (no eval): where the value is finite, no part of the
text may be inf, nan or ln(0), and the text must give the value to 1e-12 relative. A row that
shows `(-inf) * 0` or `ln(1 - 1)` beside a finite value fails here.
"""

from __future__ import annotations

import math
import re
from typing import Any

import pytest
import yaml

from backprop_cli import loads_spec, step
from backprop_cli.engine.trace import Step
from backprop_cli.ops import ACTIVATIONS, LOSSES
from backprop_cli.render.numbers import Numbers

NETS = (40.0, -40.0, 710.0, -710.0, 800.0, -800.0)
_TOKEN = re.compile(r"\s*(\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|[A-Za-z_][A-Za-z0-9_]*|\*\*|[-+*/^(),>½])")


class Degenerate(Exception):
    """A part of the text is not a finite number (inf, nan, ln(0), x/0)."""


def _finite(x: float, what: str) -> float:
    if not math.isfinite(x):
        raise Degenerate(f"{what} gives {x}")
    return x


def _call(name: str, args: list[float]) -> float:
    x = args[0]
    try:
        if name in ("ln", "log"):
            return math.log(x)
        if name == "log1p":
            return math.log1p(x)
        if name == "exp":
            return math.exp(x)
        if name == "tanh":
            return math.tanh(x)
        if name == "sqrt":
            return math.sqrt(x)
        if name == "abs":
            return abs(x)
        if name == "max":
            return max(args)
    except (ValueError, OverflowError) as e:
        raise Degenerate(f"{name}({x!r}): {e}") from None
    raise AssertionError(f"unknown function {name}")


class Evaluate:
    """Python-like arithmetic over a rendered formula: + - * / ^ (and **), ½(…), e^x, calls,
    `a if x > y else b` (only the branch taken is evaluated); every intermediate must be finite."""

    def __init__(self, text: str) -> None:
        self.tokens, pos = [], 0
        text = text.rstrip()
        while pos < len(text):
            m = _TOKEN.match(text, pos)
            assert m, f"cannot read {text!r} at {pos}"
            self.tokens.append(m.group(1))
            pos = m.end()
        self.i = 0

    def peek(self) -> str:
        return self.tokens[self.i] if self.i < len(self.tokens) else ""

    def take(self, want: str | None = None) -> str:
        tok = self.tokens[self.i]
        assert want is None or tok == want, (want, tok, self.tokens)
        self.i += 1
        return tok

    def run(self) -> float:
        tree = self.ternary()
        assert self.i == len(self.tokens), self.tokens[self.i :]
        return tree()

    # Each parser returns a thunk, so that a conditional evaluates one branch.
    def ternary(self) -> Any:
        then = self.compare()
        if self.peek() != "if":
            return then
        self.take()
        cond = self.compare()
        self.take("else")
        other = self.ternary()
        return lambda: then() if cond() else other()

    def compare(self) -> Any:
        left = self.sum()
        if self.peek() != ">":
            return left
        self.take()
        right = self.sum()
        return lambda: left() > right()

    def sum(self) -> Any:
        node = self.product()
        while self.peek() in ("+", "-"):
            op = self.take()
            node = _binary(op, node, self.product())
        return node

    def product(self) -> Any:
        node = self.unary()
        while self.peek() in ("*", "/"):
            op = self.take()
            node = _binary(op, node, self.unary())
        return node

    def unary(self) -> Any:
        if self.peek() == "-":
            self.take()
            x = self.unary()
            return lambda: -x()
        if self.peek() == "½":
            self.take()
            x = self.unary()
            return lambda: 0.5 * x()
        return self.power()

    def power(self) -> Any:
        base = self.primary()
        if self.peek() in ("^", "**"):
            self.take()
            exponent = self.unary()
            return lambda: _pow(base(), exponent())
        return base

    def primary(self) -> Any:
        tok = self.take()
        if tok == "(":
            inner = self.ternary()
            self.take(")")
            return inner
        if tok[0].isdigit():
            x = float(tok)
            return lambda: x
        if tok in ("inf", "nan"):
            raise Degenerate(f"the text shows {tok}")
        if tok == "e":
            return lambda: math.e
        self.take("(")
        args = [self.ternary()]
        while self.peek() == ",":
            self.take()
            args.append(self.ternary())
        self.take(")")
        return lambda: _finite(_call(tok, [a() for a in args]), tok)


def _binary(op: str, a: Any, b: Any) -> Any:
    def value() -> float:
        x, y = a(), b()
        if op == "/":
            return _div(x, y)
        return _finite({"+": x + y, "-": x - y, "*": x * y}[op], op)

    return value


def _div(a: float, b: float) -> float:
    if b == 0:
        raise Degenerate(f"{a!r}/0")
    return _finite(a / b, "/")


def _pow(a: float, b: float) -> float:
    try:
        return _finite(math.exp(b) if a == math.e else a**b, "^")
    except OverflowError as e:
        raise Degenerate(f"{a!r}^{b!r}: {e}") from None


def shown_value(text: str) -> float:
    """The value of a "with numbers" text; its last side where it reads `chain = simplified`."""
    sides = text.split(" = ")
    values = [Evaluate(side).run() for side in sides]  # every side free of inf and ln(0)
    return values[-1]


def problem(s: Step) -> str | None:
    """Why step s's numbers do not show how its value was found, or None."""
    if not math.isfinite(s.value):
        return None
    shown = Numbers()
    text = shown.substituted(s)
    if re.search(r"\b(inf|nan)\b", text):
        return f"shows {text!r} for {s.value!r}"
    try:
        x = shown_value(s.substituted())
    except Degenerate as e:
        return f"{s.substituted()!r}: {e}, for {s.value!r}"
    if abs(x - s.value) > 1e-12 * max(abs(x), abs(s.value)):
        return f"{s.substituted()!r} gives {x!r}, not {s.value!r}"
    return None


def _config(layers: list[dict[str, Any]], loss: str, targets: list[float]) -> dict[str, Any]:
    return {
        "inputs": 1,
        "layers": layers,
        "loss": loss,
        "training": {"learning_rate": 0.1},
        "samples": [{"inputs": [1], "targets": targets}],
    }


def _output_cases() -> list[tuple[str, str, float, tuple[float, ...]]]:
    """(output activation, loss, net, targets): every pair the catalogue allows."""
    cases = []
    for loss in LOSSES.values():
        for name in loss.outputs or ACTIVATIONS.names():
            act = ACTIVATIONS[name]
            targets: list[tuple[float, ...]] = [(0.0,), (1.0,)]
            if not act.elementwise:
                targets = [(1.0, 0.0), (0.0, 1.0)]
            for net in NETS:
                for t in targets:
                    cases.append((name, loss.name, net, t))
    return cases


OUTPUT_CASES = _output_cases()
HIDDEN_CASES = [(a.name, net) for a in ACTIVATIONS.values() if a.hidden for net in NETS]


def _problems(cfg: dict[str, Any]) -> list[str]:
    trace = step(loads_spec(yaml.safe_dump(cfg)))
    return [f"{s.id}: {p}" for s in trace.steps if (p := problem(s))]


@pytest.mark.parametrize(("activation", "loss", "net", "targets"), OUTPUT_CASES)
def test_output_layer_at_extremes(
    activation: str, loss: str, net: float, targets: tuple[float, ...]
) -> None:
    weights = [[net]] if len(targets) == 1 else [[net], [0.0]]
    layer = {"activation": activation, "weights": weights, "bias": [0.0] * len(targets)}
    assert _problems(_config([layer], loss, list(targets))) == []


@pytest.mark.parametrize(("activation", "net"), HIDDEN_CASES)
def test_hidden_layer_at_extremes(activation: str, net: float) -> None:
    hidden = {"activation": activation, "weights": [[net]], "bias": [0.0]}
    out = {"activation": "linear", "weights": [[1.0]], "bias": [0.0]}
    assert _problems(_config([hidden, out], "half_sse", [0.0])) == []


def test_the_evaluator_refuses_what_the_rows_showed() -> None:
    """The cases of issue 20: each is degenerate, or wrong, to this evaluator."""
    for text in ("(-inf) * 0", "ln(1 - 1.0)", "-(0.0 * ln(1.0) + (1 - 0.0) * ln(1 - 1.0))/1.0"):
        with pytest.raises(Degenerate):
            shown_value(text)
    assert shown_value("1/(1 + e^(-(-0.5)))") == pytest.approx(1 / (1 + math.exp(0.5)), rel=1e-15)
    assert shown_value("(2.0 if (-1.0) > 0 else 0.1 * (-1.0))") == -0.1
    assert shown_value("½(0.5 - 1.5)^2") == 0.5
    assert shown_value("max(0, 1.5) + log1p(e^(-abs(-2.0)))") == pytest.approx(
        1.5 + math.log1p(math.exp(-2)), rel=1e-15
    )
