"""Rows writes a table's rows as rich would: the same bytes as rich's Table, in colour or not."""

from __future__ import annotations

import io
import random

import pytest
from rich.console import Console
from rich.table import Table
from rich.text import Text

from backprop_cli.render.rows import Cell, Rows
from backprop_cli.render.table import titled_table

WORDS = ["w1", "0.15", "+", "-0.000219284", "η", "dE_total/dw5", "→", "½", "m̂", "", "x\ty", "é"]


def random_cell(rng: random.Random, widest: int) -> Cell:
    kind = rng.random()
    lines = [
        " ".join(rng.choice(WORDS) for _ in range(rng.randint(0, 3)))[: rng.randint(0, widest)]
        for _ in range(rng.choice((1, 1, 1, 2, 3)))
    ]
    if kind < 0.1:  # a styled piece, laid out by rich
        text = Text(lines[0])
        text.append(" ⚠", style="yellow")
        return text
    if kind < 0.15:  # a note that wraps
        return Text(" ".join(lines) * 3, style="yellow italic", no_wrap=False, overflow="fold")
    if kind < 0.2:  # wider than its column: cut by rich
        return "x" * (widest + 3)
    return "\n".join(lines)


def random_table(rng: random.Random) -> tuple[Table, list[tuple[Cell, ...]], list[int]]:
    columns = rng.randint(1, 5)
    widths = [rng.randint(1, 12) for _ in range(columns)]
    rows = [tuple(random_cell(rng, w) for w in widths) for _ in range(rng.randint(0, 6))]
    return titled_table(rng.choice(["Parameters", "Forward pass · hidden layer h"])), rows, widths


def columns(table: Table, widths: list[int], rng: random.Random) -> None:
    for width in widths:
        table.add_column(
            rng.choice(["id", "formula", "with numbers", "", "value"]),
            justify=rng.choice(["left", "right", "center"]),
            style=rng.choice(["", "cyan", "bold", "yellow italic"]),
            no_wrap=True,
            width=width,
            vertical=rng.choice(["top", "top", "middle", "bottom"]),
        )


class AsciiFile(io.StringIO):
    """A stream that can only write ASCII (PYTHONIOENCODING=ascii): rich draws ASCII boxes."""

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return "ascii"


def printed(renderable: object, width: int, colour: bool, ascii_only: bool) -> str:
    out = AsciiFile() if ascii_only else io.StringIO()
    console = Console(
        file=out,
        width=width,
        force_terminal=colour,
        color_system="truecolor" if colour else None,
        soft_wrap=False,
    )
    console.print(renderable)
    return out.getvalue()


@pytest.mark.parametrize("seed", range(300))
def test_rows_print_exactly_what_rich_prints(seed: int) -> None:
    rng = random.Random(seed)
    table, rows, widths = random_table(rng)
    plan = random.Random(seed + 1000)
    columns(table, widths, plan)
    theirs = titled_table(str(table.title))
    columns(theirs, widths, random.Random(seed + 1000))
    for row in rows:
        theirs.add_row(*(Text(c) if isinstance(c, str) else c for c in row))
    for width in (12, 40, 80):
        for colour in (False, True):
            for ascii_only in (False, True):
                ours = printed(Rows(table, rows), width, colour, ascii_only)
                assert ours == printed(theirs, width, colour, ascii_only), (width, colour)


def test_rows_want_a_plain_table() -> None:
    table = titled_table("Parameters")
    table.add_row()
    with pytest.raises(ValueError):
        Rows(table, [])
    framed = Table(show_edge=True)
    with pytest.raises(ValueError):
        Rows(framed, [])


@pytest.mark.parametrize("justify", ["left", "center", "right"])
@pytest.mark.parametrize("colour", [False, True])
def test_a_title_is_placed_as_rich_places_it(justify: str, colour: bool) -> None:
    """Without colour the title, header and rule are written by Rows itself: a title that is
    not left-justified is left to rich."""
    tables = []
    for _ in range(2):
        table = titled_table("Forward pass · hidden layer h")
        table.title_justify = justify  # type: ignore[assignment]
        table.add_column("id", width=8)
        table.add_column("value", justify="right", width=30)
        tables.append(table)
    ours, theirs = tables
    theirs.add_row("w1", "0.15")
    for width in (12, 40, 80):
        assert printed(Rows(ours, [("w1", "0.15")]), width, colour, False) == printed(
            theirs, width, colour, False
        )
