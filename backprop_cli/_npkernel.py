"""The numpy training kernel for large networks (the `fast` extra; imported only when chosen).

Same training as train.PyKernel, a batch at a time as matrices: net = X·Wᵀ + b. The optimizer
runs the functions of optim.py on whole arrays. Sums over samples and inputs run in numpy's
order, so results agree with the engine to rounding, not bit for bit.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from . import optim
from .engine import batches
from .spec import Spec
from .train import LayerKernel, parameter_values

Array = NDArray[np.float64]


class NpKernel(LayerKernel):
    """Matrix training: one layer is W (neurons × inputs) and b (neurons, or 1 when shared)."""

    def __init__(self, spec: Spec, order: str, state: optim.State) -> None:
        super().__init__(spec, order, state)
        t = spec.training
        self.W = [np.array(layer.weights, dtype=np.float64) for layer in spec.layers]
        self.B: list[Array | None] = [
            None if layer.bias is None else np.array(layer.bias, dtype=np.float64)
            for layer in spec.layers
        ]
        self.train_bias = [t.update_biases and b is not None for b in self.B]
        self.batches = [np.array(b) for b in batches(spec)]
        self.X = np.array([s.inputs for s in spec.samples], dtype=np.float64)
        self.T = np.array([s.targets for s in spec.samples], dtype=np.float64)
        self.loss = spec.loss
        self.n_out = float(spec.layers[-1].size)
        # S[slot][k] = (slot of W, slot of b or None)
        self.S: dict[str, list[tuple[Array, Array | None]]] = {}
        for slot in state.slots:
            layers = []
            for k in range(self.L + 1):
                w = np.array(
                    [[state.slot(slot, pid) for pid in row] for row in self.names.weight[k]]
                )
                b = None
                if self.train_bias[k]:
                    ids = self._bias_ids(k)
                    b = np.array([state.slot(slot, pid) for pid in ids])
                layers.append((w, b))
            self.S[slot] = layers

    def _bias_ids(self, k: int) -> list[str]:
        ids = [pid for pid in self.names.bias[k] if pid is not None]
        return ids[:1] if self.shared[k] else ids

    # --- state ----------------------------------------------------------------------------------

    def parameters(self) -> dict[str, float]:
        return parameter_values(self.spec, self.names, self.W, self.B)

    def slots(self) -> dict[str, dict[str, float]]:
        out: dict[str, dict[str, float]] = {}
        for slot, layers in self.S.items():
            d: dict[str, float] = {}
            for k, (w, b) in enumerate(layers):
                for j, row in enumerate(self.names.weight[k]):
                    for i, pid in enumerate(row):
                        d[pid] = float(w[j, i])
                if b is not None:
                    d.update(zip(self._bias_ids(k), map(float, b), strict=True))
            out[slot] = d
        return out

    def snapshot(self) -> Any:
        slots = {
            s: [(w.copy(), None if b is None else b.copy()) for w, b in v]
            for s, v in self.S.items()
        }
        bias = [None if b is None else b.copy() for b in self.B]
        return [w.copy() for w in self.W], bias, slots, self.state.t

    def restore(self, snap: Any) -> None:
        self.W, self.B, self.S, self.state.t = snap

    # --- arithmetic -------------------------------------------------------------------------------

    def forward(self, X: Array) -> tuple[list[Array], list[Array]]:
        nets, outs = [], []
        prev = X
        for k, W in enumerate(self.W):
            net = prev @ W.T
            b = self.B[k]
            if b is not None:
                net = net + b
            out = _activate(self.acts[k], net, self.alphas[k])
            nets.append(net)
            outs.append(out)
            prev = out
        return nets, outs

    def evaluate(self) -> float:
        nets, outs = self.forward(self.X)
        with np.errstate(all="ignore"):
            per_sample = self._loss(nets[-1], outs[-1], self.T).sum(axis=1)
        total = float(per_sample.sum())
        return total / len(self.X) if self.mean else total

    def outputs(self) -> list[list[float]]:
        out: list[list[float]] = self.forward(self.X)[1][-1].tolist()
        return out

    def _loss(self, net: Array, o: Array, t: Array) -> Array:
        n = self.n_out
        if self.loss == "half_sse":
            return 0.5 * (t - o) ** 2
        if self.loss == "mse":
            return (t - o) ** 2 / n
        if self.loss == "binary_cross_entropy":
            plain = (
                -(
                    np.where(t != 0, t * np.log(o), 0.0)
                    + np.where(t != 1, (1 - t) * np.log(1 - o), 0.0)
                )
                / n
            )
            stable = (t * np.logaddexp(0, -net) + (1 - t) * np.logaddexp(0, net)) / n
            return np.where((o > 0) & (o < 1), plain, stable)
        top = net.max(axis=1, keepdims=True)
        log_out = net - top - np.log(np.exp(net - top).sum(axis=1, keepdims=True))
        return np.where(t != 0, -t * np.where(o > 0, np.log(o), log_out), 0.0)

    def _output_deltas(self, net: Array, o: Array, t: Array) -> Array:
        loss, act, n = self.loss, self.acts[self.L], self.n_out
        if act == "softmax" and loss == "cross_entropy":
            return o - t
        if act == "sigmoid" and loss == "binary_cross_entropy":
            return (o - t) / n
        with np.errstate(all="ignore"):
            if loss == "half_sse":
                g = -(t - o)
            elif loss == "mse":
                g = -2.0 * (t - o) / n
            elif loss == "binary_cross_entropy":
                g = (o - t) / (o * (1.0 - o)) / n
            else:
                g = np.where(t != 0, -t / o, 0.0)
        if act == "softmax":
            soft: Array = o * (g - (g * o).sum(axis=1, keepdims=True))
            return soft
        return _chain(act, g, net, o, self.alphas[self.L])

    def epoch(self) -> float:
        with np.errstate(over="ignore", invalid="ignore"):
            for batch in self.batches:
                self.state.t += 1
                X, T = self.X[batch], self.T[batch]
                nets, outs = self.forward(X)
                now = self.sequential and len(batch) == 1
                n = len(batch) if self.mean else 1
                grads: list[tuple[Array, Array | None]] = [(X, None)] * (self.L + 1)
                delta = self._output_deltas(nets[-1], outs[-1], T)
                for k in range(self.L, -1, -1):
                    if k < self.L:
                        upper = delta @ self.W[k + 1]
                        delta = _chain(self.acts[k], upper, nets[k], outs[k], self.alphas[k])
                    xs = X if k == 0 else outs[k - 1]
                    gw = (delta.T @ xs) / n if n > 1 else delta.T @ xs
                    gb = None
                    if self.train_bias[k]:
                        gb = delta.sum(axis=0)
                        if self.shared[k]:
                            gb = gb.sum(keepdims=True)
                        if n > 1:
                            gb = gb / n
                    grads[k] = (gw, gb)
                    if now:
                        self._update(k, gw, gb)
                if not now:
                    for k in range(self.L, -1, -1):
                        self._update(k, *grads[k])
        return self.evaluate()

    def _update(self, k: int, gw: Array, gb: Array | None) -> None:
        self.W[k] = self._apply(self.W[k], gw, k, 0)
        b = self.B[k]
        if gb is not None and b is not None:
            self.B[k] = self._apply(b, gb, k, 1)

    def _apply(self, w: Array, g: Array, k: int, part: int) -> Array:
        """The optimizer of optim.py on whole arrays; slot arrays are replaced, not mutated."""
        st = self.state
        if st.name == "sgd":
            new: Array = optim.sgd(w, g, st.lr)
            return new
        if st.name in ("momentum", "nesterov"):
            v = optim.velocity(self._slot("velocity", k, part), g, st.momentum)
            self._set("velocity", k, part, v)
            if st.name == "momentum":
                new = optim.momentum_step(w, v, st.lr)
            else:
                new = optim.nesterov_step(w, g, v, st.lr, st.momentum)
            return new
        m = optim.first_moment(self._slot("m", k, part), g, st.beta1)
        v = optim.second_moment(self._slot("v", k, part), g, st.beta2)
        self._set("m", k, part, m)
        self._set("v", k, part, v)
        m_hat = optim.corrected(m, st.beta1, st.t)
        v_hat = optim.corrected(v, st.beta2, st.t)
        new = optim.adam_step(w, m_hat, v_hat, st.lr, st.eps, np.sqrt)
        return new

    def _slot(self, slot: str, k: int, part: int) -> Array:
        value = self.S[slot][k][part]
        assert value is not None
        return value

    def _set(self, slot: str, k: int, part: int, value: Array) -> None:
        w, b = self.S[slot][k]
        self.S[slot][k] = (value, b) if part == 0 else (w, value)


def _activate(act: str, net: Array, alpha: float) -> Array:
    if act == "sigmoid":
        z = np.exp(-np.abs(net))
        out: Array = np.where(net >= 0, 1.0 / (1.0 + z), z / (1.0 + z))
        return out
    if act == "tanh":
        return np.tanh(net)
    if act == "relu":
        return np.where(net > 0, net, 0.0)
    if act == "leaky_relu":
        return np.where(net > 0, net, alpha * net)
    if act == "linear":
        return net
    top = net.max(axis=1, keepdims=True)
    e = np.exp(net - top)
    soft: Array = e / e.sum(axis=1, keepdims=True)
    return soft


def _chain(act: str, g: Array, net: Array, o: Array, alpha: float) -> Array:
    """g·dout/dnet, elementwise."""
    if act == "sigmoid":
        return g * o * (1.0 - o)
    if act == "tanh":
        return g * (1.0 - o * o)
    if act == "relu":
        return g * np.where(net > 0, 1.0, 0.0)
    if act == "leaky_relu":
        return g * np.where(net > 0, 1.0, alpha)
    return g
