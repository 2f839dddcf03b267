"""Losses: E_total of one sample is Σ over the outputs of a term E_o; its gradient dE_total/dout_o.

Each entry is written once against the vocabulary `m` (vocab.py). Log-losses also carry their
stable form, from ln(out) and ln(1 − out) as the output activation computes them from the nets
(softplus for the logistic, log-softmax for softmax), used where out has rounded to 0 or 1; and
the fused deltas where loss and activation simplify together (out − target).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from backprop_cli.ops.activations import (
    Activation,
    log_softmax,
    log_sum_exp,
    log_sum_exp_shown,
    minus_log_softmax_shown,
)
from backprop_cli.ops.base import Hyper, Table
from backprop_cli.ops.vocab import FLOATS

X = Any
NO_HYPER: Mapping[str, float] = {}


@dataclass(frozen=True, slots=True)
class TorchLoss:
    """A loss as a PyTorch script computes it: torch.nn's module (with reduction="sum") and its
    keyword arguments from ours; one sample's E_total is the module's value divided by `divisor`
    (of the output count n). `on_nets`: the module takes the nets (logits), and applies the output
    activation itself, in the stable fused form."""

    module: str
    kwargs: Callable[[Mapping[str, float]], dict[str, Any]]
    divisor: Callable[[int], float]
    on_nets: bool = False
    # Its reduction="mean" averages over every output of every sample (MSELoss); False: over
    # the samples only (CrossEntropyLoss, whose outputs are one distribution).
    over_outputs: bool = True


@dataclass(frozen=True, slots=True)
class Fused:
    """delta_j = dE_total/dnet_j of an (output activation, loss) pair, simplified.

    `value(m, j, nets, outs, targets, n)` reads a layer's lists (floats, or numpy columns);
    `shown(j, neurons)` gives the right-hand side as a template and its symbols in the order
    they are listed (the chain it replaces stands on the left).
    """

    value: Callable[[Any, int, Sequence[X], Sequence[X], Sequence[X], int], X]
    shown: Callable[[int, Sequence[str]], tuple[str, list[str]]]
    note: str | None = None  # why the simplified form is used where outputs round to 0 or 1
    near_note: str | None = None  # ... and where one is so near 0 or 1 that the chain loses digits
    exact_always: bool = False  # the form holds for every input (no slip reproduced inside it)
    # `shown` where note_for(outs) says the value was found another way: (j, neurons, nets) ->
    # the template as computed, which may read the nets ({net_o1}); None: `shown` serves.
    shown_noted: Callable[[int, Sequence[str], Sequence[float]], tuple[str, list[str]]] | None = (
        None
    )
    # The PyTorch loss that computes this pair as one (None: PyTorch has none, and a script in
    # PyTorch would disagree where outputs round to 0 or 1).
    torch: TorchLoss | None = None

    def shown_at(
        self, j: int, neurons: Sequence[str], nets: Sequence[float], outs: Sequence[float]
    ) -> tuple[str, list[str]]:
        """`shown`, as the value at these nets and outputs is computed."""
        if self.shown_noted is not None and self.note_for(outs) is not None:
            return self.shown_noted(j, neurons, nets)
        return self.shown(j, neurons)

    def note_for(self, outs: Sequence[float]) -> str | None:
        """What the step says of how its value was found, for these outputs."""
        if any(o in (0.0, 1.0) for o in outs):
            return self.note
        if any(min(o, 1.0 - o) < NEAR for o in outs):
            return self.near_note
        return None


# Within this of 0 or 1, 1 − out keeps fewer than 11 of its 16 digits.
NEAR = 1e-5


@dataclass(frozen=True, slots=True)
class Loss:
    """A loss and everything the project knows of it."""

    name: str
    prose: str
    summary: str  # the whole loss as a sentence's formula, for documents and exercises
    formula: str  # E_o in {t}, {out}, {n}
    derivative_formula: str  # dE_total/dout_o
    # (m, target, out, n_outputs, hyper-parameters by key) -> E_o, and -> dE_total/dout_o
    term: Callable[[Any, X, X, int, Mapping[str, float]], X]
    grad: Callable[[Any, X, X, int, Mapping[str, float]], X]
    # Where `in_range(m, out)` fails, E_o from ln(out), ln(1 − out), given as callables:
    # (m, t, log_out, log_1m, n).
    stable: Callable[[Any, X, Callable[[], X], Callable[[], X], int], X] | None = None
    in_range: Callable[[Any, X], X] | None = None
    # The stable form as written, where `in_range` fails: (t, −ln(out), −ln(1 − out)) -> a
    # template in {t}, {n}, the two logs given as templates (callables; None where the output
    # activation has none); and dE_total/dout as computed at (t, out), where not as written.
    stable_shown: Callable[[float, Callable[[], str], Callable[[], str]], str] | None = None
    derivative_shown: Callable[[float, float], str | None] | None = None
    # Said of dE_total/dout where out is out of range: the value is the formula's limit.
    limit_note: str | None = None
    outputs: tuple[str, ...] | None = None  # output activations it works with (None: any)
    # When the output activation is not among them: the field blamed ("loss" or "activation")
    # and the message, with {layer} and {activation} to fill in.
    outputs_rule: tuple[str, str] = ("loss", "")
    needs: str = ""  # what the outputs must be, in words ("outputs in (0, 1)")
    fused: Mapping[str, Fused] = field(default_factory=dict)  # by output activation
    # Why a sample's targets don't suit this loss, or None.
    check_targets: Callable[[Sequence[float]], tuple[int | None, str] | None] = lambda _t: None
    hyper: tuple[Hyper, ...] = ()  # set in a config as loss: {name: ..., key: value}
    # The slip of a squared loss's constant (`backprop check`'s missing_half): the factor a
    # gradient written with it is off by, and the slip in words.
    missing_half: tuple[float, str] | None = None
    # The same loss in PyTorch, on the outputs (a fused pair's own form comes first).
    torch: TorchLoss | None = None

    def formula_at(
        self,
        t: float,
        o: float,
        minus_log_out: Callable[[], str] | None = None,
        minus_log_1m: Callable[[], str] | None = None,
    ) -> str:
        """E_o's formula as `value` computes it at (t, out): the stable form, from the logs,
        where out is out of range (what `value` is given, as templates)."""
        if (
            self.stable_shown is None
            or self.in_range is None
            or minus_log_out is None
            or minus_log_1m is None
            or self.in_range(FLOATS, o)
        ):
            return self.formula
        return self.stable_shown(t, minus_log_out, minus_log_1m)

    def derivative_formula_at(self, t: float, o: float) -> str:
        """dE_total/dout as `grad` computes it at (t, out): its limit, where out is out of
        range."""
        shown = None if self.derivative_shown is None else self.derivative_shown(t, o)
        return self.derivative_formula if shown is None else shown

    def value(
        self,
        m: Any,
        t: X,
        o: X,
        n: int,
        log_out: Any = None,
        log_1m: Any = None,
        p: Mapping[str, float] = NO_HYPER,
    ) -> X:
        """E_o; the stable form where the output has rounded out of range (when logs are given:
        callables, so that they cost nothing where the plain form serves)."""
        if self.stable is None or self.in_range is None or log_out is None:
            return self.term(m, t, o, n, p)
        stable = self.stable
        return m.where(
            self.in_range(m, o),
            lambda: self.term(m, t, o, n, p),
            lambda: stable(m, t, log_out, log_1m, n),
        )


def _unless_zero(m: Any, factor: X, f: Callable[[], X]) -> X:
    # 0·ln(0) is 0 by the limit: leave the term out, so that a hard target never gives nan.
    return m.where(factor != 0, f, lambda: 0.0)


def _bce_from_logs(m: Any, t: X, log_o: Callable[[], X], log_1m: Callable[[], X], n: int) -> X:
    a = _unless_zero(m, t, lambda: t * log_o())
    b = _unless_zero(m, 1.0 - t, lambda: (1.0 - t) * log_1m())
    return -(0.0 + a + b) / n


def _bce_stable(m: Any, t: X, log_o: Callable[[], X], log_1m: Callable[[], X], n: int) -> X:
    # The same sum with −ln(out), −ln(1 − out) (softplus of ∓net for the logistic): a met target
    # gives +0, not −0.
    a = _unless_zero(m, t, lambda: t * -log_o())
    b = _unless_zero(m, 1.0 - t, lambda: (1.0 - t) * -log_1m())
    return (0.0 + a + b) / n


def _bce_stable_shown(
    t: float, minus_log_o: Callable[[], str], minus_log_1m: Callable[[], str]
) -> str:
    # the terms _bce_stable keeps: a zero factor's is left out
    parts = []
    if t != 0:
        parts.append(f"{{t}} * ({minus_log_o()})")
    if 1.0 - t != 0:
        parts.append(f"(1 - {{t}}) * ({minus_log_1m()})")
    body = " + ".join(parts)
    return f"({body})/{{n}}" if len(parts) > 1 else f"{body}/{{n}}"


def _bce_grad_shown(t: float, o: float) -> str | None:
    # the limits _bce_grad takes where out has rounded to 1 or 0 and the target is met
    if o >= 1.0 and t == 1.0:
        return "-{t}/{n}"
    if o <= 0.0 and t == 0.0:
        return "(1 - {t})/{n}"
    return None


def _bce_grad(m: Any, t: X, o: X, n: int, _p: Mapping[str, float]) -> X:
    # Out rounded to 0 or 1: −t/out + (1 − t)/(1 − out) with a zero factor's term dropped (as in
    # the loss), so a hard target that is met gives ∓1/n rather than inf.
    return m.where(
        m.both(o > 0.0, o < 1.0),
        lambda: (o - t) / (o * (1.0 - o)) / n,
        lambda: m.where(
            o >= 1.0,
            lambda: m.where(t == 1.0, lambda: -t / n, lambda: float("inf")),
            lambda: m.where(t == 0.0, lambda: (1.0 - t) / n, lambda: float("-inf")),
        ),
    )


def _softmax_bce_delta(
    m: Any, j: int, nets: Sequence[X], outs: Sequence[X], targets: Sequence[X], n: int
) -> X:
    """Σ_i dE/dout_i · dout_i/dnet_j simplifies to ((out_j − t_j) − Σ_{i≠j} (out_i − t_i) ·
    out_j/(1 − out_i))/n, and out_j/(1 − out_i) = e^(net_j − ln Σ_{k≠i} e^net_k) stays finite."""
    total = outs[j] - targets[j]
    for i in range(len(outs)):
        if i != j:
            others = [x for k, x in enumerate(nets) if k != i]
            total = total - (outs[i] - targets[i]) * m.exp(nets[j] - log_sum_exp(m, others))
    return total / n


def _softmax_bce_shown(j: int, neurons: Sequence[str]) -> tuple[str, list[str]]:
    nj = neurons[j]
    parts, syms = [f"{{out_{nj}}} - {{target_{nj}}}"], []
    for i, ni in enumerate(neurons):
        if i != j:
            parts.append(f"({{out_{ni}}} - {{target_{ni}}}) * {{out_{nj}}}/(1 - {{out_{ni}}})")
            syms += [f"out_{ni}", f"target_{ni}"]
    return f"({' - '.join(parts)})/{{n}}", [*syms, f"out_{nj}", f"target_{nj}", "n"]


def _softmax_bce_shown_from_nets(
    j: int, neurons: Sequence[str], nets: Sequence[float]
) -> tuple[str, list[str]]:
    """_softmax_bce_shown with out_j/(1 − out_i) as _softmax_bce_delta computes it."""
    nj = neurons[j]
    parts = [f"{{out_{nj}}} - {{target_{nj}}}"]
    for i, ni in enumerate(neurons):
        if i != j:
            rest = [k for k in range(len(neurons)) if k != i]
            lse = log_sum_exp_shown(
                [f"{{net_{neurons[k]}}}" for k in rest], [nets[k] for k in rest]
            )
            parts.append(f"({{out_{ni}}} - {{target_{ni}}}) * e^({{net_{nj}}} - ({lse}))")
    return f"({' - '.join(parts)})/{{n}}", []  # its symbols as they appear


def _distribution(targets: Sequence[float]) -> tuple[int | None, str] | None:
    for j, t in enumerate(targets):
        if t < 0:
            return j, f"cross_entropy targets must be 0 or more, got {t:g}"
    if abs(sum(targets) - 1) > 1e-9:
        return None, (
            "cross_entropy targets must be a distribution summing to 1; "
            f"these sum to {sum(targets):g}"
        )
    return None


def _unit_interval(targets: Sequence[float]) -> tuple[int | None, str] | None:
    for j, t in enumerate(targets):
        if not 0 <= t <= 1:
            return j, f"binary_cross_entropy targets must lie in [0, 1], got {t:g}"
    return None


HALF_SSE = Loss(
    "half_sse",
    "half the squared error",
    "E_total = Σ ½(target − out)²",
    "½({t} - {out})^2",
    "-({t} - {out})",
    lambda m, t, o, _n, _p: 0.5 * (t - o) ** 2,
    lambda m, t, o, _n, _p: -(t - o),
    missing_half=(
        2.0,
        "the ½ of ½(target − out)² forgotten: dE_total/dout written as 2·(out − target), "
        "not −(target − out)",
    ),
    torch=TorchLoss("MSELoss", lambda p: {}, lambda n: 2.0),
)

MSE = Loss(
    "mse",
    "the mean squared error",
    "E_total = Σ (target − out)² / n",
    "({t} - {out})^2/{n}",
    "-2 * ({t} - {out})/{n}",
    lambda m, t, o, n, _p: (t - o) ** 2 / n,
    lambda m, t, o, n, _p: -2.0 * (t - o) / n,
    missing_half=(
        0.5,
        "the factor 2 of the loss's derivative left out: dE_total/dout written as "
        "-(target - out)/n, not -2 * (target - out)/n",
    ),
    torch=TorchLoss("MSELoss", lambda p: {}, float),
)

BINARY_CROSS_ENTROPY = Loss(
    "binary_cross_entropy",
    "binary cross-entropy",
    "E_total = −Σ (target·ln(out) + (1 − target)·ln(1 − out)) / n",
    "-({t} * ln({out}) + (1 - {t}) * ln(1 - {out}))/{n}",
    "({out} - {t})/({out}*(1 - {out}))/{n}",
    lambda m, t, o, n, _p: _bce_from_logs(m, t, lambda: m.log(o), lambda: m.log(1.0 - o), n),
    _bce_grad,
    stable=_bce_stable,
    in_range=lambda m, o: m.both(o > 0.0, o < 1.0),
    stable_shown=_bce_stable_shown,
    derivative_shown=_bce_grad_shown,
    limit_note=(
        "out rounded to 0 or 1: the formula is 0/0 or x/0, so its limit is used, with the term "
        "whose factor (target or 1 − target) is 0 left out"
    ),
    outputs=("sigmoid", "softmax"),
    needs="outputs in (0, 1)",
    outputs_rule=(
        "activation",
        "binary_cross_entropy needs outputs in (0, 1): use sigmoid (or softmax) on the output "
        "layer, not {activation}",
    ),
    fused={
        # ln and 1/(out(1−out)) cancel: delta = (out − target)/n, finite when out is 0 or 1.
        "sigmoid": Fused(
            lambda m, j, nets, outs, ts, n: (outs[j] - ts[j]) / n,
            lambda j, ns: (f"({{out_{ns[j]}}} - {{target_{ns[j]}}})/{{n}}", []),
            torch=TorchLoss("BCEWithLogitsLoss", lambda p: {}, float, on_nets=True),
        ),
        "softmax": Fused(
            _softmax_bce_delta,
            _softmax_bce_shown,
            shown_noted=_softmax_bce_shown_from_nets,
            note=(
                "an output rounded to 0 or 1, so the chain is inf·0; out_j/(1 − out_i) is "
                "computed from the nets as e^(net_j − ln Σ_(m≠i) e^net_m)"
            ),
            near_note=(
                "an output within 1e-5 of 0 or 1, where 1 − out loses digits; out_j/(1 − out_i) "
                "is computed from the nets as e^(net_j − ln Σ_(m≠i) e^net_m)"
            ),
        ),
    },
    check_targets=_unit_interval,
    # clamps ln at -100, where ours takes the stable form: they part only at saturation
    torch=TorchLoss("BCELoss", lambda p: {}, float),
)

CROSS_ENTROPY = Loss(
    "cross_entropy",
    "cross-entropy",
    "E_total = −Σ target·ln(out)",
    "-{t} * ln({out})",
    "-{t}/{out}",
    lambda m, t, o, _n, _p: _unless_zero(m, t, lambda: -t * m.log(o)),
    lambda m, t, o, _n, _p: _unless_zero(
        m, t, lambda: m.where(o > 0.0, lambda: -t / o, lambda: float("-inf"))
    ),
    stable=lambda m, t, log_o, _l1, _n: _unless_zero(m, t, lambda: -t * log_o()),
    in_range=lambda m, o: o > 0.0,
    stable_shown=lambda t, minus_log_o, _l1: f"{{t}} * ({minus_log_o()})",
    # a target of 0 leaves the term out, and its gradient with it: 0, even where out is 0
    derivative_shown=lambda t, o: "0" if t == 0 and not o > 0.0 else None,
    limit_note="target 0: the term 0·ln(out) and its gradient are 0, their limit where out is 0",
    outputs=("softmax",),
    outputs_rule=(
        "loss",
        "cross_entropy needs a softmax output layer; layer {layer!r} uses {activation}",
    ),
    fused={
        # With targets summing to 1 the sum collapses to out − target (exact, and stable).
        "softmax": Fused(
            lambda m, j, nets, outs, ts, n: outs[j] - ts[j],
            lambda j, ns: (f"{{out_{ns[j]}}} - {{target_{ns[j]}}}", []),
            exact_always=True,
            # takes probabilities as targets (PyTorch 1.10 on)
            torch=TorchLoss(
                "CrossEntropyLoss", lambda p: {}, lambda n: 1.0, on_nets=True, over_outputs=False
            ),
        ),
    },
    check_targets=_distribution,
)

HUBER = Loss(
    "huber",
    "the Huber loss (torch.nn.HuberLoss): squared near the target, linear beyond Δ",
    "E_total = Σ huber_Δ(out − target) / n",
    "(½({out} - {t})^2 if Δ > abs({out} - {t}) else Δ * (abs({out} - {t}) - Δ/2))/{n}",
    "(({out} - {t}) if Δ > abs({out} - {t}) else (Δ if {out} > {t} else -Δ))/{n}",
    lambda m, t, o, n, p: (
        m.where(
            m.abs(o - t) < p["delta"],
            lambda: 0.5 * (o - t) ** 2,
            lambda: p["delta"] * (m.abs(o - t) - 0.5 * p["delta"]),
        )
        / n
    ),
    lambda m, t, o, n, p: (
        m.where(
            m.abs(o - t) < p["delta"],
            lambda: o - t,
            lambda: m.where(o > t, lambda: p["delta"], lambda: -p["delta"]),
        )
        / n
    ),
    hyper=(
        Hyper(
            "delta",
            "Δ",
            1.0,
            "where the loss turns from squared to linear",
            above_minimum=True,
            latex=r"\Delta",
            torch="delta",
        ),
    ),
    torch=TorchLoss("HuberLoss", lambda p: {"delta": p["delta"]}, float),
)

LOSSES: Table[Loss] = Table(
    "loss", {x.name: x for x in (HALF_SSE, MSE, BINARY_CROSS_ENTROPY, CROSS_ENTROPY, HUBER)}
)


class OutputLogs:
    """ln(out_j) and ln(1 − out_j) of an output layer, from its nets (finite where out has
    rounded to 0 or 1), for the stable form of a log-loss; computed only when asked. The nets are
    a list of floats, or of numpy columns."""

    def __init__(self, m: Any, act: Activation, nets: Sequence[X]) -> None:
        self.m, self.act, self.nets = m, act, nets
        self._log: list[X] | None = None

    def _log_outs(self) -> list[X]:
        if self._log is None:
            self._log = log_softmax(self.m, self.nets)
        return self._log

    def out(self, j: int) -> Callable[[], X] | None:
        m, act = self.m, self.act
        if act.elementwise:
            f = act.log_out
            return None if f is None else (lambda: f(m, self.nets[j]))
        return lambda: self._log_outs()[j]

    def one_minus(self, j: int) -> Callable[[], X] | None:
        m, act = self.m, self.act
        if act.elementwise:
            f = act.log_one_minus_out
            return None if f is None else (lambda: f(m, self.nets[j]))

        def others() -> X:  # ln(1 − out_j) = ln Σ_(k≠j) e^(ln out_k)
            rest = [x for k, x in enumerate(self._log_outs()) if k != j]
            return log_sum_exp(m, rest) if rest else -math.inf

        return others

    def minus_out_shown(self, j: int, symbols: Sequence[str]) -> Callable[[], str] | None:
        """−ln(out_j) as out(j) computes it, a template in the nets' symbols (a callable, so
        that it is written only where the stable form is shown)."""
        act, nets = self.act, self.nets
        if act.elementwise:
            f = act.minus_log_out_shown
            return None if f is None else (lambda: f(nets[j]).replace("{net}", symbols[j]))
        return lambda: minus_log_softmax_shown(j, symbols, nets)

    def minus_one_minus_shown(self, j: int, symbols: Sequence[str]) -> Callable[[], str] | None:
        """−ln(1 − out_j) as one_minus(j) computes it, in the nets' symbols."""
        act, nets = self.act, self.nets
        if act.elementwise:
            f = act.minus_log_one_minus_out_shown
            return None if f is None else (lambda: f(nets[j]).replace("{net}", symbols[j]))

        def others() -> str:  # −ln Σ_(k≠j) out_k, from the logs ln(out_k) = −(−ln(out_k))
            rest = [k for k in range(len(nets)) if k != j]
            texts = [f"-({minus_log_softmax_shown(k, symbols, nets)})" for k in rest]
            logs = self._log_outs()
            return f"-({log_sum_exp_shown(texts, [logs[k] for k in rest])})"

        return others
