"""A worked example as Markdown with `$$` display math that GitHub renders."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from backprop_cli.engine.trace import Step, Trace
from backprop_cli.render.document import (
    SEPARATOR,
    SEPARATOR_WIDTH,
    Block,
    Display,
    Eq,
    Grid,
    Heading,
    Prose,
    build,
    fits,
    one_line,
    pack,
)

if TYPE_CHECKING:
    from backprop_cli.tutor.rounding import Drift

WIDTH = 90  # GitHub shows about this much display math on one line
_SPECIAL = re.compile(r"([\\`*_\[\]<>#|$~])")


def escape(text: str) -> str:
    """Plain text that Markdown shows as it is."""
    return _SPECIAL.sub(r"\\\1", text)


def _display(tex: str) -> str:
    # `$$` on lines of their own, blank lines around: the form GitHub's renderer accepts reliably.
    return f"$$\n{tex}\n$$"


def _part(kind: str, text: str) -> str:
    """A piece of prose: text, inline math or code (an id, shown as it is typed)."""
    if kind == "math":
        return f"${text}$"
    if kind == "code":
        fence = "``" if "`" in text else "`"
        return f"{fence}{text}{fence}"
    return escape(text)


def _grid(grid: Grid) -> str:
    """A pipe table: the first column (symbols) as math, left; the numbers right-aligned."""
    lines = [
        "| " + " | ".join(escape(h) for h in grid.header) + " |",
        "|" + "|".join([":---"] + ["---:"] * (len(grid.header) - 1)) + "|",
    ]
    for first, *rest in grid.rows:
        lines.append("| " + " | ".join([f"${first}$", *map(escape, rest)]) + " |")
    return "\n".join(lines)


def render_markdown(
    trace: Trace,
    steps: Iterable[Step] | None = None,
    *,
    precision: int = 9,
    summary: bool = True,
    decimals: int | None = None,
    drifts: Sequence[Drift] = (),
) -> str:
    """The trace (or the given steps) as a Markdown document."""
    return write_markdown(
        build(trace, steps, precision=precision, summary=summary, decimals=decimals, drifts=drifts)
    )


def write_markdown(blocks: Iterable[Block]) -> str:
    """Document blocks (render/document.py) as Markdown."""
    out: list[str] = []
    for block in blocks:
        if isinstance(block, Heading):
            # A heading is one line: a name with line breaks must not start new blocks.
            out.append("#" * block.level + " " + escape(" ".join(block.text.split())))
        elif isinstance(block, Prose):
            out.append("".join(_part(kind, t) for kind, t in block.parts))
        elif isinstance(block, Display):
            for line in pack(block.items, WIDTH, SEPARATOR_WIDTH):
                out.append(_display(SEPARATOR.join(line)))
        elif isinstance(block, Eq):
            e = block.eq
            if fits(e, WIDTH) or not e.numbers:
                out.append(_display(one_line(e)))
            else:  # as the post does: the formula, then the numbers
                out.append(_display(f"{e.lhs} = {' '.join(e.formula)}"))
                out.append(_display(f"{e.lhs} = {' '.join(e.numbers)} = {e.value}"))
            if block.note:
                out.append("> ⚠ " + escape(block.note))
        elif isinstance(block, Grid):
            out.append(_grid(block))
    return "\n\n".join(out) + "\n"
