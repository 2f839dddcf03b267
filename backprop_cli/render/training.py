"""The summary of a training run as rich renderables: E_total, outputs, parameters, curve."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich.console import Group, RenderableType
from rich.text import Text

from backprop_cli.render.curve import TextCurve, text_curve
from backprop_cli.render.drift import signed
from backprop_cli.render.numbers import Numbers, written
from backprop_cli.render.table import Fitted, parameter_table, titled_table
from backprop_cli.specs.model import Spec

# Samples the Outputs table shows: a data file of 10⁵ rows is read in a summary, not a table.
OUTPUT_SAMPLES = 20


def describe(spec: Spec, update_order: str | None = None) -> str:
    """'sgd, η = 0.5, online' and so on: how the network was trained (update_order overrides)."""
    t = spec.training
    mode = f"minibatch of {t.batch_size}" if t.mode == "minibatch" else t.mode
    order = update_order or t.update_order
    return f"{t.optimizer.name}, η = {written(t.learning_rate, 9)}, {mode}, {order}"


def render_summary(
    spec: Spec,
    summary: Mapping[str, Any],
    curve: Sequence[tuple[int, float]],
    every: Sequence[tuple[int, float]] | None = None,
    drift: Mapping[str, Any] | None = None,
    precision: int = 9,
    update_order: str | None = None,
    decimals: int | None = None,
    exact_parameters: Mapping[str, float] | None = None,
) -> RenderableType:
    """E_total before → after, outputs next to targets, parameters old → new, the curve.

    update_order: the order the run used, when a flag overrode the config's; decimals: a run
    rounded to that many decimals, its results shown with trailing zeros; exact_parameters:
    the exact run's, which `drift` (the JSON's differences) was taken from.
    """
    fmt = Numbers(precision)
    result = fmt if decimals is None else Numbers(decimals, zeros=True)

    start = summary["epochs_done"] - summary["epochs"]
    head = Text(spec.name, style="bold underline")
    head.append(f"  ({describe(spec, update_order)})", style="")
    parts: list[RenderableType] = [head, Text("")]
    loss = Text("")
    if summary["epochs"]:  # no epoch run (-n 0): the one line says it
        loss.append(f"E_total after epoch {start}: {result(summary['E_total_before'])}\n")
    loss.append(f"E_total after epoch {summary['epochs_done']}: ")
    loss.append(result(summary["E_total"]), style="bold")
    if drift is not None:
        moved = signed(summary["E_total"], drift["E_total"], precision)
        loss.append(f"   (exact run: {fmt(drift['E_total'])}, drift {moved})")
    parts += [loss, Text("")]

    outputs = titled_table("Outputs")
    outputs.add_column("sample", justify="right", no_wrap=True)
    outputs.add_column("output", no_wrap=True)
    outputs.add_column("out", justify="right", style="bold", no_wrap=True)
    outputs.add_column("target", justify="right", no_wrap=True)
    narrow: list[RenderableType] = [Text("Outputs", style="bold")]
    shown = zip(spec.samples[:OUTPUT_SAMPLES], summary["outputs"], strict=False)
    for s, (sample, outs) in enumerate(shown):
        for name, o, t in zip(spec.outputs, outs, sample.targets, strict=True):
            outputs.add_row(str(s + 1), name, result(o), fmt(t))
            line = Text(f"sample {s + 1} {name} ")
            line.append(result(o), style="bold")
            narrow.append(Text.assemble(line, f" (target {fmt(t)})"))
    parts += [Fitted(outputs, Group(*narrow)), Text("")]
    hidden = len(spec.samples) - OUTPUT_SAMPLES
    if hidden > 0:
        parts[-1] = Text(f"... and {hidden:,} more samples (--format jsonl gives every output)\n")

    drifts = None
    if drift is not None:  # as step --round writes a drift: signed, no residue
        if exact_parameters is None:
            raise ValueError("a rounded run's summary needs the exact run's parameters")
        drifts = {
            pid: signed(value, exact_parameters[pid], precision)
            for pid, value in summary["parameters"].items()
        }
    params = parameter_table(spec.parameters(), summary["parameters"], result, drifts, fmt)
    parts += [params, Text("")]

    if every:
        table = titled_table("E_total by epoch")
        table.add_column("epoch", justify="right")
        table.add_column("E_total", justify="right")
        for e, v in every:
            table.add_row(str(e), result(v))
        parts += [table, Text("")]

    if text_curve(curve):
        parts += [Text("Loss curve", style="bold"), TextCurve(curve)]
    return Group(*parts)
