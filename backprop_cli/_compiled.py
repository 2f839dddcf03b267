"""The fastest plain-Python kernel: the network's arithmetic written out as straight-line code.

For a small network with elementwise activations, `compile_network` writes three functions (a
forward pass, a sample's loss, a sample's gradient) in which every sum is spelled out left to
right from 0.0, exactly in engine.py's order (`0.0 + w1*i1 + w2*i2 + b1`, then
`dE/dout * out * (1 - out)` for the logistic), so the floats are the engine's, bit for bit, with
no loops, lists or calls per neuron. Updates go through optim.py like every other kernel.
Networks it does not cover (softmax, the sequential order) use train.PyKernel.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from itertools import repeat
from typing import Any

from . import optim
from .engine import _loss_term, batches
from .spec import Spec
from .train import Kernel

ELEMENTWISE = ("sigmoid", "tanh", "relu", "leaky_relu", "linear")
LOSSES = ("half_sse", "mse", "binary_cross_entropy")


def supports(spec: Spec, order: str) -> bool:
    """Whether straight-line code covers this network and update order."""
    if any(layer.activation not in ELEMENTWISE for layer in spec.layers):
        return False
    if spec.loss not in LOSSES:
        return False
    # The sequential order updates a layer in the middle of the backward pass.
    return not (order == "sequential" and any(len(b) == 1 for b in batches(spec)))


def _activation(act: str, n: str, alpha: float) -> str:
    return {
        "sigmoid": f"(1.0 / (1.0 + exp(-{n})) if {n} >= 0 else (z := exp({n})) / (1.0 + z))",
        "tanh": f"tanh({n})",
        "relu": f"({n} if {n} > 0 else 0.0)",
        "leaky_relu": f"({n} if {n} > 0 else {alpha!r} * {n})",
        "linear": n,
    }[act]


def _chain(act: str, g: str, n: str, o: str, alpha: float) -> str:
    """dE/dnet from g = dE/dout, as the engine's Activation.delta writes it."""
    if act == "sigmoid":
        return f"({g}) * {o} * (1.0 - {o})"
    df = {
        "tanh": f"(1.0 - {o} * {o})",
        "relu": f"(1.0 if {n} > 0 else 0.0)",
        "leaky_relu": f"(1.0 if {n} > 0 else {alpha!r})",
        "linear": "1.0",
    }[act]
    return f"({g}) * {df}"


def _sum(terms: Sequence[str]) -> str:
    return " + ".join(["0.0", *terms])


def source(spec: Spec, trainable: Sequence[int]) -> str:
    """Python source of fwd(p, x), loss(f, tg) and grad(p, x, f, tg) for this network."""
    params = spec.parameters()
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
    fwd = [f"def fwd(p, x):\n    {qs} = p\n    {xs} = x"]
    for k, layer in enumerate(spec.layers):
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
            fwd.append(f"    n{k}_{j} = {_sum(terms)}")
            fwd.append(f"    o{k}_{j} = {_activation(layer.activation, f'n{k}_{j}', layer.alpha)}")
        names += [f"n{k}_{j}" for j in range(layer.size)] + [f"o{k}_{j}" for j in range(layer.size)]
    unpack = ", ".join(names) + ","
    fwd.append(f"    return ({unpack})")

    if spec.loss == "half_sse":
        errors = [f"0.5 * (t{j} - o{L}_{j}) ** 2" for j in range(n_out)]
    elif spec.loss == "mse":
        errors = [f"(t{j} - o{L}_{j}) ** 2 / {n_out}" for j in range(n_out)]
    else:
        errors = [
            f"LT({spec.loss!r}, t{j}, o{L}_{j}, n{L}_{j}, {n_out}, None, {j})" for j in range(n_out)
        ]
    loss = [f"def loss(f, tg):\n    {unpack} = f\n    {ts} = tg", f"    return {_sum(errors)}"]

    grad = [f"def grad(p, x, f, tg):\n    {qs} = p\n    {xs} = x\n    {unpack} = f\n    {ts} = tg"]
    out = spec.layers[L]
    for j in range(n_out):
        t, o, n = f"t{j}", f"o{L}_{j}", f"n{L}_{j}"
        if spec.loss == "binary_cross_entropy" and out.activation == "sigmoid":
            delta = f"({o} - {t}) / {n_out}"
        else:  # the engine's loss.df, then Activation.delta
            g = f"-({t} - {o})" if spec.loss == "half_sse" else f"-2.0 * ({t} - {o}) / {n_out}"
            delta = _chain(out.activation, g, n, o, out.alpha)
        grad.append(f"    d{L}_{j} = {delta}")
    for k in range(L - 1, -1, -1):
        layer, above = spec.layers[k], spec.layers[k + 1]
        for j in range(layer.size):
            total = _sum([f"d{k + 1}_{m} * {weight(k + 1, m, j)}" for m in range(above.size)])
            delta = _chain(layer.activation, total, f"n{k}_{j}", f"o{k}_{j}", layer.alpha)
            grad.append(f"    d{k}_{j} = {delta}")
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
            grads.append(f"({_sum([f'd{p.layer}_{j}' for j in range(spec.layers[p.layer].size)])})")
    grad.append(f"    return ({', '.join(grads)},)")
    return "\n".join(fwd) + "\n\n" + "\n".join(loss) + "\n\n" + "\n".join(grad) + "\n"


def compile_network(spec: Spec, trainable: Sequence[int]) -> dict[str, Callable[..., Any]]:
    """fwd, loss and grad for this network, compiled."""
    namespace: dict[str, Any] = {"exp": math.exp, "tanh": math.tanh, "LT": _loss_term}
    exec(compile(source(spec, trainable), f"<backprop kernel for {spec.name}>", "exec"), namespace)
    return {name: namespace[name] for name in ("fwd", "loss", "grad")}


class CompiledKernel(Kernel):
    """Training on flat lists with the compiled functions; the engine's floats, bit for bit."""

    def __init__(self, spec: Spec, order: str, state: optim.State) -> None:
        self.spec, self.state = spec, state
        params = spec.parameters()
        self.ids = [p.id for p in params]
        self.p = [p.value for p in params]
        update_biases = spec.training.update_biases
        self.trainable = [k for k, p in enumerate(params) if p.kind == "weight" or update_biases]
        assert self.trainable == list(range(len(self.trainable)))
        fns = compile_network(spec, self.trainable)
        self.fwd, self.loss_of, self.grad = fns["fwd"], fns["loss"], fns["grad"]
        self.samples = [(tuple(s.inputs), tuple(s.targets)) for s in spec.samples]
        self.batches = batches(spec)
        self.mean = spec.training.reduction == "mean"
        self.n_out = spec.layers[-1].size
        self.S = {
            name: [state.slot(name, self.ids[i]) for i in self.trainable] for name in state.slots
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
        return total / len(cache) if self.mean else total

    def outputs(self) -> list[list[float]]:
        return [list(self.fwd(self.p, x)[-self.n_out :]) for x, _ in self.samples]

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
            self.apply(summed)
        return self.evaluate()

    def apply(self, grads: Sequence[float]) -> None:
        """The optimizer of optim.py on every trainable parameter (into new lists)."""
        st, lr = self.state, self.state.lr
        p = self.p = self.p[:]
        if st.name == "sgd":
            # The trainable parameters are a prefix: the weights, then the biases if trained.
            n = len(grads)
            p[:n] = map(optim.sgd, p[:n], grads, repeat(lr, n))
            return
        self.S = {name: values[:] for name, values in self.S.items()}
        if st.name in ("momentum", "nesterov"):
            vs, mu = self.S["velocity"], st.momentum
            for k, (i, g) in enumerate(zip(self.trainable, grads, strict=True)):
                v = vs[k] = optim.velocity(vs[k], g, mu)
                if st.name == "momentum":
                    p[i] = optim.momentum_step(p[i], v, lr)
                else:
                    p[i] = optim.nesterov_step(p[i], g, v, lr, mu)
        else:
            ms, vs, b1, b2, t = self.S["m"], self.S["v"], st.beta1, st.beta2, st.t
            for k, (i, g) in enumerate(zip(self.trainable, grads, strict=True)):
                m = ms[k] = optim.first_moment(ms[k], g, b1)
                v = vs[k] = optim.second_moment(vs[k], g, b2)
                m_hat, v_hat = optim.corrected(m, b1, t), optim.corrected(v, b2, t)
                p[i] = optim.adam_step(p[i], m_hat, v_hat, lr, st.eps)
