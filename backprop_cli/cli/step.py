"""`backprop step`: one update, every quantity computed."""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.text import Text

from .common import ConfigArg, Format, Phase, UpdateOrder, app, emit, fail, info, load
from .options import RoundOpt

if TYPE_CHECKING:
    from ..trace import Trace

BIG_TABLE = 2000  # steps; rich lays out about a thousand table rows a second

# --- step --------------------------------------------------------------------------------------


@app.command()
def step(
    config: ConfigArg = None,
    format: Annotated[
        Format,
        typer.Option(
            "--format",
            "-f",
            help="table; json (the full trace); markdown or latex (a worked example document).",
        ),
    ] = Format.table,
    precision: Annotated[
        int, typer.Option(min=0, max=17, help="Decimals shown in tables (JSON is always full).")
    ] = 9,
    only: Annotated[
        list[str] | None,
        typer.Option("--only", help="Show only steps whose id matches (glob; repeatable)."),
    ] = None,
    phase: Annotated[
        list[Phase] | None, typer.Option("--phase", help="Show only this phase (repeatable).")
    ] = None,
    sample: Annotated[
        int | None, typer.Option("--sample", min=1, help="Show only sample K (1 = the first).")
    ] = None,
    update_order: Annotated[
        UpdateOrder | None,
        typer.Option(
            "--update-order",
            help="simultaneous: every gradient from the weights before the update (the post's "
            "text); sequential: hidden deltas use the already updated output weights.",
        ),
    ] = None,
    round_to: RoundOpt = None,
) -> None:
    """One update, every quantity computed, in the post's notation.

    [bold]Examples[/]

      backprop step                                 [dim]# the worked example[/]
      backprop step --only 'dE_total/dw*'           [dim]# the gradients only[/]
      backprop step net.yaml -f json | jq '.steps[] | select(.id=="w5+") | .value'
      backprop step --round 4                       [dim]# 4 decimals, as by hand[/]
      backprop init - -l 2,2,2 | backprop step -    [dim]# a config from stdin[/]
    """
    from ..engine import step as run_step
    from ..render import jsonfmt
    from ..render.drift import drift_table
    from ..render.latex import render_latex
    from ..render.markdown import render_markdown
    from ..render.table import render_trace
    from ..rounding import drift

    spec = load(config)
    if sample is not None and sample > len(spec.samples):
        fail(f"--sample {sample}: the spec has {len(spec.samples)} sample(s)")
    order = update_order.value if update_order else spec.training.update_order
    if order == "sequential" and spec.training.mode != "online" and len(spec.samples) > 1:
        info(
            f"note: the sequential update order applies to one-sample updates; mode "
            f"{spec.training.mode} updates all layers together from the batch gradient"
        )
    trace = run_step(spec, update_order=order, round_to=round_to)
    drifts = None if round_to is None else drift(trace, run_step(spec, update_order=order))
    phases = [p.value for p in phase] if phase else None
    steps = trace.select(only, phases, None if sample is None else sample - 1)
    if only and not steps:
        _no_match(trace, only)
    filtered = bool(only or phases or sample is not None)
    if format is Format.json:
        doc = trace.to_dict()
        doc["steps"] = [s.to_dict() for s in steps]
        if drifts is not None:
            doc["rounding"] = {"decimals": round_to, "drift": [d.to_dict() for d in drifts]}
        emit(jsonfmt.dumps(doc))
    elif format is Format.markdown:
        emit(render_markdown(trace, steps, precision=precision, summary=not filtered))
    elif format is Format.latex:
        emit(render_latex(trace, steps, precision=precision, summary=not filtered))
    else:
        if len(steps) > BIG_TABLE:
            info(
                f"note: {len(steps):,} steps take a while to lay out as tables; "
                "--only, --phase or --format json are quicker"
            )
        emit(
            render_trace(trace, steps, precision=precision, summary=not filtered, decimals=round_to)
        )
        if drifts is not None and round_to is not None:
            if not filtered:  # a filtered trace already ends with a blank line
                emit(Text(""))
            emit(drift_table(drifts, round_to, precision))


def _no_match(trace: Trace, patterns: list[str]) -> NoReturn:
    ids = trace.ids()
    near = difflib.get_close_matches(patterns[0], ids, n=5, cutoff=0.4)
    hint = f"; closest: {', '.join(near)}" if near else ""
    fail(f"--only {' '.join(patterns)}: no step matches{hint}")
