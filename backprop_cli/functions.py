"""Activations and losses: values, derivatives, and how each is written in a formula.

Formulas are templates: `{net}`, `{out}`, `{t}` and `{n}` are replaced by the symbols of one neuron
(net_h1, out_h1, target_o1) so that the engine can show each step both in symbols and in numbers.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass


def sigmoid(net: float) -> float:
    """Logistic function, without overflow for large |net|."""
    if net >= 0:
        return 1.0 / (1.0 + math.exp(-net))
    z = math.exp(net)
    return z / (1.0 + z)


def softplus(x: float) -> float:
    """ln(1 + e^x), without overflow."""
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


def softmax(nets: Sequence[float]) -> list[float]:
    """Softmax, shifted by the largest input so that e^x never overflows."""
    top = max(nets)
    exps = [math.exp(x - top) for x in nets]
    total = sum(exps)
    return [e / total for e in exps]


def log_sum_exp(xs: Sequence[float]) -> float:
    """ln Σ e^x, without overflow."""
    top = max(xs)
    return top + math.log(sum(math.exp(x - top) for x in xs))


def softmax_bce_delta(
    j: int, nets: Sequence[float], outs: Sequence[float], targets: Sequence[float]
) -> float:
    """delta_j of softmax with binary cross-entropy, finite when an output rounds to 0 or 1.

    Σ_i dE/dout_i · dout_i/dnet_j simplifies to ((out_j − t_j) − Σ_{i≠j} (out_i − t_i) ·
    out_j/(1 − out_i))/n, and out_j/(1 − out_i) = e^(net_j − ln Σ_{m≠i} e^net_m) stays finite.
    """
    total = outs[j] - targets[j]
    for i in range(len(outs)):
        if i != j:
            others = [x for m, x in enumerate(nets) if m != i]
            total -= (outs[i] - targets[i]) * math.exp(nets[j] - log_sum_exp(others))
    return total / len(outs)


def log_softmax(nets: Sequence[float]) -> list[float]:
    """ln(softmax(nets)), finite even where softmax underflows to 0."""
    top = max(nets)
    log_total = math.log(sum(math.exp(x - top) for x in nets))
    return [x - top - log_total for x in nets]


@dataclass(frozen=True)
class Activation:
    """An elementwise activation: out = f(net), and dout/dnet from net and out."""

    name: str
    formula: str  # out as a function of {net}
    derivative_formula: str  # dout/dnet, in {net}, {out} and α
    f: Callable[[float, float], float]  # (net, alpha) -> out
    df: Callable[[float, float, float], float]  # (net, out, alpha) -> dout/dnet
    uses_alpha: bool = False
    # g · dout/dnet, in the order a person writes it (g·out·(1 − out) for the logistic), so our
    # floats agree with a hand-written implementation to the last bit.
    chain: Callable[[float, float, float, float], float] | None = None

    def delta(self, g: float, net: float, out: float, alpha: float) -> float:
        """dE/dnet from g = dE/dout."""
        if self.chain is not None:
            return self.chain(g, net, out, alpha)
        return g * self.df(net, out, alpha)


ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in (
        Activation(
            "sigmoid",
            "1/(1 + e^(-{net}))",
            "{out} * (1 - {out})",
            lambda net, _a: sigmoid(net),
            lambda _n, out, _a: out * (1.0 - out),
            chain=lambda g, _n, out, _a: g * out * (1.0 - out),
        ),
        Activation(
            "tanh",
            "tanh({net})",
            "1 - {out}^2",
            lambda net, _a: math.tanh(net),
            lambda _n, out, _a: 1.0 - out * out,
        ),
        Activation(
            "relu",
            "max(0, {net})",
            "(1 if {net} > 0 else 0)",
            lambda net, _a: net if net > 0 else 0.0,
            lambda net, _o, _a: 1.0 if net > 0 else 0.0,
        ),
        Activation(
            "leaky_relu",
            "({net} if {net} > 0 else α * {net})",
            "(1 if {net} > 0 else α)",
            lambda net, a: net if net > 0 else a * net,
            lambda net, _o, a: 1.0 if net > 0 else a,
            uses_alpha=True,
        ),
        Activation(
            "linear",
            "{net}",
            "1",
            lambda net, _a: net,
            lambda _n, _o, _a: 1.0,
        ),
    )
}
SOFTMAX = "softmax"
ACTIVATION_NAMES = (*ACTIVATIONS, SOFTMAX)
LEAKY_RELU_ALPHA = 0.01


@dataclass(frozen=True)
class Loss:
    """A loss per sample, E_total = Σ over outputs of a term E_o, with dE_total/dout_o."""

    name: str
    formula: str  # E_o in {t}, {out}, {n}
    derivative_formula: str  # dE_total/dout_o
    f: Callable[[float, float, int], float]  # (target, out, n_outputs) -> E_o
    df: Callable[[float, float, int], float]  # (target, out, n_outputs) -> dE_total/dout_o


def _bce(t: float, o: float, n: int) -> float:
    # 0·ln(0) is 0 by the limit; skip the term so that a hard target never gives nan.
    total = 0.0
    if t != 0.0:
        total += t * math.log(o)
    if t != 1.0:
        total += (1.0 - t) * math.log(1.0 - o)
    return -total / n


def _bce_derivative(t: float, o: float, n: int) -> float:
    if 0.0 < o < 1.0:
        return (o - t) / (o * (1.0 - o)) / n
    # out rounded to 0 or 1: −t/out + (1 − t)/(1 − out), a term with a zero factor dropped (as in
    # the loss), so a hard target that is met gives ∓1/n rather than inf.
    if o >= 1.0:
        return -t / n if t == 1.0 else math.inf
    return (1.0 - t) / n if t == 0.0 else -math.inf


def _ce(t: float, o: float, _n: int) -> float:
    return -t * math.log(o) if t != 0.0 else 0.0


LOSSES: dict[str, Loss] = {
    loss.name: loss
    for loss in (
        Loss(
            "half_sse",
            "½({t} - {out})^2",
            "-({t} - {out})",
            lambda t, o, _n: 0.5 * (t - o) ** 2,
            lambda t, o, _n: -(t - o),
        ),
        Loss(
            "mse",
            "({t} - {out})^2/{n}",
            "-2 * ({t} - {out})/{n}",
            lambda t, o, n: (t - o) ** 2 / n,
            lambda t, o, n: -2.0 * (t - o) / n,
        ),
        Loss(
            "binary_cross_entropy",
            "-({t} * ln({out}) + (1 - {t}) * ln(1 - {out}))/{n}",
            "({out} - {t})/({out}*(1 - {out}))/{n}",
            _bce,
            _bce_derivative,
        ),
        Loss(
            "cross_entropy",
            "-{t} * ln({out})",
            "-{t}/{out}",
            _ce,
            lambda t, o, _n: (-t / o if o > 0.0 else -math.inf) if t != 0.0 else 0.0,
        ),
    )
}
