"""`backprop check ANSWERS.yaml`: judge hand-computed values and name the first mistake."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .common import ConfigArg, app, emit, fail, load
from .options import PRECISION, Output, OutputOpt, PrecisionOpt, RoundOpt


@app.command("check")
def check_command(
    answers: Annotated[
        Path,
        typer.Argument(
            metavar="ANSWERS",
            help="Your values, one `id: value` a line (any subset, any order).",
            show_default=False,
        ),
    ],
    config: ConfigArg = None,
    format: OutputOpt = Output.table,
    precision: PrecisionOpt = PRECISION,
    round_to: RoundOpt = None,
) -> None:
    """Check your hand calculations: ✓, ≈ rounding or ✗ for each, and a diagnosis.

    The tolerance follows your significant digits: 0.40 is ✓ within 0.005 of the exact value,
    ≈ within 0.01; 1 for 0.75 is ✗ (0.75 to one digit is 0.8), and 0 is right only for 0.

    With --round N, the values expected are those of rounding every intermediate to N decimals.

    Exit status: 0 when nothing is ✗, 1 otherwise, 2 for a bad answers file.

    [bold]Examples[/]

      backprop check answers.yaml                   [dim]# against the worked example[/]
      backprop check answers.yaml net.yaml --round 4
      backprop check answers.yaml --format json | jq .summary
    """
    from ..check import check, load_answers
    from ..engine import step as run_step
    from ..errors import ExitCode
    from ..render import jsonfmt
    from ..render.check import render_report
    from ..source import SourceError

    spec = load(config)
    trace = run_step(spec)
    try:
        given = load_answers(answers, trace)
    except SourceError as exc:
        fail(str(exc).replace("[", r"\["))
    report = check(spec, given, round_to=round_to)
    if format is Output.json:
        emit(jsonfmt.dumps(report.to_dict()))
    else:
        emit(render_report(report, precision))
    if not report.passed:
        raise typer.Exit(int(ExitCode.FAILED))
