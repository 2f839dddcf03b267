"""What saved optimizer state may be resumed with: the network it was saved for, a step count
that goes with its slots, and trained parameters only. Anything else would silently reuse a
moment for another weight, or bias-correct warm moments as if they were fresh."""

from __future__ import annotations

from .source import Path_
from .spec import Spec

STATE: Path_ = ("training", "optimizer", "state")


def fingerprint(spec: Spec) -> str:
    """The shapes parameter ids stand for: inputs, then each layer's neurons and biases.

    A parameter id such as w5 names a position; after a neuron is added, w5 is another weight.
    """
    parts = [str(len(spec.inputs))]
    for layer in spec.layers:
        bias = "" if layer.bias is None else ("+b" if layer.bias_shared else "+bs")
        parts.append(f"{layer.size}{bias}")
    return "-".join(parts)


def problem(spec: Spec) -> tuple[Path_, str] | None:
    """Where and why the spec's optimizer state cannot be resumed, or None."""
    t = spec.training
    opt = t.optimizer
    if opt.shapes is not None and opt.shapes != fingerprint(spec):
        return (*STATE, "shapes"), (
            f"the state was saved for a network of shapes {opt.shapes}, this one is "
            f"{fingerprint(spec)}; its ids name other weights now (remove the state to start "
            "the optimizer afresh)"
        )
    warm = [(slot, pid) for slot, values in opt.slots.items() for pid, x in values.items() if x]
    if warm and opt.step <= 0:
        slot, pid = warm[0]
        return STATE, (
            f"{slot}.{pid} is not 0 but step (the update count) is 0 or missing: give step, "
            "the number of updates the state has seen"
        )
    if not t.update_biases:
        biases = {p.id for p in spec.parameters() if p.kind == "bias"}
        for slot, values in opt.slots.items():
            for pid in values:
                if pid in biases:
                    return (*STATE, slot, pid), (
                        f"{pid} is not trained (update_biases: false), so it can have no state"
                    )
    return None
