"""The gradient check as a table: parameter · analytic · numeric · relative error · result."""

from __future__ import annotations

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from backprop_cli.render.table import Fitted, Indented
from backprop_cli.tutor.gradcheck import FAIL, PASS, UNRESOLVED, WITHIN_ROUNDOFF, GradCheck

_SHOWN = {  # a verdict as the table shows it, and its style
    PASS: ("pass", "green"),
    WITHIN_ROUNDOFF: ("pass†", "green"),
    UNRESOLVED: ("unresolved‡", "bold yellow"),
    FAIL: ("FAIL", "bold red"),
}


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
        result = Text(*_SHOWN[r.verdict])
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
    failed, unresolved = gc.count(FAIL), gc.count(UNRESOLVED)
    checked = len(gc.rows)
    line = Text()
    if failed:
        line.append(f"{failed} of {checked} parameters FAIL", style="bold red")
        if unresolved:
            line.append(f", {unresolved} unresolved", style="bold yellow")
    elif unresolved:
        line.append(f"{unresolved} of {checked} parameters unresolved", style="bold yellow")
    else:
        line.append(f"all {checked} parameters pass", style="bold green")
    line.append(f"  (largest relative error {gc.max_rel_error:.1e})")
    settings = Text(f"ε = {gc.eps:g}, tolerance {gc.tol:g}, E = {gc.loss:.{digits}g}", style="dim")
    parts: list[RenderableType] = [Fitted(table, Group(*narrow)), Text(""), line, settings]
    if gc.seed is not None:
        parts.append(
            Text(
                f"a random sample of {checked:,} of the network's {gc.total:,} parameters (seed "
                f"{gc.seed}; --all checks every one)",
                style="dim",
            )
        )
    if gc.count(WITHIN_ROUNDOFF):
        parts.append(
            Text(
                "† relative error above the tolerance, but the difference is within the round-off "
                "of the central difference (a gradient small next to E)",
                style="dim",
            )
        )
    if unresolved:
        parts.append(
            Text(
                "‡ backprop's gradient is smaller than the round-off of the central difference, "
                "which cannot tell whether it is right: not a pass (a larger --eps may resolve it)",
                style="dim",
            )
        )
    return Group(*parts)
