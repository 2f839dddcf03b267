"""An optimizer's state while training: its entry in the catalogue, hyper-parameters, the update
count t and the slots by parameter id. The engine and every kernel start from it and leave it as
--save writes it, so a resumed run continues bit for bit."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from backprop_cli.ops import OPTIMIZERS
from backprop_cli.ops import Optimizer as Rule
from backprop_cli.specs.model import Optimizer, Spec, Training
from backprop_cli.specs.resume import fingerprint


@dataclass(slots=True)
class State:
    """A rule, its hyper-parameters, and its state while training: t and the slots by id."""

    rule: Rule
    lr: float
    hyper: dict[str, float]
    t: int = 0
    slots: dict[str, dict[str, float]] = field(default_factory=dict)

    @classmethod
    def of(cls, training: Training) -> State:
        """The state saved in a spec (empty on a fresh start)."""
        o = training.optimizer
        rule = OPTIMIZERS[o.name]
        slots = {s: dict(o.slots.get(s, {})) for s in rule.slots}
        return cls(rule, training.learning_rate, dict(o.hyper), o.step, slots)

    def slot(self, name: str, pid: str) -> float:
        """A parameter's slot value; 0 before its first update."""
        return self.slots[name].get(pid, 0.0)

    def constants(self) -> dict[str, float]:
        """η and the hyper-parameters by key, as the stages read them."""
        return {"lr": self.lr, **self.hyper}

    def saved(self) -> Optimizer:
        """The spec's Optimizer with this state in it (what --save writes)."""
        slots = {s: dict(v) for s, v in self.slots.items() if v}
        return Optimizer(self.rule.name, dict(self.hyper), self.t, slots)


def with_state(spec: Spec, params: Mapping[str, float], state: State, epochs_done: int) -> Spec:
    """The spec with trained parameters, optimizer state and epoch count: a config to resume."""
    saved = replace(state.saved(), shapes=fingerprint(spec))
    training = replace(spec.training, epochs_done=epochs_done, optimizer=saved)
    return replace(spec.with_parameters(params), training=training)
