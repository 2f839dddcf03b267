"""`backprop init`: write a new exercise (a commented config with random, rounded numbers)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..ops import ACTIVATIONS, LOSSES
from .common import app, check_output, emit, fail, write_output
from .options import ForceOpt, QuietOpt


@app.command("init")
def init(
    path: Annotated[
        Path,
        typer.Argument(
            metavar="CONFIG", help="Where to write the new config ('-' writes it to stdout)."
        ),
    ],
    layers: Annotated[
        str,
        typer.Option(
            "--layers", "-l", help="Neurons per layer, inputs first: 2,2,2 is the post's network."
        ),
    ],
    activation: Annotated[
        str,
        typer.Option(
            help="Hidden layers: "
            + ", ".join(a.name for a in ACTIVATIONS.values() if a.hidden)
            + "."
        ),
    ] = "sigmoid",
    output_activation: Annotated[
        str | None,
        typer.Option(
            help="Output layer: " + ", ".join(ACTIVATIONS) + ". Default: softmax for "
            "cross_entropy, sigmoid for binary_cross_entropy, else --activation.",
            show_default=False,
        ),
    ] = None,
    loss: Annotated[str, typer.Option(help=", ".join(LOSSES) + ".")] = "half_sse",
    seed: Annotated[
        int | None,
        typer.Option(
            min=0,
            help="Random seed: the same seed writes the same file. Default: new.",
            show_default=False,
        ),
    ] = None,
    decimals: Annotated[int, typer.Option(min=1, max=6, help="Decimals of every number.")] = 2,
    samples: Annotated[int, typer.Option(min=1, max=100, help="Training samples.")] = 1,
    learning_rate: Annotated[
        float, typer.Option(help="η, the learning rate (greater than 0).")
    ] = 0.5,
    force: ForceOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Write a new exercise: a commented config with random weights, inputs and targets.

    [bold]Examples[/]

      backprop init ex1.yaml --layers 2,2,2 --seed 7     [dim]# the post's shape[/]
      backprop step ex1.yaml -f markdown > solution.md   [dim]# its worked solution[/]
      backprop init ex2.yaml -l 3,4,4,2 --loss cross_entropy --samples 2
      backprop init - -l 2,2,2 | backprop step -         [dim]# straight to its solution[/]
    """
    from ..exercise import ExerciseError, Options, make_exercise, parse_layers

    if seed is None:
        import secrets  # here: only a run without --seed draws one

        seed = secrets.randbelow(1_000_000)
    try:
        opts = Options(
            parse_layers(layers),
            activation,
            output_activation,
            loss,
            seed,
            decimals,
            samples,
            learning_rate,
        )
        text = make_exercise(opts)
    except ExerciseError as exc:
        fail(str(exc))
    if str(path) == "-":
        emit(text)
        return
    check_output(path, force)
    write_output(
        path,
        text,
        f" ({'-'.join(map(str, opts.layers))}, seed {seed}); next: backprop step {path}",
        force,
    )
