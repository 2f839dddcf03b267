"""The drift table: rounded run · exact run · difference, for the error and the new weights."""

from __future__ import annotations

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from ..rounding import Drift
from . import number
from .numbers import difference
from .table import Fitted


def drift_table(rows: list[Drift], decimals: int, precision: int) -> RenderableType:
    """One row per quantity: rounded to N decimals, exact, and the drift between them."""
    title = Text(f"Drift from rounding every intermediate to {decimals} decimals", style="bold")
    table = Table(
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
    )
    table.add_column("id", style="cyan", no_wrap=True)
    table.add_column(f"rounded ({decimals})", justify="right", no_wrap=True)
    table.add_column("exact", justify="right", no_wrap=True)
    table.add_column("drift", justify="right", style="bold", no_wrap=True)
    narrow: list[RenderableType] = []
    for d in rows:
        text = number(difference(d.rounded, d.exact), precision)
        row = (
            d.id,
            number(d.rounded, decimals, zeros=True),
            number(d.exact, precision),
            text if text.startswith("-") or text == "0" else "+" + text,
        )
        table.add_row(*row)
        line = Text(d.id, style="cyan")
        line.append(f" {row[1]}, exact {row[2]} (drift ")
        line.append(row[3], style="bold")
        narrow.append(Text.assemble(line, ")"))
    return Group(title, Fitted(table, Group(*narrow)))
