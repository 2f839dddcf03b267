"""`backprop step`: one update, every quantity computed."""

import difflib
import gc
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.text import Text

from backprop_cli.cli.common import (
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
from backprop_cli.cli.options import (
    LAYOUT,
    OUTPUT,
    PRECISION,
    DocumentOutputOpt,
    ForceOpt,
    Format,
    FormatOpt,
    LayoutOpt,
    PhaseOpt,
    PrecisionOpt,
    QuietOpt,
    RoundOpt,
    SampleOpt,
    UpdateOrderOpt,
    View,
    ViewOpt,
    sample_index,
)

if TYPE_CHECKING:
    from pathlib import Path

    from backprop_cli.engine.matrices import MatrixView
    from backprop_cli.engine.trace import Trace
    from backprop_cli.render.matrix import Pick
    from backprop_cli.tutor.rounding import Drift

BIG_TABLE = 20_000  # steps; tables come out at about ten thousand rows a second
BIG_PAGE = 3000  # steps; the page holds each step's chain rule too, about 4 kB a step
# steps; a page of 31,099 took 8.7 s and 0.69 GB to make (73 MB): this one about 1.1 GB, 120 MB
MAX_PAGE = 50_000
MAX_STEPS = 3_000_000  # a trace's steps, about 700 bytes each
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
    view: ViewOpt = View.scalar,
    layout: LayoutOpt = None,
    output: DocumentOutputOpt = None,
    force: ForceOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """One update, every quantity computed, in the post's notation.

    [bold]Examples[/]

      backprop step                                 [dim]# the worked example[/]
      backprop step --only 'dE_total/dw*'           [dim]# the gradients only[/]
      backprop step -f json | jq '.steps[] | select(.id=="w5+")'
      backprop step --round 4                       [dim]# 4 decimals, as by hand[/]
      backprop step -f html -o page.html            [dim]# a web page to step through[/]
      backprop init - -l 2,2,2 | backprop step -    [dim]# a config from stdin[/]
      backprop step --view matrix                   [dim]# W, δ, ∇W as matrices[/]
      backprop step --view matrix --layout in-out   [dim]# W stored in × out, as X·W[/]
    """
    from backprop_cli.engine.passes import (
        step as run_step,  # each renderer is imported where it is used
    )

    if output is not None:
        if format not in (Format.html, Format.markdown, Format.latex):
            fail(
                f"--output: for the documents (html, markdown, latex), not --format {format.value}"
            )
        check_output(output, force, OUTPUT)
    if layout is not None and view is View.scalar and format is not Format.html:
        fail(
            "--layout: for the matrix view (--view matrix or both, or --format html), "
            "not --view scalar"
        )
    layout = layout or LAYOUT
    spec = load(config)
    index = sample_index(spec, sample)
    order = str(update_order.value) if update_order else spec.training.update_order
    if order == "sequential" and spec.training.mode != "online" and len(spec.samples) > 1:
        info(
            f"note: the sequential update order applies to one-sample updates; mode "
            f"{spec.training.mode} updates all layers together from the batch gradient"
        )
    # Every weight has two steps for each sample (dnet/dw, dE/dw) and every neuron at least four
    # (net, out, its delta and the gradient it passes on): too many is known before the trace is
    # made (20,000 samples of a 2-2-2 network: 1.2 million steps, 0.8 GB).
    weights = sum(len(row) for layer in spec.layers for row in layer.weights)
    neurons = sum(layer.size for layer in spec.layers)
    at_least = (2 * weights + 4 * neurons) * len(spec.samples)
    if at_least > MAX_STEPS:
        fail(
            f"this step has at least {at_least:,} steps ({len(spec.samples):,} samples); a step "
            f"is recorded up to {MAX_STEPS:,} (about 2 GB of memory): take fewer samples, or "
            "`backprop train`, which trains on any number"
        )
    if format is Format.html:
        # the largest network's page ran out of memory after three minutes
        _page_fits(weights * len(spec.samples), at_least=True)
    trace = run_step(spec, update_order=order, round_to=round_to)
    # The trace lives to the end: full collections need not walk its steps again and again
    # (a 35,792-step table spent about 0.2 s in them).
    gc.freeze()
    drifts = None
    if round_to is not None:
        from backprop_cli.tutor.rounding import drift

        drifts = drift(trace, run_step(spec, update_order=order))
    phases = [str(p.value) for p in phase] if phase else None
    filtered = bool(only or phases or sample is not None)
    if format is Format.html:  # the page has both views, as two tabs
        from backprop_cli.engine.matrices import build as build_matrices

        mtab = build_matrices(trace, str(layout.value))
        _page(trace, mtab, precision, filtered, output, force, round_to, drifts)
        return
    mview, pick = None, None
    if view is not View.scalar:
        from backprop_cli.engine.matrices import build as build_matrices
        from backprop_cli.render.matrix import Pick

        pick = Pick(only, phases, index, precision)
        mview = build_matrices(trace, str(layout.value))
        if view is View.matrix or format is Format.json:
            _matrix_view(trace, mview, format, pick, output, force)
            return
    steps = trace.select(only, phases, index)
    if only and not steps:
        if mview is not None and pick is not None:  # --view both: a matrix id, e.g. W_o
            from backprop_cli.render.matrix import chosen

            if any(chosen(mview, pick)):
                _matrix_view(trace, mview, format, pick, output, force)
                return
        _no_match(trace, only)
    if format is Format.json:
        from backprop_cli.render import jsonfmt

        if len(steps) > BIG_DOCUMENT:
            info(
                f"note: {len(steps):,} steps make a document of about "
                f"{len(steps) * 350 // 10**6:,} MB; --only, --phase or --sample are quicker"
            )
        doc = trace.document(steps)
        if drifts is not None:
            doc["rounding"] = {"decimals": round_to, "drift": [d.to_dict() for d in drifts]}
        emit_pieces(jsonfmt.pieces(doc))
    elif format in (Format.markdown, Format.latex):
        from backprop_cli.render.document import build as document
        from backprop_cli.render.latex import write_latex
        from backprop_cli.render.markdown import write_markdown

        blocks = document(
            trace,
            steps,
            precision=precision,
            summary=not filtered,
            decimals=round_to,
            drifts=drifts or (),
        )
        if mview is not None and pick is not None:  # --view both: the scalar, then matrices
            from backprop_cli.render.matrix import matrix_blocks

            blocks += matrix_blocks(trace, mview, pick, title=False)
        text = write_markdown(blocks) if format is Format.markdown else write_latex(blocks)
        _write(text, output, force)
    else:
        from backprop_cli.render.table import trace_parts

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
        if mview is not None and pick is not None:
            from backprop_cli.render.matrix import matrix_parts

            emit(Text(""))
            for part in matrix_parts(trace, mview, pick, title=False):
                emit(part)
        if drifts is not None and round_to is not None:
            if not filtered:  # a filtered trace already ends with a blank line
                emit(Text(""))
            from backprop_cli.render.drift import drift_table

            emit(drift_table(drifts, round_to, precision))


def _page(
    trace: "Trace",
    mview: "MatrixView",
    precision: int,
    filtered: bool,
    output: "Path | None",
    force: bool,
    decimals: int | None = None,
    drifts: "list[Drift] | None" = None,
) -> None:
    """The web page: the scalar view and the matrix view as two tabs."""
    from backprop_cli.render.html import Tab, render_html, render_matrix_tab

    if filtered:
        info(
            "note: the web page shows the whole computation; --only, --phase and --sample "
            "apply to the other formats"
        )
    _page_fits(len(trace.steps))
    if len(trace.steps) > BIG_PAGE:
        info(f"note: {len(trace.steps):,} steps make a large page; a smaller config is quicker")
    tabs = [Tab("Matrices", render_matrix_tab(trace, mview, precision))]
    page = render_html(
        trace, precision=precision, tabs=tabs, decimals=decimals, drifts=drifts or ()
    )
    _write(page, output, force)


def _page_fits(steps: int, at_least: bool = False) -> None:
    """Refuse a web page of more than MAX_PAGE steps, in one line saying what to do instead."""
    if steps > MAX_PAGE:
        fail(
            f"--format html: this step has {'at least ' if at_least else ''}{steps:,} steps; a "
            f"page is made for at most {MAX_PAGE:,} (about 1 GB of memory); --format json "
            "streams any size, and --format table can show a part (--only, --phase)"
        )


def _write(text: str, output: "Path | None", force: bool) -> None:
    """A document to stdout, or to --output."""
    if output is None:
        emit(text)
    else:
        write_output(output, text, "", force, OUTPUT)


def _matrix_view(
    trace: "Trace",
    mview: "MatrixView",
    format: Format,
    pick: "Pick",
    output: "Path | None" = None,
    force: bool = False,
) -> None:
    """`--view matrix`: the matrices in the chosen format (JSON: the trace and its matrices)."""
    from backprop_cli.render import jsonfmt
    from backprop_cli.render.latex import write_latex
    from backprop_cli.render.markdown import write_markdown
    from backprop_cli.render.matrix import chosen, matrix_blocks, matrix_parts

    if pick.only and not any(chosen(mview, pick)):
        ids = list(dict.fromkeys(str(m["id"]) for m in mview.to_dict()))
        near = difflib.get_close_matches(pick.only[0], ids, n=5, cutoff=0.4)
        hint = f"; closest: {', '.join(near)}" if near else ""
        fail(f"--only {' '.join(pick.only)}: no matrix matches{hint}")
    if format is Format.json:
        doc = trace.document(trace.select(pick.only, pick.phases, pick.sample))
        doc["matrices"] = [m for m in mview.to_dict() if pick.shows(m)]
        emit_pieces(jsonfmt.pieces(doc))
    elif format is Format.markdown:
        _write(write_markdown(matrix_blocks(trace, mview, pick)), output, force)
    elif format is Format.latex:
        _write(write_latex(matrix_blocks(trace, mview, pick)), output, force)
    else:
        for part in matrix_parts(trace, mview, pick):
            emit(part)


def _no_match(trace: "Trace", patterns: list[str]) -> NoReturn:
    ids = trace.ids()
    near = difflib.get_close_matches(patterns[0], ids, n=5, cutoff=0.4)
    hint = f"; closest: {', '.join(near)}" if near else ""
    fail(f"--only {' '.join(patterns)}: no step matches{hint}")
