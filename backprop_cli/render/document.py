"""A worked example as a sequence of blocks (headings, prose, display math) in the post's order.

The Markdown and LaTeX renderers write the same blocks; only the syntax differs.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from backprop_cli.engine.passes import iter_phases
from backprop_cli.engine.trace import Step, Trace
from backprop_cli.ops import ACTIVATIONS, LOSSES
from backprop_cli.render.mathtex import Equation, equation, name, render, symbol, tex_number, width
from backprop_cli.render.numbers import Numbers, written
from backprop_cli.specs.model import Spec, batches

if TYPE_CHECKING:
    from backprop_cli.tutor.rounding import Drift


@dataclass(frozen=True, slots=True)
class Heading:
    level: int  # 1 = the title
    text: str


@dataclass(frozen=True, slots=True)
class Prose:
    """A paragraph: plain text, inline math and code (an id as typed), in order (kind is
    "text", "math" or "code")."""

    parts: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class Display:
    """Display math listing values: `w_1 = 0.15,  w_2 = 0.2, ...` (packed into lines)."""

    items: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Eq:
    """One step: lhs = formula = numbers = value."""

    eq: Equation
    step_id: str
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Grid:
    """A table: a header row and rows of cells; the first column is math (a symbol), the others
    plain text (numbers)."""

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


Block = Heading | Prose | Display | Eq | Grid

_PHASES = {
    "forward": "Forward pass",
    "loss": "Total error",
    "backward": "Backward pass",
    "update": "Update",
    "after": "After the update",
}


def text(*parts: str) -> Prose:
    """Prose from alternating text and math: text("see ", "w_1", " here")."""
    return Prose(tuple(("math" if i % 2 else "text", p) for i, p in enumerate(parts) if p))


def build(
    trace: Trace,
    steps: Iterable[Step] | None = None,
    *,
    precision: int = 9,
    summary: bool = True,
    decimals: int | None = None,
    drifts: Sequence[Drift] = (),
) -> list[Block]:
    """The blocks of a worked example: setup, one section per phase and layer, result.

    `decimals`: a run rounded to that many decimals (`--round N`): the document says so, shows
    its results with their zeros (0.2910) and ends with the drift table (`drifts`)."""
    spec = trace.spec
    chosen = trace.steps if steps is None else list(steps)
    shown = Numbers.of(trace.steps, precision)
    blocks: list[Block] = [Heading(1, spec.name)]
    if decimals is not None:
        blocks.append(text(rounded_note(decimals, bool(drifts))))
    if summary:
        blocks += _setup(spec, shown)
    n_updates = len(batches(spec))
    previous = None
    for (phase, layer, sample, update), group in iter_phases(Trace(spec, chosen)):
        title = _PHASES.get(phase, phase)
        if sample is not None and len(spec.samples) > 1:
            title += f" · sample {sample + 1}"
        batch_loss = phase == "loss" and sample is None
        if batch_loss:
            title += " · batch"
        if (phase == "update" or batch_loss) and update is not None and n_updates > 1:
            title += f" · update {update + 1}"
        if title != previous:
            blocks.append(Heading(2, title))
            previous = title
        sub = _layer_title(spec, phase, layer)
        if sub:
            blocks.append(Heading(3, sub))
        lead = _lead(spec, phase, layer, sample)
        if lead:
            blocks.append(lead)
        for s in group:
            blocks.append(Eq(equation(s, shown), s.id, s.note))
    if summary:
        blocks += _result(trace, shown if decimals is None else Numbers(decimals, zeros=True))
    if decimals is not None and drifts:
        blocks += drift_blocks(drifts, decimals, precision)
    return blocks


def rounded_note(decimals: int, table: bool) -> str:
    """The sentence at the top of a document of a rounded run (`--round N`)."""
    return f"Every intermediate rounded to {decimals} decimals, as by hand" + (
        "; the last table shows how far that takes the results from the exact run."
        if table
        else "."
    )


def drift_blocks(drifts: Sequence[Drift], decimals: int, precision: int) -> list[Block]:
    """The drift table of a rounded run, as `step --round N` prints it."""
    from backprop_cli.render.drift import HEADERS, drift_cells, title

    rows = []
    for d in drifts:
        cells = drift_cells(d, decimals, precision)
        rows.append((symbol(cells[0]), *cells[1:]))
    return [
        Heading(2, title(decimals)),
        Grid(tuple(h.format(decimals=decimals) for h in HEADERS), tuple(rows)),
    ]


def _layer_title(spec: Spec, phase: str, layer: int | None) -> str | None:
    if layer is None:
        return {"update": "Batch gradient", "after": "Total error"}.get(phase)
    kind = "Output layer" if layer == len(spec.layers) - 1 else "Hidden layer"
    return f"{kind} {spec.layers[layer].name}"


def _lead(spec: Spec, phase: str, layer: int | None, sample: int | None) -> Prose | None:
    """One sentence saying what the section computes, in the post's words."""
    last = len(spec.layers) - 1
    if phase == "loss" and sample is None:
        return text(
            f"The batch's loss, the {spec.training.reduction} of its samples' total errors: "
            "the loss whose gradient the update follows."
        )
    if phase == "forward" and layer is not None:
        squash = ACTIVATIONS[spec.layers[layer].activation].prose
        return text(f"The total net input of each neuron, squashed by {squash}.")
    if phase == "loss":
        return text(
            "The error of each output neuron, ",
            _loss_tex(spec),
            ", summed to the total error.",
        )
    if phase == "backward" and layer == last:
        return text(
            "The chain rule, one factor at a time: how the total error changes with each "
            "output, each output with its net input (their product is the node delta ",
            r"\delta",
            "), and each net input with each weight.",
        )
    if phase == "backward" and layer is not None:
        return text(
            "Each output of this layer feeds every neuron of the layer above, so its effect "
            "on the total error is a sum over those neurons."
        )
    if phase == "update" and layer is None:
        return text(f"The {spec.training.reduction} of the samples' gradients.")
    if phase == "update":
        eta = written(spec.training.learning_rate, 9)
        return text(
            "Each parameter moves against its gradient, scaled by the learning rate ",
            rf"\eta = {tex_number(eta)}",
            ".",
        )
    if phase == "after" and layer is not None:
        return text("The forward pass again, with the updated parameters.")
    if phase == "after":
        return text("The error with the updated parameters.")
    return None


def _loss_tex(spec: Spec) -> str:
    """E_o of the spec's loss in symbols (target and out of an output neuron o)."""
    template = LOSSES[spec.loss].formula.replace("{t}", "{target_o}").replace("{out}", "{out_o}")
    return "E_o = " + render(template)


def _setup(spec: Spec, shown: Numbers) -> list[Block]:
    blocks: list[Block] = [Heading(2, "The network")]
    parts: list[tuple[str, str]] = [("text", "Inputs ")]
    parts += _names([name(i) for i in spec.inputs])
    for k, layer in enumerate(spec.layers):
        kind = "output layer" if k == len(spec.layers) - 1 else "hidden layer"
        squash = ACTIVATIONS[layer.activation].prose
        parts.append(("text", f"; {kind} {layer.name}: "))
        parts += _names([name(n) for n in layer.neurons])
        parts.append(("text", f" ({squash})"))
    t = spec.training
    parts.append(("text", ". Learning rate "))
    parts.append(("math", rf"\eta = {tex_number(written(t.learning_rate, shown.precision))}"))
    biases = "" if t.update_biases else "; the biases are held fixed, as in the post"
    parts.append(("text", f"{biases}."))
    blocks.append(Prose(tuple(parts)))
    params = spec.parameters()
    blocks.append(text("The parameters before the update:"))
    blocks.append(Display(tuple(f"{symbol(p.id)} = {_num(p.value, shown)}" for p in params)))
    for s, sample in enumerate(spec.samples):
        label = "The training sample" if len(spec.samples) == 1 else f"Sample {s + 1}"
        blocks.append(text(f"{label}: inputs and targets."))
        items = [
            f"{name(i)} = {_num(x, shown)}" for i, x in zip(spec.inputs, sample.inputs, strict=True)
        ]
        items += [
            f"{symbol('target_' + o)} = {_num(x, shown)}"
            for o, x in zip(spec.outputs, sample.targets, strict=True)
        ]
        blocks.append(Display(tuple(items)))
    return blocks


def _names(items: list[str]) -> list[tuple[str, str]]:
    """Names as inline math separated by commas."""
    out: list[tuple[str, str]] = []
    for i, item in enumerate(items):
        if i:
            out.append(("text", ", "))
        out.append(("math", item))
    return out


def _num(x: float, shown: Numbers) -> str:
    return tex_number(shown(x))


def _result(trace: Trace, shown: Numbers) -> list[Block]:
    spec = trace.spec
    blocks: list[Block] = [Heading(2, "Result")]
    changed = [p for p in trace.parameters if trace.updated.get(p.id, p.value) != p.value]
    if changed:
        blocks.append(text("The parameters after the update:"))
        blocks.append(
            Display(
                tuple(f"{symbol(p.id + '+')} = {_num(trace.updated[p.id], shown)}" for p in changed)
            )
        )
    if len(spec.samples) == 1:
        before, after, what = "E_total", "E_total+", "The total error"
    else:
        before, after = "E", "E+"
        what = f"The error ({spec.training.reduction} over the samples)"
    change = trace.loss_after - trace.loss_before
    blocks.append(
        text(f"{what} before and after the update (a change of ", _num(change, shown), "):")
    )
    blocks.append(
        Display(
            (
                f"{symbol(before)} = {_num(trace.loss_before, shown)}",
                f"{symbol(after)} = {_num(trace.loss_after, shown)}",
            )
        )
    )
    return blocks


# --- line breaking, shared by both renderers ---------------------------------------------------

LINE = 80  # rough width of a display line on an A4 page, in characters of rendered math


def pack(pieces: Iterable[str], limit: int = LINE, gap: int = 1) -> list[list[str]]:
    """Pieces packed greedily into lines of at most `limit`, `gap` between pieces (never split)."""
    lines: list[list[str]] = []
    used = 0
    for piece in pieces:
        w = width(piece)
        if lines and used + gap + w <= limit:
            lines[-1].append(piece)
            used += gap + w
        else:
            lines.append([piece])
            used = w
    return lines


SEPARATOR = r",\quad "  # between the items of a Display
SEPARATOR_WIDTH = 4


def one_line(e: Equation) -> str:
    """The whole equation on one line."""
    parts = [e.lhs, " ".join(e.formula)]
    if e.numbers:
        parts.append(" ".join(e.numbers))
    return " = ".join([*parts, e.value])


def fits(e: Equation, limit: int = LINE) -> bool:
    """Whether the equation fits on one line."""
    return width(one_line(e)) <= limit
