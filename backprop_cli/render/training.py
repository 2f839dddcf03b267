"""The summary of a training run as rich renderables: E_total, outputs, parameters, curve."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich.console import Group, RenderableType
from rich.text import Text

from ..spec import Spec
from . import number
from .curve import text_curve
from .table import parameter_table, titled_table


def describe(spec: Spec, update_order: str | None = None) -> str:
    """'sgd, η = 0.5, online' and so on: how the network was trained (update_order overrides)."""
    t = spec.training
    mode = f"minibatch of {t.batch_size}" if t.mode == "minibatch" else t.mode
    order = update_order or t.update_order
    return f"{t.optimizer.name}, η = {number(t.learning_rate)}, {mode}, {order}"


def render_summary(
    spec: Spec,
    summary: Mapping[str, Any],
    curve: Sequence[tuple[int, float]],
    every: Sequence[tuple[int, float]] | None = None,
    drift: Mapping[str, Any] | None = None,
    precision: int = 9,
    update_order: str | None = None,
) -> RenderableType:
    """E_total before → after, outputs next to targets, parameters old → new, the curve.

    update_order: the order the run used, when a flag overrode the config's.
    """

    def fmt(x: float) -> str:
        return number(x, precision)

    start = summary["epochs_done"] - summary["epochs"]
    head = Text(spec.name, style="bold underline")
    head.append(f"  ({describe(spec, update_order)})", style="")
    parts: list[RenderableType] = [head, Text("")]
    loss = Text(f"E_total after epoch {start}: {fmt(summary['E_total_before'])}\n")
    loss.append(f"E_total after epoch {summary['epochs_done']}: ")
    loss.append(fmt(summary["E_total"]), style="bold")
    if drift is not None:
        loss.append(f"   (exact run: {fmt(drift['E_total'])}, drift {fmt(drift['E_total_drift'])})")
    parts += [loss, Text("")]

    outputs = titled_table("Outputs")
    outputs.add_column("sample", justify="right")
    outputs.add_column("output")
    outputs.add_column("out", justify="right", style="bold")
    outputs.add_column("target", justify="right")
    for s, (sample, outs) in enumerate(zip(spec.samples, summary["outputs"], strict=True)):
        for name, o, t in zip(spec.outputs, outs, sample.targets, strict=True):
            outputs.add_row(str(s + 1), name, fmt(o), fmt(t))
    parts += [outputs, Text("")]

    params = parameter_table(
        spec.parameters(),
        summary["parameters"],
        precision,
        None if drift is None else drift["parameters"],
    )
    parts += [params, Text("")]

    if every:
        table = titled_table("E_total by epoch")
        table.add_column("epoch", justify="right")
        table.add_column("E_total", justify="right")
        for e, v in every:
            table.add_row(str(e), fmt(v))
        parts += [table, Text("")]

    chart = text_curve(curve)
    if chart:
        parts += [Text("Loss curve", style="bold"), Text(chart)]
    return Group(*parts)
