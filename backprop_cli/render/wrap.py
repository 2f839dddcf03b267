"""Formulas broken into lines only between terms, never inside a number or an id.

A formula may break before `+`, `-`, `=` (between terms: preferred), before `*`, `/`, `>` or
after a comma (between factors), outside brackets before inside them, and, when nothing else
fits, after a `/` that opens a bracketed denominator, and last between an operator and its
operand. A piece still wider than the line is cut with an ellipsis, never silently.
"""

from __future__ import annotations

import functools
import re
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


# Where _runs cuts a formula that has no double, leading or trailing space and no `/(`: after a
# comma, and before an operator that does not follow another (the same cuts, found by re).
_CUTS = re.compile(
    r" (?:(?<=, )|(?<! [-+=*/>] )(?<!^[-+=*/>] )(?<! if )(?<!^if )(?<! else )(?<!^else )"
    r"(?=(?:[-+=*/>]|if|else)(?: |$)))"
)


def _simple(text: str) -> bool:
    """Whether _CUTS finds _runs's runs: no `/(`, no empty word."""
    return "/(" not in text and "  " not in text and text[:1] != " " and text[-1:] != " "


@functools.lru_cache(maxsize=4096)
def pieces(text: str) -> tuple[tuple[int, str], ...]:
    """(strength, piece): the formula cut at every place it may break; a piece carries the space
    before it, and strength says how poor a break is: between terms before between factors,
    outside brackets before inside them (two levels per bracket)."""
    if not _simple(text):
        return _pieces(text)
    out: list[tuple[int, str]] = []
    append, operators, terms = out.append, _OPERATORS, _TERM
    brackets = "(" in text or ")" in text
    depth = 0
    for k, run in enumerate(_CUTS.split(text)):
        op, space, operand = run.partition(" ")
        strength = 2 * depth + (op not in terms) if k else 0
        lead = " " if k else ""
        if space and operand and op in operators:
            # last of all, an operator may end a line and leave its operand to the next
            append((strength, lead + op))
            append((FINEST + 1, " " + operand))
        else:
            append((strength, lead + run))
        if brackets:
            closed = run.count(")")
            if depth >= closed:  # it cannot go below 0 in this run
                depth += run.count("(") - closed
            else:
                for word in run.split(" "):
                    depth = max(depth + word.count("(") - word.count(")"), 0)
    return tuple(out)


def _pieces(text: str) -> tuple[tuple[int, str], ...]:
    """pieces() of any text, word by word."""
    out: list[tuple[int, str]] = []
    for strength, run in _runs(text):
        for fine, piece in _fine(strength, run):
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
    if _simple(text):
        return max(map(measure, _CUTS.split(text)))
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
    rooms = (max(width if first is None else first, 1), max(width, 1))  # first line, the rest
    measure = _measure(text)
    cut = pieces(text)
    texts = [piece for _, piece in cut]
    if measure is not len or not _simple(text):
        return _layout([strength for strength, _ in cut], texts, rooms, measure)[0]
    # printable ASCII, each piece but the first after one space: where the lines break follows
    # from the pieces' strengths and lengths alone, the same for the many formulas of one shape
    shape = (rooms, tuple([strength for strength, _ in cut]), tuple(map(len, texts)))
    plan = _PLANS.get(shape)
    if plan is None:
        if len(_PLANS) >= 10000:
            _PLANS.clear()
        lines, _PLANS[shape] = _layout(list(shape[1]), texts, rooms, len)
        return lines
    lines = []
    current = ""
    for new, a, b, room in plan:
        joined = "".join(texts[a:b])
        if new:
            if current:
                lines.append(current)
            current = _cut(joined.lstrip(" "), room, len)
        else:
            current += joined
    lines.append(current)
    return lines


# A layout: which pieces [a, b) start a line (cut to `room`) or continue it, in order.
Plan = tuple[tuple[bool, int, int, int], ...]
_PLANS: dict[tuple[tuple[int, int], tuple[int, ...], tuple[int, ...]], Plan] = {}


def _layout(
    strengths: list[int], texts: list[str], rooms: tuple[int, int], measure: Callable[[str], int]
) -> tuple[list[str], Plan]:
    """The lines of pieces `texts`, and how they were laid out (see wrap)."""
    lines: list[str] = []
    plan: list[tuple[bool, int, int, int]] = []
    current = ""

    def place(seq: list[int], start: int) -> None:
        """Lay out the pieces start, start + 1, ... of these strengths."""
        nonlocal current
        # groups: each starts at a piece of the weakest strength after the first (or at it)
        if len(seq) > 1:
            level = min(seq[1:])
            starts = [0, *[i for i in range(1, len(seq)) if seq[i] == level], len(seq)]
        else:
            starts = [0, 1]
        for k in range(len(starts) - 1):
            a, b = start + starts[k], start + starts[k + 1]
            joined = texts[a] if b - a == 1 else "".join(texts[a:b])
            room = rooms[bool(lines)]
            if current and measure(current + joined) <= room:
                current += joined
                plan.append((False, a, b, room))
            elif b - a > 1 and measure(joined.lstrip(" ")) > room:
                place([-1, *seq[starts[k] + 1 : starts[k + 1]]], a)
            else:
                if current:
                    lines.append(current)
                room = rooms[bool(lines)]
                current = _cut(joined.lstrip(" "), room, measure)
                plan.append((True, a, b, room))

    place(strengths, 0)
    lines.append(current)
    return lines, tuple(plan)


def _cut(text: str, width: int, measure: Callable[[str], int]) -> str:
    """The text, cut with an ellipsis when it is wider than `width`."""
    if (measure is len or text.isprintable()) and measure(text) <= width:
        return text  # what rich makes of it too, quicker
    cut = Text(text)
    cut.truncate(width, overflow="ellipsis")
    return cut.plain


def words(text: Text, width: int) -> Text:
    """The text broken at spaces into lines of at most `width` cells, its styles kept; a word
    wider than the line stands whole on a line of its own, past the width (a number or an id is
    never split or cut). Shown as it is: no_wrap, overflow "ignore" (print it uncropped)."""
    lines: list[Text] = []
    for line in text.split("\n", allow_blank=True):
        plain = line.plain
        start = end = -1  # the current line's first and last character (of words)
        for word in re.finditer(r"\S+", plain):
            if start >= 0 and text_width(plain[start : word.end()]) > width:
                lines.append(line[start:end])
                start = -1
            if start < 0:
                start = word.start()
            end = word.end()
        lines.append(line[start:end] if start >= 0 else Text(""))
    out = Text("\n", style=text.style).join(lines)
    out.no_wrap, out.overflow, out.end = True, "ignore", text.end
    return out
