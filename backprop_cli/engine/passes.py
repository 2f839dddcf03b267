"""Forward pass, backward pass and update, recorded step by step in the post's notation.

Symbols (one set per neuron n of a layer, inputs x_i of that layer):
  net_n = Σ_i w·x_i + b·1        out_n = f(net_n)
  delta_n = dE_total/dnet_n       dE_total/dw = delta_n · x_i
Every computed value goes through `_Recorder.rec`, which appends a Step and returns the value the
rest of the computation uses (rounded, when the user asks to calculate as a person would).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from backprop_cli.engine.trace import Step, Trace
from backprop_cli.ops import (
    ACTIVATIONS,
    CONSTANTS,
    FLOATS,
    LOSSES,
    Activation,
    Hyper,
    OutputLogs,
    Vars,
)
from backprop_cli.ops.activations import SOFTMAX_JACOBIAN_FORMULA, softmax_formula, softmax_jacobian
from backprop_cli.specs.model import Names, Spec, batches, initial_values
from backprop_cli.specs.state import State

if TYPE_CHECKING:
    from backprop_cli.ops.optimizers import Optimizer, Stage

SATURATED = 1e-6  # |dout/dnet| below this: the neuron passes almost no gradient
OVERFLOW = "beyond float64 (an output rounded to exactly 0 or 1?); JSON writes it as null"
NOT_FINITE = "undefined in float64 (inf − inf or 0·inf); JSON writes it as null"


@dataclass(frozen=True, slots=True)
class Mistake:
    """A hand-calculation slip to reproduce on purpose, so that `backprop check` can name it.

    The default (no slip) is the correct maths; only `backprop check` passes anything else.
    """

    error_sign: bool = False  # dE_total/dout = +(target − out): the sign of (target − out) lost
    no_derivative: tuple[int, ...] = ()  # layers whose dout/dnet factor is left out (taken as 1)
    error_factor: float = 1.0  # dE_total/dout scaled: 0.5 is MSE's factor 2 forgotten
    derivative_of_out: tuple[int, ...] = ()  # layers whose f′ is taken at out, not net: σ′(out)
    # The fused delta (out − target) of softmax with cross-entropy taken as dE_total/dout and
    # multiplied by the softmax's derivative again: "full" (the Jacobian) or "diagonal" (only
    # dout_j/dnet_j, as if softmax were elementwise); "" for no slip.
    jacobian_twice: str = ""
    # Layers whose dout/dnet is another activation's, handed over as its entry: (k, entry).
    derivative_from: tuple[tuple[int, Activation], ...] = ()

    def activation(self, k: int, act: Activation) -> Activation:
        """The entry whose derivative layer k takes: its own, or the one handed over."""
        return next((other for j, other in self.derivative_from if j == k), act)

    def delta(self, k: int, act: Activation, g: float, net: float, out: float, a: float) -> float:
        """dE/dnet from g = dE/dout, without the activation's factor in the slipped layers."""
        if k in self.no_derivative:
            return g
        act = self.activation(k, act)
        if k in self.derivative_of_out:  # f′ called with out where net belongs
            net, out = out, float(act.value(FLOATS, out, a))
        return float(act.delta(FLOATS, g, net, out, a))


CORRECT = Mistake()


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
        hyper: frozenset[str] = CONSTANTS,
    ) -> float:
        if self.round_to is not None and math.isfinite(value):
            value = round(value, self.round_to)
        if note is None and not math.isfinite(value):
            note = NOT_FINITE if math.isnan(value) else OVERFLOW
        if hyper.isdisjoint(terms):
            inputs = tuple(terms)
        else:
            inputs = tuple([k for k in terms if k not in hyper])
        if "[" in "".join(inputs):  # a sample's gradient, dE_total/dw5[2], is an input
            inputs = tuple(dict.fromkeys([k.split("[", 1)[0] for k in inputs]))
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
                inputs,
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
        state: State | None = None,
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
        act = ACTIVATIONS[layer.activation]
        if not act.elementwise:
            outs = act.layer(FLOATS, nets, layer.alpha)
            terms = {f"net_{m}{suffix}": v for m, v in zip(layer.neurons, nets, strict=True)}
            return [
                r.rec(
                    f"out_{n}{suffix}", k, softmax_formula(n, layer.neurons, suffix, nets), terms, o
                )
                for n, o in zip(layer.neurons, outs, strict=True)
            ]
        outs = []
        for n, net in zip(layer.neurons, nets, strict=True):
            template = act.formula_at(net, layer.alpha).replace("{net}", f"{{net_{n}{suffix}}}")
            terms = {f"net_{n}{suffix}": net}
            template = _constants(template, terms, act.hyper, {"alpha": layer.alpha})
            value = act.value(FLOATS, net, layer.alpha)
            outs.append(r.rec(f"out_{n}{suffix}", k, template, terms, value))
        return outs

    def loss(self, outs: list[float], targets: Sequence[float], suffix: str = "") -> float:
        """Record E_o for every output and E_total; return E_total."""
        spec, r = self.spec, self.r
        loss = LOSSES[spec.loss]
        k = len(spec.layers) - 1
        neurons = spec.outputs
        n_out = len(neurons)
        logs = OutputLogs(FLOATS, ACTIVATIONS[spec.layers[k].activation], self.nets[k])
        net_syms = [f"net_{m}{suffix}" for m in neurons]
        slots = [f"{{{x}}}" for x in net_syms]
        errors = []
        for j, n in enumerate(neurons):
            o, t = outs[j], targets[j]
            sym_o, sym_t = f"out_{n}{suffix}", f"target_{n}"
            shown = loss.formula_at(
                t, o, logs.minus_out_shown(j, slots), logs.minus_one_minus_shown(j, slots)
            )
            template = shown.replace("{out}", f"{{{sym_o}}}").replace("{t}", f"{{{sym_t}}}")
            terms = {sym_t: t, sym_o: o}
            if "{n}" in template:
                terms["n"] = float(n_out)
            if shown is not loss.formula:  # the stable form: the nets it reads, not out
                terms.update(zip(net_syms, self.nets[k], strict=True))
                terms = _in(template, terms)
            template = _constants(template, terms, loss.hyper, spec.loss_hyper)
            value = loss.value(FLOATS, t, o, n_out, logs.out(j), logs.one_minus(j), spec.loss_hyper)
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
        ids = [pid for pid in grads if self.names.layer_of(pid) == k]
        updated.update(
            record_updates(self.r, self.spec, self.params, grads, ids, "dE_total", k, self.state)
        )
        self.r.phase, self.r.sample = phase, sample

    def _output_deltas(
        self, outs: list[float], targets: Sequence[float]
    ) -> tuple[list[float], list[tuple[tuple[str, float], tuple[str, float]] | None]]:
        spec, r = self.spec, self.r
        k = len(spec.layers) - 1
        layer = spec.layers[k]
        loss = LOSSES[spec.loss]
        act = ACTIVATIONS[layer.activation]
        n_out = layer.size
        dE_dout = []
        # The slip: the fused delta (out − target) taken as dE_total/dout, then chained again.
        twice = loss.fused.get(layer.activation) if self.mistake.jacobian_twice else None
        for j, n in enumerate(layer.neurons):
            o, t = outs[j], targets[j]
            shown = loss.derivative_formula_at(t, o)
            template = shown.replace("{out}", f"{{out_{n}}}").replace("{t}", f"{{target_{n}}}")
            terms = {f"target_{n}": t, f"out_{n}": o}
            if "{n}" in template:
                terms["n"] = float(n_out)
            if shown is not loss.derivative_formula:  # a limit: the numbers it reads
                terms = _in(template, terms)
            template = _constants(template, terms, loss.hyper, spec.loss_hyper)
            g = loss.grad(FLOATS, t, o, n_out, spec.loss_hyper)
            note = None
            if loss.in_range is not None and not loss.in_range(FLOATS, o) and math.isfinite(g):
                note = loss.limit_note  # an infinite one gets the note on overflow instead
            if self.mistake.error_sign:
                g, note = -g, "slip reproduced: the sign of (target − out) flipped"
            if self.mistake.error_factor != 1.0:
                g, note = g * self.mistake.error_factor, "slip reproduced: a factor changed"
            if twice is not None:
                g = twice.value(FLOATS, j, self.nets[k], outs, targets, n_out)
                note = "slip reproduced: out − target taken as dE_total/dout"
            dE_dout.append(r.rec(f"dE_total/dout_{n}", k, template, terms, g, note))
        fused = None if twice is not None else loss.fused.get(layer.activation)
        if fused is not None and not (fused.exact_always or self.mistake == CORRECT):
            fused = None  # a slip is reproduced through the chain it breaks
        if not act.elementwise:
            return self._coupled_deltas(outs, targets, dE_dout, fused), [None] * n_out
        deltas: list[float] = []
        chain: list[tuple[tuple[str, float], tuple[str, float]] | None] = []
        for j, n in enumerate(layer.neurons):
            dout = self._derivative(k, j, n, outs[j])
            a, b = f"dE_total/dout_{n}", f"dout_{n}/dnet_{n}"
            if fused is not None:
                rhs, syms = fused.shown_at(j, layer.neurons, self.nets[k], outs)
                value = fused.value(FLOATS, j, self.nets[k], outs, targets, n_out)
                terms = {a: dE_dout[j], b: dout}
                template = f"{{{a}}} * {{{b}}} = {rhs}"
                if not _finite(terms):  # inf·0: the chain the simplified form stands for
                    template, terms = rhs, {}
                terms.update(self._operands(rhs, syms, outs, targets, n_out))
                deltas.append(r.rec(f"delta_{n}", k, template, terms, value))
                chain.append(None)
                continue
            value = self.mistake.delta(k, act, dE_dout[j], self.nets[k][j], outs[j], layer.alpha)
            deltas.append(
                r.rec(f"delta_{n}", k, f"{{{a}}} * {{{b}}}", {a: dE_dout[j], b: dout}, value)
            )
            chain.append(((a, dE_dout[j]), (b, dout)))
        return deltas, chain

    def _operands(
        self,
        rhs: str,
        syms: list[str],
        outs: list[float],
        targets: Sequence[float],
        n_out: int,
    ) -> dict[str, float]:
        """Values of out_x, target_x, net_x and n in a fused delta's formula, in the order given (or
        as they appear)."""
        values: dict[str, float] = {"n": float(n_out)}
        nets = self.nets[len(self.spec.layers) - 1]
        for j, n in enumerate(self.spec.outputs):
            values[f"out_{n}"], values[f"target_{n}"] = outs[j], targets[j]
            values[f"net_{n}"] = nets[j]
        order = syms or list(dict.fromkeys(re.findall(r"\{([^{}]+)\}", rhs)))
        return {sym: values[sym] for sym in order}

    def _coupled_deltas(
        self, outs: list[float], targets: Sequence[float], dE_dout: list[float], fused: Any
    ) -> list[float]:
        """Softmax couples all outputs: delta_j = Σ_i dE/dout_i · dout_i/dnet_j (the Jacobian)."""
        spec, r = self.spec, self.r
        k = len(spec.layers) - 1
        neurons = spec.outputs
        same, other = SOFTMAX_JACOBIAN_FORMULA
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
                    template = same.replace("{out_i}", f"{{out_{ni}}}")
                    cell = {f"out_{ni}": outs[i]}
                else:
                    note = None
                    template = other.replace("{out_i}", f"{{out_{ni}}}")
                    template = template.replace("{out_j}", f"{{out_{nj}}}")
                    cell = {f"out_{ni}": outs[i], f"out_{nj}": outs[j]}
                value = softmax_jacobian(outs, i, j)
                row.append(r.rec(f"dout_{ni}/dnet_{nj}", k, template, cell, value, note))
            jac.append(row)
        deltas = []
        n_out = len(neurons)
        for j, nj in enumerate(neurons):
            syms = [(f"dE_total/dout_{ni}", f"dout_{ni}/dnet_{nj}") for ni in neurons]
            chain = " + ".join(f"{{{a}}} * {{{b}}}" for a, b in syms)
            terms: dict[str, float] = {}
            for i, (a, b) in enumerate(syms):
                terms[a], terms[b] = dE_dout[i], jac[i][j]
            note = None
            if fused is not None:
                rhs, order = fused.shown_at(j, neurons, self.nets[k], outs)
                template = f"{chain} = {rhs}"
                if not _finite(terms):  # inf·0: the chain the simplified form stands for
                    template, terms = rhs, {}
                terms.update(self._operands(rhs, order, outs, targets, n_out))
                value = fused.value(FLOATS, j, self.nets[k], outs, targets, n_out)
                if fused.exact_always and self.mistake.error_sign:
                    value = -value
                note = fused.note_for(outs)
            elif self.mistake.jacobian_twice == "diagonal":
                template = f"{{{syms[j][0]}}} * {{{syms[j][1]}}}"
                terms = {syms[j][0]: dE_dout[j], syms[j][1]: jac[j][j]}
                value = dE_dout[j] * jac[j][j]
            else:
                template = chain
                value = 0.0
                for i in range(n_out):
                    value += dE_dout[i] * jac[i][j]
            deltas.append(r.rec(f"delta_{nj}", k, template, terms, value, note))
        return deltas

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
            dout = self._derivative(k, j, n, outs[j])
            value = self.mistake.delta(k, act, total, self.nets[k][j], outs[j], layer.alpha)
            deltas.append(r.rec(f"delta_{n}", k, f"{{{a}}} * {{{b}}}", {a: total, b: dout}, value))
            chain.append(((a, total), (b, dout)))
        return deltas, chain

    def _derivative(self, k: int, j: int, n: str, out: float) -> float:
        layer = self.spec.layers[k]
        own = ACTIVATIONS[layer.activation]
        act = self.mistake.activation(k, own)
        net = self.nets[k][j]
        template = act.derivative_formula_at(net, layer.alpha).replace("{out}", f"{{out_{n}}}")
        template = template.replace("{net}", f"{{net_{n}}}")
        terms: dict[str, float] = {}
        if "{net_" in template:
            terms[f"net_{n}"] = net
        if "{out_" in template:
            terms[f"out_{n}"] = out
        template = _constants(template, terms, act.hyper, {"alpha": layer.alpha})
        value = act.derivative(FLOATS, net, out, layer.alpha)
        note = None
        if k in self.mistake.no_derivative:
            value, note = 1.0, "slip reproduced: the activation's derivative left out"
        elif k in self.mistake.derivative_of_out:
            value = act.derivative(FLOATS, out, act.value(FLOATS, out, layer.alpha), layer.alpha)
            note = "slip reproduced: the derivative taken at out, not net"
        elif act is not own:
            note = f"slip reproduced: {act.name}'s derivative used for {own.name}"
        elif act.saturates and abs(value) < SATURATED:
            note = f"saturated: dout/dnet ≈ 0 (net = {net:.6g}), so almost no gradient flows back"
        elif value == 0.0:
            note = "inactive: net ≤ 0, so no gradient flows back through this neuron"
        return self.r.rec(f"dout_{n}/dnet_{n}", k, template, terms, value, note)


def _finite(terms: Mapping[str, float]) -> bool:
    return all(math.isfinite(x) for x in terms.values())


def _in(template: str, terms: dict[str, float]) -> dict[str, float]:
    """The terms whose symbol the template shows."""
    return {k: x for k, x in terms.items() if f"{{{k}}}" in template}


def _constants(
    template: str, terms: dict[str, float], hyper: Sequence[Hyper], values: Mapping[str, float]
) -> str:
    """The template with each hyper-parameter's symbol (α, δ) as a slot, its value in terms."""
    for h in hyper:
        template = template.replace(h.symbol, "{" + h.symbol + "}")
        terms[h.symbol] = values[h.key]
    return template


def record_updates(
    r: _Recorder,
    spec: Spec,
    params: dict[str, float],
    grads: dict[str, float],
    ids: Sequence[str],
    grad_name: str,
    layer: int | None = None,
    state: State | None = None,
) -> dict[str, float]:
    """Record the update of each id (the optimizer's own steps, then `w5+`); return the new values.

    Plain sgd records `w5+ = w5 − η·dE_total/dw5`. `state` carries the optimizer's slots and update
    count t across updates (a fresh one, on its first update, when not given).
    """
    if state is None:
        state = State.of(spec.training)
        state.t += 1
    new: dict[str, float] = {}
    names = Names.of(spec)
    plans: dict[tuple[int, ...], list[_Shown]] = {}  # the same stages for every id
    for pid in ids:
        k = layer if layer is not None else names.layer_of(pid)
        new[pid] = _update(r, state, k, pid, params[pid], grad_name, grads[pid], plans)
    return new


# A stage as shown, {p} standing for the parameter's id: step id, formula, and the symbol of
# each variable it reads (in the order they appear).
_Shown = tuple[str, str, list[tuple[str, str]]]


def _shown(rule: Optimizer, stages: Sequence[Stage], grad_name: str) -> list[_Shown]:
    """How each stage is written for any parameter {p}: the symbols of the values earlier
    stages have set (g_w5, v_w5), else the variables' own."""
    shown = {"w": "{p}", "g": grad_name + "/d{p}"}  # symbols of the values stages have set so far
    out = []
    last = len(stages) - 1
    for i, stage in enumerate(stages):
        step_id, body, words = rule.shown(stage, i == last)
        symbols = {key: shown.get(key, rule.symbol(key)) for key in words}
        for key, sym in symbols.items():
            body = body.replace("{" + rule.symbol(key) + "}", "{" + sym + "}")
        out.append((step_id, body, [(key, symbols[key]) for key in words]))
        shown[stage.key] = step_id
    return out


def _update(
    r: _Recorder,
    st: State,
    k: int,
    pid: str,
    w: float,
    grad_name: str,
    g: float,
    plans: dict[tuple[int, ...], list[_Shown]],
) -> float:
    """One parameter's update: each stage of the optimizer recorded, then `w5+`."""
    rule = st.rule
    now: dict[str, float] = {"w": w, "g": g, "t": st.t, **st.constants()}
    for slot in rule.slots:
        now[slot] = st.slot(slot, pid)
    stages = rule.active(now)
    shape = tuple(map(id, stages))
    plan = plans.get(shape)
    if plan is None:
        plan = plans[shape] = _shown(rule, stages, grad_name)
    for stage, (step_id, body, symbols) in zip(stages, plan, strict=True):
        terms = {sym.replace("{p}", pid): float(now[key]) for key, sym in symbols}
        value = stage.fn(FLOATS, Vars(now))
        step_id, body = step_id.replace("{p}", pid), body.replace("{p}", pid)
        now[stage.key] = r.rec(step_id, k, body, terms, value)
    for slot in rule.slots:
        st.slots[slot][pid] = now[slot]
    return now["w"]


def step(
    spec: Spec,
    *,
    update_order: str | None = None,
    round_to: int | None = None,
    mistake: Mistake = CORRECT,
    state: State | None = None,
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
    state = state if state is not None else State.of(spec.training)
    for u, batch in enumerate(batches(spec)):
        r.update = u
        state.t += 1
        per_sample: list[tuple[dict[str, float], list[str]]] = []
        losses: list[float] = []
        pass_ = _Pass(spec, names, params, r, mistake, state)
        sequential: dict[str, float] | None = None
        for s in batch:
            sample = spec.samples[s]
            r.sample = s
            r.phase = "forward"
            outs = pass_.forward(sample.inputs)
            r.phase = "loss"
            losses.append(pass_.loss(outs[-1], sample.targets))
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
            # the batch's loss, whose gradient dE_batch/dθ the update follows
            r.phase = "loss"
            _reduce(r, "E_batch", [f"E_total[{s + 1}]" for s in batch], losses, reduction)
            grads, ids = _aggregate(r, spec, batch, per_sample, reduction)
            grad_name = "dE_batch"
        r.phase = "update"
        params.update(record_updates(r, spec, params, grads, ids, grad_name, state=state))
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
        prev = ACTIVATIONS[layer.activation].layer(FLOATS, nets, layer.alpha)
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
