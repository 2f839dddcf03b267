"""`backprop init`: write a new exercise (a commented config with random, rounded numbers)."""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from backprop_cli.cli.common import app, check_output, emit, fail, named_file, write_output
from backprop_cli.cli.options import (
    ForceOpt,
    InitSamplesOpt,
    InitSeedOpt,
    InputsOpt,
    LearningRateOpt,
    LossOpt,
    QuietOpt,
    TargetsOpt,
    columns,
    note_columns,
)
from backprop_cli.ops import ACTIVATIONS

if TYPE_CHECKING:
    from backprop_cli.tutor.exercise import Options


@app.command("init")
def init(
    path: Annotated[
        Path,
        typer.Argument(
            metavar="CONFIG", help="Where to write the new config ('-' writes it to stdout)."
        ),
    ],
    layers: Annotated[
        str | None,
        typer.Option(
            "--layers",
            "-l",
            help="Neurons per layer, inputs first: 2,2,2 is the post's network. With a data "
            "file, the inputs and outputs fit its columns (default: one hidden layer as wide "
            "as the inputs, at least 2).",
            show_default=False,
        ),
    ] = None,
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
    loss: LossOpt = "half_sse",
    seed: InitSeedOpt = None,
    decimals: Annotated[int, typer.Option(min=1, max=6, help="Decimals of every number.")] = 2,
    samples: InitSamplesOpt = "1",
    inputs: InputsOpt = None,
    targets: TargetsOpt = None,
    learning_rate: LearningRateOpt = 0.5,
    sheet: Annotated[
        bool,
        typer.Option(
            "--sheet",
            help="Also write a problem sheet without its solution, CONFIG's name with "
            "-sheet.md (each quantity's formula, a blank for its value), and the answers file "
            "for check, -answers.yaml (every id, blank).",
        ),
    ] = False,
    force: ForceOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Write a new exercise: a commented config with random weights, inputs and targets.

    [bold]Examples[/]

      backprop init ex1.yaml --layers 2,2,2 --seed 7     [dim]# the post's shape[/]
      backprop step ex1.yaml -f markdown > solution.md   [dim]# its worked solution[/]
      backprop init ex2.yaml -l 3,4,4,2 --loss cross_entropy --samples 2
      backprop init - -l 2,2,2 | backprop step -         [dim]# straight to its solution[/]
      backprop init net.yaml --samples docs/interop/data.csv  [dim]# sizes from the file[/]
      backprop init ex3.yaml -l 2,3,2 --sheet  [dim]# + ex3-sheet.md, ex3-answers.yaml[/]
    """
    from backprop_cli.specs.source import SourceError
    from backprop_cli.tutor.exercise import ExerciseError, Options, make_exercise, parse_layers

    if seed is None:
        import secrets  # here: only a run without --seed draws one

        seed = secrets.randbelow(1_000_000)
    if sheet and str(path) == "-":
        fail("--sheet writes the sheet and the answers file beside CONFIG: give a file name")
    named_file(samples, "--samples -", "the config names its data file, so it is read from a file")
    try:
        count, data = _samples(samples)
        if sheet and data is not None:
            raise ExerciseError("--sheet: for an exercise worked by hand, not a --samples file")
        if data is None and (inputs or targets):
            raise ExerciseError("--inputs and --targets name columns of a --samples data file")
        sizes = parse_layers(layers) if layers is not None else None
        opts = Options(
            (2, 2, 2) if sizes is None else sizes,
            activation,
            output_activation,
            loss,
            seed,
            decimals,
            count,
            learning_rate,
        )
        if data is not None:
            opts = _with_data(opts, data, path, sizes, columns(inputs), columns(targets))
        elif sizes is None:
            raise ExerciseError("--layers is needed (such as 2,2,2), or a --samples data file")
        text = make_exercise(opts)
    except ExerciseError as exc:
        fail(str(exc))
    except SourceError as exc:
        fail(str(exc))
    if str(path) == "-":
        emit(text)
        return
    extra = _sheet_paths(path) if sheet else ()
    for out in (path, *extra):
        check_output(out, force, None)  # CONFIG, an argument: named by its path
    files = _sheet(text, path, *extra) if extra else []
    write_output(
        path,
        text,
        f" ({'-'.join(map(str, opts.layers))}, seed {seed}); next: backprop step {path}",
        force,
        None,
    )
    for out, content, what in files:
        write_output(out, content, what, force, None)


def _sheet_paths(config: Path) -> tuple[Path, Path]:
    """ex1.yaml -> ex1-sheet.md, ex1-answers.yaml, beside it."""
    return config.with_name(f"{config.stem}-sheet.md"), config.with_name(
        f"{config.stem}-answers.yaml"
    )


def _sheet(text: str, config: Path, sheet: Path, answers: Path) -> list[tuple[Path, str, str]]:
    """The problem sheet and the answers file of the exercise `text`, with what to say of each."""
    from backprop_cli.engine.passes import step
    from backprop_cli.render.sheet import answer_keys, answers_yaml, sheet_markdown
    from backprop_cli.specs.validate import loads_spec

    trace = step(loads_spec(text, str(config)))
    # named as they stand beside each other: the student works in that folder
    names = config.name, sheet.name, answers.name
    count = sum(k is not None for k in answer_keys(trace))
    return [
        (sheet, sheet_markdown(trace, names[0], names[2]), f" (the problem: {count} blanks)"),
        (
            answers,
            answers_yaml(trace, names[0], names[1], names[2]),
            f" (then: backprop check {answers} {config})",
        ),
    ]


def _samples(text: str) -> tuple[int, str | None]:
    """--samples: a count, or a data file."""
    from backprop_cli.tutor.exercise import ExerciseError

    if text.strip().isdigit():
        n = int(text)
        if not 1 <= n <= 100:
            raise ExerciseError(f"--samples {n}: must be 1 to 100 (or a data file)")
        return n, None
    return 1, text


def _with_data(
    opts: "Options",
    data: str,
    config: Path,
    sizes: tuple[int, ...] | None,
    inputs: list[str] | None,
    targets: list[str] | None,
) -> "Options":
    """The options with a data file's samples: layer sizes that fit its columns."""
    import dataclasses
    import os

    from backprop_cli.specs.model import SamplesFile
    from backprop_cli.specs.samplesfile import format_of, pick_columns, read_samples
    from backprop_cli.tutor.exercise import ExerciseError

    n_in = sizes[0] if sizes else None
    n_out = sizes[-1] if sizes else None
    ins, outs = pick_columns(data, inputs, targets, n_in, n_out)
    note_columns(data, (ins, outs), inputs, targets)
    if sizes is None:
        sizes = (len(ins), max(2, len(ins)), len(outs))
    elif (sizes[0], sizes[-1]) != (len(ins), len(outs)):
        raise ExerciseError(
            f"--layers {','.join(map(str, sizes))}: {data} has {len(ins)} inputs "
            f"and {len(outs)} targets"
        )
    rows = len(read_samples(SamplesFile(format_of(data), data, data, ins, outs)))
    to_stdout = str(config) == "-"
    folder = os.path.abspath("." if to_stdout else os.path.dirname(os.path.abspath(config)))
    return dataclasses.replace(
        opts,
        layers=sizes,
        data=os.path.relpath(os.path.abspath(data), folder),
        data_columns=(ins, outs),
        data_rows=rows,
        config_file="<stdin>" if to_stdout else str(config),
    )
