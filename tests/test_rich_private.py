"""render/rows.py lays a table's rows out with two private names of rich's Table, so that its
widths are rich's own; pyproject.toml pins rich to the versions where they were tested. A rich
that renames them fails here, by name, rather than somewhere in a table."""

from __future__ import annotations

import io
from importlib.metadata import version
from pathlib import Path

from rich import box
from rich.console import Console
from rich.table import Table

from backprop_cli.render.rows import Rows

ROOT = Path(__file__).parents[1]


def table() -> Table:
    made = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    # fixed widths, as Rows' callers give them: rich measures no cell
    made.add_column("id", no_wrap=True, width=12)
    made.add_column("value", justify="right", no_wrap=True, width=11)
    return made


def test_the_private_names_rows_uses_are_there() -> None:
    made = table()
    assert hasattr(made, "_extra_width"), f"rich {version('rich')}: Table._extra_width is gone"
    assert hasattr(made, "_calculate_column_widths"), (
        f"rich {version('rich')}: Table._calculate_column_widths is gone"
    )
    console = Console(width=40, file=io.StringIO())
    extra = made._extra_width
    assert extra == 1  # the divider between the two columns
    widths = made._calculate_column_widths(console, console.options.update_width(40 - extra))
    assert widths == [13, 12]  # each with its column of padding on the inner side


def test_rows_lay_out_as_rich_does() -> None:
    """What the names are for: Rows writes rich's table byte for byte."""
    rows = [("w1", "0.15"), ("dE_total/dw5", "0.082167041")]
    ours, theirs = io.StringIO(), io.StringIO()
    Console(width=40, file=ours, color_system=None).print(Rows(table(), rows))
    reference = table()
    for row in rows:
        reference.add_row(*row)
    Console(width=40, file=theirs, color_system=None).print(reference)
    assert ours.getvalue() == theirs.getvalue()
    assert "dE_total/dw5   0.082167041" in ours.getvalue()


def test_rich_is_pinned_to_the_tested_versions() -> None:
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert '"rich>=13.7,<16"' in text
    assert int(version("rich").split(".")[0]) < 16
