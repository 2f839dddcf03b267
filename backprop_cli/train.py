"""Training: the epoch loop, as a generator of epoch records, on a fast kernel that records nothing.

Two kernels compute the same training:
  - `_PyKernel`, plain floats and lists, for small networks. Its per-sample arithmetic follows
    engine.py operation by operation (sums left to right from 0.0, delta = dE/dout·out·(1 − out)
    for the logistic, the same optimizer functions), so 1 epoch equals `backprop step` bit for bit.
  - `_NpKernel`, numpy matrices, for large ones (the `fast` extra). Its sums run in a different
    order, so it agrees with the engine to rounding (about 1e-15 relative), not bit for bit.
The kernel is chosen from the network's size alone, so a resumed run takes the path the first
run took and stays bit-exact.

An epoch is one pass over the samples in the configured mode; its E_total is the loss over all
samples after the epoch's updates, as the post reports it.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple

from . import optim
from .engine import (
    Names,
    _loss_term,
    batches,
    dataset_loss,
    forward_values,
    initial_values,
    step,
)
from .functions import ACTIVATIONS, LOSSES, SOFTMAX, log_softmax, softmax, softmax_bce_delta
from .spec import Spec
from .stopping import StopRequests

# Above this many multiply-adds per epoch (parameters × samples) numpy beats plain floats.
NUMPY_THRESHOLD = 20_000
KERNELS = ("auto", "python", "numpy")  # python: compiled straight-line code when it applies


class Epoch(NamedTuple):
    """One finished epoch: its number (counted from the very first run) and E_total after it."""

    epoch: int
    E_total: float


def work(spec: Spec) -> int:
    """Multiply-adds per epoch, roughly: the size the kernel is chosen by."""
    return len(spec.parameters()) * len(spec.samples)


def choose_kernel(spec: Spec, kernel: str = "auto") -> str:
    """'python' or 'numpy': by size alone (numpy only when it is installed)."""
    if kernel == "numpy":
        import numpy
    if kernel != "auto":
        return "python" if kernel == "loops" else kernel
    if work(spec) < NUMPY_THRESHOLD:
        return "python"
    try:
        import numpy  # noqa: F401
    except ImportError:
        return "python"
    return "numpy"


class Trainer:
    """Trains a spec epoch by epoch; holds the parameters, optimizer state and epoch count."""

    def __init__(
        self,
        spec: Spec,
        *,
        update_order: str | None = None,
        kernel: str = "auto",
        round_to: int | None = None,
    ):
        self.spec = spec
        self.order = update_order or spec.training.update_order
        self.state = optim.State.of(spec.training)
        self.epochs_done = spec.training.epochs_done
        self.kernel_name = "engine" if round_to is not None else choose_kernel(spec, kernel)
        if round_to is not None:
            self.kernel: Kernel = RoundKernel(spec, self.order, self.state, round_to)
        elif self.kernel_name == "numpy":
            from ._npkernel import NpKernel

            self.kernel = NpKernel(spec, self.order, self.state)
        else:
            from . import _compiled

            # "loops" (tests only) forces the loop kernel where compiled code would apply.
            if kernel != "loops" and _compiled.supports(spec, self.order):
                self.kernel = _compiled.CompiledKernel(spec, self.order, self.state)
            else:
                self.kernel = PyKernel(spec, self.order, self.state)
        self.loss_before = self.loss = self.kernel.evaluate()

    def run(self, epochs: int, stop: StopRequests | None = None) -> Iterator[Epoch]:
        """Train up to `epochs` epochs, yielding each; stop after a non-finite E_total.

        After a non-finite E_total the parameters and state are put back as they were after the
        last finite epoch (`diverged_at` says which epoch failed). With `stop`, a stop request
        ends the run between epochs, and an interrupt inside an epoch undoes that epoch and ends
        it; an epoch is counted only with its state (stopping.py).
        """
        self.diverged_at: int | None = None
        for _ in range(epochs):
            if stop is not None and stop.stopped:
                return
            keep = self.kernel.snapshot()
            try:
                try:
                    if stop is not None:
                        stop.abortable = True
                    loss = self.kernel.epoch()
                except (ArithmeticError, ValueError):
                    # Python floats raise where numpy gives inf: x**2 overflowing, log(0), 1/0.
                    loss = math.nan
                if stop is not None:
                    stop.abortable = False  # from here on a signal is only noted
            except KeyboardInterrupt:
                # Interrupted mid-epoch: go back to the end of the last whole epoch.
                if stop is None:
                    self.kernel.restore(keep)
                    raise
                stop.abortable = False
                self.kernel.restore(keep)
                stop.request()
                return
            if not math.isfinite(loss):
                self.kernel.restore(keep)
                self.diverged_at = self.epochs_done + 1
                return
            self.epochs_done += 1
            self.loss = loss
            yield Epoch(self.epochs_done, loss)

    def parameters(self) -> dict[str, float]:
        """Every parameter by id, in the post's order."""
        return self.kernel.parameters()

    def outputs(self) -> list[list[float]]:
        """The network's outputs for every sample, with the current parameters."""
        return self.kernel.outputs()

    def summary(self, epochs: int, status: str) -> dict[str, Any]:
        """The `summary` record of docs/train-format.md (JSON-ready: finite floats only)."""
        return {
            "type": "summary",
            "epochs": epochs,
            "epochs_done": self.epochs_done,
            "status": status,
            "E_total_before": self.loss_before,
            "E_total": self.loss,
            "parameters": self.parameters(),
            "outputs": self.outputs(),
        }

    def trained_spec(self) -> Spec:
        """The spec with the trained parameters and optimizer state (what --save writes)."""
        order = [p.id for p in self.spec.parameters()]
        self.state.slots = {
            name: {pid: v[pid] for pid in order if pid in v}
            for name, v in self.kernel.slots().items()
        }
        return optim.with_state(self.spec, self.parameters(), self.state, self.epochs_done)


def parameter_values(
    spec: Spec, names: Names, W: Sequence[Any], B: Sequence[Any]
) -> dict[str, float]:
    """Parameters by id from weights W[k][j][i] and biases B[k] (one value when shared)."""
    values: dict[str, float] = {}
    for k, layer in enumerate(spec.layers):
        for j, row in enumerate(names.weight[k]):
            for i, pid in enumerate(row):
                values[pid] = float(W[k][j][i])
        b = B[k]
        if b is not None:
            for j, bid in enumerate(names.bias[k]):
                assert bid is not None
                values[bid] = float(b[0] if layer.bias_shared else b[j])
    return {p.id: values[p.id] for p in spec.parameters()}


class Kernel:
    """What both kernels provide."""

    def evaluate(self) -> float:
        raise NotImplementedError

    def epoch(self) -> float:
        raise NotImplementedError

    def snapshot(self) -> Any:
        raise NotImplementedError

    def restore(self, snap: Any) -> None:
        raise NotImplementedError

    def parameters(self) -> dict[str, float]:
        raise NotImplementedError

    def slots(self) -> dict[str, dict[str, float]]:
        raise NotImplementedError

    def outputs(self) -> list[list[float]]:
        raise NotImplementedError


class LayerKernel(Kernel):
    """A kernel that trains layer by layer: what it knows of the network, from the spec."""

    def __init__(self, spec: Spec, order: str, state: optim.State) -> None:
        self.spec, self.state = spec, state
        self.names = Names.of(spec)
        self.L = len(spec.layers) - 1
        self.acts = [layer.activation for layer in spec.layers]
        self.alphas = [layer.alpha for layer in spec.layers]
        self.shared = [layer.bias_shared for layer in spec.layers]
        self.mean = spec.training.reduction == "mean"
        self.sequential = order == "sequential"


class RoundKernel(Kernel):
    """The recording engine, epoch by epoch, every intermediate rounded to `round_to` decimals:
    training as a person with a calculator would do it (slow, and meant to be)."""

    def __init__(self, spec: Spec, order: str, state: optim.State, round_to: int) -> None:
        self.spec, self.order, self.state, self.round_to = spec, order, state, round_to
        self.params = initial_values(spec)

    def evaluate(self) -> float:
        return dataset_loss(self.spec, self.params, self.round_to)

    def epoch(self) -> float:
        spec = self.spec.with_parameters(self.params)
        trace = step(spec, update_order=self.order, round_to=self.round_to, state=self.state)
        self.params = dict(trace.updated)
        return trace.steps[-1].value  # E_total after the epoch, rounded as written down

    def snapshot(self) -> Any:
        slots = {s: dict(v) for s, v in self.state.slots.items()}
        return dict(self.params), slots, self.state.t

    def restore(self, snap: Any) -> None:
        self.params, self.state.slots, self.state.t = snap

    def parameters(self) -> dict[str, float]:
        return dict(self.params)

    def slots(self) -> dict[str, dict[str, float]]:
        return {s: dict(v) for s, v in self.state.slots.items()}

    def outputs(self) -> list[list[float]]:
        return [forward_values(self.spec, self.params, s.inputs)[-1] for s in self.spec.samples]


class Curve:
    """E_total by epoch in at most `cap` points: when full, every other point goes and the
    stride doubles, so memory stays flat however many epochs run."""

    def __init__(self, cap: int = 1024) -> None:
        self.cap, self.stride = cap, 1
        self.points: list[tuple[int, float]] = []
        self.last: tuple[int, float] | None = None

    def add(self, epoch: int, loss: float) -> None:
        self.last = (epoch, loss)
        if epoch % self.stride:
            return
        self.points.append((epoch, loss))
        if len(self.points) >= self.cap:
            self.stride *= 2
            self.points = [p for p in self.points if p[0] % self.stride == 0 or p is self.points[0]]

    def all(self) -> list[tuple[int, float]]:
        """The kept points, always with the last epoch."""
        if self.last is not None and (not self.points or self.points[-1] != self.last):
            return [*self.points, self.last]
        return list(self.points)


# A layer's trainable numbers as rows: one row per neuron's weights, then the bias row (per-neuron
# biases, or the one shared bias) when biases are trained.
Rows = list[list[float]]


class PyKernel(LayerKernel):
    """Plain-float training in the engine's order of operations."""

    def __init__(self, spec: Spec, order: str, state: optim.State) -> None:
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
        self.loss_name = spec.loss
        self.n_out = spec.layers[-1].size
        # Optimizer slots, laid out as the parameters are: S[slot][k] is a list of rows.
        self.S: dict[str, list[Rows]] = {}
        for slot in state.slots:
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

    def snapshot(self) -> Any:
        copy = [[row[:] for row in w] for w in self.W]
        bias = [None if b is None else b[:] for b in self.B]
        slots = {s: [[row[:] for row in rows] for rows in v] for s, v in self.S.items()}
        return copy, bias, slots, self.state.t

    def restore(self, snap: Any) -> None:
        self.W, self.B, self.S, self.state.t = snap
        self.cache = None

    # --- arithmetic ---------------------------------------------------------------------------

    def forward(self, x: Sequence[float]) -> tuple[list[list[float]], list[list[float]]]:
        """nets and outs of every layer (engine._Pass.forward without the recording)."""
        nets_all, outs_all = [], []
        prev = x
        exp = math.exp
        for k, rows in enumerate(self.W):
            b = self.B[k]
            nets = []
            for j, row in enumerate(rows):
                total = 0.0
                for w, xi in zip(row, prev, strict=True):
                    total += w * xi
                if b is not None:
                    total += b[0] if self.shared[k] else b[j]
                nets.append(total)
            act = self.acts[k]
            if act == "sigmoid":
                outs = []
                for net in nets:
                    if net >= 0:
                        outs.append(1.0 / (1.0 + exp(-net)))
                    else:
                        z = exp(net)
                        outs.append(z / (1.0 + z))
            elif act == SOFTMAX:
                outs = softmax(nets)
            else:
                f, a = ACTIVATIONS[act].f, self.alphas[k]
                outs = [f(net, a) for net in nets]
            nets_all.append(nets)
            outs_all.append(outs)
            prev = outs
        return nets_all, outs_all

    def sample_loss(self, nets: list[float], outs: list[float], targets: Sequence[float]) -> float:
        """E_total of one sample (engine._Pass.loss)."""
        total = 0.0
        if self.loss_name == "half_sse":
            for t, o in zip(targets, outs, strict=True):
                total += 0.5 * (t - o) ** 2
            return total
        log_outs = log_softmax(nets) if self.loss_name == "cross_entropy" else None
        for j, (t, o) in enumerate(zip(targets, outs, strict=True)):
            total += _loss_term(self.loss_name, t, o, nets[j], self.n_out, log_outs, j)
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
        loss, act, n = self.loss_name, self.acts[self.L], self.n_out
        if act == SOFTMAX:
            if loss == "cross_entropy":
                return [o - t for o, t in zip(outs, targets, strict=True)]
            if loss == "binary_cross_entropy":  # the engine's stable form, bit for bit
                return [softmax_bce_delta(j, nets, outs, targets) for j in range(n)]
            df = LOSSES[loss].df
            g = [df(t, o, n) for t, o in zip(targets, outs, strict=True)]
            deltas = []
            for j in range(n):
                value = 0.0
                for i in range(n):
                    jac = outs[i] * (1.0 - outs[i]) if i == j else -outs[i] * outs[j]
                    value += g[i] * jac
                deltas.append(value)
            return deltas
        if loss == "binary_cross_entropy" and act == "sigmoid":
            return [(o - t) / n for o, t in zip(outs, targets, strict=True)]
        if loss == "half_sse" and act == "sigmoid":
            return [-(t - o) * o * (1.0 - o) for t, o in zip(targets, outs, strict=True)]
        df, a = LOSSES[loss].df, ACTIVATIONS[act]
        alpha = self.alphas[self.L]
        return [
            a.delta(df(t, o, n), net, o, alpha)
            for t, o, net in zip(targets, outs, nets, strict=True)
        ]

    def _hidden_deltas(
        self, k: int, upper: list[float], nets: list[float], outs: list[float]
    ) -> list[float]:
        above = self.W[k + 1]
        act = self.acts[k]
        deltas = []
        for j, o in enumerate(outs):
            total = 0.0
            for m, d in enumerate(upper):
                total += d * above[m][j]
            if act == "sigmoid":
                deltas.append(total * o * (1.0 - o))
            else:
                deltas.append(ACTIVATIONS[act].delta(total, nets[j], o, self.alphas[k]))
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
        """Apply the optimizer to layer k in place (optim.py, element by element)."""
        st = self.state
        rows = self._rows(k)
        lr = st.lr
        if st.name == "sgd":
            sgd = optim.sgd
            for row, grow in zip(rows, grads, strict=True):
                for i, g in enumerate(grow):
                    row[i] = sgd(row[i], g, lr)
        elif st.name in ("momentum", "nesterov"):
            mu, vel = st.momentum, optim.velocity
            step = optim.momentum_step
            for row, grow, vrow in zip(rows, grads, self.S["velocity"][k], strict=True):
                for i, g in enumerate(grow):
                    v = vrow[i] = vel(vrow[i], g, mu)
                    if st.name == "momentum":
                        row[i] = step(row[i], v, lr)
                    else:
                        row[i] = optim.nesterov_step(row[i], g, v, lr, mu)
        else:
            b1, b2, eps, t = st.beta1, st.beta2, st.eps, st.t
            c = optim.corrected
            for row, grow, mrow, vrow in zip(
                rows, grads, self.S["m"][k], self.S["v"][k], strict=True
            ):
                for i, g in enumerate(grow):
                    m = mrow[i] = optim.first_moment(mrow[i], g, b1)
                    v = vrow[i] = optim.second_moment(vrow[i], g, b2)
                    row[i] = optim.adam_step(row[i], c(m, b1, t), c(v, b2, t), lr, eps)

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
