"""Forward pass, backward pass and update, recorded step by step in the post's notation.

Symbols (one set per neuron n of a layer, inputs x_i of that layer):
  net_n = Σ_i w·x_i + b·1        out_n = f(net_n)
  delta_n = dE_total/dnet_n       dE_total/dw = delta_n · x_i
Every computed value goes through `_Recorder.rec`, which appends a Step and returns the value the
rest of the computation uses (rounded, when the user asks to calculate as a person would).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from . import optim
from .functions import (
    ACTIVATIONS,
    LOSSES,
    SOFTMAX,
    Activation,
    log_softmax,
    log_sum_exp,
    softmax,
    softmax_bce_delta,
    softplus,
)
from .spec import Spec
from .trace import Step, Trace

STABLE_NOTE = (
    "an output rounded to 0 or 1, so the chain is inf·0; out_j/(1 − out_i) is computed from "
    "the nets as e^(net_j − ln Σ_(m≠i) e^net_m)"
)
SATURATED = 1e-6  # |dout/dnet| below this: the neuron passes almost no gradient
OVERFLOW = "beyond float64 (an output rounded to exactly 0 or 1?); JSON writes it as null"
NOT_FINITE = "undefined in float64 (inf − inf or 0·inf); JSON writes it as null"


@dataclass(frozen=True)
class Mistake:
    """A hand-calculation slip to reproduce on purpose, so that `backprop check` can name it.

    The default (no slip) is the correct maths; only `backprop check` passes anything else.
    """

    error_sign: bool = False  # dE_total/dout = +(target − out): the sign of (target − out) lost
    no_derivative: tuple[int, ...] = ()  # layers whose dout/dnet factor is left out (taken as 1)
    error_factor: float = 1.0  # dE_total/dout scaled: 0.5 is MSE's factor 2 forgotten

    def delta(self, k: int, act: Activation, g: float, net: float, out: float, a: float) -> float:
        """dE/dnet from g = dE/dout, without the activation's factor in the slipped layers."""
        return g if k in self.no_derivative else act.delta(g, net, out, a)


CORRECT = Mistake()


@dataclass(frozen=True)
class Names:
    """Parameter ids by position: weight[k][j][i] and bias[k][j] (None when a layer has none)."""

    weight: list[list[list[str]]]
    bias: list[list[str | None]]

    @classmethod
    def of(cls, spec: Spec) -> Names:
        weight: list[list[list[str]]] = [
            [[""] * len(row) for row in layer.weights] for layer in spec.layers
        ]
        bias: list[list[str | None]] = [[None] * layer.size for layer in spec.layers]
        for p in spec.parameters():
            if p.kind == "weight":
                assert p.neuron is not None and p.input is not None
                weight[p.layer][p.neuron][p.input] = p.id
            elif p.neuron is None:
                bias[p.layer] = [p.id] * spec.layers[p.layer].size
            else:
                bias[p.layer][p.neuron] = p.id
        return cls(weight, bias)


def batches(spec: Spec) -> list[list[int]]:
    """Sample indices of each update in one epoch, in order."""
    n = len(spec.samples)
    t = spec.training
    if t.mode == "online":
        return [[s] for s in range(n)]
    if t.mode == "batch":
        return [list(range(n))]
    size = t.batch_size or n
    return [list(range(start, min(start + size, n))) for start in range(0, n, size)]


class _Recorder:
    """Collects steps; rounds values to `round_to` decimals when asked."""

    def __init__(self, round_to: int | None) -> None:
        self.steps: list[Step] = []
        self.round_to = round_to
        self.phase = "forward"
        self.sample: int | None = None
        self.update: int | None = None

    def rec(
        self,
        step_id: str,
        layer: int | None,
        template: str,
        terms: dict[str, float],
        value: float,
        note: str | None = None,
        hyper: Sequence[str] = ("η", "α", "n", "N", "β1", "β2", "ε", "μ", "t"),
    ) -> float:
        if self.round_to is not None and math.isfinite(value):
            value = round(value, self.round_to)
        if note is None and not math.isfinite(value):
            note = NOT_FINITE if math.isnan(value) else OVERFLOW
        inputs = tuple(k.split("[", 1)[0] for k in terms if k not in hyper)
        self.steps.append(
            Step(
                step_id,
                self.phase,
                layer,
                self.sample,
                self.update,
                template,
                terms,
                value,
                tuple(dict.fromkeys(inputs)),
                note,
            )
        )
        return value


class _Pass:
    """One sample's forward, loss and backward computation with the current parameters."""

    def __init__(
        self,
        spec: Spec,
        names: Names,
        params: dict[str, float],
        r: _Recorder,
        mistake: Mistake = CORRECT,
        state: optim.State | None = None,
    ) -> None:
        self.spec, self.names, self.params, self.r = spec, names, params, r
        self.mistake = mistake
        self.state = state  # the optimizer's slots and t, for the sequential order's updates
        # Parameters the update changed; after it, their symbols carry a + (w5+), as in the post.
        self.renamed: frozenset[str] = frozenset()

    def _sym(self, pid: str, suffix: str) -> str:
        return pid + suffix if pid in self.renamed else pid

    def forward(self, x: Sequence[float], suffix: str = "") -> list[list[float]]:
        """Record net_n and out_n for every neuron; return the outputs of every layer."""
        spec, r, p = self.spec, self.r, self.params
        values: list[list[float]] = []
        prev_names, prev = list(spec.inputs), list(x)
        self.nets: list[list[float]] = []
        for k, layer in enumerate(spec.layers):
            nets = []
            for j, n in enumerate(layer.neurons):
                parts, terms, total = [], {}, 0.0
                for i, src in enumerate(prev_names):
                    w_id = self.names.weight[k][j][i]
                    w_sym = self._sym(w_id, suffix)
                    src_sym = src if k == 0 else f"out_{src}{suffix}"
                    parts.append(f"{{{w_sym}}} * {{{src_sym}}}")
                    terms[w_sym] = p[w_id]
                    terms[src_sym] = prev[i]
                    total += p[w_id] * prev[i]
                b_id = self.names.bias[k][j]
                if b_id is not None:
                    b_sym = self._sym(b_id, suffix)
                    parts.append(f"{{{b_sym}}} * 1")
                    terms[b_sym] = p[b_id]
                    total += p[b_id] * 1
                nets.append(r.rec(f"net_{n}{suffix}", k, " + ".join(parts), terms, total))
            self.nets.append(nets)
            outs = self._activate(k, nets, suffix)
            values.append(outs)
            prev_names, prev = list(layer.neurons), outs
        return values

    def _activate(self, k: int, nets: list[float], suffix: str) -> list[float]:
        layer, r = self.spec.layers[k], self.r
        if layer.activation == SOFTMAX:
            outs = softmax(nets)
            denom = " + ".join(f"e^{{net_{m}{suffix}}}" for m in layer.neurons)
            terms = {f"net_{m}{suffix}": v for m, v in zip(layer.neurons, nets, strict=True)}
            return [
                r.rec(f"out_{n}{suffix}", k, f"e^{{net_{n}{suffix}}}/({denom})", terms, o)
                for n, o in zip(layer.neurons, outs, strict=True)
            ]
        act = ACTIVATIONS[layer.activation]
        outs = []
        for n, net in zip(layer.neurons, nets, strict=True):
            template = act.formula.replace("{net}", f"{{net_{n}{suffix}}}")
            terms = {f"net_{n}{suffix}": net}
            if act.uses_alpha:
                template = template.replace("α", "{α}")
                terms["α"] = layer.alpha
            outs.append(r.rec(f"out_{n}{suffix}", k, template, terms, act.f(net, layer.alpha)))
        return outs

    def loss(self, outs: list[float], targets: Sequence[float], suffix: str = "") -> float:
        """Record E_o for every output and E_total; return E_total."""
        spec, r = self.spec, self.r
        loss = LOSSES[spec.loss]
        k = len(spec.layers) - 1
        neurons = spec.outputs
        n_out = len(neurons)
        log_outs = None
        if spec.layers[k].activation == SOFTMAX:
            log_outs = log_softmax(self.nets[k])
        errors = []
        for j, n in enumerate(neurons):
            o, t = outs[j], targets[j]
            sym_o, sym_t = f"out_{n}{suffix}", f"target_{n}"
            template = (
                loss.formula.replace("{out}", f"{{{sym_o}}}")
                .replace("{t}", f"{{{sym_t}}}")
                .replace("{n}", "{n}")
            )
            terms = {sym_t: t, sym_o: o}
            if "{n}" in template:
                terms["n"] = float(n_out)
            value = _loss_term(spec.loss, t, o, self.nets[k][j], n_out, log_outs, j)
            errors.append(r.rec(f"E_{n}{suffix}", None, template, terms, value))
        e_ids = [f"E_{n}{suffix}" for n in neurons]
        total = 0.0
        for e in errors:
            total += e
        return r.rec(
            f"E_total{suffix}",
            None,
            " + ".join(f"{{{e}}}" for e in e_ids),
            dict(zip(e_ids, errors, strict=True)),
            total,
        )

    def backward(
        self,
        x: Sequence[float],
        outs: list[list[float]],
        targets: Sequence[float],
        updated: dict[str, float] | None = None,
    ) -> tuple[dict[str, float], list[str]]:
        """Record the backward pass; return dE_total/dθ for every parameter, by parameter id.

        With `updated` (the sequential order), each layer is updated as soon as its gradients are
        known, and the layers below see the updated weights.
        """
        spec, r, names = self.spec, self.r, self.names
        grads: dict[str, float] = {}
        order: list[str] = []
        deltas: list[float] = []
        L = len(spec.layers) - 1
        for k in range(L, -1, -1):
            layer = spec.layers[k]
            xs = list(x) if k == 0 else outs[k - 1]
            src_names = spec.layer_inputs(k)
            src_syms = list(src_names) if k == 0 else [f"out_{s}" for s in src_names]
            if k == L:
                deltas, chain = self._output_deltas(outs[k], targets)
            else:
                deltas, chain = self._hidden_deltas(k, outs[k], deltas, updated)
            for j, n in enumerate(layer.neurons):
                for i, src in enumerate(src_syms):
                    w_id = names.weight[k][j][i]
                    dnet = f"dnet_{n}/d{w_id}"
                    r.rec(dnet, k, f"{{{src}}}", {src: xs[i]}, xs[i])
                    g_id = f"dE_total/d{w_id}"
                    link = chain[j]
                    if link is not None:
                        a, b = link
                        g = r.rec(
                            g_id,
                            k,
                            f"{{{a[0]}}} * {{{b[0]}}} * {{{dnet}}}",
                            {a[0]: a[1], b[0]: b[1], dnet: xs[i]},
                            deltas[j] * xs[i],
                        )
                    else:
                        g = r.rec(
                            g_id,
                            k,
                            f"{{delta_{n}}} * {{{dnet}}}",
                            {f"delta_{n}": deltas[j], dnet: xs[i]},
                            deltas[j] * xs[i],
                        )
                    grads[w_id] = g
                    order.append(w_id)
                b_id = names.bias[k][j]
                if b_id is not None and spec.training.update_biases and not layer.bias_shared:
                    grads[b_id] = r.rec(
                        f"dE_total/d{b_id}",
                        k,
                        f"{{delta_{n}}} * 1",
                        {f"delta_{n}": deltas[j]},
                        deltas[j] * 1,
                    )
                    order.append(b_id)
            b_id = names.bias[k][0]
            if b_id is not None and spec.training.update_biases and layer.bias_shared:
                syms = [f"delta_{n}" for n in layer.neurons]
                total = 0.0
                for d in deltas:
                    total += d
                grads[b_id] = r.rec(
                    f"dE_total/d{b_id}",
                    k,
                    " + ".join(f"{{{s}}} * 1" for s in syms),
                    dict(zip(syms, deltas, strict=True)),
                    total,
                )
                order.append(b_id)
            if updated is not None:
                self._sequential_update(k, grads, updated)
        return grads, order

    def _sequential_update(
        self, k: int, grads: dict[str, float], updated: dict[str, float]
    ) -> None:
        """Update layer k now (the order the post's closing figures were computed in)."""
        phase, sample = self.r.phase, self.r.sample
        self.r.phase, self.r.sample = "update", None  # updates belong to no sample, in any order
        ids = [pid for pid in grads if _layer_of(self.names, pid) == k]
        updated.update(
            apply_sgd(self.r, self.spec, self.params, grads, ids, "dE_total", k, self.state)
        )
        self.r.phase, self.r.sample = phase, sample

    def _output_deltas(
        self, outs: list[float], targets: Sequence[float]
    ) -> tuple[list[float], list[tuple[tuple[str, float], tuple[str, float]] | None]]:
        spec, r = self.spec, self.r
        k = len(spec.layers) - 1
        layer = spec.layers[k]
        loss = LOSSES[spec.loss]
        n_out = layer.size
        dE_dout = []
        for j, n in enumerate(layer.neurons):
            o, t = outs[j], targets[j]
            template = loss.derivative_formula.replace("{out}", f"{{out_{n}}}").replace(
                "{t}", f"{{target_{n}}}"
            )
            terms = {f"target_{n}": t, f"out_{n}": o}
            if "{n}" in template:
                terms["n"] = float(n_out)
            g = loss.df(t, o, n_out)
            note = None
            if self.mistake.error_sign:
                g, note = -g, "slip reproduced: the sign of (target − out) flipped"
            if self.mistake.error_factor != 1.0:
                g, note = g * self.mistake.error_factor, "slip reproduced: a factor changed"
            dE_dout.append(r.rec(f"dE_total/dout_{n}", k, template, terms, g, note))
        if layer.activation == SOFTMAX:
            return self._softmax_deltas(outs, targets, dE_dout), [None] * n_out
        act = ACTIVATIONS[layer.activation]
        deltas: list[float] = []
        chain: list[tuple[tuple[str, float], tuple[str, float]] | None] = []
        for j, n in enumerate(layer.neurons):
            dout = self._derivative(k, j, n, act.derivative_formula, outs[j])
            a, b = f"dE_total/dout_{n}", f"dout_{n}/dnet_{n}"
            if (
                spec.loss == "binary_cross_entropy"
                and layer.activation == "sigmoid"
                and self.mistake == CORRECT
            ):
                # ln and 1/(out(1−out)) cancel: delta = (out − target)/n, finite when out is 0 or 1.
                value = (outs[j] - targets[j]) / n_out
                template = f"{{{a}}} * {{{b}}} = ({{out_{n}}} - {{target_{n}}})/{{n}}"
                terms = {
                    a: dE_dout[j],
                    b: dout,
                    f"out_{n}": outs[j],
                    f"target_{n}": targets[j],
                    "n": float(n_out),
                }
                deltas.append(r.rec(f"delta_{n}", k, template, terms, value))
                chain.append(None)
                continue
            value = self.mistake.delta(k, act, dE_dout[j], self.nets[k][j], outs[j], layer.alpha)
            deltas.append(
                r.rec(f"delta_{n}", k, f"{{{a}}} * {{{b}}}", {a: dE_dout[j], b: dout}, value)
            )
            chain.append(((a, dE_dout[j]), (b, dout)))
        return deltas, chain

    def _softmax_deltas(
        self, outs: list[float], targets: Sequence[float], dE_dout: list[float]
    ) -> list[float]:
        """Softmax couples all outputs: delta_j = Σ_i dE/dout_i · dout_i/dnet_j (the Jacobian)."""
        spec, r = self.spec, self.r
        k = len(spec.layers) - 1
        neurons = spec.outputs
        jac: list[list[float]] = []
        for i, ni in enumerate(neurons):
            row = []
            for j, nj in enumerate(neurons):
                if i == j:
                    diagonal = outs[i] * (1.0 - outs[i])
                    note = None
                    if diagonal < SATURATED:
                        net = self.nets[k][i]
                        note = f"saturated: dout/dnet ≈ 0 (net = {net:.6g}), little gradient flows"
                    row.append(
                        r.rec(
                            f"dout_{ni}/dnet_{nj}",
                            k,
                            f"{{out_{ni}}} * (1 - {{out_{ni}}})",
                            {f"out_{ni}": outs[i]},
                            diagonal,
                            note,
                        )
                    )
                else:
                    row.append(
                        r.rec(
                            f"dout_{ni}/dnet_{nj}",
                            k,
                            f"-{{out_{ni}}} * {{out_{nj}}}",
                            {f"out_{ni}": outs[i], f"out_{nj}": outs[j]},
                            -outs[i] * outs[j],
                        )
                    )
            jac.append(row)
        deltas = []
        for j, nj in enumerate(neurons):
            syms = [(f"dE_total/dout_{ni}", f"dout_{ni}/dnet_{nj}") for ni in neurons]
            chain = " + ".join(f"{{{a}}} * {{{b}}}" for a, b in syms)
            terms: dict[str, float] = {}
            for i, (a, b) in enumerate(syms):
                terms[a], terms[b] = dE_dout[i], jac[i][j]
            if spec.loss == "cross_entropy":
                # With targets summing to 1 the sum collapses to out − target (exact, and stable).
                template = f"{chain} = {{out_{nj}}} - {{target_{nj}}}"
                terms[f"out_{nj}"], terms[f"target_{nj}"] = outs[j], targets[j]
                value = outs[j] - targets[j]
                if self.mistake.error_sign:
                    value = -value
            elif spec.loss == "binary_cross_entropy" and self.mistake == CORRECT:
                # The chain loses digits (or is inf·0) as outputs near 0 or 1; its simplified form
                # does not.
                template, value = self._softmax_bce_delta(j, outs, targets, chain, terms)
                rounded = any(o in (0.0, 1.0) for o in outs)
                deltas.append(
                    r.rec(
                        f"delta_{nj}", k, template, terms, value, STABLE_NOTE if rounded else None
                    )
                )
                continue
            else:
                template = chain
                value = 0.0
                for i in range(len(neurons)):
                    value += dE_dout[i] * jac[i][j]
            deltas.append(r.rec(f"delta_{nj}", k, template, terms, value))
        return deltas

    def _softmax_bce_delta(
        self,
        j: int,
        outs: list[float],
        targets: Sequence[float],
        chain: str,
        terms: dict[str, float],
    ) -> tuple[str, float]:
        """delta_j of softmax + binary cross-entropy (functions.softmax_bce_delta), shown."""
        neurons = self.spec.outputs
        nj = neurons[j]
        parts = [f"{{out_{nj}}} - {{target_{nj}}}"]
        for i, ni in enumerate(neurons):
            if i != j:
                parts.append(f"({{out_{ni}}} - {{target_{ni}}}) * {{out_{nj}}}/(1 - {{out_{ni}}})")
                terms[f"out_{ni}"], terms[f"target_{ni}"] = outs[i], targets[i]
        terms[f"out_{nj}"], terms[f"target_{nj}"] = outs[j], targets[j]
        terms["n"] = float(len(neurons))
        value = softmax_bce_delta(j, self.nets[-1], outs, targets)
        return f"{chain} = ({' - '.join(parts)})/{{n}}", value

    def _hidden_deltas(
        self, k: int, outs: list[float], upper: list[float], updated: dict[str, float] | None
    ) -> tuple[list[float], list[tuple[tuple[str, float], tuple[str, float]] | None]]:
        spec, r, names = self.spec, self.r, self.names
        layer, above = spec.layers[k], spec.layers[k + 1]
        act = ACTIVATIONS[layer.activation]
        deltas: list[float] = []
        chain: list[tuple[tuple[str, float], tuple[str, float]] | None] = []
        for j, n in enumerate(layer.neurons):
            parts: dict[str, float] = {}
            for m, nm in enumerate(above.neurons):
                w_id = names.weight[k + 1][m][j]
                if updated is not None:
                    w_sym, w = f"{w_id}+", updated[w_id]
                else:
                    w_sym, w = w_id, self.params[w_id]
                dnet = f"dnet_{nm}/dout_{n}"
                w = r.rec(dnet, k, f"{{{w_sym}}}", {w_sym: w}, w)
                part = f"dE_{nm}/dout_{n}"
                parts[part] = r.rec(
                    part,
                    k,
                    f"{{delta_{nm}}} * {{{dnet}}}",
                    {f"delta_{nm}": upper[m], dnet: w},
                    upper[m] * w,
                )
            total = 0.0
            for v in parts.values():
                total += v
            a = f"dE_total/dout_{n}"
            total = r.rec(a, k, " + ".join(f"{{{s}}}" for s in parts), parts, total)
            b = f"dout_{n}/dnet_{n}"
            dout = self._derivative(k, j, n, act.derivative_formula, outs[j])
            value = self.mistake.delta(k, act, total, self.nets[k][j], outs[j], layer.alpha)
            deltas.append(r.rec(f"delta_{n}", k, f"{{{a}}} * {{{b}}}", {a: total, b: dout}, value))
            chain.append(((a, total), (b, dout)))
        return deltas, chain

    def _derivative(self, k: int, j: int, n: str, formula: str, out: float) -> float:
        layer = self.spec.layers[k]
        act = ACTIVATIONS[layer.activation]
        net = self.nets[k][j]
        template = formula.replace("{out}", f"{{out_{n}}}").replace("{net}", f"{{net_{n}}}")
        terms: dict[str, float] = {}
        if "{net_" in template:
            terms[f"net_{n}"] = net
        if "{out_" in template:
            terms[f"out_{n}"] = out
        if act.uses_alpha:
            template = template.replace("α", "{α}")
            terms["α"] = layer.alpha
        value = act.df(net, out, layer.alpha)
        note = None
        if k in self.mistake.no_derivative:
            value, note = 1.0, "slip reproduced: the activation's derivative left out"
        elif abs(value) < SATURATED and layer.activation in ("sigmoid", "tanh"):
            note = f"saturated: dout/dnet ≈ 0 (net = {net:.6g}), so almost no gradient flows back"
        elif value == 0.0:
            note = "inactive: net ≤ 0, so no gradient flows back through this neuron"
        return self.r.rec(f"dout_{n}/dnet_{n}", k, template, terms, value, note)


def _loss_term(
    loss: str, t: float, o: float, net: float, n_out: int, log_outs: list[float] | None, j: int
) -> float:
    """E_o, from the nets where out has rounded to 0 or 1 so that a log-loss stays finite."""
    if loss == "cross_entropy" and log_outs is not None and not o > 0.0:
        return -t * log_outs[j] if t != 0.0 else 0.0
    if loss == "binary_cross_entropy" and not 0.0 < o < 1.0:
        if log_outs is None:  # sigmoid: ln(out) = −softplus(−net), ln(1 − out) = −softplus(net)
            return (t * softplus(-net) + (1.0 - t) * softplus(net)) / n_out
        # softmax: ln(1 − out_j) = ln Σ_(m≠j) e^(ln out_m)
        others = [x for m, x in enumerate(log_outs) if m != j]
        log_1m = log_sum_exp(others) if others else -math.inf
        total = 0.0
        if t != 0.0:
            total += t * log_outs[j]
        if t != 1.0:
            total += (1.0 - t) * log_1m
        return -total / n_out
    return LOSSES[loss].f(t, o, n_out)


def _layer_of(names: Names, pid: str) -> int:
    for k, rows in enumerate(names.weight):
        if any(pid in row for row in rows) or pid in names.bias[k]:
            return k
    raise KeyError(pid)


def apply_sgd(
    r: _Recorder,
    spec: Spec,
    params: dict[str, float],
    grads: dict[str, float],
    ids: Sequence[str],
    grad_name: str,
    layer: int | None = None,
    state: optim.State | None = None,
) -> dict[str, float]:
    """Record the update of each id (the optimizer's own steps, then `w5+`); return the new values.

    Plain sgd records `w5+ = w5 − η·dE_total/dw5`. `state` carries the optimizer's slots and update
    count t across updates (a fresh one, on its first update, when not given).
    """
    if state is None:
        state = optim.State.of(spec.training)
        state.t += 1
    new: dict[str, float] = {}
    names = Names.of(spec)
    for pid in ids:
        k = layer if layer is not None else _layer_of(names, pid)
        new[pid] = _update(r, state, k, pid, params[pid], f"{grad_name}/d{pid}", grads[pid])
    return new


def _update(
    r: _Recorder, st: optim.State, k: int, pid: str, w: float, g_sym: str, g: float
) -> float:
    """One parameter's update under the optimizer in `st` (see optim.py for the conventions)."""
    eta, new = st.lr, f"{pid}+"
    if st.name == "sgd":
        return r.rec(
            new,
            k,
            f"{{{pid}}} - {{η}} * {{{g_sym}}}",
            {pid: w, "η": eta, g_sym: g},
            optim.sgd(w, g, eta),
        )
    if st.name in ("momentum", "nesterov"):
        mu, v_id = st.momentum, f"v_{pid}"
        v_old = st.slot("velocity", pid)
        v = r.rec(
            v_id,
            k,
            f"{{μ}} * {{{v_id}}} + {{{g_sym}}}",
            {"μ": mu, v_id: v_old, g_sym: g},
            optim.velocity(v_old, g, mu),
        )
        st.slots["velocity"][pid] = v
        if st.name == "momentum":
            return r.rec(
                new,
                k,
                f"{{{pid}}} - {{η}} * {{{v_id}}}",
                {pid: w, "η": eta, v_id: v},
                optim.momentum_step(w, v, eta),
            )
        return r.rec(
            new,
            k,
            f"{{{pid}}} - {{η}} * ({{{g_sym}}} + {{μ}} * {{{v_id}}})",
            {pid: w, "η": eta, g_sym: g, "μ": mu, v_id: v},
            optim.nesterov_step(w, g, v, eta, mu),
        )
    b1, b2, t = st.beta1, st.beta2, float(st.t)
    m_id, v_id, mh_id, vh_id = f"m_{pid}", f"v_{pid}", f"m\u0302_{pid}", f"v\u0302_{pid}"
    m_old, v_old = st.slot("m", pid), st.slot("v", pid)
    m = r.rec(
        m_id,
        k,
        f"{{β1}} * {{{m_id}}} + (1 - {{β1}}) * {{{g_sym}}}",
        {"β1": b1, m_id: m_old, g_sym: g},
        optim.first_moment(m_old, g, b1),
    )
    v = r.rec(
        v_id,
        k,
        f"{{β2}} * {{{v_id}}} + (1 - {{β2}}) * ({{{g_sym}}})^2",
        {"β2": b2, v_id: v_old, g_sym: g},
        optim.second_moment(v_old, g, b2),
    )
    st.slots["m"][pid], st.slots["v"][pid] = m, v
    m_hat = r.rec(
        mh_id,
        k,
        f"{{{m_id}}} / (1 - {{β1}}^{{t}})",
        {m_id: m, "β1": b1, "t": t},
        optim.corrected(m, b1, st.t),
    )
    v_hat = r.rec(
        vh_id,
        k,
        f"{{{v_id}}} / (1 - {{β2}}^{{t}})",
        {v_id: v, "β2": b2, "t": t},
        optim.corrected(v, b2, st.t),
    )
    return r.rec(
        new,
        k,
        f"{{{pid}}} - {{η}} * {{{mh_id}}} / (sqrt({{{vh_id}}}) + {{ε}})",
        {pid: w, "η": eta, mh_id: m_hat, vh_id: v_hat, "ε": st.eps},
        optim.adam_step(w, m_hat, v_hat, eta, st.eps),
    )


def initial_values(spec: Spec) -> dict[str, float]:
    """Parameter values by id."""
    return {p.id: p.value for p in spec.parameters()}


def step(
    spec: Spec,
    *,
    update_order: str | None = None,
    round_to: int | None = None,
    mistake: Mistake = CORRECT,
    state: optim.State | None = None,
) -> Trace:
    """One pass over the samples in the configured mode, every quantity recorded.

    mistake: reproduce a known hand-calculation slip (for `backprop check`; default: none).
    state: the optimizer's state to start from and update in place (so that a caller can run
    epoch after epoch); default: the state saved in the spec.
    """
    order = update_order or spec.training.update_order
    r = _Recorder(round_to)
    names = Names.of(spec)
    params = initial_values(spec)
    trace = Trace(spec, parameters=spec.parameters())
    trace.loss_before = dataset_loss(spec, params, round_to)
    reduction = spec.training.reduction
    state = state if state is not None else optim.State.of(spec.training)
    for u, batch in enumerate(batches(spec)):
        r.update = u
        state.t += 1
        per_sample: list[tuple[dict[str, float], list[str]]] = []
        pass_ = _Pass(spec, names, params, r, mistake, state)
        sequential: dict[str, float] | None = None
        for s in batch:
            sample = spec.samples[s]
            r.sample = s
            r.phase = "forward"
            outs = pass_.forward(sample.inputs)
            r.phase = "loss"
            pass_.loss(outs[-1], sample.targets)
            r.phase = "backward"
            sequential = {} if order == "sequential" and len(batch) == 1 else None
            per_sample.append(pass_.backward(sample.inputs, outs, sample.targets, sequential))
        r.sample = None
        if sequential is not None:
            params.update(sequential)
            continue
        if len(batch) == 1:
            grads, ids = per_sample[0]
            grad_name = "dE_total"
        else:
            grads, ids = _aggregate(r, spec, batch, per_sample, reduction)
            grad_name = "dE_batch"
        r.phase = "update"
        params.update(apply_sgd(r, spec, params, grads, ids, grad_name, state=state))
    r.update = None
    r.phase = "after"
    pass_ = _Pass(spec, names, params, r)
    pass_.renamed = frozenset(
        p.id for p in spec.parameters() if p.kind == "weight" or spec.training.update_biases
    )
    losses = []
    for s, sample in enumerate(spec.samples):
        r.sample = s
        outs = pass_.forward(sample.inputs, "+")
        losses.append(pass_.loss(outs[-1], sample.targets, "+"))
    r.sample = None
    if len(spec.samples) > 1:
        _reduce(r, "E+", [f"E_total+[{s + 1}]" for s in range(len(losses))], losses, reduction)
    trace.steps = r.steps
    trace.updated = {p.id: params[p.id] for p in spec.parameters()}
    trace.loss_after = dataset_loss(spec, params, round_to)
    return trace


def _reduce(
    r: _Recorder, step_id: str, syms: list[str], values: list[float], reduction: str
) -> float:
    total = 0.0
    for v in values:
        total += v
    body = " + ".join(f"{{{s}}}" for s in syms)
    terms = dict(zip(syms, values, strict=True))
    if reduction == "sum":
        return r.rec(step_id, None, body, terms, total)
    terms["N"] = float(len(values))
    return r.rec(step_id, None, f"({body})/{{N}}", terms, total / len(values))


def _aggregate(
    r: _Recorder,
    spec: Spec,
    batch: list[int],
    per_sample: list[tuple[dict[str, float], list[str]]],
    reduction: str,
) -> tuple[dict[str, float], list[str]]:
    """Gradient of the batch loss: the mean (or sum) of each sample's gradient."""
    r.phase = "update"
    ids = per_sample[0][1]
    grads: dict[str, float] = {}
    for pid in ids:
        syms = [f"dE_total/d{pid}[{s + 1}]" for s in batch]
        values = [g[pid] for g, _ in per_sample]
        grads[pid] = _reduce(r, f"dE_batch/d{pid}", syms, values, reduction)
    return grads, ids


def forward_values(spec: Spec, params: dict[str, float], x: Sequence[float]) -> list[list[float]]:
    """Outputs of every layer for input x, without recording."""
    names = Names.of(spec)
    prev = list(x)
    outs_all = []
    for k, layer in enumerate(spec.layers):
        nets = []
        for j in range(layer.size):
            total = 0.0
            for i, xi in enumerate(prev):
                total += params[names.weight[k][j][i]] * xi
            b_id = names.bias[k][j]
            if b_id is not None:
                total += params[b_id] * 1
            nets.append(total)
        if layer.activation == SOFTMAX:
            prev = softmax(nets)
        else:
            act = ACTIVATIONS[layer.activation]
            prev = [act.f(net, layer.alpha) for net in nets]
        outs_all.append((nets, prev))
    return [o for _, o in outs_all]


def sample_loss(spec: Spec, params: dict[str, float], s: int, round_to: int | None = None) -> float:
    """E_total of sample s with the given parameters, without recording."""
    r = _Recorder(round_to)
    pass_ = _Pass(spec, Names.of(spec), params, r)
    sample = spec.samples[s]
    outs = pass_.forward(sample.inputs)
    return pass_.loss(outs[-1], sample.targets)


def dataset_loss(spec: Spec, params: dict[str, float], round_to: int | None = None) -> float:
    """E_total over all samples, reduced as training.reduction says (mean or sum).

    With round_to, every intermediate is rounded to that many decimals, as in a rounded step.
    """
    losses = [sample_loss(spec, params, s, round_to) for s in range(len(spec.samples))]
    total = 0.0
    for v in losses:
        total += v
    loss = total / len(losses) if spec.training.reduction == "mean" else total
    return loss if round_to is None else round(loss, round_to)


def iter_phases(
    trace: Trace,
) -> Iterator[tuple[tuple[str, int | None, int | None, int | None], list[Step]]]:
    """Group consecutive steps by (phase, layer, sample, update), in order."""
    group: list[Step] = []
    key: tuple[str, int | None, int | None, int | None] | None = None
    for s in trace.steps:
        k = (s.phase, s.layer, s.sample, s.update)
        if key is not None and k != key:
            yield key, group
            group = []
        key = k
        group.append(s)
    if key is not None:
        yield key, group
