"""`backprop step`: one update, every quantity computed."""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.text import Text

from .common import ConfigArg, app, emit, emit_pieces, fail, info, load
from .options import (
    PRECISION,
    Format,
    FormatOpt,
    PhaseOpt,
    PrecisionOpt,
    QuietOpt,
    RoundOpt,
    SampleOpt,
    UpdateOrderOpt,
    sample_index,
)

if TYPE_CHECKING:
    from ..trace import Trace

BIG_TABLE = 2000  # steps; rich lays out about a thousand table rows a second
BIG_DOCUMENT = 100_000  # steps; JSON is written at about 15,000 steps a second (350 bytes each)

# --- step --------------------------------------------------------------------------------------


@app.command()
def step(
    config: ConfigArg = None,
    format: FormatOpt = Format.table,
    precision: PrecisionOpt = PRECISION,
    only: Annotated[
        list[str] | None,
        typer.Option("--only", help="Show only steps whose id matches (glob; repeatable)."),
    ] = None,
    phase: PhaseOpt = None,
    sample: SampleOpt = None,
    update_order: UpdateOrderOpt = None,
    round_to: RoundOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """One update, every quantity computed, in the post's notation.

    [bold]Examples[/]

      backprop step                                 [dim]# the worked example[/]
      backprop step --only 'dE_total/dw*'           [dim]# the gradients only[/]
      backprop step net.yaml -f json | jq '.steps[] | select(.id=="w5+") | .value'
      backprop step --round 4                       [dim]# 4 decimals, as by hand[/]
      backprop init - -l 2,2,2 | backprop step -    [dim]# a config from stdin[/]
    """
    from ..engine import step as run_step  # each renderer is imported where it is used

    spec = load(config)
    index = sample_index(spec, sample)
    order = str(update_order.value) if update_order else spec.training.update_order
    if order == "sequential" and spec.training.mode != "online" and len(spec.samples) > 1:
        info(
            f"note: the sequential update order applies to one-sample updates; mode "
            f"{spec.training.mode} updates all layers together from the batch gradient"
        )
    trace = run_step(spec, update_order=order, round_to=round_to)
    drifts = None
    if round_to is not None:
        from ..rounding import drift

        drifts = drift(trace, run_step(spec, update_order=order))
    phases = [str(p.value) for p in phase] if phase else None
    steps = trace.select(only, phases, index)
    if only and not steps:
        _no_match(trace, only)
    filtered = bool(only or phases or sample is not None)
    if format is Format.json:
        from ..render import jsonfmt

        if len(steps) > BIG_DOCUMENT:
            info(
                f"note: {len(steps):,} steps make a document of about "
                f"{len(steps) * 350 // 10**6:,} MB; --only, --phase or --sample are quicker"
            )
        doc = trace.document(steps)
        if drifts is not None:
            doc["rounding"] = {"decimals": round_to, "drift": [d.to_dict() for d in drifts]}
        emit_pieces(jsonfmt.pieces(doc))
    elif format is Format.markdown:
        from ..render.markdown import render_markdown

        emit(render_markdown(trace, steps, precision=precision, summary=not filtered))
    elif format is Format.latex:
        from ..render.latex import render_latex

        emit(render_latex(trace, steps, precision=precision, summary=not filtered))
    else:
        from ..render.table import trace_parts

        if len(steps) > BIG_TABLE:
            info(
                f"note: {len(steps):,} steps take a while to lay out as tables; "
                "--only, --phase or --format json are quicker"
            )
        # one table at a time: laid out all at once, 10,000 samples took gigabytes
        for part in trace_parts(
            trace, steps, precision=precision, summary=not filtered, decimals=round_to
        ):
            emit(part)
        if drifts is not None and round_to is not None:
            if not filtered:  # a filtered trace already ends with a blank line
                emit(Text(""))
            from ..render.drift import drift_table

            emit(drift_table(drifts, round_to, precision))


def _no_match(trace: Trace, patterns: list[str]) -> NoReturn:
    ids = trace.ids()
    near = difflib.get_close_matches(patterns[0], ids, n=5, cutoff=0.4)
    hint = f"; closest: {', '.join(near)}" if near else ""
    fail(f"--only {' '.join(patterns)}: no step matches{hint}")
