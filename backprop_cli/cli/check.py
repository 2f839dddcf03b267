"""`backprop check ANSWERS.yaml`: judge hand-computed values and name the first mistake."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..check import check, load_answers
from ..engine import step as run_step
from ..errors import ExitCode
from ..render import jsonfmt
from ..render.check import render_report
from ..source import SourceError
from .common import ConfigArg, Format, app, emit, fail, load


@app.command("check")
def check_command(
    answers: Annotated[
        Path,
        typer.Argument(
            metavar="ANSWERS.yaml",
            help="Your values, one `id: value` a line (any subset, any order).",
            show_default=False,
        ),
    ],
    config: ConfigArg = None,
    format: Annotated[
        Format, typer.Option("--format", "-f", help="table, or json (for graders).")
    ] = Format.table,
    precision: Annotated[
        int, typer.Option(min=0, max=17, help="Decimals shown for expected values.")
    ] = 9,
    round_to: Annotated[
        int | None,
        typer.Option(
            "--round",
            min=0,
            max=15,
            help="Expect every intermediate rounded to N decimals before it is used, as with a "
            "calculator; shows the drift from the exact run.",
        ),
    ] = None,
) -> None:
    """Check your hand calculations: ✓, ≈ rounding or ✗ for each, and a diagnosis.

    The tolerance follows the digits you wrote: 0.40 must be within 0.005 of the exact value
    (within 0.01 counts as rounding). Exit status 0 when nothing is ✗, 1 otherwise.

    [bold]Examples[/]

      backprop check configs/answers-example.yaml   [dim]# against the worked example[/]
      backprop check answers.yaml net.yaml --round 4
      backprop check answers.yaml --format json | jq .summary
    """
    spec = load(config)
    trace = run_step(spec)
    try:
        given = load_answers(answers, trace)
    except SourceError as exc:
        fail(str(exc).replace("[", r"\["))
    report = check(spec, given, round_to=round_to)
    if format is Format.json:
        emit(jsonfmt.dumps(report.to_dict()))
    else:
        emit(render_report(report, precision))
    if not report.passed:
        raise typer.Exit(int(ExitCode.FAILED))
