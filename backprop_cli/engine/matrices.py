"""The same step as matrices: one matrix per layer and quantity, built from the scalar trace.

Nothing here computes: every entry is the value of a recorded step (or of a number a step read,
such as a weight or an input), so the matrix form equals the scalar form bit for bit by
construction. The module only arranges those values, names the matrices and writes the matrix
equations that relate them.

Layer-level ids, for a layer named L (`h`, `o`) with neurons L1, L2, ... (see `scalar_ids`):

  x (the inputs; X for a batch, one row per sample), W_L, b_L, net_L, out_L, target_L, E_L,
  E_total, E_batch (a batch of several samples), dE_total/dout_L, dout_L/dnet_L (softmax: the
  Jacobian), delta_L, dE_total/dW_L, dE_total/db_L, dE_batch/dW_L, dE_batch/db_L, the
  optimizer's stages (m_W_L, v_W_L, m̂_W_L, v̂_W_L, g_W_L, W_L_decayed, ... as the scalar m_w5,
  v_w5, ... of ops/optimizers.py), W_L+, b_L+, and after the update net_L+, out_L+, E_L+, E_total+.

Orientation ("out-in", as the config and PyTorch's nn.Linear.weight store W): W_L has one row
per neuron and one column per input; a vector of one sample is a column; a quantity of a batch
has one row per sample. The "in-out" layout (cs231n, Keras: X·W) is the transpose of every
parameter-shaped matrix and of every one-sample vector (`Matrix.turns`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from backprop_cli.engine.trace import Step, Trace
from backprop_cli.ops import ACTIVATIONS, CONSTANTS, OPTIMIZERS
from backprop_cli.ops.activations import SOFTMAX_JACOBIAN_FORMULA
from backprop_cli.specs.choices import LAYOUTS as LAYOUTS
from backprop_cli.specs.model import Names, Spec

_SLOT = re.compile(r"\{([^{}]+)\}")
Grid = list[list[str]]

# --- ids ------------------------------------------------------------------------------------


def _col(ids: Sequence[str]) -> Grid:
    return [[i] for i in ids]


def _stage_ids(spec: Spec) -> list[str]:
    """The optimizer's step ids with {p} for the parameter (m_{p}, ..., {p}+), in order."""
    opt = spec.training.optimizer
    rule = OPTIMIZERS[opt.name]
    stages = rule.active({"lr": spec.training.learning_rate, **opt.hyper})
    return [rule.shown(s, i == len(stages) - 1)[0] for i, s in enumerate(stages)]


def scalar_ids(spec: Spec) -> dict[str, Grid]:
    """Every layer-level id of this network and the scalar id at each entry (row by row, in the
    out-in layout, for one sample). The scalar ids are those of the trace's steps, parameters
    (w5), inputs (i1) and targets (target_o1); an entry of a quantity of a batch (one row per
    sample) is the same id in that row's sample.

    >>> scalar_ids(mazur)["W_o"]
    [['w5', 'w6'], ['w7', 'w8']]
    """
    names = Names.of(spec)
    out: dict[str, Grid] = {"x": _col(spec.inputs)}
    K = len(spec.layers) - 1
    stages = _stage_ids(spec)
    trains_bias = spec.training.update_biases
    for k, layer in enumerate(spec.layers):
        L, ns = layer.name, layer.neurons
        W = [list(row) for row in names.weight[k]]
        out[f"W_{L}"] = W
        bias = names.bias[k]
        b_ids: Grid | None = None
        if bias[0] is not None:
            out[f"b_{L}"] = _col([b or "" for b in bias])
            b_ids = [[bias[0]]] if layer.bias_shared else _col([b or "" for b in bias])
        out[f"net_{L}"] = _col([f"net_{n}" for n in ns])
        out[f"out_{L}"] = _col([f"out_{n}" for n in ns])
        if k == K:
            out[f"target_{L}"] = _col([f"target_{n}" for n in ns])
            out[f"E_{L}"] = _col([f"E_{n}" for n in ns])
            out["E_total"] = [["E_total"]]
            out["E_batch"] = [["E_batch"]]  # a batch of several samples: their mean or sum
        out[f"dE_total/dout_{L}"] = _col([f"dE_total/dout_{n}" for n in ns])
        if ACTIVATIONS[layer.activation].elementwise:
            out[f"dout_{L}/dnet_{L}"] = _col([f"dout_{n}/dnet_{n}" for n in ns])
        else:
            out[f"dout_{L}/dnet_{L}"] = [[f"dout_{a}/dnet_{b}" for b in ns] for a in ns]
        out[f"delta_{L}"] = _col([f"delta_{n}" for n in ns])
        groups: list[tuple[str, Grid]] = [(f"W_{L}", W)]
        if b_ids is not None and trains_bias:
            groups.append((f"b_{L}", b_ids))
        for grad in ("dE_total", "dE_batch"):
            for name, grid in groups:
                out[f"{grad}/d{name}"] = [[f"{grad}/d{p}" for p in row] for row in grid]
        for pattern in stages:
            for name, grid in groups:
                out[pattern.replace("{p}", name)] = [
                    [pattern.replace("{p}", p) for p in row] for row in grid
                ]
    for k, layer in enumerate(spec.layers):
        L, ns = layer.name, layer.neurons
        out[f"net_{L}+"] = _col([f"net_{n}+" for n in ns])
        out[f"out_{L}+"] = _col([f"out_{n}+" for n in ns])
        if k == K:
            out[f"E_{L}+"] = _col([f"E_{n}+" for n in ns])
            out["E_total+"] = [["E_total+"]]
    return out


def locate(spec: Spec) -> dict[str, tuple[str, int, int]]:
    """Where each scalar id stands: {scalar id: (layer-level id, row, column)}, 0-based, out-in
    layout; the first place where it stands in several (a shared bias b1 fills b_h)."""
    found: dict[str, tuple[str, int, int]] = {}
    for mid, grid in scalar_ids(spec).items():
        for r, row in enumerate(grid):
            for c, sid in enumerate(row):
                found.setdefault(sid, (mid, r, c))
    return found


# --- the data model -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Entry:
    """One entry: the scalar id it is (a step, parameter, input or target), the sample it
    belongs to (0-based; None for parameters, batch aggregates and updates) and its value."""

    id: str
    sample: int | None
    value: float

    @property
    def label(self) -> str:
        """The id with its sample as the trace writes it in a batch: `net_h1[2]`."""
        return self.id if self.sample is None else f"{self.id}[{self.sample + 1}]"


@dataclass(frozen=True, slots=True)
class Matrix:
    """A named matrix of entries (rows of entries), as stored in the out-in layout.

    turns: whether the in-out layout shows it transposed (parameter-shaped matrices and vectors
    of one sample; not the rows-are-samples matrices of a batch, nor softmax's Jacobian).
    """

    id: str
    rows: tuple[tuple[Entry, ...], ...]
    layer: int | None = None
    turns: bool = True
    samples: bool = False  # one row per sample (a batch)

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.rows), len(self.rows[0]) if self.rows else 0

    @property
    def T(self) -> Matrix:
        cols = tuple(zip(*self.rows, strict=True))
        return Matrix(self.id, cols, self.layer, self.turns, self.samples)

    def values(self) -> list[list[float]]:
        return [[e.value for e in row] for row in self.rows]

    def ids(self) -> list[list[str]]:
        return [[e.id for e in row] for row in self.rows]

    def laid(self, layout: str) -> Matrix:
        """The matrix as the layout stores it."""
        return self.T if layout == "in-out" and self.turns else self


@dataclass(frozen=True, slots=True)
class Operand:
    """A matrix in an equation, by id, transposed or not (as the equation's layout reads it)."""

    id: str
    transposed: bool = False

    @property
    def text(self) -> str:
        return self.id + ("ᵀ" if self.transposed else "")


@dataclass(frozen=True, slots=True)
class Constant:
    """A hyper-parameter or count in an equation (η, β1, n, N), with its value."""

    symbol: str
    value: float


Piece = str | Operand | Constant


@dataclass(slots=True)
class Equation:
    """`lhs = pieces`: operators and brackets as text, matrices as Operands, constants.

    elementwise: the formula applies entry by entry (an activation, an optimizer's stage);
    otherwise it is a product of matrices (`MatrixView.shapes` gives `(2×1) = (2×2)·(2×1)`).
    operands: the matrix each Operand stands for, with the very values the steps read (the old
    m_W_o in `m_W_o = β1 * m_W_o + ...`); missing where a matrix has no single value (one
    Jacobian per sample of a batch).
    """

    lhs: str
    pieces: tuple[Piece, ...]
    elementwise: bool = False
    note: str = ""
    operands: dict[str, Matrix] = field(default_factory=dict)
    result: Matrix | None = None  # the lhs's matrix

    @property
    def text(self) -> str:
        parts = [p.text if isinstance(p, Operand) else _piece_text(p) for p in self.pieces]
        return f"{self.lhs} = {''.join(parts)}"

    @property
    def complete(self) -> bool:
        """Whether every operand has its values (the equation can be shown with numbers)."""
        return all(p.id in self.operands for p in self.pieces if isinstance(p, Operand))


def _piece_text(p: str | Constant) -> str:
    return p.symbol if isinstance(p, Constant) else p


@dataclass(slots=True)
class Section:
    """One phase of one layer (or the loss), in the order of the computation."""

    phase: str
    layer: int | None
    update: int | None
    sample: int | None  # the sample of a one-sample update; None for a batch
    equations: list[Equation] = field(default_factory=list)
    matrices: dict[str, Matrix] = field(default_factory=dict)  # what this section introduces


@dataclass(slots=True)
class MatrixView:
    """The matrix form of a trace, in one layout."""

    spec: Spec
    layout: str
    sections: list[Section]

    def __iter__(self) -> Iterator[Section]:
        return iter(self.sections)

    def matrix(self, mid: str, update: int | None = None) -> Matrix:
        """A matrix by layer-level id (the first, or that of the given update), as stored."""
        for s in self.sections:
            if mid in s.matrices and (update is None or s.update == update):
                return s.matrices[mid]
        raise KeyError(mid)

    def shape(self, mid: str, update: int | None = None) -> tuple[int, int]:
        """The matrix's shape in this view's layout."""
        return self.matrix(mid, update).laid(self.layout).shape

    def shapes(self, eq: Equation) -> str:
        """`(2×1) = (2×2)·(2×1) + (2×1)`: the shapes, in this layout, in place of the operands
        (empty where a matrix is missing); `(2×1), elementwise` for an entry-by-entry formula."""

        def one(m: Matrix | None, transposed: bool) -> str:
            if m is None:
                return "?"
            r, c = m.laid(self.layout).shape
            return f"({c}×{r})" if transposed else f"({r}×{c})"

        if eq.elementwise:
            return f"{one(eq.result, False)}, elementwise".removeprefix("?, ")
        if not any(isinstance(p, Operand) for p in eq.pieces):
            return one(eq.result, False)  # an entry's formula (softmax's Jacobian)
        out = [one(eq.result, False), " = "]
        for p in eq.pieces:
            if isinstance(p, Operand):
                out.append(one(eq.operands.get(p.id), p.transposed))
            else:
                out.append(_piece_text(p))
        text = "".join(out).replace(" · ", "·")
        return "" if "?" in text else text

    def to_dict(self) -> list[dict[str, object]]:
        """The JSON `matrices` section: every matrix with its shape, values and entry ids, in
        this view's layout, and the equation that computes it."""
        from backprop_cli.engine.trace import json_number

        out: list[dict[str, object]] = []
        for s in self.sections:
            defined = {e.lhs: e for e in s.equations}
            for mid, m in s.matrices.items():
                laid = m.laid(self.layout)
                d: dict[str, object] = {
                    "id": mid,
                    "phase": s.phase,
                    "layer": m.layer,
                    "update": s.update,
                    "sample": s.sample,
                    "shape": list(laid.shape),
                    "values": [[json_number(v) for v in row] for row in laid.values()],
                    "ids": [[e.label if m.samples else e.id for e in row] for row in laid.rows],
                }
                if mid in defined:
                    eq = defined[mid]
                    d["equation"] = eq.text
                    d["shapes"] = self.shapes(eq)
                out.append(d)
        return out


# --- building from a trace --------------------------------------------------------------------


class _Lookup:
    """The trace's steps by (id, sample, update)."""

    def __init__(self, trace: Trace) -> None:
        self.steps: dict[tuple[str, int | None, int | None], Step] = {}
        for s in trace.steps:
            self.steps.setdefault((s.id, s.sample, s.update), s)

    def get(self, sid: str, sample: int | None, update: int | None) -> Step | None:
        return self.steps.get((sid, sample, update))


class _Builder:
    def __init__(self, trace: Trace, layout: str) -> None:
        if layout not in LAYOUTS:
            raise ValueError(f"unknown layout {layout!r}; known: {', '.join(LAYOUTS)}")
        self.trace, self.spec, self.layout = trace, trace.spec, layout
        self.io = layout == "in-out"
        self.ids = scalar_ids(trace.spec)
        self.look = _Lookup(trace)
        self.names = Names.of(trace.spec)
        self.sections: list[Section] = []
        self.known: dict[str, Matrix] = {}  # the latest matrix of each id, as sections are made
        self.where = {sid: mid for mid, g in self.ids.items() for row in g for sid in row}
        self.stages = _stage_ids(trace.spec)
        hidden = [s for s in trace.steps if s.id.startswith("dnet_") and "/dout_" in s.id]
        self.sequential = any(s.template.endswith("+}") for s in hidden)

    # matrices ---------------------------------------------------------------------------

    def steps_matrix(
        self, mid: str, samples: Sequence[int | None], update: int | None, layer: int | None
    ) -> Matrix | None:
        """A matrix of recorded steps; with several samples, a vector becomes one row per
        sample. None when a step is not in the trace."""
        grid = self.ids.get(mid)
        if grid is None:
            return None
        if len(samples) > 1:
            rows = []
            for s in samples:
                row = [self.look.get(r[0], s, update) for r in grid]
                if any(x is None for x in row):
                    return None
                rows.append(tuple(Entry(x.id, s, x.value) for x in row if x is not None))
            return Matrix(mid, tuple(rows), layer, turns=False, samples=True)
        s = samples[0]
        found = [[self.look.get(sid, s, update) for sid in row] for row in grid]
        if any(x is None for row in found for x in row):
            return None
        rows2 = tuple(tuple(Entry(x.id, x.sample, x.value) for x in row if x) for row in found)
        return Matrix(mid, rows2, layer)

    def add(self, sec: Section, m: Matrix) -> Matrix:
        sec.matrices[m.id] = m
        self.known[m.id] = m
        return m

    # equations --------------------------------------------------------------------------

    def equation(self, sec: Section, lhs: str, pieces: Sequence[Piece], note: str = "") -> Equation:
        """A matrix product: its operands are the latest matrices of their ids."""
        ops = {
            p.id: self.known[p.id] for p in pieces if isinstance(p, Operand) and p.id in self.known
        }
        eq = Equation(lhs, tuple(pieces), note=note, operands=ops, result=self.known.get(lhs))
        sec.equations.append(eq)
        return eq

    def elementwise(
        self, sec: Section, lhs: Matrix, update: int | None, side: int | None = None
    ) -> Equation | None:
        """The entries' formula read as a formula of whole matrices: each slot becomes the
        matrix of what that slot held in every entry's step (its id from the first entry's
        symbol); hyper-parameters stay constants. side: the part of a `... = ...` formula."""
        steps = [[self.look.get(e.id, e.sample, update) for e in row] for row in lhs.rows]
        if any(st is None for row in steps for st in row):
            return None
        first = steps[0][0]
        assert first is not None

        def part(st: Step) -> str:
            return st.template if side is None else st.template.split(" = ")[side]

        template = part(first)
        slots = _SLOT.findall(template)
        pieces: list[Piece] = []
        operands: dict[str, Matrix] = {}
        pos = 0
        for i, m in enumerate(_SLOT.finditer(template)):
            if m.start() > pos:
                pieces.append(template[pos : m.start()])
            pos = m.end()
            sym = m.group(1)
            if sym in CONSTANTS:
                pieces.append(Constant(sym, first.terms[sym]))
                continue
            mid = self.where.get(sym, sym)
            pieces.append(Operand(mid))
            if mid in operands:
                continue
            rows = []
            for erow, srow in zip(lhs.rows, steps, strict=True):
                cells = []
                for e, st in zip(erow, srow, strict=True):
                    assert st is not None
                    theirs = _SLOT.findall(part(st))
                    if len(theirs) != len(slots):
                        return None
                    cells.append(Entry(theirs[i], e.sample, st.terms[theirs[i]]))
                rows.append(tuple(cells))
            operands[mid] = Matrix(mid, tuple(rows), lhs.layer, lhs.turns, lhs.samples)
        if pos < len(template):
            pieces.append(template[pos:])
        eq = Equation(lhs.id, tuple(pieces), True, operands=operands, result=lhs)
        sec.equations.append(eq)
        return eq

    # sections ---------------------------------------------------------------------------

    def build(self) -> list[Section]:
        samples: dict[int, dict[int, None]] = {}  # update → its samples, in order
        for st in self.trace.steps:
            if st.update is not None and st.phase == "forward" and st.sample is not None:
                samples.setdefault(st.update, {})[st.sample] = None
        for u, batch in sorted(samples.items()):
            self.update(u, list(batch))
        self.after(list(range(len(self.spec.samples))))
        return self.sections

    def section(self, phase: str, layer: int | None, u: int | None, batch: list[int]) -> Section:
        s = Section(phase, layer, u, batch[0] if len(batch) == 1 else None)
        self.sections.append(s)
        return s

    def update(self, u: int, batch: list[int]) -> None:
        K = len(self.spec.layers) - 1
        many = len(batch) > 1
        for k in range(K + 1):
            self.forward(self.section("forward", k, u, batch), k, u, batch, "")
        self.loss(self.section("loss", None, u, batch), u, batch, "")
        for k in range(K, -1, -1):
            self.backward(self.section("backward", k, u, batch), k, u, batch)
            if self.sequential and not many and self.has_update(k, u):
                self.updates(self.section("update", k, u, batch), k, u, "dE_total")
        if self.sequential and not many:
            return
        if many:
            sec = self.section("update", None, u, batch)
            for k in range(K, -1, -1):
                self.batch_gradient(sec, k, u, batch)
        for k in range(K, -1, -1):
            if self.has_update(k, u):
                grad = "dE_batch" if many else "dE_total"
                self.updates(self.section("update", k, u, batch), k, u, grad)

    def has_update(self, k: int, u: int) -> bool:
        w = self.names.weight[k][0][0]
        return self.look.get(f"{w}+", None, u) is not None

    def inputs_id(self, k: int, many: bool, suffix: str) -> str:
        if k == 0:
            return "X" if many else "x"
        return f"out_{self.spec.layers[k - 1].name}{suffix}"

    def forward(self, sec: Section, k: int, u: int | None, batch: list[int], suffix: str) -> None:
        spec, io = self.spec, self.io
        layer = spec.layers[k]
        L, many = layer.name, len(batch) > 1
        first: list[Step] = []
        for n in layer.neurons:
            st = self.look.get(f"net_{n}{suffix}", batch[0], u)
            if st is None:
                return
            first.append(st)
        x_id = self.inputs_id(k, many, suffix)
        if k == 0:
            rows = []
            for s in batch:
                st = self.look.get(f"net_{layer.neurons[0]}{suffix}", s, u)
                assert st is not None
                rows.append(tuple(Entry(i, s, st.terms[i]) for i in spec.inputs))
            x = Matrix(x_id, tuple(rows), None, turns=not many, samples=many)
            x = x if many else x.T
            if x_id not in self.known or self.known[x_id] != x:  # not again after the update
                self.add(sec, x)
        w_id, b_id = f"W_{L}{suffix}", f"b_{L}{suffix}"
        W = self._params(f"W_{L}", first, suffix)
        if not suffix:  # after the update, W_L+ is the update's
            self.add(sec, Matrix(w_id, W, k))
        terms: list[Piece]
        if many:
            terms = [Operand(x_id), " · ", Operand(w_id, transposed=not io)]
        elif io:
            terms = [Operand(x_id), " · ", Operand(w_id)]
        else:
            terms = [Operand(w_id), " · ", Operand(x_id)]
        note = ""
        if f"b_{L}" in self.ids:
            B = self._params(f"b_{L}", first, suffix)
            b_id = f"b_{L}+" if B[0][0].id.endswith("+") else f"b_{L}"
            if b_id not in self.known or not suffix:
                self.add(sec, Matrix(b_id, B, k))
            terms += [" + ", Operand(b_id, transposed=many and not io)]
            note = "b added to every row (one row per sample)" if many else ""
        net = self.steps_matrix(f"net_{L}{suffix}", batch, u, k)
        out = self.steps_matrix(f"out_{L}{suffix}", batch, u, k)
        if net is None or out is None:
            return
        self.add(sec, net)
        self.equation(sec, net.id, terms, note)
        self.add(sec, out)
        act = ACTIVATIONS[layer.activation]
        if act.elementwise:
            self.elementwise(sec, out, u)
        else:
            self.equation(sec, out.id, (f"{act.name}(", Operand(net.id), ")"))

    def _params(self, mid: str, first: list[Step], suffix: str) -> tuple[tuple[Entry, ...], ...]:
        """A parameter matrix from the values the net steps read (one net step per row); after
        the update, the symbols that carry a +."""
        rows = []
        for grid_row, st in zip(self.ids[mid], first, strict=True):
            cells = []
            for p in grid_row:
                sym = p + suffix if suffix and p + suffix in st.terms else p
                cells.append(Entry(sym, None, st.terms[sym]))
            rows.append(tuple(cells))
        return tuple(rows)

    def loss(self, sec: Section, u: int | None, batch: list[int], suffix: str) -> None:
        spec = self.spec
        L = spec.layers[-1].name
        K = len(spec.layers) - 1
        many = len(batch) > 1
        rows = []
        for s in batch:
            row = []
            for n in spec.outputs:
                st = self.look.get(f"E_{n}{suffix}", s, u)
                if st is None:
                    return
                row.append(Entry(f"target_{n}", s, st.terms[f"target_{n}"]))
            rows.append(tuple(row))
        t = Matrix(f"target_{L}", tuple(rows), K, turns=not many, samples=many)
        t = t if many else t.T
        if not suffix or self.known[t.id].shape != t.shape:
            self.add(sec, t)
        e = self.steps_matrix(f"E_{L}{suffix}", batch, u, None)
        if e is None:
            return
        self.add(sec, e)
        self.elementwise(sec, e, u)
        rows2 = []
        for s in batch:
            st = self.look.get(f"E_total{suffix}", s, u)
            assert st is not None
            rows2.append((Entry(st.id, s, st.value),))
        total = self.add(sec, Matrix(f"E_total{suffix}", tuple(rows2), None, False, many))
        self.equation(sec, total.id, ("Σ ", Operand(e.id)), "each row summed" if many else "")
        batch_loss = self.steps_matrix("E_batch", [None], u, None) if many and not suffix else None
        if batch_loss is not None:
            self.add(sec, batch_loss)
            reduction = spec.training.reduction
            body: tuple[Piece, ...] = ("Σ ", Operand(total.id))
            if reduction == "mean":
                body = ("(", *body, ")/", Constant("N", float(len(batch))))
            note = f"the batch's loss: the {reduction} over the {len(batch)} samples"
            self.equation(sec, batch_loss.id, body, note)

    def backward(self, sec: Section, k: int, u: int, batch: list[int]) -> None:
        spec, io = self.spec, self.io
        layer = spec.layers[k]
        L, many = layer.name, len(batch) > 1
        n0 = layer.neurons[0]
        g = self.steps_matrix(f"dE_total/dout_{L}", batch, u, k)
        delta = self.steps_matrix(f"delta_{L}", batch, u, k)
        if g is None or delta is None:
            return
        self.add(sec, g)
        if k == len(spec.layers) - 1:
            self.elementwise(sec, g, u)
        else:
            above = spec.layers[k + 1]
            M = above.name
            first = self.look.get(f"dnet_{above.neurons[0]}/dout_{n0}", batch[0], u)
            assert first is not None
            w = f"W_{M}+" if first.template.endswith("+}") else f"W_{M}"
            if many or io:
                terms: tuple[Piece, ...] = (Operand(f"delta_{M}"), " · ", Operand(w, io))
            else:
                terms = (Operand(w, True), " · ", Operand(f"delta_{M}"))
            self.equation(sec, g.id, terms)
        jac_id = f"dout_{L}/dnet_{L}"
        d_st = self.look.get(f"delta_{n0}", batch[0], u)
        assert d_st is not None
        fused = " = " in d_st.template
        if ACTIVATIONS[layer.activation].elementwise:
            jac = self.steps_matrix(jac_id, batch, u, k)
            if jac is not None:
                self.elementwise(sec, self.add(sec, jac), u)
            self.add(sec, delta)
            eq = self.elementwise(sec, delta, u, 0 if fused else None)
        else:
            same, other = (
                f.replace("{out_i}", f"out_{L}i").replace("{out_j}", f"out_{L}j")
                for f in SOFTMAX_JACOBIAN_FORMULA
            )
            entry = f"[i, j]: {same} if i = j, else {other}"
            for s in batch:  # one Jacobian per sample
                jac = self.steps_matrix(jac_id, [s], u, k)
                if jac is not None:
                    key = f"{jac_id}[{s + 1}]" if many else jac_id
                    jac = self.add(sec, Matrix(key, jac.rows, k, turns=False))
                    sec.equations.append(Equation(key, (entry,), result=jac))
            if many:
                pieces: tuple[Piece, ...] = (
                    "row s: ",
                    Operand(g.id),
                    " · ",
                    Operand(f"{jac_id}[s]"),
                )
            elif io:
                pieces = (Operand(g.id), " · ", Operand(jac_id))
            else:
                pieces = (Operand(jac_id, True), " · ", Operand(g.id))
            self.add(sec, delta)
            eq = self.equation(sec, delta.id, pieces)
        if fused and eq is not None:  # the value comes from the short right-hand side
            sec.equations.pop()
            short = Section("", None, None, None)
            rhs = self.elementwise(short, delta, u, 1)
            if rhs is not None:
                ops = {**eq.operands, **rhs.operands}
                pieces = (*eq.pieces, " = ", *rhs.pieces)
                sec.equations.append(Equation(delta.id, pieces, eq.elementwise, "", ops, delta))
            else:
                sec.equations.append(eq)
        if not many:
            self.gradients(sec, k, u, batch)

    def gradients(self, sec: Section, k: int, u: int, batch: list[int]) -> None:
        """dE_total/dW_L = delta_L · xᵀ and the bias gradient, for a one-sample update."""
        L = self.spec.layers[k].name
        x_id = self.inputs_id(k, False, "")
        gw = self.steps_matrix(f"dE_total/dW_{L}", batch, u, k)
        if gw is None:
            return
        self.add(sec, gw)
        if self.io:
            terms: tuple[Piece, ...] = (Operand(x_id, True), " · ", Operand(f"delta_{L}"))
        else:
            terms = (Operand(f"delta_{L}"), " · ", Operand(x_id, True))
        self.equation(sec, gw.id, terms)
        gb = self.steps_matrix(f"dE_total/db_{L}", batch, u, k)
        if gb is not None:
            self.add(sec, gb)
            if self.spec.layers[k].bias_shared:
                self.equation(sec, gb.id, ("Σ ", Operand(f"delta_{L}")), "one bias for the layer")
            else:
                self.equation(sec, gb.id, (Operand(f"delta_{L}"),))

    def batch_gradient(self, sec: Section, k: int, u: int, batch: list[int]) -> None:
        """dE_batch/dW_L = delta_Lᵀ · X (summed over the samples), then the mean or the sum."""
        layer = self.spec.layers[k]
        L = layer.name
        reduction = self.spec.training.reduction
        x_id = self.inputs_id(k, True, "")
        gw = self.steps_matrix(f"dE_batch/dW_{L}", [None], u, k)
        if gw is None:
            return
        self.add(sec, gw)
        n = Constant("N", float(len(batch)))
        if self.io:
            prod: tuple[Piece, ...] = (Operand(x_id, True), " · ", Operand(f"delta_{L}"))
        else:
            prod = (Operand(f"delta_{L}", True), " · ", Operand(x_id))
        mean = reduction == "mean"
        note = f"the {reduction} over the {len(batch)} samples"
        self.equation(sec, gw.id, ("(", *prod, ")/", n) if mean else prod, note)
        gb = self.steps_matrix(f"dE_batch/db_{L}", [None], u, k)
        if gb is not None:
            self.add(sec, gb)
            what = "every entry" if layer.bias_shared else "each column"
            body: tuple[Piece, ...] = ("Σ ", Operand(f"delta_{L}"))
            self.equation(
                sec,
                gb.id,
                ("(", *body, ")/", n) if mean else body,
                f"Σ over {what} of delta_{L}: {note}",
            )

    def updates(self, sec: Section, k: int, u: int, grad: str) -> None:
        """Each stage of the optimizer for W_L (and b_L), then W_L+."""
        L = self.spec.layers[k].name
        groups = [f"W_{L}"] + ([f"b_{L}"] if f"{grad}/db_{L}" in self.ids else [])
        for name in groups:
            for pattern in self.stages:
                m = self.steps_matrix(pattern.replace("{p}", name), [None], u, k)
                if m is not None:
                    self.elementwise(sec, self.add(sec, m), u)

    def after(self, samples: list[int]) -> None:
        """The forward pass and the loss with the new parameters, all samples at once."""
        if self.look.get("E_total+", samples[0], None) is None:
            return
        for k in range(len(self.spec.layers)):
            self.forward(self.section("after", k, None, samples), k, None, samples, "+")
        self.loss(self.section("after", None, None, samples), None, samples, "+")


def build(trace: Trace, layout: str = "out-in") -> MatrixView:
    """The matrix form of a whole trace (never a filtered one: every step is needed)."""
    return MatrixView(trace.spec, layout, _Builder(trace, layout).build())


@dataclass(slots=True)
class MatrixExplanation:
    """One matrix's equation with its operands: each operand's own equation (one level down)
    or, for a given matrix (W, x, b, the targets), its ids and values."""

    section: Section
    equation: Equation | None  # None: a given matrix
    matrix: Matrix
    operands: list[tuple[Matrix, Equation | None]]


class UnknownMatrix(LookupError):
    """An id that names no matrix of this network; `closest` holds the nearest ids."""

    def __init__(self, mid: str, closest: list[str]) -> None:
        self.mid, self.closest = mid, closest
        hint = f"; closest: {', '.join(closest)}" if closest else ""
        super().__init__(f"no matrix {mid!r} in this network{hint}")


def explain_matrix(view: MatrixView, mid: str, sample: int | None = None) -> MatrixExplanation:
    """The matrix `mid` (a layer-level id, or a scalar id: the matrix it stands in) in its
    first section (of the given sample, or the batch holding it), with its operands."""
    import difflib

    if not any(mid in s.matrices for s in view):
        where = locate(view.spec).get(mid)
        if where is None:
            names = list(dict.fromkeys(k for s in view for k in s.matrices))
            raise UnknownMatrix(mid, difflib.get_close_matches(mid, names, n=5, cutoff=0.4))
        mid = where[0]
    found = [s for s in view if mid in s.matrices]
    if not found:
        raise UnknownMatrix(mid, [])
    if sample is not None:
        found = [s for s in found if s.sample in (None, sample)] or found
    sec = found[0]
    m = sec.matrices[mid]
    eq = next((e for e in sec.equations if e.lhs == mid), None)
    operands: list[tuple[Matrix, Equation | None]] = []
    if eq is not None:
        index = view.sections.index(sec)
        for p in eq.pieces:
            if not isinstance(p, Operand) or p.id not in eq.operands:
                continue
            if any(o.id == p.id for o, _ in operands):
                continue
            defined = None
            if p.id != mid:
                for s in reversed(view.sections[: index + 1]):
                    defined = next((e for e in s.equations if e.lhs == p.id), None)
                    if defined is not None or p.id in s.matrices:
                        break
            operands.append((eq.operands[p.id], defined))
    return MatrixExplanation(sec, eq, m, operands)
