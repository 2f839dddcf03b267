"""`backprop gradcheck`: backpropagation against central differences, for every parameter."""

from typing import Annotated

import typer

from backprop_cli.cli.common import ConfigArg, LateBar, app, emit, load
from backprop_cli.cli.options import Output, OutputOpt, QuietOpt, SampleSeedOpt

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
    every: Annotated[
        bool,
        typer.Option(
            "--all",
            help="Check every parameter, however long it takes (a large network has a random "
            "sample of them checked).",
        ),
    ] = False,
    seed: SampleSeedOpt = 0,
    quiet: QuietOpt = False,
) -> None:
    """Check the backpropagated gradient of every parameter against central differences.

    The loss is each sample's E_total, reduced as training.reduction says; biases are checked too.
    A network too large to check whole in a few seconds (more than 2,000 parameters with one
    sample) has a random sample of them checked, from every layer (--all checks each one); a
    progress bar shows on a terminal.

    Exit status: 0 when every parameter passes, 1 when any fails or is unresolved (its gradient
    is below the round-off of the central difference).

    [bold]Examples[/]

      backprop gradcheck                            [dim]# the worked example[/]
      backprop gradcheck configs/deep-softmax.yaml --eps 1e-5 --tol 1e-7
      backprop gradcheck configs/deep-softmax.yaml -f json | jq .max_rel_error
    """
    from backprop_cli.render import jsonfmt
    from backprop_cli.render.gradcheck import render_gradcheck
    from backprop_cli.specs.errors import ExitCode
    from backprop_cli.tutor.gradcheck import gradcheck

    spec = load(config)
    bar = LateBar("gradcheck", remaining=True)
    try:
        result = gradcheck(spec, eps=eps, tol=tol, every=every, seed=seed, progress=bar.advance)
    finally:
        bar.stop()
    if format is Output.json:
        emit(jsonfmt.dumps(result.to_dict()))
    else:
        emit(render_gradcheck(result, digits))
    if not result.passed:
        raise typer.Exit(int(ExitCode.FAILED))
