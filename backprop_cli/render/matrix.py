"""The matrix view (`--view matrix`): each layer's matrices with their entries' ids, and the matrix
equations with their shapes, as terminal text (rich) and as blocks of a Markdown/LaTeX document.

Matrices come from backprop_cli/engine/matrices.py, which only arranges recorded values; here
they are laid out. In the terminal a line of matrices that is too wide goes on as a new line of
blocks (an operand is never split), and a single matrix wider than the line is shown a few
columns at a time.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.text import Text

from backprop_cli.engine.matrices import (
    Constant,
    Equation,
    Matrix,
    MatrixExplanation,
    MatrixView,
    Operand,
    Piece,
    Section,
)
from backprop_cli.engine.trace import Trace
from backprop_cli.render.ascii import spell
from backprop_cli.render.document import LINE, Block, Display, Heading, Prose, text
from backprop_cli.render.mathtex import render, symbol, tex_number, width
from backprop_cli.render.numbers import Numbers, written
from backprop_cli.render.table import group_title, loss_line
from backprop_cli.render.wrap import atom_width, words, wrap

GAP = " "
Lines = list[str]

# --- text blocks ----------------------------------------------------------------------------


def _align(cells: list[list[str]]) -> list[list[str]]:
    """Each column's numbers lined up on the decimal point (ids: on the left)."""
    if not cells:
        return cells
    out = [list(row) for row in cells]
    for c in range(len(cells[0])):
        col = [row[c] for row in cells]
        numeric = all(_is_number(x) for x in col)
        if numeric:
            heads = [x.split(".")[0] if "e" not in x else x for x in col]
            tails = [("." + x.split(".", 1)[1]) if "." in x and "e" not in x else "" for x in col]
            hw = max(cell_len(h) for h in heads)
            tw = max(cell_len(t) for t in tails)
            for r, (h, t) in enumerate(zip(heads, tails, strict=True)):
                out[r][c] = h.rjust(hw) + t.ljust(tw)
        else:
            w = max(cell_len(x) for x in col)
            for r in range(len(col)):
                out[r][c] = col[r] + " " * (w - cell_len(col[r]))
    return out


def _is_number(x: str) -> bool:
    try:
        float(x)
    except ValueError:
        return x in ("nan", "inf", "-inf")
    return True


def bracket(cells: list[list[str]]) -> Lines:
    """A matrix in brackets, one text line per row: [a  b] for one row, else ⎡ ⎢ ⎣."""
    rows = ["  ".join(r) for r in _align(cells)]
    if len(rows) == 1:
        return [f"[{rows[0]}]"]
    out = []
    for i, r in enumerate(rows):
        left, right = ("⎡", "⎤") if i == 0 else ("⎣", "⎦") if i == len(rows) - 1 else ("⎢", "⎥")
        out.append(f"{left}{r}{right}")
    return out


def values(m: Matrix, shown: Numbers) -> list[list[str]]:
    return [[shown.term(e.id, e.value) for e in row] for row in m.rows]


def labels(m: Matrix) -> list[list[str]]:
    """Each entry's id; in a batch (a row per sample) with its sample: `net_h1[2]`."""
    return [[e.label if m.samples else e.id for e in row] for row in m.rows]


def _width(block: Lines) -> int:
    return max(cell_len(line) for line in block)


def _pad(block: Lines, height: int) -> Lines:
    """The block centred in `height` lines, every line as wide as the widest."""
    w = _width(block)
    top = (height - len(block)) // 2
    lines = [""] * top + block + [""] * (height - len(block) - top)
    return [line + " " * (w - cell_len(line)) for line in lines]


def hstack(blocks: Sequence[Lines]) -> Lines:
    height = max(len(b) for b in blocks)
    padded = [_pad(b, height) for b in blocks]
    return ["".join(parts).rstrip() for parts in zip(*padded, strict=True)]


def _split_columns(cells: list[list[str]], width: int) -> list[list[list[str]]]:
    """Column groups of a matrix that each fit `width` in brackets."""
    groups: list[list[int]] = [[]]
    for c in range(len(cells[0])):
        trial = groups[-1] + [c]
        part = [[row[i] for i in trial] for row in cells]
        if groups[-1] and _width(bracket(part)) > width:
            groups.append([c])
        else:
            groups[-1] = trial
    return [[[row[i] for i in g] for row in cells] for g in groups]


@dataclass(slots=True)
class Unit:
    """A matrix with the text that stays on its line: before it and after it."""

    before: str
    cells: list[list[str]] | None
    after: str = ""

    def blocks(self) -> list[Lines]:
        out: list[Lines] = [[self.before]] if self.before else []
        if self.cells is not None:
            out.append(bracket(self.cells))
        if self.after:
            out.append([self.after])
        return out


class Flow:
    """Blocks side by side (a matrix, an operator), broken into several lines of blocks where
    they do not fit: each following line indented by 2; a matrix too wide for a line alone is
    shown a group of columns at a time."""

    def __init__(self, blocks: Sequence[Lines | list[list[str]]], kinds: Sequence[str]) -> None:
        self.blocks, self.kinds = list(blocks), list(kinds)

    def units(self) -> list[Unit]:
        """The blocks in units that stay on one line: a matrix with the text before it
        (`= `, `1/(1 + e^(-`) and the closing brackets after it (`))`, `)^2`, `)/3`)."""
        units: list[Unit] = []
        before = ""
        for block, kind in zip(self.blocks, self.kinds, strict=True):
            if kind == "matrix":
                units.append(Unit(before, block))  # type: ignore[arg-type]
                before = ""
                continue
            text = str(block[0])
            closing = re.match(r"(?:\)/?|[\]^0-9])*", text)  # `)^2`, the mean's `)/3`
            close = closing.group(0) if closing and units and not before else ""
            if close:
                units[-1].after += close
            before += text[len(close) :]
        if before:
            units.append(Unit(before, None))
        return units

    def lines(self, width: int) -> Lines:
        out: Lines = []
        row: list[Lines] = []
        indent = 0

        def flush() -> None:
            nonlocal row, indent
            if row:
                out.extend(" " * indent + line for line in hstack(row))
                row, indent = [], 2

        for unit in self.units():
            if row and _width(hstack([*row, *unit.blocks()])) > width - indent:
                flush()
            if not row:
                unit.before = unit.before.lstrip()  # a line does not start with a space
            if row or unit.cells is None or _width(hstack(unit.blocks())) <= width - indent:
                row.extend(unit.blocks())
                continue
            # a matrix too wide for a line of its own: a group of columns at a time
            if unit.before.strip():
                out.append(" " * indent + unit.before.strip())
            first = 1
            for g in _split_columns(unit.cells, width - 2):
                last = first + len(g[0]) - 1
                out.append(f"  (columns {first}–{last})" if last > first else f"  (column {last})")
                block = bracket(g)  # at the margin where one column does not fit beside it
                out += [" " * 2 * (_width(block) + 2 <= width) + line for line in block]
                first = last + 1
            if unit.after:
                out.append("  " + unit.after)
            indent = 2
        flush()
        return out


class FlowText:
    """A Flow as rich text at the width it is given."""

    def __init__(self, flow: Flow) -> None:
        self.flow = flow

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = max(options.max_width, 20)
        flow = self.flow
        if options.ascii_only:  # measured as printed: δ is `delta`, five cells
            flow = Flow([_spelled(b) for b in flow.blocks], flow.kinds)
        # an id wider than the line (dE_total/dout_o1[1] in brackets) goes past it whole
        yield Text("\n".join(flow.lines(width)), no_wrap=True, overflow="ignore")


def _spelled(block: Any) -> Any:
    """A block's text (lines, or a matrix's rows of cells) in ASCII."""
    return [spell(x) if isinstance(x, str) else [spell(c) for c in x] for x in block]


class EquationLine:
    """`lhs = formula   shapes`: on one line where it fits, else the shapes on a line of
    their own; each broken between terms."""

    def __init__(self, formula: str, shapes: str, style: str = "cyan") -> None:
        self.formula, self.shapes, self.style = formula, shapes, style

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = max(options.max_width, 20)
        formula, shapes = self.formula, self.shapes
        if options.ascii_only:
            formula, shapes = spell(formula), spell(shapes)
        one = f"{formula}   {shapes}" if shapes else formula
        if cell_len(one) <= width:
            yield Text(one, style=self.style, no_wrap=True)
            return
        lines = _broken(formula, width)
        if shapes:
            lines += ["  " + x for x in _broken(shapes, width - 2)]
        yield Text("\n".join(lines), style=self.style, no_wrap=True, overflow="ignore")


def _broken(formula: str, width: int) -> Lines:
    """A formula between terms (render/wrap.py) where each piece fits the line, else at any
    space, a word wider than the line whole: wrap would cut that piece with an ellipsis."""
    if atom_width(formula) <= width:
        return wrap(formula, width, first=width)
    return words(Text(formula), width).plain.split("\n")


class Words:
    """A line of text broken at spaces at the width it is given (a word wider than the line
    goes past it whole)."""

    def __init__(self, line: str, style: str = "") -> None:
        self.line, self.style = line, style

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = max(options.max_width, 20)
        line = spell(self.line) if options.ascii_only else self.line
        yield words(Text(line, style=self.style), width)


# --- what a section shows ---------------------------------------------------------------------


def _op(piece: str | Constant, shown: Numbers) -> str:
    if isinstance(piece, Constant):
        return written(piece.value, shown.precision)
    return piece


def equation_flow(view: MatrixView, eq: Equation, shown: Numbers) -> Flow | None:
    """`[ids] = operand · operand + operand = [values]`: a product with its numbers, or an
    elementwise formula's result; None where the equation has no result to show."""
    if eq.result is None:
        return None
    result = eq.result.laid(view.layout)
    blocks: list[Lines | list[list[str]]] = [labels(result), [" = "]]
    kinds = ["matrix", "op"]
    shown_pieces = with_numbers(eq)
    if shown_pieces:
        for p in shown_pieces:
            if isinstance(p, Operand):
                m = eq.operands[p.id].laid(view.layout)
                blocks.append(values(m.T if p.transposed else m, shown))
                kinds.append("matrix")
            else:
                blocks.append([_op(p, shown)])
                kinds.append("op")
        blocks.append([" = "])
        kinds.append("op")
    blocks.append(values(result, shown))
    kinds.append("matrix")
    return Flow(blocks, kinds)


def with_numbers(eq: Equation) -> tuple[Piece, ...]:
    """The pieces of the right-hand side that can be shown with numbers: all of them, or (a
    batch's softmax δ, whose Jacobian differs by sample) the short form after the last `=`."""
    if not any(isinstance(p, Operand) for p in eq.pieces):
        return ()
    if eq.complete:
        return eq.pieces
    cut = max((i for i, p in enumerate(eq.pieces) if p == " = "), default=None)
    tail = eq.pieces[cut + 1 :] if cut is not None else ()
    ops = [p for p in tail if isinstance(p, Operand)]
    return tail if ops and all(p.id in eq.operands for p in ops) else ()


def given_flow(view: MatrixView, m: Matrix, shown: Numbers) -> Flow:
    laid = m.laid(view.layout)
    r, c = laid.shape
    return Flow(
        [[f"{m.id} ({r}×{c}) = "], labels(laid), [" = "], values(laid, shown)],
        ["op", "matrix", "op", "matrix"],
    )


def layout_line(view: MatrixView, sec: Section) -> str | None:
    """How the same W appears in the other conventions (said once per layer)."""
    if sec.phase != "forward" or sec.layer is None or sec.update not in (0, None):
        return None
    name = view.spec.layers[sec.layer].name
    w = f"W_{name}"
    r, c = view.matrix(w).shape
    if view.layout == "out-in":
        return (
            f"{w} is stored as in PyTorch's nn.Linear.weight: out × in ({r}×{c}). cs231n and "
            f"Keras (X·W) store {w}ᵀ: in × out ({c}×{r}); --layout in-out shows that form."
        )
    return (
        f"{w} is stored as in cs231n and Keras (X·W): in × out ({c}×{r}). PyTorch's "
        f"nn.Linear.weight stores {w}ᵀ: out × in ({r}×{c})."
    )


@dataclass(frozen=True, slots=True)
class Pick:
    """What to show: matrix id globs (`delta_*`), phases, a sample (0-based), the precision."""

    only: list[str] | None = None
    phases: list[str] | None = None
    sample: int | None = None
    precision: int = 9

    @property
    def filtered(self) -> bool:
        return bool(self.only or self.phases or self.sample is not None)

    def shows(self, m: Mapping[str, object]) -> bool:
        """Whether a matrix of the JSON `matrices` section is picked."""
        if self.only and not any(fnmatchcase(str(m["id"]), p) for p in self.only):
            return False
        if self.phases and m["phase"] not in self.phases:
            return False
        return self.sample is None or m["sample"] in (None, self.sample)


def chosen(
    view: MatrixView, pick: Pick = Pick()
) -> Iterator[tuple[Section, list[Matrix], list[Equation]]]:
    """Each section's given matrices and equations, filtered by matrix id globs, phases and
    sample (a batch section stays: it holds every sample)."""
    only, phases, sample = pick.only, pick.phases, pick.sample
    for sec in view:
        if phases and sec.phase not in phases:
            continue
        if sample is not None and sec.sample is not None and sec.sample != sample:
            continue
        defined = {e.lhs for e in sec.equations}
        given = [m for mid, m in sec.matrices.items() if mid not in defined]
        eqs = list(sec.equations)
        if only:
            given = [m for m in given if any(fnmatchcase(m.id, p) for p in only)]
            eqs = [e for e in eqs if any(fnmatchcase(e.lhs, p) for p in only)]
        if given or eqs:
            yield sec, given, eqs


def matrix_parts(
    trace: Trace, view: MatrixView, pick: Pick = Pick(), *, title: bool = True
) -> Iterator[RenderableType]:
    """The matrix view for the terminal, one title, line or block at a time; E_total before and
    after at the end unless filtered."""
    shown = Numbers.of(trace.steps, pick.precision)
    only = pick.only
    if title:
        yield Text(trace.spec.name, style="bold underline")
        yield Text("")
    for sec, given, eqs in chosen(view, pick):
        yield Text(group_title(trace, sec.phase, sec.layer, sec.sample, sec.update), style="bold")
        note = layout_line(view, sec)
        if note and not only:
            yield Words(note, "dim")
        for m in given:
            yield FlowText(given_flow(view, m, shown))
        for eq in eqs:
            shapes = view.shapes(eq)
            yield EquationLine(eq.text, shapes)
            if eq.note:
                yield Words(eq.note, "dim italic")
            flow = equation_flow(view, eq, shown)
            if flow is not None:
                yield FlowText(flow)
        yield Text("")
    if not pick.filtered:
        yield loss_line(trace, shown)


# --- explain ---------------------------------------------------------------------------------


def explain_parts(
    trace: Trace,
    view: MatrixView,
    ex: MatrixExplanation,
    precision: int = 9,
    config: str | None = None,
) -> Iterator[RenderableType]:
    """`backprop explain delta_h --view matrix`: the equation with its numbers, then where each
    operand comes from (its own equation, or its ids if it is given). `config`, as given on the
    command line, goes into the commands suggested for each operand, as the layout does."""
    import shlex

    shown = Numbers.of(trace.steps, precision)
    sec = ex.section
    yield Text(group_title(trace, sec.phase, sec.layer, sec.sample, sec.update), style="dim")
    if ex.equation is None:
        yield FlowText(given_flow(view, ex.matrix, shown))
        return
    eq = ex.equation
    yield EquationLine(eq.text, view.shapes(eq))
    if eq.note:
        yield Words(eq.note, "dim italic")
    flow = equation_flow(view, eq, shown)
    if flow is not None:
        yield FlowText(flow)
    if not ex.operands:
        return
    yield Text("")
    yield Text("where", style="bold")
    for m, defined in ex.operands:
        laid = m.laid(view.layout)
        r, c = laid.shape
        if defined is None:
            if m.id == eq.lhs:  # an optimizer's slot before this update
                yield Words(f"{m.id} ({r}×{c}) before this update:", "cyan")
                yield FlowText(Flow([values(laid, shown)], ["matrix"]))
            else:
                yield FlowText(given_flow(view, m, shown))
            continue
        shapes = view.shapes(defined)
        yield EquationLine(defined.text, shapes)
        words = [m.id, *([config] if config else []), "--view", "matrix"]
        if view.layout != "out-in":
            words += ["--layout", view.layout]
        yield Text(f"  (backprop explain {shlex.join(words)})", style="dim")
        yield FlowText(
            Flow([labels(laid), [" = "], values(laid, shown)], ["matrix", "op", "matrix"])
        )


def explain_dict(view: MatrixView, ex: MatrixExplanation) -> dict[str, object]:
    """The matrix explanation as JSON: the matrix, its equation and its operands."""
    doc = {m["id"]: m for m in view.to_dict() if m["update"] == ex.section.update}
    sec = ex.section

    def one(m: Matrix, eq: Equation | None) -> dict[str, object]:
        d = dict(doc.get(m.id, {}))
        laid = m.laid(view.layout)
        d.update(id=m.id, shape=list(laid.shape), values=laid.values(), ids=labels(laid))
        if eq is not None:
            d["equation"] = eq.text
            d["shapes"] = view.shapes(eq)
        return d

    out = one(ex.matrix, ex.equation)
    out.update(phase=sec.phase, update=sec.update, sample=sec.sample, layout=view.layout)
    out["operands"] = [one(m, e) for m, e in ex.operands]
    return out


# --- Markdown and LaTeX -------------------------------------------------------------------------


def bmatrix(cells: list[list[str]]) -> str:
    body = r" \\ ".join(" & ".join(row) for row in cells)
    return rf"\begin{{bmatrix}} {body} \end{{bmatrix}}"


def tex_values(m: Matrix, shown: Numbers) -> str:
    return bmatrix([[tex_number(x) for x in row] for row in values(m, shown)])


def tex_ids(m: Matrix) -> str:
    return bmatrix([[symbol(x) for x in row] for row in labels(m)])


def _tex_operand(p: Operand) -> str:
    base, sample = (p.id[:-3], "^{(s)}") if p.id.endswith("[s]") else (p.id, "")
    return symbol(base) + sample + (r"^\top" if p.transposed else "")


def tex_formula(eq: Equation) -> str | None:
    """The right-hand side in symbols: a product written piece by piece, an elementwise formula
    through the formula parser (None where it reads neither way)."""
    if len(eq.pieces) == 1 and str(eq.pieces[0]).startswith("[i, j]: "):
        return _tex_entry(str(eq.pieces[0]))
    segments: list[list[Piece]] = [[]]
    for p in eq.pieces:
        if isinstance(p, str) and p == " = ":
            segments.append([])
        else:
            segments[-1].append(p)
    out = []
    for seg in segments:
        product = (
            any(
                (isinstance(p, Operand) and p.transposed)
                or (isinstance(p, str) and any(s in p for s in ("·", "Σ", "row")))
                for p in seg
            )
            or not eq.elementwise
        )
        if product:
            parts = []
            for p in seg:
                if isinstance(p, Operand):
                    parts.append(_tex_operand(p))
                elif isinstance(p, Constant):
                    parts.append(symbol(p.symbol))
                else:
                    parts.append(
                        str(p)
                        .replace("·", r"\cdot")
                        .replace("Σ ", r"\sum ")
                        .replace("row s: ", r"\text{row } s\text{: }")
                        .replace("[i, j]: ", "")
                    )
            out.append("".join(parts))
            continue
        template = "".join(
            "{" + p.id + "}"
            if isinstance(p, Operand)
            else "{" + p.symbol + "}"
            if isinstance(p, Constant)
            else str(p)
            for p in seg
        )
        try:
            out.append(render(template))
        except (ValueError, IndexError, KeyError):
            return None
    return " = ".join(out)


def matrix_blocks(
    trace: Trace, view: MatrixView, pick: Pick = Pick(), *, title: bool = True
) -> list[Block]:
    """The matrix view as document blocks: a heading per section, each given matrix as
    `W = [ids] = [values]`, each equation in symbols with its shapes, then with its numbers."""
    shown = Numbers.of(trace.steps, pick.precision)
    only = pick.only
    blocks: list[Block] = [Heading(1, trace.spec.name)] if title else []
    blocks.append(
        text(
            "The same step as matrices. "
            + (
                "W has one row per neuron and one column per input (as PyTorch's "
                "nn.Linear.weight); a vector of one sample is a column, a batch has one row "
                "per sample."
                if view.layout == "out-in"
                else "W has one row per input and one column per neuron (X·W, as cs231n and "
                "Keras); a vector of one sample is a row, a batch has one row per sample."
            )
        )
    )
    for sec, given, eqs in chosen(view, pick):
        blocks.append(Heading(2, group_title(trace, sec.phase, sec.layer, sec.sample, sec.update)))
        if layout_line(view, sec) and not only and sec.layer is not None:
            blocks.append(_layout_prose(view, sec.layer))
        for m in given:
            laid = m.laid(view.layout)
            lhs = symbol(m.id)
            blocks.append(Display((f"{lhs} = {tex_ids(laid)} = {tex_values(laid, shown)}",)))
        for eq in eqs:
            blocks.extend(_tex_equation(view, eq, shown))
    return blocks


def _tex_equation(view: MatrixView, eq: Equation, shown: Numbers) -> list[Block]:
    lhs = symbol(eq.lhs)
    out: list[Block] = []
    formula = tex_formula(eq)
    shapes = _tex_shapes(view.shapes(eq))
    note = rf"\text{{ ({_plain(eq.note)})}}" if eq.note else ""
    if formula is not None:
        tail = f" \\quad {shapes}{note}" if shapes or note else ""
        out.append(Display((f"{lhs} = {formula}{tail}",)))
    if eq.result is None:
        return out
    result = eq.result.laid(view.layout)
    parts = [tex_ids(result)]
    if with_numbers(eq):
        numbers = _tex_numbers(view, eq, shown, with_numbers(eq))
        if numbers is not None:
            parts.append(numbers)
    parts.append(tex_values(result, shown))
    for line in tex_lines(" = ".join(parts)):
        out.append(Display((line,)))
    return out


_BREAK = re.compile(r" (?=(?:=|\+|-|\\cdot) )")
_MATRIX = re.compile(r"\\begin\{bmatrix\}(.*?)\\end\{bmatrix\}")


def tex_width(tex: str) -> int:
    """A rough width of display math: a matrix as wide as its widest row."""

    def one(m: re.Match[str]) -> str:
        rows = m.group(1).split(r"\\")
        return "x" * max(width(row.replace("&", "  ")) for row in rows)

    return width(_MATRIX.sub(one, tex))


def tex_lines(tex: str, limit: int = LINE) -> list[str]:
    """Display math broken before `=`, `+`, `-` or `\\cdot` outside every brace and matrix,
    into lines that fit `limit` where they can (a line after the first starts with its
    operator)."""
    pieces: list[str] = []
    depth, start = 0, 0
    for i, ch in enumerate(tex):
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif ch == " " and depth == 0 and _BREAK.match(tex, i) and not _inside_matrix(tex, i):
            pieces.append(tex[start:i])
            start = i + 1
    pieces.append(tex[start:])
    lines: list[str] = []
    for piece in pieces:
        if lines and tex_width(f"{lines[-1]} {piece}") <= limit:
            lines[-1] = f"{lines[-1]} {piece}"
        else:
            lines.append(piece)
    return lines


def _inside_matrix(tex: str, i: int) -> bool:
    return tex.count(r"\begin{bmatrix}", 0, i) > tex.count(r"\end{bmatrix}", 0, i)


def _tex_numbers(
    view: MatrixView, eq: Equation, shown: Numbers, chosen: Sequence[Piece]
) -> str | None:
    """The right-hand side with each operand's matrix of numbers (constants as written)."""
    filled: list[str] = []

    def put(tex: str) -> str:
        filled.append(tex)
        return f"QQ{len(filled) - 1}QQ"  # a placeholder the formula writer leaves alone

    pieces: list[str] = []
    segments: list[str] = []
    for p in [*chosen, " = "]:
        if isinstance(p, str) and p == " = ":
            segments.append("".join(pieces))
            pieces = []
        elif isinstance(p, Operand):
            m = eq.operands[p.id].laid(view.layout)
            tex = tex_values(m.T if p.transposed else m, shown)
            pieces.append(put(tex) if not eq.elementwise else "{" + put(tex) + "}")
        elif isinstance(p, Constant):
            value = written(p.value, shown.precision)
            pieces.append(value if not eq.elementwise else "{" + put(tex_number(value)) + "}")
        else:
            pieces.append(p)
    out = []
    for seg in segments:
        if "{QQ" in seg:  # an elementwise formula: written by the formula writer
            try:
                seg = render(seg, values=lambda sym: float(sym[2:-2]), fmt=_placeholder)
            except (ValueError, IndexError, KeyError):
                return None
        else:
            seg = seg.replace("·", r"\cdot").replace("Σ ", r"\sum ")
            seg = seg.replace("row s: ", r"\text{row } s\text{: }")
        out.append(seg)
    text = " = ".join(out)
    for i, tex in enumerate(filled):
        text = text.replace(f"QQ{i}QQ", tex)
    return text


def _placeholder(x: float) -> str:
    return f"QQ{int(x)}QQ"


def _tex_entry(text: str) -> str | None:
    """`[i, j]: out_oi * (1 - out_oi) if i = j, else -out_oi * out_oj` (softmax's Jacobian) as
    LaTeX: each case through the formula writer."""
    same, _, other = text.removeprefix("[i, j]: ").partition(" if i = j, else ")
    slot = re.compile(r"\b(out_\w+)")
    try:
        cases = [render(slot.sub(r"{\1}", case)) for case in (same, other)]
    except (ValueError, IndexError, KeyError):
        return None
    return (
        rf"\begin{{cases}} {cases[0]} & i = j \\ {cases[1]} & i \neq j \end{{cases}}"
        r" \quad \text{(entry } i, j\text{)}"
    )


def _tex_shapes(shapes: str) -> str:
    return (
        shapes.replace("×", r" \times ")
        .replace("·", r" \cdot ")
        .replace("Σ", r"\sum")
        .replace("softmax", r"\operatorname{softmax}")
        .replace(", elementwise", r",\ \text{elementwise}")
    )


def _layout_prose(view: MatrixView, k: int) -> Prose:
    w = f"W_{view.spec.layers[k].name}"
    r, c = view.matrix(w).shape
    tw, x = symbol(w), r"\times"
    if view.layout == "out-in":
        return text(
            "Stored as PyTorch's nn.Linear.weight stores it: ",
            f"{tw} ({r} {x} {c})",
            ", out by in. cs231n and Keras (",
            r"X \cdot W",
            ") store its transpose ",
            f"{tw}^\\top ({c} {x} {r})",
            ", in by out (the in-out layout).",
        )
    return text(
        "Stored as cs231n and Keras (",
        r"X \cdot W",
        ") store it: ",
        f"{tw} ({c} {x} {r})",
        ", in by out. PyTorch's nn.Linear.weight is its transpose ",
        f"{tw}^\\top ({r} {x} {c})",
        ", out by in.",
    )


def _plain(words: str) -> str:
    """A note for \\text{}: plain words (Σ as "sum", ids' _ escaped)."""
    return words.replace("Σ", "sum").replace("_", r"\_")
