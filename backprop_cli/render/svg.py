"""The network as the post draws it, as hand-written SVG: neurons in layers, labelled edges, biases.

Each edge carries its weight's name and value (`w5 = 0.4`), written along the edge on a white
ground. Labels are placed greedily: each takes the first position along its edge where it overlaps
neither a neuron nor an earlier label; if some label finds no such place, the whole layout is
spread out and tried again. With a trace, edges are coloured by the sign of their gradient and
thickened by its size.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

from backprop_cli.engine.trace import Trace
from backprop_cli.render import number
from backprop_cli.specs.model import Names, Spec

FONT = "DejaVu Sans, Helvetica, Arial, sans-serif"
MONO = "DejaVu Sans Mono, Menlo, Consolas, monospace"
LABEL_SIZE = 11.0
CHAR = 0.62 * LABEL_SIZE  # advance of one monospace character (DejaVu Sans Mono: 0.602 em)
PAD = 2.5
CAPTION_CHAR = 0.62 * 12  # a generous advance of one character of a 12px column heading
POSITIVE = "#c0392b"  # gradient > 0: gradient descent lowers the weight
NEGATIVE = "#1f5fa8"  # gradient < 0: gradient descent raises the weight
NEUTRAL = "#555555"
ZERO = "#aaaaaa"
# Where along an edge a label may sit (0 = source end, 1 = target end), best first: a level edge
# in the middle, a sloping one near its source, clear of the crossings in the middle.
LEVEL = (0.5, 0.36, 0.64, 0.28, 0.72, 0.44, 0.56, 0.2, 0.8, 0.14, 0.86)
SLOPING = (0.34, 0.26, 0.42, 0.66, 0.58, 0.74, 0.18, 0.5, 0.82)


# Past this many weights the labels could not be read anyway; edges keep them as tooltips.
MAX_LABELS = 1000


def labelled(spec: Spec) -> bool:
    """Whether edges get written labels (else their tooltips alone carry the values)."""
    return len(spec.parameters()) <= MAX_LABELS


@dataclass(frozen=True, slots=True)
class Box:
    """A rectangle of half-size (hw, hh) centred at (x, y), turned by angle (radians)."""

    x: float
    y: float
    hw: float
    hh: float
    angle: float

    def axes(self) -> tuple[tuple[float, float], tuple[float, float]]:
        c, s = math.cos(self.angle), math.sin(self.angle)
        return (c, s), (-s, c)

    def radius(self, ax: tuple[float, float]) -> float:
        u, v = self.axes()
        return self.hw * abs(u[0] * ax[0] + u[1] * ax[1]) + self.hh * abs(
            v[0] * ax[0] + v[1] * ax[1]
        )

    def overlaps(self, other: Box, margin: float = 1.5) -> bool:
        """Separating-axis test for two turned rectangles."""
        dx, dy = other.x - self.x, other.y - self.y
        for ax in (*self.axes(), *other.axes()):
            gap = abs(dx * ax[0] + dy * ax[1])
            if gap > self.radius(ax) + other.radius(ax) + margin:
                return False
        return True

    def hits_circle(self, cx: float, cy: float, r: float) -> bool:
        u, v = self.axes()
        dx, dy = cx - self.x, cy - self.y
        lu, lv = dx * u[0] + dy * u[1], dx * v[0] + dy * v[1]
        nu = max(-self.hw, min(self.hw, lu))
        nv = max(-self.hh, min(self.hh, lv))
        return (lu - nu) ** 2 + (lv - nv) ** 2 < (r + 2.0) ** 2


@dataclass(slots=True)
class Node:
    id: str
    x: float
    y: float
    r: float
    kind: str  # input | neuron | bias
    label: str
    value: str = ""  # shown next to the node (inputs, targets, shared biases)
    tip: str = ""


@dataclass(slots=True)
class Edge:
    source: Node
    target: Node
    param: str | None  # the weight (or per-neuron bias) it carries; None: a shared bias's edge
    label: str
    gradient: float | None = None
    box: Box | None = None
    tip: str = ""


@dataclass(slots=True)
class Layout:
    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    width: float = 0.0
    height: float = 0.0
    legend_y: float = 0.0
    overlaps: int = 0


def gradient_of(trace: Trace, sample: int | None = None) -> tuple[dict[str, float], str]:
    """The gradient of each parameter used by the first update (or sample `sample`'s own, as
    `step --sample` shows it), and how to describe it."""
    ids = {p.id for p in trace.parameters}
    first: dict[str, float] = {}
    several = len(trace.spec.samples) > 1
    if sample is not None and several:
        for s in trace.steps:
            pid = s.id[len("dE_total/d") :]
            mine = s.sample == sample and s.phase == "backward"
            if mine and s.id.startswith("dE_total/d") and pid in ids:
                first.setdefault(pid, s.value)
        update = next((s.update for s in trace.steps if s.sample == sample), None)
        within = f", in update {update + 1}" if update else ""  # after the updates before it
        return first, f"∂E_total/∂w (sample {sample + 1}{within})"
    batch = [s for s in trace.steps if s.id.startswith("dE_batch/d") and s.update in (0, None)]
    if batch:
        for s in batch:
            if s.id[len("dE_batch/d") :] in ids:
                first.setdefault(s.id[len("dE_batch/d") :], s.value)
        return first, "∂E_batch/∂w (first update)"
    for s in trace.steps:
        pid = s.id[len("dE_total/d") :]
        if s.id.startswith("dE_total/d") and s.phase == "backward" and pid in ids:
            first.setdefault(pid, s.value)
    return first, "∂E_total/∂w" + (" (sample 1)" if several else "")


def _layout(
    spec: Spec,
    trace: Trace | None,
    precision: int,
    dy: float,
    gap: float,
    grads: dict[str, float],
    k: int = 0,
) -> Layout:
    names = Names.of(spec)
    columns: list[list[str]] = [list(spec.inputs)] + [list(layer.neurons) for layer in spec.layers]
    tallest = max(len(c) for c in columns)
    r = max(22.0, 4.6 * max(len(n) for c in columns for n in c) + 10)
    sample = spec.samples[k]
    value_w = max(len(number(x, precision)) for x in sample.inputs) * CHAR
    target_w = (7 + max(len(number(t, precision)) for t in sample.targets)) * CHAR
    left = 24 + value_w + 8 + r
    top = 78.0
    lay = Layout()
    values = _forward_tips(trace, k)
    grid: list[list[Node]] = []
    for k, col in enumerate(columns):
        x = left + k * gap
        y0 = top + r + (tallest - len(col)) * dy / 2
        nodes = []
        for j, n in enumerate(col):
            kind = "input" if k == 0 else "neuron"
            value = number(sample.inputs[j], precision) if k == 0 else ""
            tip = f"{n} = {value}" if k == 0 else values.get(n, n)
            if k == len(columns) - 1:
                value = f"target {number(sample.targets[j], precision)}"
            nodes.append(Node(n, x, y0 + j * dy, r, kind, n, value, tip))
        grid.append(nodes)
        lay.nodes += nodes
    bias_y = top + r + tallest * dy - dy * 0.25
    for k, layer in enumerate(spec.layers):
        sources = grid[k]
        for j, target in enumerate(grid[k + 1]):
            for i, source in enumerate(sources):
                pid = names.weight[k][j][i]
                w = layer.weights[j][i]
                lay.edges.append(
                    Edge(source, target, pid, f"{pid} = {number(w, precision)}", grads.get(pid))
                )
        if layer.bias is None:
            continue
        bx = left + k * gap
        if layer.bias_shared:
            pid = names.bias[k][0] or ""
            node = Node(
                pid, bx, bias_y, r * 0.8, "bias", pid, number(layer.bias[0], precision), pid
            )
            lay.nodes.append(node)
            for target in grid[k + 1]:
                lay.edges.append(Edge(node, target, None, "", grads.get(pid)))
        else:
            node = Node(f"bias{k + 1}", bx, bias_y, r * 0.8, "bias", "1", "", "constant 1")
            lay.nodes.append(node)
            for j, target in enumerate(grid[k + 1]):
                b_id = names.bias[k][j] or ""
                label = f"{b_id} = {number(layer.bias[j], precision)}"
                lay.edges.append(Edge(node, target, b_id, label, grads.get(b_id)))
    has_bias = any(layer.bias is not None for layer in spec.layers)
    bottom = (bias_y + r) if has_bias else (top + tallest * dy)
    lay.legend_y = bottom + 30
    lay.width = left + (len(columns) - 1) * gap + r + 12 + target_w + 20
    lay.height = lay.legend_y + (70 if grads else 0)
    lay.overlaps = _place_labels(lay) if labelled(spec) else 0
    return lay


def _forward_tips(trace: Trace | None, k: int = 0) -> dict[str, str]:
    """Tooltip text for each neuron: its net, out and delta in sample k's pass."""
    if trace is None:
        return {}
    tips: dict[str, list[str]] = {}
    for s in trace.steps:
        if s.phase not in ("forward", "backward") or s.sample not in (k, None):
            continue
        for prefix, name in (("net_", "net"), ("out_", "out"), ("delta_", "δ")):
            if s.id.startswith(prefix) and "/" not in s.id:
                tips.setdefault(s.id[len(prefix) :], []).append(f"{name} = {number(s.value, 6)}")
    return {n: f"{n}: " + ", ".join(parts) for n, parts in tips.items()}


class _Grid:
    """Boxes and circles bucketed by cell, so a label is tested only against its neighbours:
    placing E labels costs about E tests, not E² (a 25-25-2 network took 50 s)."""

    CELL = 64.0

    def __init__(self) -> None:
        self.cells: dict[tuple[int, int], list[Box | Node]] = {}

    def _keys(self, x: float, y: float, reach: float) -> list[tuple[int, int]]:
        c = self.CELL
        xs = range(math.floor((x - reach) / c), math.floor((x + reach) / c) + 1)
        ys = range(math.floor((y - reach) / c), math.floor((y + reach) / c) + 1)
        return [(i, j) for i in xs for j in ys]

    def add(self, item: Box | Node) -> None:
        for key in self._keys(item.x, item.y, _reach(item)):
            self.cells.setdefault(key, []).append(item)

    def near(self, box: Box) -> list[Box | Node]:
        found: dict[int, Box | Node] = {}
        for key in self._keys(box.x, box.y, _reach(box)):
            for item in self.cells.get(key, ()):
                found[id(item)] = item
        return list(found.values())


def _reach(item: Box | Node) -> float:
    """How far from its centre an item (and the margin of a test) can reach."""
    if isinstance(item, Node):
        return item.r + 4.0
    return math.hypot(item.hw, item.hh) + 2.0


def _place_labels(lay: Layout) -> int:
    """Place every edge label; return how many could not avoid an overlap."""
    grid = _Grid()
    for n in lay.nodes:
        grid.add(n)
    misses = 0
    for e in lay.edges:
        if not e.label:
            continue
        sx, sy, tx, ty = e.source.x, e.source.y, e.target.x, e.target.y
        length = math.hypot(tx - sx, ty - sy)
        angle = math.atan2(ty - sy, tx - sx)
        hw = len(e.label) * CHAR / 2 + PAD + 1
        hh = LABEL_SIZE / 2 + PAD
        start, end = e.source.r + hw + 2, length - e.target.r - hw - 2
        best: tuple[int, Box] | None = None
        for t in LEVEL if abs(ty - sy) < 1 else SLOPING:
            d = min(max(t * length, start), max(end, start))
            box = Box(sx + d * math.cos(angle), sy + d * math.sin(angle), hw, hh, angle)
            clashes = sum(
                box.hits_circle(b.x, b.y, b.r) if isinstance(b, Node) else box.overlaps(b)
                for b in grid.near(box)
            )
            if best is None or clashes < best[0]:
                best = (clashes, box)
            if clashes == 0:
                break
        assert best is not None
        e.box = best[1]
        grid.add(best[1])
        misses += best[0] > 0
    return misses


def layout(
    spec: Spec,
    trace: Trace | None = None,
    precision: int = 4,
    colour: bool = False,
    sample: int | None = None,
) -> Layout:
    """Positions of every node and label, spread out until no label overlaps another."""
    grads, _ = gradient_of(trace, sample) if trace is not None and colour else ({}, "")
    k = sample or 0
    longest = max([len(f"w{len(spec.parameters())} = -0.") + precision, 12])
    tallest = max(len(spec.inputs), *(layer.size for layer in spec.layers))
    dy = 104.0 + 6.0 * max(tallest - 2, 0)
    gap = max(240.0, longest * CHAR * 2.6) + 24.0 * max(tallest - 2, 0)
    best = _layout(spec, trace, precision, dy, gap, grads, k)
    for _ in range(8):
        if best.overlaps == 0:
            break
        dy, gap = dy * 1.15, gap * 1.1
        lay = _layout(spec, trace, precision, dy, gap, grads, k)
        if lay.overlaps < best.overlaps:
            best = lay
    return best


def _colour(g: float | None) -> str:
    if g is None:
        return NEUTRAL
    if g == 0:
        return ZERO
    return POSITIVE if g > 0 else NEGATIVE


def _f(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


def render_svg(
    spec: Spec,
    trace: Trace | None = None,
    *,
    precision: int = 4,
    gradients: bool = False,
    sample: int | None = None,
) -> str:
    """The network as an SVG document; with gradients=True, edges coloured by their gradient.

    The trace (of one step) gives the tooltips (net, out, delta) and the gradients; `sample`
    (0-based) picks whose inputs, targets, values and gradient are shown (default: the first's,
    and a batch's gradient).
    """
    colour = gradients and trace is not None
    lay = layout(spec, trace, precision, colour, sample)
    grads, what = gradient_of(trace, sample) if trace is not None and colour else ({}, "")
    gmax = max((abs(g) for g in grads.values()), default=0.0)
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_f(lay.width)}" '
        f'height="{_f(lay.height)}" viewBox="0 0 {_f(lay.width)} {_f(lay.height)}" '
        f'role="img" font-family="{FONT}">',
        f"<title>{escape(spec.name)}</title>",
        f'<rect width="{_f(lay.width)}" height="{_f(lay.height)}" fill="#ffffff"/>',
        f'<text x="20" y="30" font-size="17" font-weight="bold">{escape(spec.name)}</text>',
    ]
    out += _captions(spec, lay, sample or 0)
    out.append('<g id="edges" fill="none">')
    for e in lay.edges:
        out.append(_edge(e, gmax, colour))
    out.append("</g>")
    out.append('<g id="labels">')
    for e in lay.edges:
        if e.box is not None:
            out.append(_label(e))
    out.append("</g>")
    out.append('<g id="nodes">')
    for n in lay.nodes:
        out.append(_node(n, last_column=n.value.startswith("target ")))
    out.append("</g>")
    if colour and trace is not None:
        # a sample of a batch: its gradient is one term of the batch's, which makes the step
        share = sample is not None and any(s.id.startswith("dE_batch/d") for s in trace.steps)
        out += _legend(lay, what, grads, gmax, share)
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _captions(spec: Spec, lay: Layout, k: int = 0) -> list[str]:
    xs = sorted({n.x for n in lay.nodes if n.kind != "bias"})
    lines = []
    several = f" (sample {k + 1} of {len(spec.samples)})" if len(spec.samples) > 1 else ""
    words = [f"inputs{several}"] + [
        f"{'output' if k == len(spec.layers) - 1 else 'hidden'} layer {layer.name} · "
        f"{layer.activation}"
        for k, layer in enumerate(spec.layers)
    ]
    for k, (x, caption) in enumerate(zip(xs, words, strict=True)):
        if k == 0:
            # Centred on a narrow first column, a long heading would start left of the picture.
            x = max(x, len(caption) * CAPTION_CHAR / 2 + 4)
        lines.append(
            f'<text x="{_f(x)}" y="58" font-size="12" fill="#444" text-anchor="middle">'
            f"{escape(caption)}</text>"
        )
    return lines


def _edge(e: Edge, gmax: float, after: bool) -> str:
    s, t = e.source, e.target
    angle = math.atan2(t.y - s.y, t.x - s.x)
    x1, y1 = s.x + s.r * math.cos(angle), s.y + s.r * math.sin(angle)
    x2, y2 = t.x - t.r * math.cos(angle), t.y - t.r * math.sin(angle)
    width = 1.4
    colour = NEUTRAL if e.param is not None else "#a0a0a0"
    if after and not (e.param is None and e.gradient is None):
        colour = _colour(e.gradient)
        if e.gradient is not None and gmax > 0:
            width = 1.0 + 5.0 * math.sqrt(abs(e.gradient) / gmax)
    dash = ' stroke-dasharray="5 4"' if s.kind == "bias" else ""
    if s.kind == "bias" and e.param is None:
        width = min(width, 1.2)  # a shared bias: one value, many edges; keep them in the back
    attrs = f' data-param="{e.param}"' if e.param else f' data-bias="{s.id}"'
    if e.gradient is not None:
        attrs += f' data-gradient="{e.gradient!r}"'
    tip = f"{e.label or s.id + ' → ' + t.id}"
    if e.gradient is not None:
        tip += f"; gradient {number(e.gradient, 9)}"
    return (
        f'<line x1="{_f(x1)}" y1="{_f(y1)}" x2="{_f(x2)}" y2="{_f(y2)}" stroke="{colour}" '
        f'stroke-width="{width:.2f}"{dash}{attrs}><title>{escape(tip)}</title></line>'
    )


def _label(e: Edge) -> str:
    b = e.box
    assert b is not None
    deg = math.degrees(b.angle)
    colour = _colour(e.gradient) if e.gradient is not None else "#222222"
    param = f'data-param="{e.param}" ' if e.param else ""  # the web page lights it by name
    return (
        f'<g {param}transform="translate({_f(b.x)} {_f(b.y)}) rotate({deg:.2f})">'
        f'<rect x="{_f(-b.hw)}" y="{_f(-b.hh)}" width="{_f(2 * b.hw)}" height="{_f(2 * b.hh)}" '
        f'rx="3" fill="#ffffff" fill-opacity="0.92" stroke="#dddddd" stroke-width="0.6"/>'
        f'<text x="0" y="0" dy="0.35em" text-anchor="middle" font-family="{MONO}" '
        f'font-size="{LABEL_SIZE:g}" fill="{colour}">{escape(e.label)}</text></g>'
    )


def _node(n: Node, last_column: bool) -> str:
    fill = {"input": "#e8f1fb", "neuron": "#fdf1e3", "bias": "#fbf7d5"}[n.kind]
    stroke = {"input": "#3c6e9f", "neuron": "#b5762a", "bias": "#a39226"}[n.kind]
    size = 13 if n.kind != "bias" else 12
    parts = [
        f"<g id={quoteattr('node-' + n.id)}><title>{escape(n.tip or n.id)}</title>",
        f'<circle cx="{_f(n.x)}" cy="{_f(n.y)}" r="{_f(n.r)}" fill="{fill}" stroke="{stroke}" '
        f'stroke-width="1.6"/>',
        f'<text x="{_f(n.x)}" y="{_f(n.y)}" dy="0.35em" text-anchor="middle" font-size="{size}" '
        f'font-weight="bold">{escape(n.label)}</text>',
    ]
    if n.value:
        if n.kind == "input":
            x, anchor, y = n.x - n.r - 8, "end", n.y
        elif last_column:
            x, anchor, y = n.x + n.r + 8, "start", n.y
        else:  # a shared bias: its value under it
            x, anchor, y = n.x, "middle", n.y + n.r + 12
        parts.append(
            f'<text x="{_f(x)}" y="{_f(y)}" dy="0.35em" text-anchor="{anchor}" font-size="12" '
            f'font-family="{MONO}" fill="#333">{escape(n.value)}</text>'
        )
    parts.append("</g>")
    return "".join(parts)


def _legend(
    lay: Layout, what: str, grads: dict[str, float], gmax: float, share: bool = False
) -> list[str]:
    y = lay.legend_y + 14
    top = max(grads, key=lambda p: abs(grads[p])) if grads else ""
    step = "its share of the step" if share else "the step"
    rows = [
        (POSITIVE, 4.0, f"{what} > 0: {step} lowers the weight"),
        (NEGATIVE, 4.0, f"{what} < 0: {step} raises the weight"),
    ]
    out = ['<g id="legend" font-size="12" fill="#333">']
    for i, (colour, width, text) in enumerate(rows):
        yy = y + i * 18
        out.append(
            f'<line x1="20" y1="{_f(yy)}" x2="56" y2="{_f(yy)}" stroke="{colour}" '
            f'stroke-width="{width:g}"/>'
            f'<text x="64" y="{_f(yy)}" dy="0.35em">{escape(text)}</text>'
        )
    note = "line width grows with √|gradient|"
    if top:
        note += f"; the largest is {top} ({number(grads[top], 6)})"
    out.append(f'<text x="20" y="{_f(y + 40)}" dy="0.35em">{escape(note)}</text>')
    out.append("</g>")
    return out
