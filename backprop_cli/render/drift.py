"""The drift table: rounded run · exact run · difference, for the error and the new weights."""

from __future__ import annotations

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from backprop_cli.render import number
from backprop_cli.render.numbers import difference
from backprop_cli.render.table import Fitted
from backprop_cli.tutor.rounding import Drift

HEADERS = ("id", "rounded ({decimals})", "exact", "drift")


def title(decimals: int) -> str:
    return f"Drift from rounding every intermediate to {decimals} decimals"


def signed(rounded: float, exact: float, precision: int) -> str:
    """The drift of a rounded value from the exact one, with its sign (+0.000038568), 0 where
    it is only float64's residue: the one way step, train and check write a drift."""
    text = number(difference(rounded, exact), precision)
    return text if text.startswith("-") or text == "0" else "+" + text


def drift_cells(d: Drift, decimals: int, precision: int) -> tuple[str, str, str, str]:
    """One row as the terminal and the documents show it: id, rounded (its zeros kept), exact,
    drift with its sign."""
    return (
        d.id,
        number(d.rounded, decimals, zeros=True),
        number(d.exact, precision),
        signed(d.rounded, d.exact, precision),
    )


def drift_table(rows: list[Drift], decimals: int, precision: int) -> RenderableType:
    """One row per quantity: rounded to N decimals, exact, and the drift between them."""
    heading = Text(title(decimals), style="bold")
    table = Table(
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
    )
    head = [h.format(decimals=decimals) for h in HEADERS]
    table.add_column(head[0], style="cyan", no_wrap=True)
    table.add_column(head[1], justify="right", no_wrap=True)
    table.add_column(head[2], justify="right", no_wrap=True)
    table.add_column(head[3], justify="right", style="bold", no_wrap=True)
    narrow: list[RenderableType] = []
    for d in rows:
        row = drift_cells(d, decimals, precision)
        table.add_row(*row)
        line = Text(d.id, style="cyan")
        line.append(f" {row[1]}, exact {row[2]} (drift ")
        line.append(row[3], style="bold")
        narrow.append(Text.assemble(line, ")"))
    return Group(heading, Fitted(table, Group(*narrow)))
