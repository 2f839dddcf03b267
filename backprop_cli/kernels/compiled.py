"""The compiled kernel: the network's arithmetic written out as straight-line Python.

For a network with elementwise activations, `source` writes three functions (a forward pass, a
sample's loss, a sample's gradient) from the catalogue's entries read with the SOURCE vocabulary:
every sum is spelled out left to right from 0.0, exactly in engine.py's order (`0.0 + w1*i1 +
w2*i2 + b1`, then `dE/dout * out * (1 - out)` for the logistic), so the floats are the engine's,
bit for bit, with no loops, lists or calls per neuron. Networks it does not cover (softmax, the
sequential order) use the loop kernel.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ..ops import ACTIVATIONS, LOSSES, SOURCE, Expr, OutputLogs
from ..ops.vocab import compile_function
from ..spec import Spec, batches
from ..state import State
from .base import optimizer_update


def supports(spec: Spec, order: str) -> bool:
    """Whether straight-line code covers this network and update order."""
    if not all(ACTIVATIONS[layer.activation].elementwise for layer in spec.layers):
        return False
    # The sequential order updates a layer in the middle of the backward pass.
    return not (order == "sequential" and any(len(b) == 1 for b in batches(spec)))


def _sum(terms: Sequence[str]) -> str:
    return "(" + " + ".join(["0.0", *terms]) + ")"


def source(
    spec: Spec, trainable: Sequence[int], round_to: int | None = None
) -> dict[str, tuple[list[str], list[str]]]:
    """(parameters, body lines) of fwd(p, x), loss(f, tg) and grad(p, x, f, tg).

    With round_to, every value the engine records (and uses again) is its own variable, rounded
    to that many decimals when finite, as `engine.step(spec, round_to=N)` computes (`--round`).
    """
    params = spec.parameters()

    def rnd(var: str) -> list[str]:
        """The line that rounds var as the engine's recorder does (x − x is 0 when finite)."""
        if round_to is None:
            return []
        return [f"if {var} - {var} == 0.0: {var} = round({var}, {round_to})"]

    index = {(p.layer, p.neuron, p.input, p.kind): k for k, p in enumerate(params)}

    def weight(k: int, j: int, i: int) -> str:
        return f"q{index[(k, j, i, 'weight')]}"

    def bias(k: int, j: int) -> str | None:
        layer = spec.layers[k]
        if layer.bias is None:
            return None
        key = (k, None, None, "bias") if layer.bias_shared else (k, j, None, "bias")
        return f"q{index[key]}"

    L = len(spec.layers) - 1
    n_in, n_out = len(spec.inputs), spec.layers[-1].size
    qs = ", ".join(f"q{k}" for k in range(len(params))) + ","
    xs = ", ".join(f"i{i}" for i in range(n_in)) + ","
    ts = ", ".join(f"t{j}" for j in range(n_out)) + ","
    names: list[str] = []
    fwd = [f"{qs} = p", f"{xs} = x"]
    for k, layer in enumerate(spec.layers):
        act = ACTIVATIONS[layer.activation]
        inputs = (
            [f"i{i}" for i in range(n_in)]
            if k == 0
            else [f"o{k - 1}_{i}" for i in range(len(spec.layers[k - 1].neurons))]
        )
        for j in range(layer.size):
            terms = [f"{weight(k, j, i)} * {s}" for i, s in enumerate(inputs)]
            b = bias(k, j)
            if b is not None:
                terms.append(b)
            fwd.append(f"n{k}_{j} = {_sum(terms)}")
            fwd += rnd(f"n{k}_{j}")
            fwd.append(f"o{k}_{j} = {act.value(SOURCE, Expr(f'n{k}_{j}'), layer.alpha)}")
            fwd += rnd(f"o{k}_{j}")
        names += [f"n{k}_{j}" for j in range(layer.size)] + [f"o{k}_{j}" for j in range(layer.size)]
    unpack = ", ".join(names) + ","
    fwd.append(f"return ({unpack})")

    out = spec.layers[L]
    out_act, loss = ACTIVATIONS[out.activation], LOSSES[spec.loss]
    nets = [Expr(f"n{L}_{j}") for j in range(n_out)]
    outs = [Expr(f"o{L}_{j}") for j in range(n_out)]
    targets = [Expr(f"t{j}") for j in range(n_out)]
    logs = OutputLogs(SOURCE, out_act, nets)
    errors = [
        str(
            loss.value(
                SOURCE, targets[j], outs[j], n_out, logs.out(j), logs.one_minus(j), spec.loss_hyper
            )
        )
        for j in range(n_out)
    ]
    loss_body = [f"{unpack} = f", f"{ts} = tg"]
    if round_to is None:
        loss_body.append(f"return {_sum(errors)}")
    else:
        for j, e in enumerate(errors):
            loss_body += [f"e{j} = {e}", *rnd(f"e{j}")]
        loss_body += [f"e = {_sum([f'e{j}' for j in range(n_out)])}", *rnd("e"), "return e"]

    grad = [f"{qs} = p", f"{xs} = x", f"{unpack} = f", f"{ts} = tg"]
    fused = loss.fused.get(out.activation)
    for j in range(n_out):
        if fused is not None:
            delta = fused.value(SOURCE, j, nets, outs, targets, n_out)
        else:  # the engine's loss gradient, then the activation's delta
            g = loss.grad(SOURCE, targets[j], outs[j], n_out, spec.loss_hyper)
            if round_to is not None:  # dE_total/dout, rounded before the delta uses it
                grad += [f"g{j} = {g}", *rnd(f"g{j}")]
                g = Expr(f"g{j}")
            delta = out_act.delta(SOURCE, g, nets[j], outs[j], out.alpha)
        grad += [f"d{L}_{j} = {delta}", *rnd(f"d{L}_{j}")]
    for k in range(L - 1, -1, -1):
        layer, above = spec.layers[k], spec.layers[k + 1]
        act = ACTIVATIONS[layer.activation]
        for j in range(layer.size):
            parts = [f"d{k + 1}_{m} * {weight(k + 1, m, j)}" for m in range(above.size)]
            if round_to is not None:  # each weight (dnet/dout), part and their sum rounded
                for m, part in enumerate(parts):
                    w = weight(k + 1, m, j)
                    grad += [*rnd(w), f"a{m} = {part}", *rnd(f"a{m}")]
                grad += [f"s = {_sum([f'a{m}' for m in range(above.size)])}", *rnd("s")]
                total = Expr("s")
            else:
                total = Expr(_sum(parts))
            n, o = Expr(f"n{k}_{j}"), Expr(f"o{k}_{j}")
            grad.append(f"d{k}_{j} = {act.delta(SOURCE, total, n, o, layer.alpha)}")
            grad += rnd(f"d{k}_{j}")
    grads = []
    for idx in trainable:
        p = params[idx]
        if p.kind == "weight":
            assert p.neuron is not None and p.input is not None
            src = f"i{p.input}" if p.layer == 0 else f"o{p.layer - 1}_{p.input}"
            grads.append(f"d{p.layer}_{p.neuron} * {src}")
        elif p.neuron is not None:
            grads.append(f"d{p.layer}_{p.neuron}")
        else:
            grads.append(_sum([f"d{p.layer}_{j}" for j in range(spec.layers[p.layer].size)]))
    if round_to is not None:  # each gradient rounded (a per-neuron bias's is delta · 1 = delta)
        for idx, expr in enumerate(grads):
            grad += [f"r{idx} = {expr}", *rnd(f"r{idx}")]
        grads = [f"r{idx}" for idx in range(len(grads))]
    grad.append(f"return ({', '.join(grads)},)")
    return {
        "fwd": (["p", "x"], fwd),
        "loss": (["f", "tg"], loss_body),
        "grad": (["p", "x", "f", "tg"], grad),
    }


def compile_network(
    spec: Spec, trainable: Sequence[int], round_to: int | None = None
) -> dict[str, Callable[..., Any]]:
    """fwd, loss and grad for this network, compiled (rounding as `source` says)."""
    return {
        name: compile_function(name, params, lines)
        for name, (params, lines) in source(spec, trainable, round_to).items()
    }


class CompiledKernel:
    """Training on flat lists with the compiled functions; the engine's floats, bit for bit.

    With round_to (`train --round N`), every value the engine records is rounded to N decimals,
    as `engine.step(spec, round_to=N)` computes it epoch after epoch."""

    def __init__(self, spec: Spec, order: str, state: State, round_to: int | None = None) -> None:
        self.spec, self.state, self.round_to = spec, state, round_to
        params = spec.parameters()
        self.ids = [p.id for p in params]
        self.p = [p.value for p in params]
        update_biases = spec.training.update_biases
        self.trainable = [k for k, p in enumerate(params) if p.kind == "weight" or update_biases]
        assert self.trainable == list(range(len(self.trainable)))
        fns = compile_network(spec, self.trainable, round_to)
        self.fwd, self.loss_of, self.grad = fns["fwd"], fns["loss"], fns["grad"]
        self.update = optimizer_update(state, round_to)
        # The outputs shown are those of the parameters reached, computed exactly.
        self.exact_fwd = self.fwd if round_to is None else None
        self.samples = [(tuple(s.inputs), tuple(s.targets)) for s in spec.samples]
        self.batches = batches(spec)
        self.mean = spec.training.reduction == "mean"
        self.n_out = spec.layers[-1].size
        self.S = {
            name: [state.slot(name, self.ids[i]) for i in self.trainable]
            for name in state.rule.slots
        }
        self.cache: list[tuple[float, ...]] | None = None

    def parameters(self) -> dict[str, float]:
        return dict(zip(self.ids, self.p, strict=True))

    def slots(self) -> dict[str, dict[str, float]]:
        return {
            name: {self.ids[i]: v for i, v in zip(self.trainable, values, strict=True)}
            for name, values in self.S.items()
        }

    def snapshot(self) -> Any:
        # No copies: `apply` builds new lists rather than change these.
        return self.p, dict(self.S), self.state.t

    def restore(self, snap: Any) -> None:
        self.p, self.S, self.state.t = snap
        self.cache = None

    def evaluate(self) -> float:
        fwd, loss, p = self.fwd, self.loss_of, self.p
        cache = [fwd(p, x) for x, _ in self.samples]
        total = 0.0
        for f, (_, tg) in zip(cache, self.samples, strict=True):
            total += loss(f, tg)
        self.cache = cache
        value = total / len(cache) if self.mean else total
        if self.round_to is not None and value - value == 0.0:
            value = round(value, self.round_to)  # engine.dataset_loss, the after-phase E+
        return value

    def outputs(self) -> list[list[float]]:
        if self.exact_fwd is None:
            self.exact_fwd = compile_network(self.spec, self.trainable)["fwd"]
        fwd = self.exact_fwd
        return [list(fwd(self.p, x)[-self.n_out :]) for x, _ in self.samples]

    def epoch(self) -> float:
        fwd, grad, samples = self.fwd, self.grad, self.samples
        cache, self.cache = self.cache, None
        for u, batch in enumerate(self.batches):
            self.state.t += 1
            p = self.p
            # The first update of an epoch sees the parameters the last evaluation saw.
            fs = cache if u == 0 and cache is not None else None
            gs = [
                grad(p, samples[s][0], fs[s] if fs else fwd(p, samples[s][0]), samples[s][1])
                for s in batch
            ]
            if len(gs) == 1:
                self.apply(gs[0])
                continue
            n, summed = len(gs), []
            for column in zip(*gs, strict=True):
                total = 0.0
                for g in column:
                    total += g
                summed.append(total / n if self.mean else total)
            if self.round_to is not None:  # dE_batch/dθ, rounded as engine._reduce records it
                r = self.round_to
                summed = [round(v, r) if v - v == 0.0 else v for v in summed]
            self.apply(summed)
        return self.evaluate()

    def apply(self, grads: Sequence[float]) -> None:
        """The optimizer's stages on every trainable parameter (the trained ones come first),
        into new lists: a snapshot is a reference."""
        self.p = self.p[:]
        self.S = {name: values[:] for name, values in self.S.items()}
        self.update(self.p, grads, self.state.t, *self.S.values())
