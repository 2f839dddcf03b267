"""Activations: out = f(net), its derivative, and how each is written.

Each entry is written once against the vocabulary `m` (vocab.py), so the engine, the loop
kernel, the numpy kernel and the compiled kernel all compute it from here. Formulas are
templates: `{net}` and `{out}` are replaced by one neuron's symbols (net_h1, out_h1), α by the
layer's hyper-parameter.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from backprop_cli.ops.base import Hyper, Table

X = Any  # a float, a numpy array or an Expr, as the vocabulary reads it


def _default_targets(unit: float) -> tuple[float, float]:
    return (-1.0, 1.0)


@dataclass(frozen=True, slots=True)
class Activation:
    """An activation and everything the project knows of it."""

    name: str
    prose: str  # as a sentence names it: "the logistic function"
    formula: str  # out in {net} (and α)
    derivative_formula: str  # dout/dnet in {net}, {out} (and α)
    value: Callable[[Any, X, float], X]  # (m, net, alpha) -> out
    derivative: Callable[[Any, X, X, float], X]  # (m, net, out, alpha) -> dout/dnet
    # g · dout/dnet in the order a person writes it (g·out·(1 − out) for the logistic), so the
    # floats agree with a hand-written implementation to the last bit; default g · derivative.
    chain: Callable[[Any, X, X, X, float], X] | None = None
    hyper: tuple[Hyper, ...] = ()
    # A derivative below SATURATED means the neuron has saturated (sigmoid, tanh); for the others
    # a zero derivative means it is inactive (ReLU, net ≤ 0).
    saturates: bool = False
    # ln(out) and ln(1 − out) from net, finite where out rounds to 0 or 1 (for log-losses).
    log_out: Callable[[Any, X], X] | None = None
    log_one_minus_out: Callable[[Any, X], X] | None = None
    # How the value at a given net was computed, where that is not `formula` as written (the
    # logistic's two forms, softplus without overflow): (net, alpha) -> a template in {net}, so
    # that the numbers a step shows give its value. Likewise for the derivative, and for
    # −ln(out), −ln(1 − out) as log_out and log_one_minus_out compute them (the stable form of a
    # log-loss; net -> a template in {net}).
    shown: Callable[[float, float], str] | None = None
    derivative_shown: Callable[[float, float], str] | None = None
    minus_log_out_shown: Callable[[float], str] | None = None
    minus_log_one_minus_out_shown: Callable[[float], str] | None = None
    # The range `backprop init` draws targets from, given the smallest step of its decimals.
    targets: Callable[[float], tuple[float, float]] = _default_targets
    # No gradient at all flows back through a neuron whose net is ≤ 0 (a dead ReLU).
    can_die: bool = False
    smooth: bool = True  # False: no derivative at net = 0 (a kink)
    elementwise: bool = True
    hidden: bool = True  # allowed on a hidden layer
    # For the scripts `backprop export` writes. Where the activation is not elementwise, its
    # layer in numpy: a statement template in {net} and {out}; and dout_i/dnet_j of the layer.
    numpy_layer: str | None = None
    jacobian: Callable[[Sequence[X], int, int], X] | None = None
    # The same activation in PyTorch: torch.nn's module and its fixed keyword arguments; α's
    # keyword is its Hyper's `torch` (torch_kwargs puts them together).
    torch: tuple[str, dict[str, Any]] | None = None
    onnx: str = ""  # the ONNX operator type (backprop import)
    # Activations whose derivative is written for this one by mistake (`check` tries each).
    confused_with: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def alpha(self) -> Hyper | None:
        """The layer hyper-parameter α, when this activation has one."""
        return self.hyper[0] if self.hyper else None

    def torch_kwargs(self, alpha: float) -> dict[str, Any]:
        """The keyword arguments of the torch.nn module: α under its Hyper's PyTorch name,
        then the fixed ones (LeakyReLU(negative_slope=α), Softplus(threshold=40.0))."""
        assert self.torch is not None
        return {**{h.torch: alpha for h in self.hyper if h.torch}, **self.torch[1]}

    def formula_at(self, net: float, alpha: float) -> str:
        """The formula the value at this net is computed by (a template in {net})."""
        return self.formula if self.shown is None else self.shown(net, alpha)

    def derivative_formula_at(self, net: float, alpha: float) -> str:
        """The derivative's formula as computed at this net (in {net}, {out})."""
        if self.derivative_shown is None:
            return self.derivative_formula
        return self.derivative_shown(net, alpha)

    def layer(self, m: Any, nets: Sequence[X], alpha: float) -> list[X]:
        """out of every neuron of a layer (a list of floats, or of numpy columns)."""
        if self.elementwise:
            return [self.value(m, net, alpha) for net in nets]
        return list(self.value(m, nets, alpha))

    def delta(self, m: Any, g: X, net: X, out: X, alpha: float) -> X:
        """dE/dnet from g = dE/dout."""
        if self.chain is not None:
            return self.chain(m, g, net, out, alpha)
        return g * self.derivative(m, net, out, alpha)


def _sigmoid(m: Any, net: X, _a: float) -> X:
    return m.logistic(net)  # the vocabulary's: two forms, so that e^x never overflows


def _logistic_shown(net: float, _a: float = 0.0) -> str:
    # the form vocab.logistic takes at this net: e^net/(1 + e^net) below 0
    return "1/(1 + e^(-{net}))" if net >= 0 else "e^{net}/(1 + e^{net})"


def _softplus_shown(x: float, text: str, minus: str) -> str:
    """softplus(x) as vocab.softplus computes it, max(x, 0) + log1p(e^(−|x|)), written for the
    sign of x: `text` is the template of x, `minus` that of −x, each ready to follow e^."""
    return f"{text} + log1p(e^{minus})" if x > 0 else f"log1p(e^{text})"


SIGMOID = Activation(
    "sigmoid",
    "the logistic function",
    "1/(1 + e^(-{net}))",
    "{out} * (1 - {out})",
    _sigmoid,
    lambda m, _n, out, _a: out * (1.0 - out),
    chain=lambda m, g, _n, out, _a: g * out * (1.0 - out),
    saturates=True,
    log_out=lambda m, net: -m.softplus(-net),
    log_one_minus_out=lambda m, net: -m.softplus(net),
    shown=_logistic_shown,
    # −ln(out) = softplus(−net), −ln(1 − out) = softplus(net)
    minus_log_out_shown=lambda net: _softplus_shown(-net, "(-{net})", "{net}"),
    minus_log_one_minus_out_shown=lambda net: _softplus_shown(net, "{net}", "(-{net})"),
    targets=lambda unit: (unit, 1 - unit),
    torch=("Sigmoid", {}),
    onnx="Sigmoid",
    confused_with=("tanh",),
)

TANH = Activation(
    "tanh",
    "tanh",
    "tanh({net})",
    "1 - {out}^2",
    lambda m, net, _a: m.tanh(net),
    lambda m, _n, out, _a: 1.0 - out * out,
    saturates=True,
    targets=lambda unit: (-1 + unit, 1 - unit),
    torch=("Tanh", {}),
    onnx="Tanh",
    confused_with=("sigmoid",),
)

RELU = Activation(
    "relu",
    "ReLU",
    "max(0, {net})",
    "(1 if {net} > 0 else 0)",
    lambda m, net, _a: m.where(net > 0, lambda: net, lambda: 0.0),
    lambda m, net, _o, _a: m.where(net > 0, lambda: 1.0, lambda: 0.0),
    targets=lambda unit: (unit, 1.0),
    can_die=True,
    smooth=False,
    torch=("ReLU", {}),
    onnx="Relu",
)

LEAKY_RELU = Activation(
    "leaky_relu",
    "leaky ReLU",
    "({net} if {net} > 0 else α * {net})",
    "(1 if {net} > 0 else α)",
    lambda m, net, a: m.where(net > 0, lambda: net, lambda: a * net),
    lambda m, net, _o, a: m.where(net > 0, lambda: 1.0, lambda: a),
    hyper=(
        Hyper(
            "alpha",
            "α",
            0.01,
            "the slope for net ≤ 0",
            latex=r"\alpha",
            torch="negative_slope",
            onnx="alpha",
        ),
    ),
    smooth=False,
    torch=("LeakyReLU", {}),
    onnx="LeakyRelu",
)

LINEAR = Activation(
    "linear",
    "the identity (a linear neuron)",
    "{net}",
    "1",
    lambda m, net, _a: net,
    lambda m, _n, _o, _a: 1.0,
    torch=("Identity", {}),
    onnx="Identity",
)


SOFTPLUS = Activation(
    "softplus",
    "softplus, a smooth ReLU",
    "ln(1 + e^{net})",
    "1/(1 + e^(-{net}))",
    lambda m, net, _a: m.softplus(net),
    lambda m, net, _o, _a: _sigmoid(m, net, 0.0),  # the derivative is the logistic of net
    saturates=True,
    shown=lambda net, _a: _softplus_shown(net, "{net}", "(-{net})"),
    derivative_shown=_logistic_shown,
    targets=lambda unit: (unit, 1.0),
    # torch.nn.Softplus returns net itself above its threshold, 20 by default, where
    # ln(1 + e^-net) is still 2e-9; from 40 on, that term is below float64's last digit.
    torch=("Softplus", {"threshold": 40.0}),
    onnx="Softplus",
)


ELU = Activation(
    "elu",
    "the exponential linear unit (ELU)",
    "({net} if {net} > 0 else α * (e^{net} - 1))",
    "(1 if {net} > 0 else α * e^{net})",
    lambda m, net, a: m.where(net > 0, lambda: net, lambda: a * (m.exp(net) - 1.0)),
    lambda m, net, _o, a: m.where(net > 0, lambda: 1.0, lambda: a * m.exp(net)),
    hyper=(
        Hyper(
            "alpha",
            "α",
            1.0,
            "the value approached as net → −∞ is −α",
            latex=r"\alpha",
            torch="alpha",
            onnx="alpha",
        ),
    ),
    saturates=True,
    smooth=False,  # a kink at 0 unless α = 1
    targets=lambda unit: (-1 + unit, 1.0),
    torch=("ELU", {}),
    onnx="Elu",
)


# Softmax couples a layer's neurons, so it is written on the list of a layer's values: floats, or
# numpy columns (one entry per sample). Shifted by the largest net, e^x never overflows.
def _top(m: Any, xs: Sequence[X]) -> X:
    top = xs[0]
    for x in xs[1:]:
        top = m.max2(top, x)
    return top


def _total(xs: Sequence[X]) -> X:
    total: X = 0.0
    for x in xs:
        total = total + x
    return total


def softmax(m: Any, nets: Sequence[X]) -> list[X]:
    top = _top(m, nets)
    exps = [m.exp(x - top) for x in nets]
    total = _total(exps)
    return [e / total for e in exps]


def log_sum_exp(m: Any, xs: Sequence[X]) -> X:
    """ln Σ e^x, without overflow."""
    top = _top(m, xs)
    return top + m.log(_total([m.exp(x - top) for x in xs]))


def log_softmax(m: Any, nets: Sequence[X]) -> list[X]:
    """ln(softmax(nets)), finite even where softmax underflows to 0."""
    top = _top(m, nets)
    log_total = m.log(_total([m.exp(x - top) for x in nets]))
    return [x - top - log_total for x in nets]


def softmax_jacobian(outs: Sequence[X], i: int, j: int) -> X:
    """dout_i/dnet_j."""
    return outs[i] * (1.0 - outs[i]) if i == j else -outs[i] * outs[j]


# dout_i/dnet_j written out, for i = j and i ≠ j.
SOFTMAX_JACOBIAN_FORMULA = ("{out_i} * (1 - {out_i})", "-{out_i} * {out_j}")


# Beyond this, e^net overflows (or the sum underflows) unless shifted by the largest net.
SHIFT_BEYOND = 700.0


def softmax_formula(
    neuron: str, layer: Sequence[str], suffix: str = "", nets: Sequence[float] = ()
) -> str:
    """out of one neuron: e^net/Σ e^net, or, where the largest net is beyond ±SHIFT_BEYOND,
    the form `softmax` computes it by, each net less the largest."""
    top = _largest(nets)
    if top is None or abs(nets[top]) <= SHIFT_BEYOND:
        denom = " + ".join(f"e^{{net_{m}{suffix}}}" for m in layer)
        return f"e^{{net_{neuron}{suffix}}}/({denom})"
    t = f"{{net_{layer[top]}{suffix}}}"
    denom = " + ".join(f"e^({{net_{m}{suffix}}} - {t})" for m in layer)
    return f"e^({{net_{neuron}{suffix}}} - {t})/({denom})"


def _largest(nets: Sequence[float]) -> int | None:
    """The index `_top` keeps: the first of the largest (None for no nets)."""
    best = None
    for i, x in enumerate(nets):
        if best is None or x > nets[best]:
            best = i
    return best


def log_sum_exp_shown(symbols: Sequence[str], values: Sequence[float]) -> str:
    """ln Σ e^x as log_sum_exp computes it, the x given as templates with their values."""
    top = _largest(values)
    assert top is not None
    t = symbols[top]
    shift = t if re.fullmatch(r"\{[^{}]+\}", t) else f"({t})"
    terms = " + ".join(f"e^({x} - {shift})" for x in symbols)
    return f"{t} + ln({terms})"


def minus_log_softmax_shown(j: int, symbols: Sequence[str], nets: Sequence[float]) -> str:
    """−ln(out_j) of a softmax layer as log_softmax computes it: ln Σ e^(net − top) − (net_j −
    top), top the largest net (symbols: each net's template)."""
    top = _largest(nets)
    assert top is not None
    t = symbols[top]
    total = " + ".join(f"e^({x} - {t})" for x in symbols)
    return f"ln({total}) - ({symbols[j]} - {t})"


SOFTMAX = Activation(
    "softmax",
    "softmax over the layer",
    "e^{net}/Σ e^net",
    "out_i(δ_ij − out_j)",
    lambda m, net, _a: softmax(m, net),
    lambda m, _n, _o, _a: _no_elementwise_derivative(),
    elementwise=False,
    hidden=False,
    # shifted by the largest net, so that e^x never overflows (as `softmax` above)
    numpy_layer="{out} = np.exp({net} - np.max({net})) / np.sum(np.exp({net} - np.max({net})))",
    jacobian=softmax_jacobian,
    torch=("Softmax", {"dim": -1}),
    onnx="Softmax",
)


def _no_elementwise_derivative() -> Any:
    raise TypeError("softmax has a Jacobian, not an elementwise derivative")


ACTIVATIONS: Table[Activation] = Table(
    "activation",
    {a.name: a for a in (SIGMOID, TANH, RELU, LEAKY_RELU, LINEAR, SOFTPLUS, ELU, SOFTMAX)},
)
