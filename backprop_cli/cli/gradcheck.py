"""`backprop gradcheck`: backpropagation against central differences, for every parameter."""

from typing import Annotated

import typer

from .common import ConfigArg, app, emit, load
from .options import Output, OutputOpt, QuietOpt

# The library's defaults (gradcheck.EPS, TOL), written out so that start-up need not load the
# engine; tests/test_cli.py keeps them equal.
EPS = 1e-6
TOL = 1e-6


@app.command("gradcheck")
def gradcheck_command(
    config: ConfigArg = None,
    eps: Annotated[
        float,
        typer.Option(
            "--eps",
            min=1e-8,  # below this, round-off swamps the difference quotient
            max=1.0,
            help="Step of the central difference.",
        ),
    ] = EPS,
    tol: Annotated[
        float, typer.Option("--tol", min=0.0, help="Largest relative error that passes.")
    ] = TOL,
    format: OutputOpt = Output.table,
    digits: Annotated[
        int, typer.Option("--digits", min=1, max=17, help="Significant digits shown.")
    ] = 10,
    quiet: QuietOpt = False,
) -> None:
    """Check the backpropagated gradient of every parameter against central differences.

    The loss is each sample's E_total, reduced as training.reduction says; biases are checked too.

    Exit status: 0 when every parameter passes, 1 when any fails.

    [bold]Examples[/]

      backprop gradcheck                            [dim]# the worked example[/]
      backprop gradcheck net.yaml --eps 1e-5 --tol 1e-7
      backprop gradcheck net.yaml --format json | jq .max_rel_error
    """
    from ..errors import ExitCode
    from ..gradcheck import gradcheck
    from ..render import jsonfmt
    from ..render.gradcheck import render_gradcheck

    spec = load(config)
    result = gradcheck(spec, eps=eps, tol=tol)
    if format is Output.json:
        emit(jsonfmt.dumps(result.to_dict()))
    else:
        emit(render_gradcheck(result, digits))
    if not result.passed:
        raise typer.Exit(int(ExitCode.FAILED))
