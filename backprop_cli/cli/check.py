"""`backprop check ANSWERS`: judge hand-computed values, a program's output or a training log,
and name the first mistake."""

from pathlib import Path
from typing import Annotated

import typer

from backprop_cli.cli.common import ConfigArg, LateBar, app, emit, fail, load, named_file
from backprop_cli.cli.options import (
    CONVENTION,
    PRECISION,
    Convention,
    Output,
    OutputOpt,
    PrecisionOpt,
    QuietOpt,
    RoundOpt,
)


@app.command("check")
def check_command(
    answers: Annotated[
        Path,
        typer.Argument(
            metavar="ANSWERS",
            help=(
                "Your values: .yaml (`id: value` a line), .json (ids to values, or a trace), "
                ".csv (`id,value`); or a training log: .csv `epoch,E_total` or .jsonl."
            ),
            show_default=False,
        ),
    ],
    config: ConfigArg = None,
    format: OutputOpt = Output.table,
    precision: PrecisionOpt = PRECISION,
    round_to: RoundOpt = None,
    convention: Annotated[
        Convention,
        typer.Option(
            help=(
                "The sign of δ: post (δ = ∂E/∂net, the post's), han-kamber (δ = −∂E/∂net, "
                "Han & Kamber's Err_j and Mitchell's δ), or auto: recognised from your deltas "
                "(or `convention:` in the answers file)."
            ),
        ),
    ] = CONVENTION,
    quiet: QuietOpt = False,
) -> None:
    """Check your numbers: ✓, ≈ rounding or ✗ for each, and a diagnosis of the first ✗.

    The tolerance follows your significant digits: 0.40 is ✓ within 0.005 of the exact value,
    ≈ within 0.01; 1 for 0.75 is ✗ (0.75 to one digit is 0.8), and 0 is right only for 0.
    12 or more significant digits are a program's output: ✓ within 1e-9 relative, else ✗;
    the diagnosis then names the bug (transposed_weights, bias_updated, ...).

    A training log (E_total by epoch) is trained alongside: the first epoch that differs, and
    the cause that reproduces the whole log (epoch_offset, learning_rate, rounding, ...).

    With --round N, the values expected are those of rounding every intermediate to N decimals
    (answers with more decimals that agree with the exact run are graded exactly).

    Exit status: 0 when nothing is ✗, 1 otherwise, 2 for a bad answers file.

    [bold]Examples[/]

      backprop check configs/answers-example.yaml   [dim]# against the worked example[/]
      backprop check configs/answers-example.yaml configs/mazur.yaml --round 4
      backprop check configs/transposed.json -f json | jq '.diagnosis.slips[0].code'
      backprop check configs/losses.csv             [dim]# a log: epoch,E_total[/]
    """
    from backprop_cli.engine.passes import step as run_step
    from backprop_cli.render import jsonfmt
    from backprop_cli.render.check import render_log_report, render_report
    from backprop_cli.specs.errors import ExitCode
    from backprop_cli.specs.source import SourceError
    from backprop_cli.tutor.answers import head, kind_of, load_answers
    from backprop_cli.tutor.grading import check

    named_file(answers, "-", "check reads the answers from a file (its extension gives the format)")
    spec = load(config)
    try:
        if kind_of(answers, head(answers)) == "log":
            from backprop_cli.tutor.logcheck import check_log, read_log

            bar = LateBar("check: training {task.fields[run]} to epoch")
            try:
                log = check_log(
                    spec,
                    lambda: read_log(answers),
                    round_to=round_to,
                    progress=lambda run, done, total: bar.advance(done, total, run=run),
                )
            finally:
                bar.stop()
            emit(jsonfmt.dumps(log.to_dict()) if format is Output.json else render_log_report(log))
            if not log.passed:
                raise typer.Exit(int(ExitCode.FAILED))
            return
        given = load_answers(answers, run_step(spec))
    except SourceError as exc:
        fail(str(exc))  # fail() prints plain text: nothing to escape
    asked = None if convention.value == "auto" else convention.value
    report = check(spec, given, round_to=round_to, convention=asked)
    if format is Output.json:
        emit(jsonfmt.dumps(report.to_dict()))
    else:
        emit(render_report(report, precision))
    if not report.passed:
        raise typer.Exit(int(ExitCode.FAILED))
