"""Formulas broken into lines only between terms, never inside a number or an id.

A formula may break before `+`, `-`, `=` (between terms: preferred), before `*`, `/`, `>` or
after a comma (between factors), outside brackets before inside them, and, when nothing else
fits, after a `/` that opens a bracketed denominator, and last between an operator and its
operand. A piece still wider than the line is cut with an ellipsis, never silently.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from rich.cells import cell_len
from rich.text import Text

_TERM = frozenset({"+", "-", "=", "if", "else"})  # break here first
_FACTOR = frozenset({"*", "/", ">"})
_OPERATORS = _TERM | _FACTOR
FINEST = 1000  # after `/(`: only when nothing else fits


def text_width(text: str) -> int:
    """The cells a line takes on a terminal: its length when it is printable ASCII (most lines
    are, and len is quick), else as rich counts them."""
    return len(text) if text.isascii() and text.isprintable() else cell_len(text)


@functools.lru_cache(maxsize=4096)
def pieces(text: str) -> tuple[tuple[int, str], ...]:
    """(strength, piece): the formula cut at every place it may break; a piece carries the space
    before it, and strength says how poor a break is: between terms before between factors,
    outside brackets before inside them (two levels per bracket)."""
    out: list[tuple[int, str]] = []
    for strength, run in _runs(text):
        for fine, piece in _fine(strength, run):
            # last of all, an operator may end a line and leave its operand to the next
            op, space, operand = piece.lstrip(" ").partition(" ")
            if space and op in _OPERATORS and operand:
                out.append((fine, piece[: len(piece) - len(operand) - 1]))
                out.append((FINEST + 1, " " + operand))
            else:
                out.append((fine, piece))
    return tuple(out)


def _runs(text: str, strengths: bool = True) -> list[tuple[int, str]]:
    """(strength, run): the formula cut before each operator and after each comma, an operator
    keeping its operand (without `strengths`, every strength is 0, found quicker)."""
    words = text.split(" ")
    brackets = strengths and ("(" in text or ")" in text)
    runs: list[tuple[int, str]] = []
    strength, run = 0, words[0]
    depth = max(run.count("(") - run.count(")"), 0) if brackets else 0
    before = run
    for word in words[1:]:
        if before in _OPERATORS or not (word in _OPERATORS or before.endswith(",")):
            run += " " + word
        else:
            runs.append((strength, run))
            strength, run = (2 * depth + (word not in _TERM)) * strengths, " " + word
        if brackets:
            depth = max(depth + word.count("(") - word.count(")"), 0)
        before = word
    runs.append((strength, run))
    return runs


def _fine(strength: int, run: str) -> list[tuple[int, str]]:
    """A run cut where a fraction's denominator may start a line: `e^0.13/` then
    `(e^0.13 + ...`."""
    if "/(" not in run:
        return [(strength, run)]
    parts = run.split("/(")
    middle = [(FINEST, f"({part}/") for part in parts[1:-1]]
    return [(strength, parts[0] + "/"), *middle, (FINEST, "(" + parts[-1])]


def atom_width(text: str) -> int:
    """The widest piece that is never broken but as a last resort: one of pieces() with its
    operand joined to its operator again (a table measures every formula it shows)."""
    measure = _measure(text)
    return max(
        measure(piece.lstrip(" "))
        for _, run in _runs(text, strengths=False)
        for _, piece in _fine(0, run)
    )


def _measure(text: str) -> Callable[[str], int]:
    """text_width for the parts of `text`: len when it is printable ASCII (so is every part)."""
    return len if text.isascii() and text.isprintable() else text_width


def wrap(text: str, width: int, first: int | None = None) -> list[str]:
    """The formula in lines of at most `width` cells (`first` for the first line), broken at
    the best places: a part that does not fit on a line of its own is broken at its own best
    places, the first piece continuing the line before."""
    if text_width(text) <= (width if first is None else min(width, first)):
        return [text]
    lines: list[str] = []
    current = ""
    rooms = (max(width if first is None else first, 1), max(width, 1))  # first line, the rest
    measure = _measure(text)

    def place(seq: list[tuple[int, str]]) -> None:
        nonlocal current
        level = min([strength for strength, _ in seq[1:]]) if len(seq) > 1 else None
        groups: list[list[tuple[int, str]]] = []
        for item in seq:
            if item[0] == level or not groups:
                groups.append([item])
            else:
                groups[-1].append(item)
        for group in groups:
            joined = "".join([piece for _, piece in group])
            room = rooms[bool(lines)]
            if current and measure(current + joined) <= room:
                current += joined
            elif len(group) > 1 and measure(joined.lstrip(" ")) > room:
                place([(-1, group[0][1]), *group[1:]])
            else:
                if current:
                    lines.append(current)
                current = _cut(joined.lstrip(" "), rooms[bool(lines)], measure)

    place(list(pieces(text)))
    lines.append(current)
    return lines


def _cut(text: str, width: int, measure: Callable[[str], int]) -> str:
    """The text, cut with an ellipsis when it is wider than `width`."""
    if (measure is len or text.isprintable()) and measure(text) <= width:
        return text  # what rich makes of it too, quicker
    cut = Text(text)
    cut.truncate(width, overflow="ellipsis")
    return cut.plain
