"""`backprop step`: one update, every quantity computed."""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.text import Text

from .common import (
    ConfigArg,
    app,
    check_output,
    emit,
    emit_pieces,
    fail,
    info,
    load,
    write_output,
)
from .options import (
    PRECISION,
    DocumentOutputOpt,
    ForceOpt,
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
    from pathlib import Path

    from ..render.html import View
    from ..trace import Step, Trace

BIG_TABLE = 2000  # steps; rich lays out about a thousand table rows a second
BIG_PAGE = 3000  # steps; the page holds each step's chain rule too, about 4 kB a step
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
    output: DocumentOutputOpt = None,
    force: ForceOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """One update, every quantity computed, in the post's notation.

    [bold]Examples[/]

      backprop step                                 [dim]# the worked example[/]
      backprop step --only 'dE_total/dw*'           [dim]# the gradients only[/]
      backprop step net.yaml -f json | jq '.steps[] | select(.id=="w5+") | .value'
      backprop step --round 4                       [dim]# 4 decimals, as by hand[/]
      backprop step -f html -o page.html            [dim]# a web page to step through[/]
      backprop init - -l 2,2,2 | backprop step -    [dim]# a config from stdin[/]
    """
    from ..engine import step as run_step  # each renderer is imported where it is used

    if output is not None:
        if format not in (Format.html, Format.markdown, Format.latex):
            fail(
                f"--output: for the documents (html, markdown, latex), not --format {format.value}"
            )
        check_output(output, force, "--output")
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
    elif format in (Format.markdown, Format.latex, Format.html):
        _document(trace, steps, format, precision, filtered, output, force)
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


def _document(
    trace: Trace,
    steps: list[Step],
    format: Format,
    precision: int,
    filtered: bool,
    output: Path | None,
    force: bool,
) -> None:
    """A Markdown, LaTeX or HTML document, to stdout or to --output."""
    if format is Format.html:
        from ..render.html import render_html

        if filtered:
            info(
                "note: the web page shows the whole computation; --only, --phase and --sample "
                "apply to the other formats"
            )
        if len(trace.steps) > BIG_PAGE:
            info(f"note: {len(trace.steps):,} steps make a large page; a smaller config is quicker")
        text = render_html(trace, precision=precision, views=_views(trace))
    elif format is Format.markdown:
        from ..render.markdown import render_markdown

        text = render_markdown(trace, steps, precision=precision, summary=not filtered)
    else:
        from ..render.latex import render_latex

        text = render_latex(trace, steps, precision=precision, summary=not filtered)
    if output is None:
        emit(text)
    else:
        write_output(output, text, "", force, "--output")


def _views(trace: Trace) -> list[View]:
    """More tabs of the web page besides the scalar one: the matrix view, when it exists.

    The hook for backprop_cli/render's matrix view (branch `matrix`): when it lands, return
    [View("Matrices", its_html(trace))] here."""
    return []


def _no_match(trace: Trace, patterns: list[str]) -> NoReturn:
    ids = trace.ids()
    near = difflib.get_close_matches(patterns[0], ids, n=5, cutoff=0.4)
    hint = f"; closest: {', '.join(near)}" if near else ""
    fail(f"--only {' '.join(patterns)}: no step matches{hint}")
