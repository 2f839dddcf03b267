"""An explanation as a rich Tree: the symbolic chain, each factor worked out, then the product."""

from __future__ import annotations

import shlex

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from backprop_cli.render.numbers import Numbers
from backprop_cli.render.table import Fitted, Indented
from backprop_cli.render.wrap import text_width
from backprop_cli.tutor.explain import Explanation, Node, parse_id

Fmt = Numbers  # the one number style: formulas' numbers bracketed once, η as written

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


def render_explanation(
    ex: Explanation, precision: int = 9, config: str | None = None
) -> RenderableType:
    """The chain for ex.root, factor by factor, ending at the product.

    config: the CONFIG argument as given, repeated in the commands suggested for deeper factors.
    """
    root = ex.root
    assert root.step is not None

    fmt = Numbers(precision)
    head = Text()
    head.append(root.step.id, style="bold cyan")
    head.append(" = ")
    head.append(root.step.formula, style="bold")
    tree = Tree(head, guide_style="dim")
    outline: list[RenderableType] = [head]  # the same, for a terminal too narrow
    for child in root.children:
        _add(tree, outline, 1, child, fmt, ex, config)
    result = Text()
    result.append(root.step.id, style="bold cyan")
    result.append(" = ")
    substituted = fmt.substituted(root.step)
    if substituted != fmt(root.value):
        result.append(substituted)
        result.append(" = ")
    result.append(fmt(root.value), style="bold")
    parts: list[RenderableType] = [Chain(tree, outline), Text(""), result]
    which = sample_line(ex)
    if which:
        parts[:0] = [Text(which, style="dim"), Text("")]
    if root.step.note:
        parts.append(Text(root.step.note, style="yellow italic"))
    if ex.given:
        parts.extend([Text(""), given_table(ex, fmt)])
    return Group(*parts)


def sample_line(ex: Explanation) -> str:
    """Which sample a network of several shows, and how to see the next: 'Showing sample 2 of 3;
    for sample 3, explain delta_h1[3] (or --sample 3)'."""
    step = ex.root.step
    if not ex.several or not ex.samples or step is None:
        return ""
    n, first, last = ex.n_samples, ex.samples[0] + 1, ex.samples[-1] + 1
    other = last % n + 1
    how = f"explain {step.id}[{other}] (or --sample {other})"
    if step.sample is not None:
        return f"Showing sample {first} of {n}; for sample {other}, {how}"
    which = f"sample {first}" if first == last else f"samples {first}–{last}"
    line = f"Showing the update from {which} of {n}"
    if len(ex.samples) < n:
        line += f"; for the update from sample {other}, {how}"
    return line


def reference(ex: Explanation, node: Node) -> str:
    """The id that names node's step on the command line: `id[k]` when the network has several
    samples (an update by the first sample it comes from)."""
    s = node.step
    assert s is not None
    k = s.sample if s.sample is not None else ex.first_sample.get(s.update or 0)
    return s.id if k is None or not ex.several else f"{s.id}[{k + 1}]"


def node_label(
    node: Node, fmt: Fmt, several: bool = False, config: str | None = None, ref: str = ""
) -> Text:
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
        substituted = fmt.substituted(s)
        if substituted != value:
            text.append(f" = {substituted}")
    text.append(" = ")
    text.append(value, style="bold")
    if node.state == "seen":
        text.append("  (worked out above)", style="dim")
    elif node.state == "depth":
        ref = ref or (s.id if s.sample is None or not several else f"{s.id}[{s.sample + 1}]")
        # Quoted for the shell (id[2] is a glob), with the config, so pasting it explains this.
        words = [ref] if config is None else [ref, config]
        text.append(f"  (backprop explain {shlex.join(words)})", style="dim")
    if s.note:
        text.append(f"  ⚠ {s.note}", style="yellow")
    return text


def _add(
    tree: Tree,
    outline: list[RenderableType],
    depth: int,
    node: Node,
    fmt: Fmt,
    ex: Explanation,
    config: str | None,
) -> None:
    label = node_label(node, fmt, ex.several, config, reference(ex, node))
    branch = tree.add(label)
    marked = Text("·" * depth + " ", style="dim")
    marked.append_text(label)
    outline.append(marked)
    for child in node.children:
        _add(branch, outline, depth + 1, child, fmt, ex, config)


class Chain:
    """The chain as a tree where each label's words fit beside its guides (4 columns a level);
    on a terminal too narrow for that, the same labels at the margin, each after a dot for each
    level of its depth (`·· delta_o1 = ...`), so that no number or id is split across lines."""

    def __init__(self, tree: Tree, outline: list[RenderableType]) -> None:
        self.tree, self.outline = tree, outline

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        if _fits(self.tree, 0, options.max_width):
            yield self.tree
        else:
            yield Group(*self.outline)


def _fits(tree: Tree, depth: int, width: int) -> bool:
    """Whether rich can wrap each label of the tree between words beside its guides."""
    label = tree.label
    words = label.plain.split() if isinstance(label, Text) else []
    if max(map(text_width, words), default=0) > width - 4 * depth:
        return False
    return all(_fits(child, depth + 1, width) for child in tree.children)


def given_table(ex: Explanation, fmt: Fmt) -> RenderableType:
    """The values the chain takes as known, grouped: inputs, targets, parameters, earlier steps."""
    groups: dict[str, list[str]] = {}
    for g in ex.given:
        if g.step is not None:
            label, name = _STAGE_LABELS[g.step.phase], g.step.id
        else:
            label, name = _GIVEN_LABELS[g.kind], g.symbol
        groups.setdefault(label, []).append(f"{name} = {fmt.term(name, g.value)}")
    table = Table.grid(padding=(0, 2))
    table.add_column(style="dim", no_wrap=True)
    table.add_column()
    table.add_row(Text("Given", style="bold"), "")
    narrow: list[RenderableType] = [Text("Given", style="bold")]
    for label, items in groups.items():
        table.add_row(label, Text(", ".join(items)))
        narrow.append(Text(label, style="dim"))
        narrow += [Indented(Text(item)) for item in items]
    return Fitted(table, Group(*narrow))
