"""Update rules in PyTorch's conventions, each a list of stages.

A stage sets one variable from the others, written once as a formula (for the tables) and once as
a function of the vocabulary (for every engine and kernel). With g = dE/dθ, η the learning rate
and t the update count (1 on the first update):

  sgd       θ+ = θ − η·g
  momentum  v = μ·v + g;            θ+ = θ − η·v              (torch.optim.SGD, dampening 0)
  nesterov  v = μ·v + g;            θ+ = θ − η·(g + μ·v)      (torch.optim.SGD, nesterov=True)
  adam      m = β1·m + (1 − β1)·g;  v = β2·v + (1 − β2)·g²
            m̂ = m/(1 − β1^t);      v̂ = v/(1 − β2^t);      θ+ = θ − η·m̂/(√v̂ + ε)

Slots (the state kept per parameter) start at 0 (PyTorch starts the velocity at g, the same
number: μ·0 + g = g).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from backprop_cli.ops.base import Hyper, Table

X = Any

# How each variable a stage may read or set is written in formulas and step ids: {p} is the
# parameter's id (w5), {g} its gradient's symbol (dE_total/dw5).
SYMBOLS: dict[str, str] = {
    "w": "{p}",
    "g": "{g}",
    "lr": "η",
    "t": "t",
    "velocity": "v_{p}",
    "m": "m_{p}",
    "v": "v_{p}",
    "m_hat": "m\u0302_{p}",
    "v_hat": "v\u0302_{p}",
}
UPDATED = "{p}+"  # the last stage's result: w5+
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class Vars:
    """A stage's variables as attributes: s.w, s.g, s.momentum, s.m_hat."""

    def __init__(self, values: Mapping[str, X]) -> None:
        self.__dict__.update(values)

    def __getattr__(self, name: str) -> X:  # only for names not set: an unknown variable
        raise AttributeError(f"no variable {name!r} at this stage")


@dataclass(frozen=True, slots=True)
class Stage:
    """`key` = formula, in the variables' keys; `fn(m, s)` computes it. A stage with `when` runs
    only where the hyper-parameters make it do something (weight decay of 0 is no stage)."""

    key: str
    formula: str
    fn: Callable[[Any, Vars], X]
    when: Callable[[Mapping[str, float]], bool] | None = None
    symbol: str | None = None  # the step id of what it sets, where not the variable's own

    def runs(self, constants: Mapping[str, float]) -> bool:
        return self.when is None or self.when(constants)

    def words(self) -> list[str]:
        """The variables the formula reads, in the order they appear."""
        return list(dict.fromkeys(w for w in _WORD.findall(self.formula) if w in _KNOWN))


@dataclass(frozen=True, slots=True)
class Optimizer:
    """An update rule and everything the project knows of it."""

    name: str
    prose: str
    hyper: tuple[Hyper, ...]
    slots: tuple[str, ...]  # state kept per parameter, saved with --save
    stages: tuple[Stage, ...]  # the last one sets w: the updated parameter
    # The same rule in PyTorch: torch.optim's class, and its keyword arguments from ours.
    torch: tuple[str, Callable[[Mapping[str, float]], dict[str, Any]]] = ("SGD", lambda h: {})
    # Each slot's name in the torch optimizer's state (momentum_buffer, exp_avg, ...).
    torch_state: Mapping[str, str] = field(default_factory=dict)

    @property
    def defaults(self) -> dict[str, float]:
        return {h.key: h.default for h in self.hyper}

    @property
    def counts_updates(self) -> bool:
        """Whether a stage reads t, the update count (a table then shows it)."""
        return any("t" in s.words() for s in self.stages)

    @property
    def plain(self) -> bool:
        """θ+ = θ − η·g and nothing else (but for stages that may be switched off)."""
        return sum(s.when is None for s in self.stages) == 1 and not self.slots

    def active(self, constants: Mapping[str, float]) -> list[Stage]:
        """The stages that run with these hyper-parameters."""
        return [s for s in self.stages if s.runs(constants)]

    def symbol(self, key: str) -> str:
        for h in self.hyper:
            if h.key == key:
                return h.symbol
        return SYMBOLS[key]

    def shown(self, stage: Stage, last: bool) -> tuple[str, str, list[str]]:
        """(step id, formula with {symbols}, variable keys in order) of a stage, {p} and {g}
        still to fill in."""
        step_id = UPDATED if last else stage.symbol or self.symbol(stage.key)
        body = _WORD.sub(
            lambda w: "{" + self.symbol(w[0]) + "}" if w[0] in _KNOWN else w[0], stage.formula
        )
        return step_id, body, stage.words()


_HYPER = {
    "momentum": Hyper(
        "momentum",
        "μ",
        0.9,
        "the momentum factor",
        maximum=1.0,
        below_maximum=True,
        latex=r"\mu",
        torch="momentum",
    ),
    "beta1": Hyper(
        "beta1",
        "β1",
        0.9,
        "decay of the first moment",
        maximum=1.0,
        below_maximum=True,
        latex=r"\beta_1",
        torch="betas[0]",
    ),
    "beta2": Hyper(
        "beta2",
        "β2",
        0.999,
        "decay of the second moment",
        maximum=1.0,
        below_maximum=True,
        latex=r"\beta_2",
        torch="betas[1]",
    ),
    "eps": Hyper(
        "eps",
        "ε",
        1e-8,
        "added to √v̂ so that it is never 0",
        above_minimum=True,
        latex=r"\epsilon",
        torch="eps",
    ),
    "weight_decay": Hyper(
        "weight_decay",
        "λ",
        0.0,
        "L2 penalty: λ·θ added to the gradient",
        optional=True,
        latex=r"\lambda",
        torch="weight_decay",
    ),
}
_KNOWN = {*SYMBOLS, *_HYPER}

# L2 weight decay, as PyTorch's weight_decay on SGD and Adam: the gradient gets λ·θ added first.
DECAY = Stage(
    "g",
    "g + weight_decay * w",
    lambda m, s: s.g + s.weight_decay * s.w,
    when=lambda h: h["weight_decay"] != 0,
    symbol="g_{p}",
)
VELOCITY = Stage("velocity", "momentum * velocity + g", lambda m, s: s.momentum * s.velocity + s.g)

SGD = Optimizer(
    "sgd",
    "plain gradient descent",
    (_HYPER["weight_decay"],),
    (),
    (DECAY, Stage("w", "w - lr * g", lambda m, s: s.w - s.lr * s.g)),
    torch=("SGD", lambda h: {"weight_decay": h["weight_decay"]}),
)
MOMENTUM = Optimizer(
    "momentum",
    "gradient descent with momentum (torch.optim.SGD, dampening 0)",
    (_HYPER["momentum"], _HYPER["weight_decay"]),
    ("velocity",),
    (DECAY, VELOCITY, Stage("w", "w - lr * velocity", lambda m, s: s.w - s.lr * s.velocity)),
    torch=("SGD", lambda h: {"momentum": h["momentum"], "weight_decay": h["weight_decay"]}),
    torch_state={"velocity": "momentum_buffer"},
)
NESTEROV = Optimizer(
    "nesterov",
    "Nesterov momentum (torch.optim.SGD, nesterov=True)",
    (_HYPER["momentum"], _HYPER["weight_decay"]),
    ("velocity",),
    (
        DECAY,
        VELOCITY,
        Stage(
            "w",
            "w - lr * (g + momentum * velocity)",
            lambda m, s: s.w - s.lr * (s.g + s.momentum * s.velocity),
        ),
    ),
    torch=(
        "SGD",
        lambda h: {"momentum": h["momentum"], "nesterov": True, "weight_decay": h["weight_decay"]},
    ),
    torch_state={"velocity": "momentum_buffer"},
)
# Adam's own stages, after whatever comes first (L2 decay for adam, decoupled decay for adamw).
ADAM_STEPS = (
    Stage("m", "beta1 * m + (1 - beta1) * g", lambda m, s: s.beta1 * s.m + (1.0 - s.beta1) * s.g),
    Stage(
        "v",
        "beta2 * v + (1 - beta2) * (g)^2",
        lambda m, s: s.beta2 * s.v + (1.0 - s.beta2) * (s.g * s.g),
    ),
    Stage("m_hat", "m / (1 - beta1^t)", lambda m, s: s.m / (1.0 - s.beta1**s.t)),
    Stage("v_hat", "v / (1 - beta2^t)", lambda m, s: s.v / (1.0 - s.beta2**s.t)),
    Stage(
        "w",
        "w - lr * m_hat / (sqrt(v_hat) + eps)",
        lambda m, s: s.w - s.lr * s.m_hat / (m.sqrt(s.v_hat) + s.eps),
    ),
)
ADAM = Optimizer(
    "adam",
    "Adam (torch.optim.Adam)",
    (_HYPER["beta1"], _HYPER["beta2"], _HYPER["eps"], _HYPER["weight_decay"]),
    ("m", "v"),
    (DECAY, *ADAM_STEPS),
    torch=(
        "Adam",
        lambda h: {
            "betas": (h["beta1"], h["beta2"]),
            "eps": h["eps"],
            "weight_decay": h["weight_decay"],
        },
    ),
    torch_state={"m": "exp_avg", "v": "exp_avg_sq"},
)
ADAMW = Optimizer(
    "adamw",
    "Adam with decoupled weight decay (torch.optim.AdamW)",
    (
        _HYPER["beta1"],
        _HYPER["beta2"],
        _HYPER["eps"],
        Hyper(
            "weight_decay",
            "λ",
            0.01,
            "decoupled decay: θ shrinks by η·λ·θ before each step",
            latex=r"\lambda",
            torch="weight_decay",
        ),
    ),
    ("m", "v"),
    (
        Stage(
            "w",
            "w * (1 - lr * weight_decay)",
            lambda m, s: s.w * (1.0 - s.lr * s.weight_decay),
            when=lambda h: h["weight_decay"] != 0,
            symbol="{p}_decayed",
        ),
        *ADAM_STEPS,
    ),
    torch=(
        "AdamW",
        lambda h: {
            "betas": (h["beta1"], h["beta2"]),
            "eps": h["eps"],
            "weight_decay": h["weight_decay"],
        },
    ),
    torch_state={"m": "exp_avg", "v": "exp_avg_sq"},
)

OPTIMIZERS: Table[Optimizer] = Table(
    "optimizer", {o.name: o for o in (SGD, MOMENTUM, NESTEROV, ADAM, ADAMW)}
)


def run_stages(
    rule: Optimizer, m: Any, values: Mapping[str, X], stages: Sequence[Stage] | None = None
) -> dict[str, X]:
    """Every stage in turn on w, g, t, the slots and the constants; the variables after them
    (w is the updated parameter). For the kernels: floats or numpy arrays. `stages`: the rule's
    active ones, where the caller has them already (the same for every update)."""
    now = dict(values)
    for stage in rule.active(now) if stages is None else stages:
        now[stage.key] = stage.fn(m, Vars(now))
    return now


def stage_lines(
    rule: Optimizer,
    constants: Mapping[str, float],
    names: Mapping[str, str] | None = None,
    round_to: int | None = None,
) -> list[str]:
    """The active stages as straight-line assignments, the same floats as run_stages: each
    variable is written as `names` spells it (w → q3, g → g3, m → m_3), a key not in names as
    itself (t, m_hat); the constants as exact literals.

    With round_to, each stage's value is rounded to that many decimals when finite (x − x is 0
    only then), as the engine records it in a rounded step."""
    from backprop_cli.ops.vocab import SOURCE, Expr

    names = names or {}
    now: dict[str, Any] = {key: Expr(names.get(key, key)) for key in ("w", "g", "t", *rule.slots)}
    now.update(constants)
    lines = []
    for stage in rule.active(constants):
        var = names.get(stage.key, stage.key)
        lines.append(f"{var} = {stage.fn(SOURCE, Vars(now))}")
        if round_to is not None:
            lines.append(f"if {var} - {var} == 0.0: {var} = round({var}, {round_to})")
        now[stage.key] = Expr(var)
    return lines


def update_source(
    rule: Optimizer, constants: Mapping[str, float], round_to: int | None = None
) -> tuple[list[str], list[str]]:
    """(parameters, body lines) of `update(ws, gs, t, *slots)`: the stages as straight-line code
    (stage_lines), applied in place to each entry of the list ws (and of each slot's list) with
    its gradient in gs."""
    lists = [f"{key}_list" for key in ("w", "g", *rule.slots)]
    lines = ["for i in range(len(g_list)):  # w_list may go on past the trained entries"]
    lines += [f"    {key} = {key}_list[i]" for key in ("w", "g", *rule.slots)]
    lines += [f"    {line}" for line in stage_lines(rule, constants, round_to=round_to)]
    lines += [f"    {key}_list[i] = {key}" for key in ("w", *rule.slots)]
    return [lists[0], lists[1], "t", *lists[2:]], lines
