"""Rich tables: one per phase and layer (id · formula · with numbers · value)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from rich import box
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.jupyter import JupyterMixin
from rich.table import Table
from rich.text import Text

from ..engine import iter_phases
from ..ops import OPTIMIZERS
from ..spec import Param
from ..trace import Step, Trace
from . import number

_PHASE_TITLES = {
    "forward": "Forward pass",
    "loss": "Total error",
    "backward": "Backward pass",
    "update": "Update",
    "after": "After the update",
}


def group_title(
    trace: Trace, phase: str, layer: int | None, sample: int | None, update: int | None
) -> str:
    """A heading such as 'Backward pass · output layer o · sample 2'."""
    spec = trace.spec
    parts = [_PHASE_TITLES.get(phase, phase)]
    if phase == "update" and layer is None:
        parts.append("batch gradient")
    if layer is not None:
        kind = "output layer" if layer == len(spec.layers) - 1 else "hidden layer"
        parts.append(f"{kind} {spec.layers[layer].name}")
    elif phase == "after":
        parts.append("total error")
    if len(spec.samples) > 1:
        if sample is not None:
            parts.append(f"sample {sample + 1}")
        if update is not None and spec.training.mode != "online":
            parts.append(f"update {update + 1}")
    if phase == "update":
        parts.append(f"η = {number(spec.training.learning_rate)}")
        opt = spec.training.optimizer  # its hyper-parameters show in the formulas' numbers
        rule = OPTIMIZERS[opt.name]
        if rule.counts_updates:
            parts.append(f"{opt.name}, t = {opt.step + (update or 0) + 1}")
        elif not rule.plain:
            parts.append(opt.name)
    return " · ".join(parts)


def titled_table(title: str) -> Table:
    """A table in the house style: a bold title on the left, a rule under the header, no frame."""
    return Table(
        title=title,
        title_justify="left",
        title_style="bold",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        min_width=len(title),
    )


def step_table(title: str, steps: Sequence[Step], precision: int) -> Table:
    """One table of steps."""
    table = titled_table(title)
    table.add_column("id", style="cyan", no_wrap=True)
    table.add_column("formula", overflow="fold", ratio=3)
    table.add_column("with numbers", overflow="fold", ratio=3)
    table.add_column("value", justify="right", style="bold", no_wrap=True)

    def fmt(x: float) -> str:
        return number(x, precision)

    for s in steps:
        value = Text(fmt(s.value))
        if s.note:
            value.append(" ⚠", style="yellow")
        # Text, not str: no markup or emoji parsing (10% faster, and ids are shown as written)
        table.add_row(Text(s.id), Text(s.formula), Text(s.substituted(fmt)), value)
        if s.note:
            table.add_row("", Text(s.note, style="yellow italic"), "", "")
    return table


def parameter_table(
    params: Sequence[Param],
    new: Mapping[str, float],
    precision: int,
    drift: Mapping[str, float] | None = None,
) -> Table:
    """Every parameter, old → new (and, for a rounded run, its drift from the exact one)."""
    table = titled_table("Parameters")
    table.add_column("id", style="cyan")
    table.add_column("old", justify="right")
    table.add_column("", justify="center")
    table.add_column("new", justify="right", style="bold")
    table.add_column("change", justify="right")
    if drift is not None:
        table.add_column("drift from exact", justify="right")
    for p in params:
        after = new.get(p.id, p.value)
        row = [
            p.id,
            number(p.value, precision),
            "→",
            number(after, precision),
            "" if after == p.value else number(after - p.value, precision),
        ]
        if drift is not None:
            row.append(number(drift[p.id], precision))
        table.add_row(*row)
    return table


def loss_line(trace: Trace, precision: int) -> Text:
    """E_total before → after."""
    change = trace.loss_after - trace.loss_before
    label = (
        "E_total"
        if len(trace.spec.samples) == 1
        else f"E ({trace.spec.training.reduction} over samples)"
    )
    text = Text(f"{label}: ")
    text.append(number(trace.loss_before, precision))
    text.append(" → ")
    text.append(number(trace.loss_after, precision), style="bold")
    text.append(f"  ({'+' if change >= 0 else ''}{number(change, precision)})")
    return text


class Shown(JupyterMixin):
    """A renderable that also displays itself in Jupyter (rich's Group alone does not)."""

    def __init__(self, renderable: RenderableType) -> None:
        self.renderable = renderable

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield self.renderable


def render_trace(
    trace: Trace,
    steps: Iterable[Step] | None = None,
    *,
    precision: int = 9,
    summary: bool = True,
) -> Shown:
    """The trace (or the given subset of its steps) as tables, then parameters and E_total."""
    chosen = trace.steps if steps is None else list(steps)
    sub = Trace(trace.spec, chosen)
    parts: list[RenderableType] = [
        Text(trace.spec.name, style="bold underline"),
        Text(""),
    ]
    for (phase, layer, sample, update), group in iter_phases(sub):
        parts.append(step_table(group_title(trace, phase, layer, sample, update), group, precision))
        parts.append(Text(""))
    if summary:
        parts.append(parameter_table(trace.parameters, trace.updated, precision))
        parts.append(Text(""))
        parts.append(loss_line(trace, precision))
    return Shown(Group(*parts))
