"""Each option more than one command takes, and each set of choices (an Enum), declared once.

A command takes an option by annotating a parameter: `precision: PrecisionOpt = PRECISION`.
Typer wants an Annotated option's default in the signature, so the defaults other than "off"
and "not given" are named here too. `common.tidy_help` writes each choice into the help.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from backprop_cli.cli.common import fail, info, set_quiet
from backprop_cli.specs.choices import (
    EXPORT_TARGETS,
    KERNELS,
    LAYOUTS,
    PHASES,
    SIGN_CONVENTIONS,
    UPDATE_ORDERS,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from backprop_cli.specs.model import Spec

# --- choices -----------------------------------------------------------------------------------


class Output(str, Enum):
    """A report is a table for people or JSON for programs (no document formats)."""

    table = "table"
    json = "json"


class Format(str, Enum):
    """Output formats of `backprop step`."""

    table = "table"
    json = "json"
    markdown = "markdown"
    latex = "latex"
    html = "html"


class View(str, Enum):
    """How `backprop step` shows the computation."""

    scalar = "scalar"
    matrix = "matrix"
    both = "both"


class TrainFormat(str, Enum):
    """Output formats of `backprop train`."""

    table = "table"
    json = "json"
    jsonl = "jsonl"
    html = "html"


class Kind(str, Enum):
    """The formats with a schema (`backprop schema KIND`)."""

    config = "config"
    trace = "trace"
    train = "train"


# The library's own names, read from a module that imports nothing, so start-up stays light.
# mypy only knows the members of an Enum spelled out literally; these are not, on purpose.
UpdateOrder = Enum("UpdateOrder", [(o, o) for o in UPDATE_ORDERS], type=str)  # type: ignore[misc]
Phase = Enum("Phase", [(p, p) for p in PHASES], type=str)  # type: ignore[misc]
Kernel = Enum("Kernel", [(k, k) for k in KERNELS], type=str)  # type: ignore[misc]
Layout = Enum("Layout", [(k, k) for k in LAYOUTS], type=str)  # type: ignore[misc]
Target = Enum("Target", [(t, t) for t in EXPORT_TARGETS], type=str)  # type: ignore[misc]
Convention = Enum("Convention", [(c, c) for c in SIGN_CONVENTIONS], type=str)  # type: ignore[misc]

# --- options -----------------------------------------------------------------------------------

PRECISION = 9  # decimals of a table
DRAW_PRECISION = 4  # decimals on a drawing's edges, where space is short
KERNEL = Kernel("auto")  # chosen by network size
CONVENTION = Convention("auto")  # recognised from the answers' deltas
LAYOUT = Layout(LAYOUTS[0])  # --layout when not given


def _quiet(ctx: typer.Context, value: bool) -> bool:
    # `backprop -q step` and `backprop step -q` both silence the notes. The root's option runs
    # first and starts each run afresh (tests run many in one process); a command's only adds.
    if value or ctx.parent is None:
        set_quiet(value)
    return value


# --seed: two meanings, each declared here once.
InitSeedOpt = Annotated[
    int | None,
    typer.Option(
        "--seed",
        min=0,
        help="Random seed: the same seed writes the same file. Default: new.",
        show_default=False,
    ),
]
SampleSeedOpt = Annotated[
    int, typer.Option("--seed", min=0, help="Seed of the random sample of parameters.")
]

QuietOpt = Annotated[
    bool,
    typer.Option(
        "--quiet",
        "-q",
        callback=_quiet,
        help="No notes or progress on stderr (errors still show).",
    ),
]
ForceOpt = Annotated[
    bool, typer.Option("--force", help="Replace an output file that exists, instead of refusing.")
]
# -o and -n mean the same in each command; only what they write or run differs. Messages about
# the file name the option as OUTPUT, whatever command wrote it.
OUTPUT = "--output"
SvgFileOpt = Annotated[
    Path | None,
    typer.Option(OUTPUT, "-o", help="Write the SVG here (default: stdout).", show_default=False),
]
ScriptFileOpt = Annotated[
    Path | None,
    typer.Option(
        OUTPUT,
        "-o",
        help="Where to write the script ('-', or no -o: stdout).",
        show_default=False,
    ),
]
TrainEpochsOpt = Annotated[
    int | None,
    typer.Option(
        "--epochs",
        "-n",
        min=0,
        show_default=False,
        help="Epochs to run (one pass over all samples each). Default: training.epochs, else 1.",
    ),
]
ExportEpochsOpt = Annotated[
    int | None,
    typer.Option(
        "--epochs",
        "-n",
        min=1,
        show_default=False,
        help="Train this many epochs and print the loss and the parameters at the end, "
        "instead of one step with every quantity.",
    ),
]
OutputOpt = Annotated[Output, typer.Option("--format", "-f", help="table, or json.")]
FormatOpt = Annotated[
    Format,
    typer.Option(
        "--format",
        "-f",
        help="table; json (the full trace); markdown or latex (a worked example document); "
        "html (one self-contained web page that steps through it).",
    ),
]
TrainFormatOpt = Annotated[
    TrainFormat,
    typer.Option(
        "--format",
        "-f",
        help="table (a summary), json (the summary record), jsonl (one record per epoch as "
        "training goes, then the summary), or html (a report page with the loss curve).",
    ),
]
DocumentOutputOpt = Annotated[
    Path | None,
    typer.Option(
        OUTPUT,
        "-o",
        help="Write the document (html, markdown, latex) to this file instead of stdout.",
        show_default=False,
        dir_okay=False,
    ),
]
PrecisionOpt = Annotated[
    int,
    typer.Option(
        "--precision", min=0, max=17, help="Decimals shown (JSON is always full precision)."
    ),
]
DrawPrecisionOpt = Annotated[
    int,
    typer.Option("--precision", min=0, max=12, help="Decimals of the values on the edges."),
]
RoundOpt = Annotated[
    int | None,
    typer.Option(
        "--round",
        min=0,
        max=15,
        help="Round every intermediate to N decimals before it is used, as with a calculator, "
        "and show the drift from the exact run.",
    ),
]
SampleOpt = Annotated[
    int | None, typer.Option("--sample", min=1, help="Only sample K (1 = the first).")
]
DrawSampleOpt = Annotated[
    int | None,
    typer.Option(
        "--sample",
        min=1,
        help="Sample K's inputs, targets and values (its gradient with --after-step, as "
        "step --sample K shows it). Default: the first's; a batch's gradient.",
        show_default=False,
    ),
]
UpdateOrderOpt = Annotated[
    UpdateOrder | None,
    typer.Option(
        "--update-order",
        help="Override training.update_order. simultaneous: every gradient from the weights "
        "before the update (the post's text); sequential: hidden deltas use the already "
        "updated output weights (the post's closing figures).",
    ),
]
ViewOpt = Annotated[
    View,
    typer.Option(
        "--view",
        help="scalar: one step per number, in the post's notation; matrix: each layer's "
        "matrices (W, δ, ∇W, ...) with every entry's id and each equation's shapes; both.",
    ),
]
LayoutOpt = Annotated[
    Layout | None,  # None: not given (out-in); given, it needs the matrix view
    typer.Option(
        "--layout",
        help="The matrix view's layout. out-in (the default): W is neurons × inputs, as the "
        "config and PyTorch's nn.Linear.weight; in-out: inputs × neurons, the X·W of cs231n "
        "and Keras.",
        show_default=False,
    ),
]
PhaseOpt = Annotated[
    list[Phase] | None, typer.Option("--phase", help="Show only this phase (repeatable).")
]
KernelOpt = Annotated[
    Kernel,
    typer.Option(
        "--kernel", help="auto picks by network size: python (exact), numpy (large nets)."
    ),
]


def sample_index(spec: Spec, sample: int | None) -> int | None:
    """--sample K as an index into the spec's samples; a K beyond them exits 2."""
    if sample is None:
        return None
    if sample > len(spec.samples):
        fail(f"--sample {sample}: the spec has {len(spec.samples)} sample(s)")
    return sample - 1


def columns(text: str | None) -> list[str] | None:
    """--inputs/--targets: `x1,x2` -> [x1, x2]."""
    return None if text is None else [c.strip() for c in text.split(",") if c.strip()]


def note_columns(
    file: str,
    picked: tuple[Sequence[str], Sequence[str]],
    inputs: list[str] | None,
    targets: list[str] | None,
) -> None:
    """Say on stderr which columns of a data file were taken as inputs and targets, unless
    --inputs and --targets named them both (init and import pick them the same way)."""
    ins, outs = (", ".join(names) for names in picked)
    if inputs is not None and targets is not None:
        return
    if targets is not None:
        info(f"note: {file}: inputs {ins} (the columns --targets leaves)")
    elif inputs is not None:
        info(f"note: {file}: targets {outs} (the columns --inputs leaves)")
    else:
        last = "the last column" if len(picked[1]) == 1 else f"the last {len(picked[1])} columns"
        info(f"note: {file}: inputs {ins}; targets {outs} ({last}; see --targets)")


# backprop init and backprop import: a config from a data file, and its loss and η.
ConfigFileOpt = Annotated[
    Path | None,
    typer.Option(
        OUTPUT, "-o", help="Where to write the config. Default: stdout.", show_default=False
    ),
]
DataFileOpt = Annotated[
    Path | None,
    typer.Option(
        "--samples",
        help="A CSV (with a header row) or JSON Lines file of samples; the config names it.",
        show_default=False,
    ),
]
InitSamplesOpt = Annotated[
    str,
    typer.Option(
        "--samples",
        help="Training samples: how many to draw (1 to 100), or a CSV (with a header row) or "
        "JSON Lines file of them, which the config then names.",
    ),
]
InputsOpt = Annotated[
    str | None,
    typer.Option(
        help="With a data file: the input columns, comma-separated. Default: every column but "
        "the targets.",
        show_default=False,
    ),
]
TargetsOpt = Annotated[
    str | None,
    typer.Option(
        help="With a data file: the target columns. Default: as many last columns as the "
        "network has outputs; for a new network, the last column with those before it named "
        "alike (y1, y2).",
        show_default=False,
    ),
]
LossOpt = Annotated[
    str,
    typer.Option(
        help="The loss, by its name in docs/operations.md: half_sse (the post's) by default. "
        "cross_entropy on a network that ends in logits gives it softmax, as PyTorch does."
    ),
]
LearningRateOpt = Annotated[float, typer.Option(help="η, the learning rate (greater than 0).")]
