"""No number is cut or split at any width from 20 columns up, in any command.

For each command, the numbers its JSON holds are written as the tables write them; those that a
250-column output shows whole must show whole at every width from 20 to 120 (on one line, not
cut with an ellipsis), and no number-like piece may appear that the wide output does not have
(half of a number split across two lines, or a number cut short). No line is wider than the
width, and none ends in a space.
"""

from __future__ import annotations

import functools
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from backprop_cli.render.numbers import number

from .clihelp import run

ROOT = Path(__file__).parents[1]
CONFIGS = ROOT / "configs"
DEEP = str(CONFIGS / "deep-softmax.yaml")
ANSWERS = str(CONFIGS / "answers-example.yaml")
# Every width where layouts change most, then every fourth; BACKPROP_ALL_WIDTHS=1 tries each
# width to 120 (about twice as long).
ALL = os.environ.get("BACKPROP_ALL_WIDTHS") == "1"
WIDTHS = range(20, 121) if ALL else [*range(20, 61), *range(64, 121, 4)]
WIDE = 250

# name: the command as the table shows it, and the same as JSON (the values it holds)
LOG = str(CONFIGS / "losses.csv")
PROGRAM = str(CONFIGS / "transposed.json")
COMMANDS: dict[str, tuple[list[str], list[str]]] = {
    "step": (["step"], ["step", "-f", "json"]),
    "step-deep": (["step", DEEP], ["step", DEEP, "-f", "json"]),
    "step-matrix": (["step", "--view", "matrix"], ["step", "--view", "matrix", "-f", "json"]),
    "step-round": (["step", "--round", "4"], ["step", "--round", "4", "-f", "json"]),
    "explain": (["explain", "dE_total/dw1"], ["explain", "dE_total/dw1", "-f", "json"]),
    "explain-deep": (["explain", "w1+", DEEP], ["explain", "w1+", DEEP, "-f", "json"]),
    "explain-matrix": (
        ["explain", "delta_h", "--view", "matrix"],
        ["explain", "delta_h", "--view", "matrix", "-f", "json"],
    ),
    "check": (["check", ANSWERS], ["check", ANSWERS, "-f", "json"]),
    "check-round": (["check", ANSWERS, "--round", "4"], ["check", ANSWERS, "--round", "4",
        "-f", "json"]),
    "check-program": (["check", PROGRAM], ["check", PROGRAM, "-f", "json"]),
    "check-log": (["check", LOG], ["check", LOG, "-f", "json"]),
    "gradcheck": (["gradcheck"], ["gradcheck", "-f", "json"]),
    "gradcheck-deep": (["gradcheck", DEEP], ["gradcheck", DEEP, "-f", "json"]),
    "train": (["train", "-n", "100", "--every", "20"], ["train", "-n", "100", "-f", "json"]),
    "train-deep": (["train", DEEP, "-n", "50"], ["train", DEEP, "-n", "50", "-f", "json"]),
}  # fmt: skip

FEWEST = {"check-log": 2, "explain-matrix": 6}  # numbers on screen; elsewhere at least 8

# A number as the outputs write one: a sign, digits with at most one point, an exponent; not
# part of an id (w1, b_h2) or of a dotted path (1.2.1).
NUMBER = re.compile(r"(?<![\w.])[-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?(?![\w]|\.\d)")


def floats(doc: Any) -> Iterator[float]:
    """Every number with a fractional part that a JSON document holds."""
    if isinstance(doc, dict):
        for value in doc.values():
            yield from floats(value)
    elif isinstance(doc, list):
        for value in doc:
            yield from floats(value)
    elif isinstance(doc, float) and not doc.is_integer():
        yield doc  # integers (counts, epochs, lines) are not what a width could cut


def written(x: float) -> set[str]:
    """The ways the tables write x: 9 decimals (tables), 10 significant digits and 1e-07
    (gradcheck), 6 decimals (the curve's axis), and as a program writes it (check shows the
    answer as the user wrote it: 0.38249999999999995)."""
    return {number(x, 9), f"{x:.10g}", f"{x:.1e}", number(x, 6), repr(x)}


def table(args: list[str], width: int) -> str:
    result = run(*args, env={"COLUMNS": str(width)})
    assert result.exit_code in (0, 1), result.stderr  # check exits 1 for a wrong answer
    assert "Traceback" not in result.stderr
    return result.stdout


@functools.cache
def reference(name: str) -> tuple[frozenset[str], frozenset[str]]:
    """(the JSON's numbers as the wide table shows them whole, every number of the wide table)"""
    shown, as_json = COMMANDS[name]
    result = run(*as_json)
    assert result.exit_code in (0, 1), result.stderr
    values = list(floats(json.loads(result.stdout)))
    wide = table(shown, WIDE)
    tokens = frozenset(NUMBER.findall(wide))
    found = {text for x in values for text in written(x) if text in tokens}
    # most of the JSON's numbers are on screen (the rest: full-precision copies of the same)
    assert len(found) >= FEWEST.get(name, 8), (name, sorted(found))
    return frozenset(found), tokens


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_number_whole_at_every_width(name: str) -> None:
    found, tokens = reference(name)
    shown = COMMANDS[name][0]
    for width in WIDTHS:
        out = table(shown, width)
        lines = out.splitlines()
        here = NUMBER.findall(out)
        # a number wider than the terminal (an answer of 20 digits) goes past it whole
        longer = {t for t in tokens if len(t) > width}
        missing = (found | longer) - set(here)
        assert not missing, (width, sorted(missing))
        pieces = set(here) - tokens  # a piece of a number cut or split
        assert not pieces, (width, sorted(pieces))
        assert not re.search(r"\d…", out), width
        too_wide = [line for line in lines if len(line) > width and not overflows(line)]
        assert not too_wide, (width, too_wide)
        padded = [line for line in lines if line != line.rstrip()]
        assert not padded, (width, padded[:3])


def overflows(line: str) -> bool:
    """Whether the line is one word that holds a number (with the comma after it): the only
    line that may pass the width, as a number wider than the terminal must."""
    word = line.strip()
    return " " not in word and bool(NUMBER.findall(word))


def test_the_number_pattern_finds_what_is_cut_or_split() -> None:
    """The test above sees a cut number and a split one (gradcheck's at 40 columns, before)."""
    found, tokens = frozenset({"0.0004385677345"}), frozenset({"0.0004385677345"})
    cut = "w1    0.000438…   0.000438567…   5.6…"
    split = "w1 = 0.00043856\n77345"
    for out in (cut, split):
        here = set(NUMBER.findall(out))
        assert found - here or here - tokens
    assert NUMBER.findall("w1 b_h2 1.2.1 net_o1 -0.5 (+2e-05) 3.") == ["-0.5", "+2e-05", "3"]


def test_words_break_at_spaces_and_a_long_number_goes_whole() -> None:
    from rich.text import Text

    from backprop_cli.render.wrap import words

    said = Text("you wrote -0.022708950023721208, expected -0.022740242")
    said.stylize("bold", 0, 3)
    out = words(said, 20)
    assert out.plain.split("\n") == [
        "you wrote",
        "-0.022708950023721208,",
        "expected",
        "-0.022740242",
    ]
    assert out.overflow == "ignore" and out.spans[0].end == 3  # the style kept
