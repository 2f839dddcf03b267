"""`backprop draw`: the network as an SVG picture, as the post draws it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .common import ConfigArg, app, check_output, emit, load, write_output
from .options import DRAW_PRECISION, DrawPrecisionOpt, ForceOpt, QuietOpt


@app.command()
def draw(
    config: ConfigArg = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="Write the SVG here (default: stdout).", show_default=False
        ),
    ] = None,
    after_step: Annotated[
        bool,
        typer.Option(
            "--after-step",
            help="Colour each edge by its gradient in one step: red > 0, blue < 0, width ∝ √size.",
        ),
    ] = False,
    precision: DrawPrecisionOpt = DRAW_PRECISION,
    force: ForceOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Draw the network: neurons in layers, each edge labelled with its weight, biases shown.

    [bold]Examples[/]

      backprop draw -o net.svg                        [dim]# the worked example[/]
      backprop draw ex1.yaml --after-step -o ex1.svg  [dim]# edges coloured by gradient[/]
      backprop draw | rsvg-convert -o net.png         [dim]# a PNG, with librsvg[/]
    """
    from ..engine import step as run_step
    from ..render.svg import render_svg

    if output is not None:
        check_output(output, force)
    spec = load(config)
    trace = run_step(spec)
    svg = render_svg(spec, trace, precision=precision, gradients=after_step)
    if output is None:
        emit(svg)
        return
    write_output(output, svg, "")
