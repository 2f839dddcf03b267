"""Options the tutor commands share (explain, check, gradcheck, and --round of step)."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

import typer


class Output(str, Enum):
    """A report is a table for people or JSON for programs (no document formats)."""

    table = "table"
    json = "json"


OutputOpt = Annotated[Output, typer.Option("--format", "-f", help="table, or json.")]
PrecisionOpt = Annotated[
    int, typer.Option(min=0, max=17, help="Decimals shown (JSON is always full precision).")
]
RoundOpt = Annotated[
    int | None,
    typer.Option(
        "--round",
        min=0,
        max=15,
        help="Round every intermediate to N decimals before it is used, as with a calculator, "
        "and show the drift from the exact run.",
    ),
]
