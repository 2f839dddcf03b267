"""`backprop explain ID`: one quantity, worked out through the chain rule."""

from __future__ import annotations

from typing import Annotated

import typer

from .common import ConfigArg, app, emit, fail, load
from .options import PRECISION, Output, OutputOpt, PrecisionOpt, SampleOpt, sample_index


@app.command("explain")
def explain_command(
    step_id: Annotated[
        str,
        typer.Argument(
            metavar="ID",
            help="A quantity of the trace, e.g. dE_total/dw1, delta_o1, w5+, E_total+ "
            "(see `backprop step`). `ID[K]` picks sample K.",
            show_default=False,
        ),
    ],
    config: ConfigArg = None,
    format: OutputOpt = Output.table,
    precision: PrecisionOpt = PRECISION,
    depth: Annotated[
        int | None,
        typer.Option(min=0, help="Expand factors this many levels deep (default: all)."),
    ] = None,
    full: Annotated[
        bool,
        typer.Option(
            "--full",
            help="Also expand values from earlier stages (the forward pass under a gradient).",
        ),
    ] = False,
    sample: SampleOpt = None,
) -> None:
    """Explain one quantity: the chain rule, each factor with its formula, numbers and value.

    [bold]Examples[/]

      backprop explain dE_total/dw1                 [dim]# a hidden-layer gradient[/]
      backprop explain w5+ --depth 1
      backprop explain E_total+ --format json
      backprop explain delta_h1 net.yaml --sample 2
    """
    from ..engine import step as run_step
    from ..explain import UnknownId, explain
    from ..render import jsonfmt
    from ..render.explain import render_explanation

    spec = load(config)
    index = sample_index(spec, sample)
    trace = run_step(spec)
    try:
        ex = explain(trace, step_id, sample=index, depth=depth, full=full)
    except UnknownId as exc:
        fail(str(exc).replace("[", r"\["))
    if format is Output.json:
        emit(jsonfmt.dumps(ex.to_dict()))
    else:
        emit(render_explanation(ex, precision, None if config is None else str(config)))
