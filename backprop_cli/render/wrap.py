"""Formulas broken into lines only between terms, never inside a number or an id.

A formula may break before `+`, `-`, `=` (between terms: preferred), before `*`, `/`, `>` or
after a comma (between factors), outside brackets before inside them, and, when nothing else
fits, after a `/` that opens a bracketed denominator, and last between an operator and its
operand. A piece still wider than the line is cut with an ellipsis, never silently.
"""

from __future__ import annotations

import functools

from rich.cells import cell_len
from rich.text import Text

_TERM = frozenset({"+", "-", "=", "if", "else"})  # break here first
_FACTOR = frozenset({"*", "/", ">"})
FINEST = 1000  # after `/(`: only when nothing else fits


@functools.lru_cache(maxsize=4096)
def pieces(text: str) -> tuple[tuple[int, str], ...]:
    """(strength, piece): the formula cut at every place it may break; a piece carries the space
    before it, and strength says how poor a break is: between terms before between factors,
    outside brackets before inside them (two levels per bracket)."""
    out: list[tuple[int, str]] = []
    depth = 0
    words = text.split(" ")
    for i, word in enumerate(words):
        if i == 0:
            out.append((0, word))
        elif words[i - 1] in _TERM or words[i - 1] in _FACTOR:
            out[-1] = (out[-1][0], out[-1][1] + " " + word)  # an operator stays with its operand
        elif word in _TERM:
            out.append((2 * depth, " " + word))
        elif word in _FACTOR or words[i - 1].endswith(","):
            out.append((2 * depth + 1, " " + word))
        else:
            out[-1] = (out[-1][0], out[-1][1] + " " + word)
        depth = max(depth + word.count("(") - word.count(")"), 0)
    # a fraction's denominator may start a line: `e^0.13/` then `(e^0.13 + ...`
    fine: list[tuple[int, str]] = []
    for strength, piece in out:
        parts = piece.split("/(")
        fine.append((strength, parts[0] + ("/" if len(parts) > 1 else "")))
        for k, part in enumerate(parts[1:], 1):
            fine.append((FINEST, "(" + part + ("/" if k < len(parts) - 1 else "")))
    # last of all, an operator may end a line and leave its operand to the next
    last: list[tuple[int, str]] = []
    for strength, piece in fine:
        op, space, operand = piece.lstrip(" ").partition(" ")
        if space and (op in _TERM or op in _FACTOR) and operand:
            last += [
                (strength, piece[: len(piece) - len(operand) - 1]),
                (FINEST + 1, " " + operand),
            ]
        else:
            last.append((strength, piece))
    return tuple(last)


def atom_width(text: str) -> int:
    """The widest piece that is never broken but as a last resort (an operator and its operand
    count as one)."""
    widest, current = 0, ""
    for strength, piece in pieces(text):
        current = current + piece if strength > FINEST else piece.lstrip(" ")
        widest = max(widest, cell_len(current))
    return widest


def wrap(text: str, width: int, first: int | None = None) -> list[str]:
    """The formula in lines of at most `width` cells (`first` for the first line), broken at
    the best places: a part that does not fit on a line of its own is broken at its own best
    places, the first piece continuing the line before."""
    if cell_len(text) <= (width if first is None else min(width, first)):
        return [text]
    lines: list[str] = []
    current = ""

    def room() -> int:
        return max(width if lines or first is None else first, 1)

    def place(seq: list[tuple[int, str]]) -> None:
        nonlocal current
        level = min(strength for strength, _ in seq[1:]) if len(seq) > 1 else None
        groups: list[list[tuple[int, str]]] = []
        for strength, piece in seq:
            if not groups or strength == level:
                groups.append([])
            groups[-1].append((strength, piece))
        for group in groups:
            joined = "".join(p for _, p in group)
            if cell_len(current + joined) <= room() if current else False:
                current += joined
            elif len(group) > 1 and cell_len(joined.lstrip(" ")) > room():
                place([(-1, group[0][1]), *group[1:]])
            else:
                if current:
                    lines.append(current)
                cut = Text(joined.lstrip(" "))
                cut.truncate(room(), overflow="ellipsis")
                current = cut.plain

    place(list(pieces(text)))
    lines.append(current)
    return lines
