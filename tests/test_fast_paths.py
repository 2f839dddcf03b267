"""The quick paths of a big step table give what the general ones give, byte for byte: formulas
cut by one regex, line breaks reused for formulas of one shape, residue sized by functions made
once per shape, a row's formula and numbers from one split, the formula width found with
candidates dropped early."""

from __future__ import annotations

import random
import re

import pytest

from backprop_cli.engine.passes import step
from backprop_cli.engine.trace import Step
from backprop_cli.render import wrap as W
from backprop_cli.render.mathtex import parse
from backprop_cli.render.numbers import Numbers, _parsed, _size, is_residue
from backprop_cli.render.table import StepTable
from backprop_cli.render.wrap import text_width
from backprop_cli.specs.validate import load_spec

from .test_display import CONFIGS

WORDS = [
    "w1", "net_h1", "0.5", "-0.25", "(-0.3)", "(a", "b)", "(", ")", "+", "-", "*", "/", ">",
    "=", "if", "else", "f(x,", "y)", ",", "a,", "e^0.13/(e^0.13", "η", "dE_total/dw5", "1e-05",
    "",
]  # fmt: skip


def formulas(seed: int, count: int) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        text = "".join(
            rng.choice(WORDS) + rng.choice([" ", " ", " ", "  ", ""])
            for _ in range(rng.randint(1, 12))
        )
        out.append(text.strip() if rng.random() < 0.5 else text)
    return out


def general_atom(text: str) -> int:
    """atom_width word by word, as it was before the regex."""
    measure = W._measure(text)
    return max(
        measure(piece.lstrip(" "))
        for _, run in W._runs(text, strengths=False)
        for _, piece in W._fine(0, run)
    )


@pytest.mark.parametrize("seed", range(3))
def test_regex_cuts_are_the_word_by_word_cuts(seed: int) -> None:
    for text in formulas(seed, 3000):
        assert W.pieces.__wrapped__(text) == W._pieces(text), text
        assert W.atom_width(text) == general_atom(text), text


def test_the_regex_sees_operators_only_as_whole_words() -> None:
    assert W._CUTS.split("a - - b") == ["a", "- - b"]  # never right after an operator
    assert W._CUTS.split("f(a, b) + c") == ["f(a,", "b)", "+ c"]  # after a comma
    assert W._CUTS.split("x if y > 0 else z") == ["x", "if y", "> 0", "else z"]
    assert W._CUTS.split("a -b + iffy") == ["a -b", "+ iffy"]


@pytest.mark.parametrize("seed", range(3))
def test_a_reused_layout_is_the_layout(seed: int) -> None:
    """Formulas of one shape (the same pieces' strengths and lengths) break at the same places:
    the second is laid out from the first one's plan, and gets its own fresh layout's lines."""
    rng = random.Random(seed)
    for text in formulas(seed + 10, 2000):
        # the same shape: every digit replaced by another
        other = "".join(rng.choice("0123456789") if c.isdigit() else c for c in text)
        for width, first in ((1, None), (4, None), (9, 7), (14, None), (25, 20)):
            W._PLANS.clear()
            W.wrap(text, width, first)
            cut = W.pieces(other)
            rooms = (max(width if first is None else first, 1), max(width, 1))
            fresh = W._layout([s for s, _ in cut], [p for _, p in cut], rooms, W._measure(other))[0]
            if text_width(other) > (width if first is None else min(width, first)):
                assert W.wrap(other, width, first) == fresh, (text, other, width)


def test_wrap_keeps_numbers_whole_through_a_reused_layout() -> None:
    W._PLANS.clear()
    assert W.wrap("0.016830711 * 0.21245352", 18) == ["0.016830711", "* 0.21245352"]
    assert W.wrap("0.016830712 * 0.21245353", 18) == ["0.016830712", "* 0.21245353"]
    assert W.wrap("-0.91 - 0.5 * (-0.008282917)", 20) == ["-0.91 - 0.5", "* (-0.008282917)"]
    assert W.wrap("-0.92 - 0.5 * (-0.008282913)", 20) == ["-0.92 - 0.5", "* (-0.008282913)"]
    assert W.wrap("-0.93 - 0.5 * (-0.008282911)", 14) == ["-0.93 - 0.5 *", "(-0.008282911)"]


@pytest.mark.parametrize("seed", range(2))
def test_residue_sizers_are_size(seed: int) -> None:
    """The functions made once per shape give _size's (value, size), float for float."""
    rng = random.Random(seed)
    for _ in range(500):
        count = rng.randint(1, 6)
        template = ""
        for k in range(count):
            op = rng.choice([" + ", " - ", " * "]) if k else ""
            factor = rng.choice(["{x%d}", "{x%d} * 1", "({x%d} - {y%d})", "-{x%d}", "{x%d}^2"])
            template += op + factor.replace("%d", str(k))
        terms = {f"{s}{k}": rng.uniform(-2, 2) for s in "xy" for k in range(count)}
        sizers, names = _parsed(template)
        assert sizers is not None
        slots = iter(range(len(names)))
        tree = parse(re.sub(r"\{[^{}]+\}", lambda _, n=slots: f"{{{next(n)}}}", template))
        value = lambda slot, t=terms, n=names: t[n[int(slot)]]  # noqa: E731
        assert sizers[0](value) == _size(tree, value), template


def test_residue_found_as_before() -> None:
    terms = {"a": -0.4, "b": 0.3, "c": 0.1}
    step = Step("x", "forward", 0, 0, None, "{a} * 1 + {b} * 1 + {c} * 1", terms, -2.8e-17, ())
    assert is_residue(step)
    assert not is_residue(Step("x", "forward", 0, 0, None, "{a} * {b}", terms, -2.8e-17, ()))
    # a sum deeper than the functions made once per shape go: sized by _size itself
    many = " + ".join(f"{{t{k}}}" for k in range(300))
    terms = {f"t{k}": 0.1 for k in range(300)}
    assert is_residue(Step("y", "update", 0, None, 0, many, terms, 1e-20, ()))
    assert not is_residue(Step("y", "update", 0, None, 0, many, terms, 1e-13, ()))


@pytest.mark.parametrize("config", CONFIGS)
def test_formula_and_numbers_are_formula_and_substituted(config: str) -> None:
    trace = step(load_spec(config))
    for shown in (Numbers.of(trace.steps), Numbers(2), Numbers(4, zeros=True)):
        for s in trace.steps:
            formula, numbers = shown.formula_and_numbers(s)
            assert formula == s.formula
            assert numbers == shown.substituted(s)


def test_negative_numbers_are_bracketed_where_they_always_were() -> None:
    shown = Numbers()
    cases = {
        "{a} - {b}": "-0.5 - (-0.25)",
        "tanh({a})": "tanh(-0.5)",
        "f({b}, {a})": "f(-0.25, -0.5)",
        "{a}^2": "(-0.5)^2",
        "({a})^2": "(-0.5)^2",
        "x{a}": "x(-0.5)",
        "{b}{a}": "-0.25(-0.5)",
        " {a}": " (-0.5)",
    }
    for template, expected in cases.items():
        s = Step("x", "forward", 0, 0, None, template, {"a": -0.5, "b": -0.25}, 0.0, ())
        assert shown.substituted(s) == expected, template


def reference_split(table: StepTable, lowest: int, highest: int, free: int) -> int:
    """_split as it was: every candidate measured whole, the first lowest in the set's order."""

    def lines(text: str, width: int) -> int:
        return 1 if text_width(text) <= width else len(W.wrap(text, width))

    def height(fw: int) -> tuple[int, int, int]:
        counts = [(lines(r[1], fw), lines(r[2], free - fw)) for r in table.rows]
        return (
            sum(max(c) for c in counts),
            sum(sum(c) for c in counts),
            abs(fw * table.high[2] - (free - fw) * table.high[1]),
        )

    proportional = lowest + (highest - lowest) * table.high[1] // (table.high[1] + table.high[2])
    natural = {text_width(r[1]) for r in table.rows} | {free - text_width(r[2]) for r in table.rows}
    fitting = sorted(w for w in natural if lowest <= w <= highest)
    candidates = {proportional, *(lowest + (highest - lowest) * k // 8 for k in range(9))}
    candidates.update(fitting[:: max(len(fitting) // 8, 1)])
    return min(candidates, key=height)


@pytest.mark.parametrize("config", CONFIGS)
def test_split_drops_candidates_without_changing_the_width(config: str) -> None:
    from backprop_cli.engine.passes import iter_phases

    trace = step(load_spec(config))
    shown = Numbers.of(trace.steps)
    for _, group in iter_phases(trace):
        table = StepTable("t", group, shown)
        lo1, lo2 = table.low[1:3]
        for free in range(lo1 + lo2, table.high[1] + table.high[2] + 2):
            assert table._split(lo1, free - lo2, free) == reference_split(
                table, lo1, free - lo2, free
            ), (config, free)
