"""The worked example as one self-contained web page, and a training run's report.

Nothing is loaded from anywhere: the CSS, the script and the SVG diagram are inline, and a
Content-Security-Policy allows only the page's own style and script (by their hashes). Every
table is in the HTML, so the page reads with JavaScript off and prints whole; the script adds
stepping (buttons, ← and →), the lit diagram and the chain-rule panel.

The steps come in the order and sections of render/document.py (the Markdown and LaTeX
documents), their formulas as MathML from the same LaTeX (render/mathml.py); each value opens
its chain rule, built by explain.py as `backprop explain ID --depth 0` shows it.
"""

from __future__ import annotations

import base64
import hashlib
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING, Any

from backprop_cli.engine.trace import Step, Trace
from backprop_cli.render import html_assets as assets
from backprop_cli.render.document import Display, Eq, Grid, Heading, Prose, build
from backprop_cli.render.explain import sample_line
from backprop_cli.render.mathml import mathml
from backprop_cli.render.numbers import Numbers
from backprop_cli.render.svg import render_svg
from backprop_cli.specs.model import Spec
from backprop_cli.tutor.explain import Explanation, Node, explain, producer

if TYPE_CHECKING:
    from backprop_cli.engine.matrices import MatrixView
    from backprop_cli.tutor.rounding import Drift

# Phases drawn in the forward colour; the rest (backward, update) in the backward colour.
FORWARD_PHASES = ("forward", "loss", "after")


@dataclass(frozen=True, slots=True)
class Tab:
    """One more tab of the page (the matrix view): a title and its HTML."""

    title: str
    html: str


def _attr(text: str) -> str:
    return escape(text, quote=True)


def _hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def page(title: str, body: str, script: str, *, lang: str = "en") -> str:
    """A whole document: the CSP allows exactly this page's style and script, nothing else."""
    css = assets.CSS
    csp = (
        f"default-src 'none'; style-src {_hash(css)}; script-src {_hash(script)}; "
        "img-src 'none'; base-uri 'none'; form-action 'none'"
    )
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="color-scheme" content="light dark">\n'
        '<meta name="generator" content="backprop">\n'
        f"<title>{escape(title)}</title>\n<style>{css}</style>\n</head>\n"
        f"<body>\n{body}\n<script>{script}</script>\n</body>\n</html>\n"
    )


# --- which parts of the diagram a step is about ------------------------------------------------

_SAMPLE = re.compile(r"\[\d+\]$")


def diagram_keys(name: str, known: set[str]) -> list[str]:
    """The neurons, inputs and parameters of the diagram a step id or symbol names, in order:
    `dE_total/dw5` -> [w5]; `delta_o1` -> [o1]; `dnet_o1/dout_h1` -> [o1, h1]; `v_w5` -> [w5]."""
    name = _SAMPLE.sub("", name).rstrip("+")
    parts = name.split("/")
    if len(parts) == 2 and all(p.startswith("d") for p in parts):
        parts = [p[1:] for p in parts]  # dE_total/dw5: the quantities E_total and w5
    keys: list[str] = []
    for part in parts:
        part = part.rstrip("+")
        if part in known:
            keys.append(part)
            continue
        rest = part
        while "_" in rest:  # out_h1 -> h1, delta_o1 -> o1, m̂_w5 -> w5, dE_o1 -> o1
            rest = rest.partition("_")[2]
            if rest in known:
                keys.append(rest)
                break
    return list(dict.fromkeys(keys))


def _known(spec: Spec) -> set[str]:
    names = set(spec.inputs) | {p.id for p in spec.parameters()}
    for layer in spec.layers:
        names |= set(layer.neurons)
    return names


# --- anchors: the fragment that names each step ------------------------------------------------


def anchors(trace: Trace) -> list[str]:
    """One unique fragment per step: its id the first time, `id[k]` (sample k, as `explain`
    names it) after that."""
    first_sample: dict[int, int] = {}
    for s in trace.steps:
        if s.update is not None and s.sample is not None:
            first_sample.setdefault(s.update, s.sample)
    out: list[str] = []
    seen: set[str] = set()
    for s in trace.steps:
        a = s.id
        if a in seen:
            k = s.sample if s.sample is not None else first_sample.get(s.update or 0)
            a = f"{s.id}[{(k or 0) + 1}]"
            n = 2
            while a in seen:
                a = f"{s.id}[{(k or 0) + 1}]~{n}"
                n += 1
        seen.add(a)
        out.append(a)
    return out


# --- the step page -----------------------------------------------------------------------------


class _StepPage:
    def __init__(
        self, trace: Trace, precision: int, decimals: int | None, drifts: Sequence[Drift]
    ) -> None:
        self.trace = trace
        self.spec = trace.spec
        self.shown = Numbers.of(trace.steps, precision)
        # a rounded run's results keep their zeros (0.2910), as the terminal shows them
        self.result_shown = self.shown if decimals is None else Numbers(decimals, zeros=True)
        self.decimals, self.drifts = decimals, drifts
        self.anchors = anchors(trace)
        self.index = {id(s): i for i, s in enumerate(trace.steps)}
        self.known = _known(self.spec)

    def anchor(self, step: Step) -> str:
        return self.anchors[self.index[id(step)]]

    # the tables, in the document's blocks

    def sections(self) -> str:
        out: list[str] = []
        steps = iter(self.trace.steps)
        rows: list[str] = []
        open_section = False

        def flush() -> None:
            if rows:
                out.append(_TABLE_HEAD + "".join(rows) + "</tbody></table></div>")
                rows.clear()

        blocks = build(
            self.trace, precision=self.shown.precision, decimals=self.decimals, drifts=self.drifts
        )
        for block in blocks:
            if isinstance(block, Eq):
                s = next(steps)
                assert s.id == block.step_id
                rows.append(self.row(s, block))
                continue
            flush()
            if isinstance(block, Heading):
                if block.level == 1:
                    continue
                if block.level == 2:
                    if open_section:
                        out.append("</section>")
                    slug = "sec-" + re.sub(r"[^a-z0-9]+", "-", block.text.lower()).strip("-")
                    out.append(f'<section class="phase" aria-labelledby="{_attr(slug)}">')
                    out.append(f'<h2 id="{_attr(slug)}">{escape(block.text)}</h2>')
                    open_section = True
                else:
                    out.append(f"<h{block.level}>{escape(block.text)}</h{block.level}>")
            elif isinstance(block, Prose):
                out.append("<p>" + _prose(block) + "</p>")
            elif isinstance(block, Display):
                items = "".join(f"<li>{mathml(x)}</li>" for x in block.items)
                out.append(f'<ul class="display">{items}</ul>')
            elif isinstance(block, Grid):
                out.append(_grid(block))
        flush()
        if open_section:
            out.append("</section>")
        return "\n".join(out)

    def row(self, s: Step, block: Eq) -> str:
        e = block.eq
        i = self.index[id(s)]
        a = self.anchors[i]
        sources = sorted(
            {j for t in s.terms if (j := producer(self.trace, i, t)) is not None}, key=int
        )
        lit = diagram_keys(s.id, self.known)
        given = [k for t in s.terms for k in diagram_keys(t, self.known) if k not in lit]
        way = "forward" if s.phase in FORWARD_PHASES else "backward"
        value = self.shown.value(s)
        formula = _pieces(e.formula)
        numbers = _pieces(e.numbers) if e.numbers else '<span class="same">—</span>'
        note = f'<p class="note">Note: {escape(s.note)}</p>' if s.note else ""
        return (
            f'<tr class="step" id="{_attr(a)}" data-i="{i}" data-way="{way}" '
            f'data-phase="{s.phase}" data-lit="{_attr(" ".join(lit))}" '
            f'data-in="{_attr(" ".join(dict.fromkeys(given)))}" '
            f'data-src="{" ".join(str(j) for j in sources)}">'
            f'<th scope="row"><span class="mark" aria-hidden="true"></span>'
            f'<a class="id" href="#{_attr(a)}">{escape(s.id)}</a></th>'
            f'<td class="formula">{mathml(e.lhs, label=s.id)} = {formula}</td>'
            f'<td class="numbers">{numbers}{note}</td>'
            f'<td class="value"><a class="v" href="#why:{_attr(a)}" '
            f'aria-label="{_attr(s.id)} = {_attr(value)}: where it comes from">'
            f"{escape(value)}</a></td></tr>"
        )

    # the chain rule of each step, as `backprop explain ID --depth 0`

    def chains(self) -> str:
        out = []
        for i, s in enumerate(self.trace.steps):
            k = s.sample
            if k is None and s.update is not None and len(self.spec.samples) > 1:
                k = next((t.sample for t in self.trace.steps if t.update == s.update), None)
            ex = explain(self.trace, s.id, sample=k, depth=0)
            out.append(self.chain(self.anchors[i], ex))
        return "\n".join(out)

    def chain(self, a: str, ex: Explanation) -> str:
        root = ex.root
        s = root.step
        assert s is not None
        fmt = self.shown
        head = f'<h3 id="{_attr("why-title:" + a)}">{escape(a)}</h3>'
        lines = [f'<p class="rule"><code>{escape(s.id)} = {escape(s.formula)}</code></p>']
        which = sample_line(ex)
        if which:
            lines.insert(0, f'<p class="sample">{escape(which)}</p>')
        items = []
        for child in root.children:
            items.append(f"<li>{self.factor(ex, child)}</li>")
        if items:
            lines.append(f'<ul class="tree">{"".join(items)}</ul>')
        substituted = fmt.substituted(s)
        value = fmt(root.value)
        result = f"{escape(s.id)} = " + (
            f"{escape(substituted)} = " if substituted != value else ""
        )
        lines.append(f'<p class="result"><code>{result}<strong>{escape(value)}</strong></code></p>')
        if s.note:
            lines.append(f'<p class="note">{escape(s.note)}</p>')
        if ex.given:
            lines.append(self.given(ex))
        back = f'<p class="back"><a href="#{_attr(a)}">Back to {escape(a)} in the tables</a></p>'
        return (
            f'<div class="chain" id="{_attr("why:" + a)}" role="group" '
            f'aria-labelledby="{_attr("why-title:" + a)}">{head}{"".join(lines)}{back}</div>'
        )

    def factor(self, ex: Explanation, node: Node) -> str:
        assert node.step is not None
        a = self.anchor(node.step)
        value = self.shown(node.step.value)
        label = escape(node.symbol)
        text = f'<a href="#why:{_attr(a)}" data-go="{_attr(a)}"><code>{label}</code></a>'
        if node.symbol != node.step.id and _SAMPLE.sub("", node.symbol) != node.step.id:
            text += f" = <code>{escape(node.step.id)}</code>"
        extra = ' <span class="seen">(worked out above)</span>' if node.state == "seen" else ""
        return f"{text} = <strong>{escape(value)}</strong>{extra}"

    def given(self, ex: Explanation) -> str:
        groups: dict[str, list[str]] = {}
        for g in ex.given:
            if g.step is not None:
                label = _STAGES[g.step.phase]
                a = self.anchor(g.step)
                item = (
                    f'<a href="#why:{_attr(a)}" data-go="{_attr(a)}"><code>'
                    f"{escape(g.step.id)}</code></a> = {escape(self.shown(g.value))}"
                )
            else:
                label = _GIVEN[g.kind]
                value = self.shown.term(g.symbol, g.value)
                item = f"<code>{escape(g.symbol)}</code> = {escape(value)}"
            groups.setdefault(label, []).append(item)
        rows = "".join(f"<dt>{escape(k)}</dt><dd>{', '.join(v)}</dd>" for k, v in groups.items())
        return f'<dl class="given"><dt class="h">Given</dt><dd class="h"></dd>{rows}</dl>'

    # the diagram, its values clickable

    def diagram(self) -> str:
        svg = render_svg(self.spec, self.trace, precision=4)
        svg = svg.split("\n", 1)[1]  # no XML declaration inside HTML, nor a namespace URL
        svg = svg.replace(' xmlns="http://www.w3.org/2000/svg"', "", 1)
        first: dict[str, str] = {}
        for i, s in enumerate(self.trace.steps):
            first.setdefault(s.id, self.anchors[i])

        def opens(key: str) -> str | None:
            for candidate in (f"{key}+", f"dE_total/d{key}", f"dE_batch/d{key}", f"out_{key}"):
                if candidate in first:
                    return first[candidate]
            return None

        def node(m: re.Match[str]) -> str:
            key, rest = m.group(1), m.group(2)
            target = opens(key)
            if target is None:
                return m.group(0)
            # Its name is its <title> (net, out, delta): an aria-label would have to repeat
            # the node's visible texts word for word.
            return (
                f'<g id="node-{key}" data-open="{_attr(target)}" tabindex="0" role="button">'
                f"{rest}</g>"
            )

        def label(m: re.Match[str]) -> str:
            key, rest = m.group(1), m.group(2)
            target = opens(key)
            if target is None:
                return m.group(0)
            shown = re.search(r">([^<]*)</text>", rest)
            name = f"{shown.group(1) if shown else key}: open {target}"
            return (
                f'<g data-param="{key}" data-open="{_attr(target)}" tabindex="0" '
                f'role="button" aria-label="{_attr(name)}"{rest}</g>'
            )

        svg = re.sub(r'<g id="node-([^"]+)">(.*?)</g>', node, svg)
        svg = re.sub(r'<g data-param="([^"]+)"(.*?)</g>', label, svg)
        name = _attr(f"The network {self.spec.name}: inputs, layers, every edge with its weight")
        return svg.replace(
            'role="img"', f'id="net" role="group" aria-label="{name}" focusable="false"', 1
        )

    def result(self) -> str:
        shown, new = self.shown, self.result_shown
        rows = []
        for p in self.trace.parameters:
            after = self.trace.updated.get(p.id, p.value)
            change = "" if after == p.value else new(after - p.value)
            rows.append(
                f'<tr><th scope="row"><code>{escape(p.id)}</code></th>'
                f'<td>{escape(shown.term(p.id, p.value))}</td><td aria-hidden="true">→</td>'
                f"<td><strong>{escape(new(after))}</strong></td><td>{escape(change)}</td></tr>"
            )
        return (
            '<div class="scroll"><table class="params"><caption>Parameters, old → new</caption>'
            '<thead><tr><th scope="col">id</th><th scope="col">old</th>'
            '<td aria-hidden="true"></td><th scope="col">new</th><th scope="col">change</th>'
            f"</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
        )


_TAB_INDEX = ' tabindex="-1"'  # tabs: one stop, the arrow keys move between them
_TABLE_HEAD = (
    '<div class="scroll"><table class="steps"><thead><tr><th scope="col">id</th>'
    '<th scope="col">formula</th><th scope="col">with numbers</th>'
    '<th scope="col">value</th></tr></thead><tbody>'
)
_STAGES = {
    "forward": "forward pass",
    "loss": "forward pass",
    "backward": "backward pass",
    "update": "update",
    "after": "after the update",
}
_GIVEN = {
    "input": "inputs",
    "target": "targets",
    "parameter": "parameters",
    "hyper": "hyper-parameters",
    "value": "values",
}


def render_matrix_tab(trace: Trace, view: MatrixView, precision: int = 9) -> str:
    """The matrix view (render/matrix.py's document blocks) as the page's second tab."""
    from backprop_cli.render.matrix import Pick, matrix_blocks

    out: list[str] = []
    for block in matrix_blocks(trace, view, Pick(None, None, None, precision), title=False):
        if isinstance(block, Heading):
            level = min(block.level + 1, 4) if block.level == 1 else block.level
            out.append(f"<h{level}>{escape(block.text)}</h{level}>")
        elif isinstance(block, Prose):
            out.append("<p>" + _prose(block) + "</p>")
        elif isinstance(block, Display):
            for item in block.items:
                out.append(f'<div class="mscroll">{mathml(item, display=True)}</div>')
    return f'<div class="matrices">{"".join(out)}</div>'


def _pieces(pieces: Sequence[str]) -> str:
    """Formula pieces (mathtex's break points), each its own <math>, so a line breaks only
    between terms, never inside a number."""
    return " ".join(
        f'<span class="piece">{mathml(p, infix=k > 0)}</span>' for k, p in enumerate(pieces)
    )


def _grid(grid: Grid) -> str:
    """A table of the document (the drift of a rounded run): symbols as MathML, then numbers."""
    head = "".join(f'<th scope="col">{escape(h)}</th>' for h in grid.header)
    rows = "".join(
        f'<tr><th scope="row">{mathml(first)}</th>'
        + "".join(f"<td>{escape(c)}</td>" for c in rest)
        + "</tr>"
        for first, *rest in grid.rows
    )
    return (
        f'<div class="scroll"><table class="params"><thead><tr>{head}</tr></thead>'
        f"<tbody>{rows}</tbody></table></div>"
    )


def _prose(block: Prose) -> str:
    return "".join(
        mathml(t) if k == "math" else f"<code>{escape(t)}</code>" if k == "code" else escape(t)
        for k, t in block.parts
    )


def render_html(
    trace: Trace,
    *,
    precision: int = 9,
    tabs: Iterable[Tab] = (),
    decimals: int | None = None,
    drifts: Sequence[Drift] = (),
) -> str:
    """The whole trace as one web page; `tabs`: more views after the scalar one (the matrix
    view), shown as tabs when there are any; `decimals`, `drifts`: a rounded run (`--round N`),
    said so at the top, with its drift table."""
    p = _StepPage(trace, precision, decimals, drifts)
    spec = trace.spec
    n = len(trace.steps)
    controls = (
        '<div class="controls" role="group" aria-label="Step through the computation">'
        '<button type="button" id="first" aria-label="First step">« First</button>'
        '<button type="button" id="prev" aria-keyshortcuts="ArrowLeft">◀ Back</button>'
        '<button type="button" id="next" aria-keyshortcuts="ArrowRight">Next ▶</button>'
        '<button type="button" id="last" aria-label="Last step">Last »</button>'
        f'<p id="status" role="status" aria-live="polite">{n} steps: press → to begin</p>'
        "</div>"
    )
    legend = (
        '<p class="legend"><span class="key fwd">▶ forward: solid outline</span> '
        '<span class="key bwd">◀ backward: dashed outline</span> '
        '<span class="key inp">• its inputs: dotted</span></p>'
    )
    scalar = (
        '<div class="layout"><div class="figure" id="figure">'
        f'<div class="diagram">{p.diagram()}</div>{legend}{controls}</div>'
        f'<div class="steps" id="steps">{p.sections()}'
        f'<section class="phase" aria-labelledby="sec-params"><h2 id="sec-params">'
        f"Parameters</h2>{p.result()}</section></div></div>"
    )
    extra = list(tabs)
    if extra:
        views = [Tab("Scalar", scalar), *extra]
        buttons = "".join(
            f'<button type="button" role="tab" id="tab-{k}" aria-controls="view-{k}" '
            f'aria-selected="{"true" if k == 0 else "false"}"{_TAB_INDEX if k else ""}>'
            f"{escape(v.title)}</button>"
            for k, v in enumerate(views)
        )
        panels = "".join(
            f'<div class="view" role="tabpanel" id="view-{k}" aria-labelledby="tab-{k}">'
            f"{v.html}</div>"
            for k, v in enumerate(views)
        )
        content = f'<div class="tabs" role="tablist" aria-label="Views">{buttons}</div>{panels}'
    else:
        content = scalar
    help_text = (
        '<p class="help">Step with the buttons or the ← and → keys; the diagram lights the '
        "neuron or weight each step computes. Click any value (or press Enter on it) to see "
        "its chain rule. A link to one step: add its id to the address, e.g. "
        "<code>#dE_total/dw5</code>.</p>"
    )
    body = (
        '<a class="skip" href="#steps">Skip to the steps</a>'
        f"<header><h1>{escape(spec.name)}</h1>{help_text}</header>"
        f'<main id="main">{content}'
        '<section class="chains" id="chains" aria-labelledby="chains-title">'
        '<h2 id="chains-title">Where each number comes from</h2>'
        f"{p.chains()}</section></main>"
        '<aside id="panel" class="panel" aria-labelledby="panel-title" hidden>'
        '<div class="panel-head"><h2 id="panel-title" tabindex="-1">Chain rule</h2>'
        '<button type="button" id="close" aria-label="Close the chain rule">Close ✕</button>'
        '</div><div id="panel-body"></div></aside>'
        "<footer><p>Made by <code>backprop step --format html</code>"
        ".</p></footer>"
    )
    return page(f"{spec.name} · backprop", body, assets.STEP_JS)


# --- the training report -----------------------------------------------------------------------


def loss_svg(points: Sequence[tuple[int, float]], width: int = 640, height: int = 280) -> str:
    """E_total against epoch (log scale when the values span more than two decades), each
    point's epoch and E_total in its data, so hovering (or the arrow keys) can show them. The y
    axis runs between ticks at round values (decades, with 2 and 5 between them where few
    decades are spanned), the x axis has round epochs, each axis its title beside it."""
    from backprop_cli.render.curve import scale

    sc = scale(points)
    if sc is None:
        return '<p class="note">Too few epochs for a curve.</p>'
    pts, log, y_of = sc.points, sc.log, sc.y
    left, right, top, bottom = 96.0, 16.0, 16.0, 50.0
    pw, ph = width - left - right, height - top - bottom
    yticks = _log_ticks(sc.lo, sc.hi) if log else _linear_ticks(sc.lo, sc.hi)
    ylo, yhi = y_of(yticks[0][0]), y_of(yticks[-1][0])
    e0, e1 = pts[0][0], pts[-1][0]
    xticks = _epoch_ticks(e0, e1)

    def x(e: int) -> float:
        return left + (e - e0) / ((e1 - e0) or 1) * pw

    def y(v: float) -> float:
        return top + (yhi - y_of(v)) / ((yhi - ylo) or 1.0) * ph

    from backprop_cli.render.numbers import number

    coords = " ".join(f"{x(e):.1f},{y(v):.1f}" for e, v in pts)
    grid = "".join(
        f'<line class="grid" x1="{left}" x2="{left + pw}" y1="{y(v):.1f}" y2="{y(v):.1f}"/>'
        f'<text x="{left - 6}" y="{y(v):.1f}" dy="0.35em" text-anchor="end">{escape(t)}</text>'
        for v, t in yticks
    )
    grid += "".join(
        f'<line class="axis" x1="{x(e):.1f}" x2="{x(e):.1f}" y1="{top + ph}" y2="{top + ph + 5}"/>'
        f'<text x="{x(e):.1f}" y="{top + ph + 18}" text-anchor="middle">{e}</text>'
        for e in xticks
    )
    middle = top + ph / 2
    axis = (
        f'<line class="axis" x1="{left}" x2="{left}" y1="{top}" y2="{top + ph}"/>'
        f'<line class="axis" x1="{left}" x2="{left + pw}" y1="{top + ph}" y2="{top + ph}"/>'
        f'<text x="{left + pw / 2}" y="{height - 6}" text-anchor="middle">epoch</text>'
        f'<text x="14" y="{middle}" text-anchor="middle" dy="0.35em" '
        f'transform="rotate(-90 14 {middle})">E_total{", log scale" if log else ""}</text>'
    )
    data_e = " ".join(str(e) for e, _ in pts)
    data_v = " ".join(repr(v) for _, v in pts)
    shown = " ".join(number(v, 9) for _, v in pts)
    label = (
        f"Loss curve: E_total from {number(pts[0][1], 9)} at epoch {e0} to "
        f"{number(pts[-1][1], 9)} at epoch {e1}. Focus it and use ← and → to read each point."
    )
    return (
        f'<svg id="curve" class="curve" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" tabindex="0" aria-label="{_attr(label)}" '
        f'data-e="{data_e}" data-v="{data_v}" data-shown="{shown}" '
        f'data-x="{" ".join(f"{x(e):.1f}" for e, _ in pts)}" '
        f'data-y="{" ".join(f"{y(v):.1f}" for _, v in pts)}">'
        f"<title>{escape(label)}</title>{grid}{axis}"
        f'<polyline class="line" points="{coords}"/>'
        f'<circle id="dot" r="5" cx="{x(e1):.1f}" cy="{y(pts[-1][1]):.1f}"/>'
        f'<rect class="hit" x="{left}" y="{top}" width="{pw}" height="{ph}"/></svg>'
        f'<p id="readout" class="readout" aria-live="polite">epoch {e1}: E_total = '
        f"{number(pts[-1][1], 9)}</p>"
    )


def _linear_ticks(lo: float, hi: float) -> list[tuple[float, str]]:
    """Round values from at or below lo to at or above hi, 1, 2 or 5 times a power of ten apart,
    four to ten of them; each written with the decimals its step needs."""
    from backprop_cli.render.numbers import number

    span = (hi - lo) or abs(hi) or 1.0
    power = 10.0 ** math.floor(math.log10(span / 5))
    step = next(m * power for m in (1, 2, 5, 10) if span / (m * power) <= 7)
    first, last = math.floor(lo / step + 1e-9), math.ceil(hi / step - 1e-9)
    if first == last:
        first, last = first - 1, last + 1
    decimals = max(0, -math.floor(math.log10(step) + 1e-9))
    return [(k * step, number(k * step, decimals)) for k in range(first, last + 1)]


def _log_ticks(lo: float, hi: float) -> list[tuple[float, str]]:
    """Decades from at or below lo to at or above hi; 2 and 5 of each decade too when fewer
    than four decades are spanned."""
    from backprop_cli.render.numbers import number

    a, b = math.floor(math.log10(lo) + 1e-12), math.ceil(math.log10(hi) - 1e-12)
    marks = (1, 2, 5) if b - a < 4 else (1,)
    ticks = []
    for k in range(a, b + 1):
        for m in marks:
            v = m * 10.0**k
            if m > 1 and not lo <= v <= hi:
                continue
            text = f"{m}e{k}" if k < -3 or k > 3 else number(v, max(0, -k))
            ticks.append((v, text))
    return ticks


def _epoch_ticks(e0: int, e1: int) -> list[int]:
    """Round epochs from e0 to e1 (both shown), 1, 2 or 5 times a power of ten apart."""
    span = max(e1 - e0, 1)
    power = 10 ** max(math.floor(math.log10(span / 5)), 0) if span >= 5 else 1
    step = next(m * power for m in (1, 2, 5, 10) if span / (m * power) <= 8)
    inner = range((e0 // step + 1) * step, e1, step)
    # a round epoch too near an end would overlap the end's label
    return [e0, *(e for e in inner if min(e - e0, e1 - e) >= step / 2), e1]


def render_train_html(
    spec: Spec,
    summary: Mapping[str, Any],
    curve: Sequence[tuple[int, float]],
    *,
    precision: int = 9,
    update_order: str | None = None,
    decimals: int | None = None,
    drifts: Sequence[Drift] = (),
) -> str:
    """A training run as one page: the summary, the loss curve, outputs against targets,
    parameters old → new; `decimals`, `drifts`: a rounded run (`--round N`), said so at the
    top, its results with their zeros (0.2910), ending with the drift table."""
    from backprop_cli.render.document import drift_blocks, rounded_note
    from backprop_cli.render.training import describe

    fmt = Numbers(precision)
    # a rounded run's results keep their zeros (0.2910), as the terminal shows them
    result = fmt if decimals is None else Numbers(decimals, zeros=True)
    start = summary["epochs_done"] - summary["epochs"]
    facts = (
        '<dl class="facts">'
        f"<dt>Training</dt><dd>{escape(describe(spec, update_order))}</dd>"
        f"<dt>Epochs</dt><dd>{summary['epochs']} ({escape(summary['status'])})</dd>"
        f"<dt>E_total after epoch {start}</dt><dd>{escape(result(summary['E_total_before']))}</dd>"
        f"<dt>E_total after epoch {summary['epochs_done']}</dt>"
        f"<dd><strong>{escape(result(summary['E_total']))}</strong></dd></dl>"
    )
    out_rows = []
    for s, (sample, outs) in enumerate(zip(spec.samples, summary["outputs"], strict=True)):
        for name, o, t in zip(spec.outputs, outs, sample.targets, strict=True):
            out_rows.append(
                f'<tr><td>{s + 1}</td><th scope="row"><code>{escape(name)}</code></th>'
                f"<td><strong>{escape(result(o))}</strong></td><td>{escape(fmt(t))}</td>"
                f"<td>{escape(result(o - t))}</td></tr>"
            )
    outputs = (
        '<div class="scroll"><table class="params"><caption>Outputs against targets</caption>'
        '<thead><tr><th scope="col">sample</th><th scope="col">output</th>'
        '<th scope="col">out</th><th scope="col">target</th><th scope="col">out − target</th>'
        f"</tr></thead><tbody>{''.join(out_rows)}</tbody></table></div>"
    )
    new = summary["parameters"]
    p_rows = []
    for p in spec.parameters():
        after = new.get(p.id, p.value)
        change = "" if after == p.value else result(after - p.value)
        p_rows.append(
            f'<tr><th scope="row"><code>{escape(p.id)}</code></th><td>{escape(fmt(p.value))}</td>'
            f'<td aria-hidden="true">→</td><td><strong>{escape(result(after))}</strong></td>'
            f"<td>{escape(change)}</td></tr>"
        )
    params = (
        '<div class="scroll"><table class="params"><caption>Parameters, old → new</caption>'
        '<thead><tr><th scope="col">id</th><th scope="col">old</th><td aria-hidden="true"></td>'
        '<th scope="col">new</th><th scope="col">change</th></tr></thead>'
        f"<tbody>{''.join(p_rows)}</tbody></table></div>"
    )
    rounded = drift = ""
    if decimals is not None:
        rounded = f'<p class="note">{escape(rounded_note(decimals, bool(drifts)))}</p>'
        if drifts:
            heading, grid = drift_blocks(drifts, decimals, precision)
            assert isinstance(heading, Heading) and isinstance(grid, Grid)
            drift = (
                f'<section aria-labelledby="s-drift"><h2 id="s-drift">{escape(heading.text)}'
                f"</h2>{_grid(grid)}</section>"
            )
    body = (
        '<a class="skip" href="#main">Skip to the report</a>'
        f'<header><h1>{escape(spec.name)}</h1><p class="help">A training run of '
        "<code>backprop train</code>. Hover over the loss curve, or focus it and use ← and →, "
        f"to read E_total at each epoch.</p>{rounded}</header>"
        f'<main id="main"><section aria-labelledby="s-sum"><h2 id="s-sum">Summary</h2>{facts}'
        '</section><section aria-labelledby="s-curve"><h2 id="s-curve">Loss curve</h2>'
        f'<div class="curvebox">{loss_svg(curve)}</div></section>'
        f'<section aria-labelledby="s-out"><h2 id="s-out">Outputs</h2>{outputs}</section>'
        f'<section aria-labelledby="s-par"><h2 id="s-par">Parameters</h2>{params}</section>'
        f"{drift}</main>"
        "<footer><p>Made by <code>backprop train --format html</code>"
        ".</p></footer>"
    )
    return page(f"{spec.name} · training · backprop", body, assets.TRAIN_JS)
