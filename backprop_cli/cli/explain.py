"""`backprop explain ID`: one quantity, worked out through the chain rule."""

from typing import TYPE_CHECKING, Annotated

import typer

from backprop_cli.cli.common import ConfigArg, app, emit, fail, load

if TYPE_CHECKING:
    from pathlib import Path

    from backprop_cli.engine.trace import Trace
from backprop_cli.cli.options import (
    LAYOUT,
    PRECISION,
    LayoutOpt,
    Output,
    OutputOpt,
    PrecisionOpt,
    QuietOpt,
    SampleOpt,
    View,
    ViewOpt,
    sample_index,
)


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
    view: ViewOpt = View.scalar,
    layout: LayoutOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Explain one quantity: the chain rule, each factor with its formula, numbers and value.

    [bold]Examples[/]

      backprop explain dE_total/dw1                 [dim]# a hidden-layer gradient[/]
      backprop explain w5+ --depth 1
      backprop explain E_total+ --format json
      backprop explain delta_h1 docs/interop/net.yaml --sample 2
      backprop explain delta_h --view matrix        [dim]# δ_h = (W_oᵀ·δ_o) ⊙ f′(net_h)[/]
      backprop explain dE_total/dW_o --view matrix --layout in-out
    """
    from backprop_cli.engine.passes import step as run_step
    from backprop_cli.render import jsonfmt
    from backprop_cli.render.explain import render_explanation
    from backprop_cli.tutor.explain import UnknownId, explain

    spec = load(config)
    index = sample_index(spec, sample)
    trace = run_step(spec)
    if view is not View.scalar or _layer_level(trace, step_id):
        _matrix(trace, step_id, index, format, precision, str((layout or LAYOUT).value), config)
        return
    if layout is not None:
        fail(
            f"--layout: for the matrix view (--view matrix, or a matrix id such as W_o), "
            f"not the scalar {step_id}"
        )
    try:
        ex = explain(trace, step_id, sample=index, depth=depth, full=full)
    except UnknownId as exc:
        fail(str(exc))  # fail() prints plain text: nothing to escape
    if format is Output.json:
        emit(jsonfmt.dumps(ex.to_dict()))
    else:
        emit(render_explanation(ex, precision, None if config is None else str(config)))


def _matrix(
    trace: "Trace",
    mid: str,
    index: int | None,
    format: Output,
    precision: int,
    layout: str,
    config: "Path | None" = None,
) -> None:
    """`explain ID --view matrix`: the matrix equation of ID with its operands."""
    from backprop_cli.engine.matrices import UnknownMatrix, build, explain_matrix
    from backprop_cli.render import jsonfmt
    from backprop_cli.render.matrix import explain_dict, explain_parts

    view = build(trace, layout)
    try:
        ex = explain_matrix(view, mid, index)
    except UnknownMatrix as exc:
        fail(str(exc))
    if format is Output.json:
        emit(jsonfmt.dumps(explain_dict(view, ex)))
    else:
        given = None if config is None else str(config)
        for part in explain_parts(trace, view, ex, precision, given):
            emit(part)


def _layer_level(trace: "Trace", step_id: str) -> bool:
    """Whether ID names a matrix (delta_h, dE_total/dW_o) and no step: explained as a matrix."""
    from backprop_cli.engine.matrices import scalar_ids

    return step_id in scalar_ids(trace.spec) and trace.find(step_id) is None
