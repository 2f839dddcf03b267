"""The drift table: rounded run · exact run · difference, for the error and the new weights."""

from __future__ import annotations

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from ..rounding import Drift
from . import number


def drift_table(rows: list[Drift], decimals: int, precision: int) -> RenderableType:
    """One row per quantity: rounded to N decimals, exact, and the drift between them."""
    title = Text(f"Drift from rounding every intermediate to {decimals} decimals", style="bold")
    table = Table(
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
    )
    table.add_column("id", style="cyan", no_wrap=True)
    table.add_column(f"rounded ({decimals})", justify="right")
    table.add_column("exact", justify="right")
    table.add_column("drift", justify="right", style="bold")
    for d in rows:
        text = number(d.drift, precision)
        table.add_row(
            d.id,
            number(d.rounded, decimals, zeros=True),
            number(d.exact, precision),
            text if text.startswith("-") or text == "0" else "+" + text,
        )
    return Group(title, table)
