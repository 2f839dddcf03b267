"""An explanation as a rich Tree: the symbolic chain, each factor worked out, then the product."""

from __future__ import annotations

from collections.abc import Callable

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from ..explain import Explanation, Node, parse_id
from . import number

Fmt = Callable[[float], str]

_GIVEN_LABELS = {
    "input": "inputs",
    "target": "targets",
    "parameter": "parameters",
    "hyper": "hyper-parameters",
    "value": "values",
}
_STAGE_LABELS = {
    "forward": "forward pass",
    "loss": "forward pass",
    "backward": "backward pass",
    "update": "update",
    "after": "after the update",
}


def render_explanation(ex: Explanation, precision: int = 9) -> RenderableType:
    """The chain for ex.root, factor by factor, ending at the product."""
    root = ex.root
    assert root.step is not None

    def fmt(x: float) -> str:
        return number(x, precision)

    head = Text()
    head.append(root.step.id, style="bold cyan")
    head.append(" = ")
    head.append(root.step.formula, style="bold")
    tree = Tree(head, guide_style="dim")
    for child in root.children:
        _add(tree, child, fmt, ex.several)
    result = Text()
    result.append(root.step.id, style="bold cyan")
    result.append(" = ")
    substituted = root.step.substituted(fmt)
    if substituted != fmt(root.value):
        result.append(substituted)
        result.append(" = ")
    result.append(fmt(root.value), style="bold")
    parts: list[RenderableType] = [tree, Text(""), result]
    if root.step.note:
        parts.append(Text(root.step.note, style="yellow italic"))
    if ex.given:
        parts.extend([Text(""), given_table(ex, fmt)])
    return Group(*parts)


def node_label(node: Node, fmt: Fmt, several: bool = False) -> Text:
    """`delta_o1 = dE_total/dout_o1 * dout_o1/dnet_o1 = 0.74 * 0.19 = 0.14` and its state."""
    assert node.step is not None
    s = node.step
    text = Text()
    text.append(node.symbol, style="cyan")
    if parse_id(node.symbol)[0] != s.id:
        text.append(f" = {s.id}", style="cyan")
    value = fmt(s.value)
    if node.state == "expanded":
        text.append(f" = {s.formula}")
        substituted = s.substituted(fmt)
        if substituted != value:
            text.append(f" = {substituted}")
    text.append(" = ")
    text.append(value, style="bold")
    if node.state == "seen":
        text.append("  (worked out above)", style="dim")
    elif node.state == "depth":
        ref = s.id if s.sample is None or not several else f"{s.id}[{s.sample + 1}]"
        text.append(f"  (backprop explain {ref})", style="dim")
    if s.note:
        text.append(f"  ⚠ {s.note}", style="yellow")
    return text


def _add(tree: Tree, node: Node, fmt: Fmt, several: bool) -> None:
    branch = tree.add(node_label(node, fmt, several))
    for child in node.children:
        _add(branch, child, fmt, several)


def given_table(ex: Explanation, fmt: Fmt) -> Table:
    """The values the chain takes as known, grouped: inputs, targets, parameters, earlier steps."""
    groups: dict[str, list[str]] = {}
    for g in ex.given:
        if g.step is not None:
            label, name = _STAGE_LABELS[g.step.phase], g.step.id
        else:
            label, name = _GIVEN_LABELS[g.kind], g.symbol
        groups.setdefault(label, []).append(f"{name} = {fmt(g.value)}")
    table = Table.grid(padding=(0, 2))
    table.add_column(style="dim", no_wrap=True)
    table.add_column()
    table.add_row(Text("Given", style="bold"), "")
    for label, items in groups.items():
        table.add_row(label, ", ".join(items))
    return table
