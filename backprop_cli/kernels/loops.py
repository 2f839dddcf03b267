"""The loop kernel: plain floats and lists, in the engine's order of operations.

Its per-sample arithmetic follows engine.py operation by operation (sums left to right from 0.0,
the catalogue's value, delta and update stages on floats), so 1 epoch equals `backprop step` bit
for bit. It covers every network; the compiled kernel is quicker where it applies.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from backprop_cli.kernels.base import (
    LayerKernel,
    largest,
    optimizer_update,
    parameter_values,
    scalar_function,
)
from backprop_cli.ops import FLOATS, SOURCE, Expr, OutputLogs
from backprop_cli.ops.activations import softmax_jacobian
from backprop_cli.specs.model import Spec, batches
from backprop_cli.specs.state import State

# A layer's trainable numbers as rows: one row per neuron's weights, then the bias row (per-neuron
# biases, or the one shared bias) when biases are trained.
Rows = list[list[float]]


class LoopKernel(LayerKernel):
    """Plain-float training in the engine's order of operations."""

    def __init__(self, spec: Spec, order: str, state: State) -> None:
        super().__init__(spec, order, state)
        t = spec.training
        self.W: list[Rows] = [[list(row) for row in layer.weights] for layer in spec.layers]
        # Bias of neuron j of layer k is B[k][0] when shared, B[k][j] otherwise; None: no bias.
        self.B: list[list[float] | None] = [
            None if layer.bias is None else list(layer.bias) for layer in spec.layers
        ]
        self.train_bias = [t.update_biases and b is not None for b in self.B]
        self.batches = batches(spec)
        self.samples = [(list(s.inputs), list(s.targets)) for s in spec.samples]
        self.update = optimizer_update(state)
        # The catalogue's scalar arithmetic compiled once per layer (α and the loss's n and
        # hyper-parameters written in); softmax layers keep their list functions.
        g, net, out = Expr("g"), Expr("net"), Expr("out")
        self.f: list[Callable[..., float] | None] = []
        self.df: list[Callable[..., float] | None] = []
        for act, a in zip(self.acts, self.alphas, strict=True):
            if not act.elementwise:
                self.f.append(None)
                self.df.append(None)
                continue
            self.f.append(scalar_function("f", ["net"], act.value(SOURCE, net, a)))
            delta = act.delta(SOURCE, g, net, out, a)
            self.df.append(scalar_function("df", ["g", "net", "out"], delta))
        tg, o, n, hyper = Expr("t"), Expr("o"), self.n_out, spec.loss_hyper
        logs = (lambda: Expr("lo()"), lambda: Expr("l1()"))
        loss = self.loss.value(SOURCE, tg, o, n, *logs, hyper)
        self.E = scalar_function("E", ["t", "o", "lo", "l1"], loss)
        self.dE = scalar_function("dE", ["t", "o"], self.loss.grad(SOURCE, tg, o, n, hyper))
        # Optimizer slots, laid out as the parameters are: S[slot][k] is a list of rows.
        self.S: dict[str, list[Rows]] = {}
        for slot in state.rule.slots:
            self.S[slot] = [
                [[state.slot(slot, pid) for pid in row] for row in self._ids(k)]
                for k in range(self.L + 1)
            ]
        self.cache: list[tuple[list[list[float]], list[list[float]]]] | None = None

    # --- layout -----------------------------------------------------------------------------

    def _ids(self, k: int) -> list[list[str]]:
        """Parameter ids of layer k laid out as its rows."""
        rows = [list(r) for r in self.names.weight[k]]
        if self.train_bias[k]:
            b = self.names.bias[k]
            ids = [x for x in b if x is not None]
            rows.append(ids[:1] if self.shared[k] else ids)
        return rows

    def _rows(self, k: int) -> Rows:
        rows = list(self.W[k])
        if self.train_bias[k]:
            b = self.B[k]
            assert b is not None
            rows.append(b)
        return rows

    def parameters(self) -> dict[str, float]:
        return parameter_values(self.spec, self.names, self.W, self.B)

    def slots(self) -> dict[str, dict[str, float]]:
        out: dict[str, dict[str, float]] = {}
        for slot, layers in self.S.items():
            d: dict[str, float] = {}
            for k, rows in enumerate(layers):
                for ids, values in zip(self._ids(k), rows, strict=True):
                    d.update(zip(ids, values, strict=True))
            out[slot] = d
        return out

    def largest(self) -> tuple[float, float]:
        """The largest |parameter| and |slot value| (NaN if one is NaN)."""
        params = [row for w in self.W for row in w] + [b for b in self.B if b is not None]
        return largest(params), largest(row for v in self.S.values() for rows in v for row in rows)

    def snapshot(self) -> Any:
        copy = [[row[:] for row in w] for w in self.W]
        bias = [None if b is None else b[:] for b in self.B]
        slots = {s: [[row[:] for row in rows] for rows in v] for s, v in self.S.items()}
        return copy, bias, slots, self.state.t

    def restore(self, snap: Any) -> None:
        self.W, self.B, self.S, self.state.t = snap
        self.cache = None

    # --- arithmetic ---------------------------------------------------------------------------

    def layer_nets(self, k: int, prev: Sequence[float]) -> list[float]:
        """net of every neuron of layer k: Σ w·x left to right from 0.0, then the bias."""
        b = self.B[k]
        nets = []
        for j, row in enumerate(self.W[k]):
            total = 0.0
            for w, xi in zip(row, prev, strict=True):
                total += w * xi
            if b is not None:
                total += b[0] if self.shared[k] else b[j]
            nets.append(total)
        return nets

    def forward(self, x: Sequence[float]) -> tuple[list[list[float]], list[list[float]]]:
        """nets and outs of every layer (engine._Pass.forward without the recording)."""
        nets_all, outs_all = [], []
        prev = x
        for k in range(self.L + 1):
            nets = self.layer_nets(k, prev)
            f = self.f[k]
            outs = (
                [f(net) for net in nets] if f is not None else self.acts[k].layer(FLOATS, nets, 0.0)
            )
            nets_all.append(nets)
            outs_all.append(outs)
            prev = outs
        return nets_all, outs_all

    def sample_loss(self, nets: list[float], outs: list[float], targets: Sequence[float]) -> float:
        """E_total of one sample (engine._Pass.loss)."""
        logs = OutputLogs(FLOATS, self.acts[self.L], nets)
        E, total = self.E, 0.0
        for j, (t, o) in enumerate(zip(targets, outs, strict=True)):
            total += E(t, o, logs.out(j), logs.one_minus(j))
        return total

    def evaluate(self) -> float:
        """E_total over all samples; keeps the forward passes for the next epoch's first update."""
        cache = [self.forward(x) for x, _ in self.samples]
        total = 0.0
        for (nets, outs), (_, targets) in zip(cache, self.samples, strict=True):
            total += self.sample_loss(nets[-1], outs[-1], targets)
        self.cache = cache
        return total / len(self.samples) if self.mean else total

    def outputs(self) -> list[list[float]]:
        return [self.forward(x)[1][-1] for x, _ in self.samples]

    def _output_deltas(
        self, nets: list[float], outs: list[float], targets: Sequence[float]
    ) -> list[float]:
        act, n = self.acts[self.L], self.n_out
        if self.fused is not None:
            return [self.fused.value(FLOATS, j, nets, outs, targets, n) for j in range(n)]
        dE = self.dE
        g = [dE(t, o) for t, o in zip(targets, outs, strict=True)]
        if not act.elementwise:
            deltas = []
            for j in range(n):
                value = 0.0
                for i in range(n):
                    value += g[i] * softmax_jacobian(outs, i, j)
                deltas.append(value)
            return deltas
        df = self.df[self.L]
        assert df is not None
        return [df(gj, net, o) for gj, net, o in zip(g, nets, outs, strict=True)]

    def _hidden_deltas(
        self, k: int, upper: list[float], nets: list[float], outs: list[float]
    ) -> list[float]:
        above = self.W[k + 1]
        df = self.df[k]
        assert df is not None  # hidden layers are elementwise
        deltas = []
        for j, o in enumerate(outs):
            total = 0.0
            for m, d in enumerate(upper):
                total += d * above[m][j]
            deltas.append(df(total, nets[j], o))
        return deltas

    def _layer_grads(self, k: int, deltas: list[float], xs: Sequence[float]) -> Rows:
        """dE/dθ for layer k, as its rows (engine._Pass.backward)."""
        grads = [[d * x for x in xs] for d in deltas]
        if self.train_bias[k]:
            if self.shared[k]:
                total = 0.0
                for d in deltas:
                    total += d
                grads.append([total])
            else:
                grads.append([d * 1 for d in deltas])
        return grads

    def backward(
        self,
        x: Sequence[float],
        nets: list[list[float]],
        outs: list[list[float]],
        targets: Sequence[float],
        update_now: bool,
    ) -> list[Rows]:
        """Gradients of one sample, layer by layer; with update_now, each layer is updated as
        soon as its gradients are known (the sequential order)."""
        grads: list[Rows] = [[] for _ in range(self.L + 1)]
        deltas = self._output_deltas(nets[self.L], outs[self.L], targets)
        for k in range(self.L, -1, -1):
            if k < self.L:
                deltas = self._hidden_deltas(k, deltas, nets[k], outs[k])
            grads[k] = self._layer_grads(k, deltas, x if k == 0 else outs[k - 1])
            if update_now:
                self.update_layer(k, grads[k])
        return grads

    def update_layer(self, k: int, grads: Rows) -> None:
        """Apply the optimizer to layer k in place, row by row."""
        update, t = self.update, self.state.t
        slots = [self.S[s][k] for s in self.state.rule.slots]
        for r, (row, grow) in enumerate(zip(self._rows(k), grads, strict=True)):
            update(row, grow, t, *(s[r] for s in slots))

    def epoch(self) -> float:
        """One pass over the samples; E_total after it."""
        cache = self.cache
        self.cache = None
        for u, batch in enumerate(self.batches):
            self.state.t += 1
            per_sample: list[list[Rows]] = []
            sequential = self.sequential and len(batch) == 1
            for s in batch:
                x, targets = self.samples[s]
                # The first update of an epoch sees the parameters the last evaluation saw.
                nets, outs = cache[s] if u == 0 and cache is not None else self.forward(x)
                per_sample.append(self.backward(x, nets, outs, targets, sequential))
            if sequential:
                continue
            grads = per_sample[0] if len(batch) == 1 else self._reduce(per_sample)
            for k in range(self.L, -1, -1):
                self.update_layer(k, grads[k])
        return self.evaluate()

    def _reduce(self, per_sample: list[list[Rows]]) -> list[Rows]:
        """The batch gradient: each parameter's sample gradients summed left to right (÷ N)."""
        n = len(per_sample)
        out: list[Rows] = []
        for k in range(self.L + 1):
            rows = []
            for r, row in enumerate(per_sample[0][k]):
                new = []
                for i in range(len(row)):
                    total = 0.0
                    for g in per_sample:
                        total += g[k][r][i]
                    new.append(total / n if self.mean else total)
                rows.append(new)
            out.append(rows)
        return out
