"""The compiled kernel: the network's arithmetic written out as straight-line Python.

For a network with elementwise activations, `source` writes three functions (a forward pass, a
sample's loss, a sample's gradient) from the catalogue's entries read with the SOURCE vocabulary:
every sum is spelled out left to right from 0.0, exactly in engine.py's order (`0.0 + w1*i1 +
w2*i2 + b1`, then `dE/dout * out * (1 - out)` for the logistic), so the floats are the engine's,
bit for bit, with no loops, lists or calls per neuron. Networks it does not cover (softmax, the
sequential order) use the loop kernel.

For a small network (FUSE_LIMIT), `epochs_source` goes further: one function runs a whole chunk
of epochs, every batch, sample, optimizer stage and the E_total written out (FusedKernel), so a
loop over epochs costs about what the same epoch written by hand costs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from backprop_cli.kernels.base import largest, optimizer_update
from backprop_cli.ops import ACTIVATIONS, LOSSES, SOURCE, Expr, OutputLogs, stage_lines
from backprop_cli.ops.vocab import compile_function
from backprop_cli.specs.model import Spec, batches
from backprop_cli.specs.state import State


def supports(spec: Spec, order: str) -> bool:
    """Whether straight-line code covers this network and update order."""
    if not all(ACTIVATIONS[layer.activation].elementwise for layer in spec.layers):
        return False
    # The sequential order updates a layer in the middle of the backward pass.
    return not (order == "sequential" and any(len(b) == 1 for b in batches(spec)))


def _sum(terms: Sequence[str]) -> str:
    return "(" + " + ".join(["0.0", *terms]) + ")"


class _Writer:
    """Lines of straight-line code for one network, from the catalogue's entries (SOURCE).

    Parameters are q0, q1, ... (spec.parameters() order). A sample's values carry a suffix, so
    that several samples' forward passes can live side by side: n{k}_{j}{sfx}, o{k}_{j}{sfx}.
    With round_to, every value the engine records (and uses again) is its own variable, rounded
    to that many decimals when finite, as `engine.step(spec, round_to=N)` computes (`--round`).
    """

    def __init__(self, spec: Spec, trainable: Sequence[int], round_to: int | None) -> None:
        self.spec, self.trainable, self.round_to = spec, trainable, round_to
        self.params = spec.parameters()
        self.index = {(p.layer, p.neuron, p.input, p.kind): k for k, p in enumerate(self.params)}
        self.L = len(spec.layers) - 1
        self.n_out = spec.layers[-1].size
        self.loss = LOSSES[spec.loss]

    def rnd(self, var: str) -> list[str]:
        """The line that rounds var as the engine's recorder does (x − x is 0 when finite)."""
        if self.round_to is None:
            return []
        return [f"if {var} - {var} == 0.0: {var} = round({var}, {self.round_to})"]

    def weight(self, k: int, j: int, i: int) -> str:
        return f"q{self.index[(k, j, i, 'weight')]}"

    def bias(self, k: int, j: int) -> str | None:
        layer = self.spec.layers[k]
        if layer.bias is None:
            return None
        key = (k, None, None, "bias") if layer.bias_shared else (k, j, None, "bias")
        return f"q{self.index[key]}"

    def values(self, sfx: str) -> list[str]:
        """Names of every net and out, layer by layer (nets first)."""
        names = []
        for k, layer in enumerate(self.spec.layers):
            names += [f"n{k}_{j}{sfx}" for j in range(layer.size)]
            names += [f"o{k}_{j}{sfx}" for j in range(layer.size)]
        return names

    def forward(self, xs: Sequence[str], sfx: str) -> list[str]:
        """The forward pass of the sample whose inputs are named xs."""
        lines = []
        inputs = list(xs)
        for k, layer in enumerate(self.spec.layers):
            act = ACTIVATIONS[layer.activation]
            for j in range(layer.size):
                terms = [f"{self.weight(k, j, i)} * {s}" for i, s in enumerate(inputs)]
                b = self.bias(k, j)
                if b is not None:
                    terms.append(b)
                net, out = f"n{k}_{j}{sfx}", f"o{k}_{j}{sfx}"
                lines += [f"{net} = {_sum(terms)}", *self.rnd(net)]
                lines += [f"{out} = {act.value(SOURCE, Expr(net), layer.alpha)}", *self.rnd(out)]
            inputs = [f"o{k}_{j}{sfx}" for j in range(layer.size)]
        return lines

    def _outputs(self, ts: Sequence[str], sfx: str) -> tuple[list[Expr], list[Expr], list[Expr]]:
        L, n = self.L, self.n_out
        nets = [Expr(f"n{L}_{j}{sfx}") for j in range(n)]
        outs = [Expr(f"o{L}_{j}{sfx}") for j in range(n)]
        return nets, outs, [Expr(t) for t in ts]

    def sample_loss(self, ts: Sequence[str], sfx: str, var: str) -> list[str]:
        """Lines that set var to the sample's E_total (targets named ts)."""
        spec, n = self.spec, self.n_out
        nets, outs, targets = self._outputs(ts, sfx)
        logs = OutputLogs(SOURCE, ACTIVATIONS[spec.layers[self.L].activation], nets)
        errors = [
            str(
                self.loss.value(
                    SOURCE, targets[j], outs[j], n, logs.out(j), logs.one_minus(j), spec.loss_hyper
                )
            )
            for j in range(n)
        ]
        if self.round_to is None:
            return [f"{var} = {_sum(errors)}"]
        lines = []
        for j, e in enumerate(errors):
            lines += [f"e{j} = {e}", *self.rnd(f"e{j}")]
        return [*lines, f"{var} = {_sum([f'e{j}' for j in range(n)])}", *self.rnd(var)]

    def backward(
        self, xs: Sequence[str], ts: Sequence[str], sfx: str
    ) -> tuple[list[str], list[str]]:
        """(lines, gradient of each trainable parameter): the deltas d{k}_{j} of the sample whose
        forward values carry sfx, then dE/dθ as expressions (rounded: variables r0, r1, ...)."""
        spec, L, n_out = self.spec, self.L, self.n_out
        out = spec.layers[L]
        out_act = ACTIVATIONS[out.activation]
        nets, outs, targets = self._outputs(ts, sfx)
        lines: list[str] = []
        fused = self.loss.fused.get(out.activation)
        for j in range(n_out):
            if fused is not None:
                delta = fused.value(SOURCE, j, nets, outs, targets, n_out)
            else:  # the engine's loss gradient, then the activation's delta
                g = self.loss.grad(SOURCE, targets[j], outs[j], n_out, spec.loss_hyper)
                if self.round_to is not None:  # dE_total/dout, rounded before the delta uses it
                    lines += [f"go{j} = {g}", *self.rnd(f"go{j}")]
                    g = Expr(f"go{j}")
                delta = out_act.delta(SOURCE, g, nets[j], outs[j], out.alpha)
            lines += [f"d{L}_{j} = {delta}", *self.rnd(f"d{L}_{j}")]
        for k in range(L - 1, -1, -1):
            layer, above = spec.layers[k], spec.layers[k + 1]
            act = ACTIVATIONS[layer.activation]
            for j in range(layer.size):
                parts = [f"d{k + 1}_{m} * {self.weight(k + 1, m, j)}" for m in range(above.size)]
                if self.round_to is not None:  # each weight (dnet/dout), part and sum rounded
                    for m in range(above.size):
                        lines += [f"wr = {self.weight(k + 1, m, j)}", *self.rnd("wr")]
                        lines += [f"a{m} = d{k + 1}_{m} * wr", *self.rnd(f"a{m}")]
                    lines += [f"s = {_sum([f'a{m}' for m in range(above.size)])}", *self.rnd("s")]
                    total = Expr("s")
                else:
                    total = Expr(_sum(parts))
                n, o = Expr(f"n{k}_{j}{sfx}"), Expr(f"o{k}_{j}{sfx}")
                lines.append(f"d{k}_{j} = {act.delta(SOURCE, total, n, o, layer.alpha)}")
                lines += self.rnd(f"d{k}_{j}")
        grads = []
        for idx in self.trainable:
            p = self.params[idx]
            if p.kind == "weight":
                assert p.neuron is not None and p.input is not None
                src = xs[p.input] if p.layer == 0 else f"o{p.layer - 1}_{p.input}{sfx}"
                grads.append(f"d{p.layer}_{p.neuron} * {src}")
            elif p.neuron is not None:
                grads.append(f"d{p.layer}_{p.neuron}")
            else:
                size = spec.layers[p.layer].size
                grads.append(_sum([f"d{p.layer}_{j}" for j in range(size)]))
        if self.round_to is not None:  # each gradient rounded (a neuron's bias's: delta · 1)
            for idx, expr in enumerate(grads):
                lines += [f"r{idx} = {expr}", *self.rnd(f"r{idx}")]
            grads = [f"r{idx}" for idx in range(len(grads))]
        return lines, grads


def source(
    spec: Spec, trainable: Sequence[int], round_to: int | None = None
) -> dict[str, tuple[list[str], list[str]]]:
    """(parameters, body lines) of fwd(p, x), loss(f, tg) and grad(p, x, f, tg), rounding as
    _Writer says."""
    w = _Writer(spec, trainable, round_to)
    qs = ", ".join(f"q{k}" for k in range(len(w.params))) + ","
    xs = [f"i{i}" for i in range(len(spec.inputs))]
    ts = [f"t{j}" for j in range(w.n_out)]
    unpack = ", ".join(w.values("")) + ","
    head = [f"{qs} = p", f"{', '.join(xs)}, = x"]
    fwd = [*head, *w.forward(xs, ""), f"return ({unpack})"]
    loss = [f"{unpack} = f", f"{', '.join(ts)}, = tg", *w.sample_loss(ts, "", "e"), "return e"]
    lines, grads = w.backward(xs, ts, "")
    grad = [*head, f"{unpack} = f", f"{', '.join(ts)}, = tg", *lines]
    grad.append(f"return ({', '.join(grads)},)")
    return {
        "fwd": (["p", "x"], fwd),
        "loss": (["f", "tg"], loss),
        "grad": (["p", "x", "f", "tg"], grad),
    }


# Above about this many lines the epoch function stops paying for a run of a few hundred epochs:
# compiling takes some 30 µs a line (benchmarks/crossover.py's set-up column), 60 ms here.
FUSE_LIMIT = 2_000


def fused_size(spec: Spec) -> int:
    """About how many lines `epochs_source` writes: each sample's forward and backward pass and
    each update's stages are a few lines per parameter."""
    return len(spec.parameters()) * (2 * len(spec.samples) + len(batches(spec)))


def epochs_source(
    spec: Spec, trainable: Sequence[int], state: State, round_to: int | None = None
) -> tuple[list[str], list[str]]:
    """(parameters, body lines) of `epochs(P, S, t, n, losses, X)`: n epochs in one function, the
    epoch written out in full: every batch's gradients (sample by sample), its optimizer stages
    on every trained parameter, then the forward pass and E_total over all samples, appended to
    losses; it stops after a non-finite E_total. P holds the parameters, S each slot's values of
    the trained ones, X every sample's inputs and targets; it returns (P, S, t) after the last
    epoch run. The same floats as CompiledKernel.epoch, operation for operation; the first batch
    of an epoch reuses the forward pass of the evaluation before it (same parameters, same
    values)."""
    w = _Writer(spec, trainable, round_to)
    rule, constants = state.rule, state.constants()
    n_in, n_out, N = len(spec.inputs), w.n_out, len(spec.samples)
    groups = batches(spec)
    first = set(groups[0])
    mean = spec.training.reduction == "mean"

    def xs(s: int) -> list[str]:
        return [f"x{i}_{s}" for i in range(n_in)]

    def ts(s: int) -> list[str]:
        return [f"y{j}_{s}" for j in range(n_out)]

    def sfx(s: int, cached: bool) -> str:
        return f"_{s}" if cached else ""

    def slot_names(slot: str) -> list[str]:
        return [f"{slot}_{i}" for i in trainable]

    qs = ", ".join(f"q{k}" for k in range(len(w.params))) + ","
    data = [name for s in range(N) for name in (*xs(s), *ts(s))]
    lines = [f"{qs} = P", f"{', '.join(data)}, = X", "append = losses.append"]
    if trainable:
        lines += [f"{', '.join(slot_names(slot))}, = S[{a}]" for a, slot in enumerate(rule.slots)]
    for s in groups[0]:
        lines += w.forward(xs(s), sfx(s, True))
    body: list[str] = []
    for u, batch in enumerate(groups):
        body.append("t += 1")
        for pos, s in enumerate(batch):
            if u > 0:
                body += w.forward(xs(s), "")
            backward, grads = w.backward(xs(s), ts(s), sfx(s, u == 0))
            body += backward
            for i, expr in zip(trainable, grads, strict=True):
                if len(batch) == 1:
                    body.append(f"g{i} = {expr}")
                else:  # summed left to right from 0.0, as CompiledKernel.epoch does
                    body.append(f"g{i} = 0.0 + {expr}" if pos == 0 else f"g{i} += {expr}")
        if len(batch) > 1:
            for i in trainable:
                if mean:
                    body.append(f"g{i} = g{i} / {len(batch)}")
                body += w.rnd(f"g{i}")
        for i in trainable:
            names = {"w": f"q{i}", "g": f"g{i}", **{slot: f"{slot}_{i}" for slot in rule.slots}}
            body += stage_lines(rule, constants, names, round_to)
    if N == 1:  # 0.0 + e is e (a sum from 0.0 is never -0.0), and so is e / 1
        body += w.forward(xs(0), sfx(0, True))
        body += w.sample_loss(ts(0), sfx(0, True), "E")
    else:
        body.append("E = 0.0")
        for s in range(N):
            body += w.forward(xs(s), sfx(s, s in first))
            body += w.sample_loss(ts(s), sfx(s, s in first), "e")
            body.append("E += e")
        if mean:
            body.append(f"E = E / {N}")
    body += w.rnd("E")
    body += ["append(E)", "if E - E != 0.0:", "    break"]
    lines.append("for _ in range(n):")
    lines += [f"    {line}" for line in body]
    slots = "".join(f"({', '.join(slot_names(slot))},), " for slot in rule.slots)
    lines.append(f"return ({qs}), ({slots}), t")
    return ["P", "S", "t", "n", "losses", "X"], lines


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

    def largest(self) -> tuple[float, float]:
        """The largest |parameter| and |slot value| (NaN if one is NaN)."""
        return largest([self.p]), largest(self.S.values())

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


def fuses(spec: Spec, order: str) -> bool:
    """Whether the network gets one function for a whole run of epochs (FusedKernel)."""
    return supports(spec, order) and fused_size(spec) <= FUSE_LIMIT


class FusedKernel(CompiledKernel):
    """The compiled kernel with its epochs in one generated function (`epochs_source`): no call,
    list or record per sample or per parameter, only the floats. `epochs(n, losses)` runs them;
    `epoch()` (one at a time) is CompiledKernel's, the same floats."""

    def __init__(self, spec: Spec, order: str, state: State, round_to: int | None = None) -> None:
        super().__init__(spec, order, state, round_to)
        params, lines = epochs_source(spec, self.trainable, state, round_to)
        self.run = compile_function("epochs", params, lines)
        self.X = tuple(v for x, tg in self.samples for v in (*x, *tg))

    def epochs(self, n: int, losses: list[float]) -> None:
        """Up to n epochs, each one's E_total appended to losses; it stops after a non-finite
        one. An exception leaves the kernel as it was: the caller sees in losses how many epochs
        ran and may run them again (the same floats)."""
        p, S, t = self.run(self.p, tuple(self.S.values()), self.state.t, n, losses, self.X)
        self.p, self.state.t = list(p), t
        self.S = dict(zip(self.S, map(list, S), strict=True))
        self.cache = None
