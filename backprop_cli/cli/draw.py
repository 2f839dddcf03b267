"""`backprop draw`: the network as an SVG picture, as the post draws it."""

from typing import Annotated

import typer

from backprop_cli.cli.common import ConfigArg, app, check_output, emit, info, load, write_output
from backprop_cli.cli.options import (
    DRAW_PRECISION,
    OUTPUT,
    DrawPrecisionOpt,
    DrawSampleOpt,
    ForceOpt,
    QuietOpt,
    SvgFileOpt,
    sample_index,
)


@app.command()
def draw(
    config: ConfigArg = None,
    output: SvgFileOpt = None,
    after_step: Annotated[
        bool,
        typer.Option(
            "--after-step",
            help="Colour each edge by its gradient in one step: red > 0, blue < 0, width ∝ √size.",
        ),
    ] = False,
    sample: DrawSampleOpt = None,
    precision: DrawPrecisionOpt = DRAW_PRECISION,
    force: ForceOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Draw the network: neurons in layers, each edge labelled with its weight, biases shown.

    [bold]Examples[/]

      backprop draw -o net.svg                        [dim]# the worked example[/]
      backprop draw --after-step -o step.svg          [dim]# edges coloured by gradient[/]
      backprop draw docs/interop/net.yaml --after-step --sample 2
      backprop draw | rsvg-convert -o net.png         [dim]# a PNG, with librsvg[/]
    """
    from backprop_cli.engine.passes import step as run_step
    from backprop_cli.render.svg import MAX_LABELS, labelled, render_svg

    if output is not None:
        check_output(output, force, OUTPUT)
    spec = load(config)
    index = sample_index(spec, sample)
    if not labelled(spec):
        info(
            f"{len(spec.parameters())} weights are too many to label (at most {MAX_LABELS}); "
            "each edge's tooltip shows its weight"
        )
    # The step gives tooltips and gradients; past the label limit only --after-step needs it.
    trace = run_step(spec) if after_step or labelled(spec) else None
    svg = render_svg(spec, trace, precision=precision, gradients=after_step, sample=index)
    if output is None:
        emit(svg)
        return
    write_output(output, svg, "", force, OUTPUT)
