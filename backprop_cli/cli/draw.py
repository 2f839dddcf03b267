"""`backprop draw`: the network as an SVG picture, as the post draws it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .common import ConfigArg, app, emit, fail, load, stderr


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
    precision: Annotated[
        int, typer.Option(min=0, max=12, help="Decimals of the values on the edges.")
    ] = 4,
) -> None:
    """Draw the network: neurons in layers, each edge labelled with its weight, biases shown.

    [bold]Examples[/]

      backprop draw -o net.svg                        [dim]# the worked example[/]
      backprop draw ex1.yaml --after-step -o ex1.svg  [dim]# edges coloured by their gradient[/]
      backprop draw | rsvg-convert -o net.png         [dim]# a PNG, with librsvg[/]
    """
    from ..engine import step as run_step
    from ..fileio import write_atomic
    from ..render.svg import render_svg

    spec = load(config)
    trace = run_step(spec)
    svg = render_svg(spec, trace, precision=precision, gradients=after_step)
    if output is None:
        emit(svg)
        return
    if output.is_dir():
        fail(f"{output}: is a directory; give a file name such as {output / 'net.svg'}")
    if not output.parent.is_dir():
        fail(f"{output}: the folder {output.parent} does not exist")
    try:
        write_atomic(output, svg)
    except OSError as exc:
        fail(f"{output}: cannot write ({exc.strerror or exc})")
    stderr.print(f"wrote {output}", highlight=False, markup=False)
