"""Update rules: sgd, momentum, nesterov and adam, in PyTorch's conventions.

Each stage of a rule is one small function of plain numbers, written in the order a person
evaluates it. The recording engine calls them one stage at a time (so that `--round` can round
between stages, as on a calculator) and the training kernels call the very same functions, so a
trained parameter agrees with `backprop step` to the last bit. They use only + − × ÷ and the
`sqrt` they are given, so they work elementwise on numpy arrays too.

With g = dE/dθ, η the learning rate and t the update count (1 on the first update):

  sgd       θ+ = θ − η·g
  momentum  v = μ·v + g;            θ+ = θ − η·v              (torch.optim.SGD, dampening 0)
  nesterov  v = μ·v + g;            θ+ = θ − η·(g + μ·v)      (torch.optim.SGD, nesterov=True)
  adam      m = β1·m + (1 − β1)·g;  v = β2·v + (1 − β2)·g²
            m̂ = m/(1 − β1^t);      v̂ = v/(1 − β2^t);      θ+ = θ − η·m̂/(√v̂ + ε)

Slots start at 0 (PyTorch starts the velocity at g, which is the same number: μ·0 + g = g).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .spec import OPTIMIZER_SLOTS as SLOTS
from .spec import Optimizer, Spec, Training


def sgd(w: Any, g: Any, lr: float) -> Any:
    """θ+ = θ − η·g."""
    return w - lr * g


def velocity(v: Any, g: Any, mu: float) -> Any:
    """v = μ·v + g (the momentum buffer, before the learning rate)."""
    return mu * v + g


def momentum_step(w: Any, v: Any, lr: float) -> Any:
    """θ+ = θ − η·v."""
    return w - lr * v


def nesterov_step(w: Any, g: Any, v: Any, lr: float, mu: float) -> Any:
    """θ+ = θ − η·(g + μ·v)."""
    return w - lr * (g + mu * v)


def first_moment(m: Any, g: Any, beta1: float) -> Any:
    """m = β1·m + (1 − β1)·g."""
    return beta1 * m + (1.0 - beta1) * g


def second_moment(v: Any, g: Any, beta2: float) -> Any:
    """v = β2·v + (1 − β2)·g²."""
    return beta2 * v + (1.0 - beta2) * (g * g)


def corrected(x: Any, beta: float, t: int) -> Any:
    """x/(1 − β^t): the bias correction of a moment after t updates."""
    return x / (1.0 - beta**t)


def adam_step(
    w: Any, m_hat: Any, v_hat: Any, lr: float, eps: float, sqrt: Callable[[Any], Any] = math.sqrt
) -> Any:
    """θ+ = θ − η·m̂/(√v̂ + ε)."""
    return w - lr * m_hat / (sqrt(v_hat) + eps)


@dataclass
class State:
    """A rule, its hyper-parameters, and its state while training: t and the slots by id."""

    name: str
    lr: float
    momentum: float = 0.9
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    t: int = 0
    slots: dict[str, dict[str, float]] = field(default_factory=dict)

    @classmethod
    def of(cls, training: Training) -> State:
        """The state saved in a spec (empty on a fresh start)."""
        o = training.optimizer
        slots = {s: dict(o.slots.get(s, {})) for s in SLOTS[o.name]}
        return cls(
            o.name, training.learning_rate, o.momentum, o.beta1, o.beta2, o.eps, o.step, slots
        )

    def slot(self, name: str, pid: str) -> float:
        """A parameter's slot value; 0 before its first update."""
        return self.slots[name].get(pid, 0.0)

    def saved(self) -> Optimizer:
        """The spec's Optimizer with this state in it (what --save writes)."""
        return Optimizer(
            self.name,
            self.momentum,
            self.beta1,
            self.beta2,
            self.eps,
            self.t,
            {s: dict(v) for s, v in self.slots.items() if v},
        )


def with_state(spec: Spec, params: Mapping[str, float], state: State, epochs_done: int) -> Spec:
    """The spec with trained parameters, optimizer state and epoch count: a config to resume."""
    from dataclasses import replace

    training = replace(spec.training, epochs_done=epochs_done, optimizer=state.saved())
    return replace(spec.with_parameters(params), training=training)
