"""The gradient check as a table: parameter · analytic · numeric · relative error · result."""

from __future__ import annotations

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from ..gradcheck import GradCheck
from .table import Fitted, Indented


def render_gradcheck(gc: GradCheck, digits: int = 10) -> RenderableType:
    """One row per parameter, then a one-line verdict."""
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    narrow: list[RenderableType] = []  # a parameter a line, where the table does not fit
    table.add_column("parameter", style="cyan", no_wrap=True)
    table.add_column("backprop", justify="right", no_wrap=True)
    table.add_column("central difference", justify="right", no_wrap=True)
    table.add_column("rel. error", justify="right", no_wrap=True)
    table.add_column("result", no_wrap=True)
    for r in gc.rows:
        if not r.passed:
            result = Text("FAIL", style="bold red")
        elif r.rel_error > gc.tol:
            result = Text("pass†", style="green")
        else:
            result = Text("pass", style="green")
        row = (r.id, f"{r.analytic:.{digits}g}", f"{r.numeric:.{digits}g}", f"{r.rel_error:.1e}")
        table.add_row(*row, result)
        head = Text(r.id, style="cyan")
        head.append(" ")
        head.append_text(result)
        narrow.append(head)
        for name, text in zip(
            ("backprop", "central difference", "rel. error"), row[1:], strict=True
        ):
            narrow.append(Indented(Text(f"{name} {text}")))
    failed = sum(1 for r in gc.rows if not r.passed)
    line = Text()
    if failed:
        line.append(f"{failed} of {len(gc.rows)} parameters FAIL", style="bold red")
    else:
        line.append(f"all {len(gc.rows)} parameters pass", style="bold green")
    line.append(f"  (largest relative error {gc.max_rel_error:.1e})")
    settings = Text(f"ε = {gc.eps:g}, tolerance {gc.tol:g}, E = {gc.loss:.{digits}g}", style="dim")
    parts: list[RenderableType] = [Fitted(table, Group(*narrow)), Text(""), line, settings]
    if any(r.passed and r.rel_error > gc.tol for r in gc.rows):
        parts.append(
            Text(
                "† relative error above the tolerance, but the difference is within the round-off "
                "of the central difference (a tiny gradient)",
                style="dim",
            )
        )
    return Group(*parts)
