"""What saved optimizer state may be resumed with: the network it was saved for, a step count
that goes with its slots, and trained parameters only. Anything else would silently reuse a
moment for another weight, or bias-correct warm moments as if they were fresh."""

from __future__ import annotations

import hashlib

from backprop_cli.ops import OPTIMIZERS
from backprop_cli.ops import Optimizer as Rule
from backprop_cli.ops.optimizers import run_stages
from backprop_cli.ops.vocab import FLOATS
from backprop_cli.specs.model import Spec
from backprop_cli.specs.source import Path_

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
    for slot in _never_negative(OPTIMIZERS[opt.name]):
        for pid, x in opt.slots.get(slot, {}).items():
            if x < 0:
                return (*STATE, slot, pid), (
                    f"{x!r} is negative, but {slot} never goes below 0 in training, whatever "
                    "the gradients; this state was not saved by a run"
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


def _never_negative(rule: Rule) -> list[str]:
    """The slots an update keeps at 0 or above from a start at 0, whatever the gradient's sign
    (Adam's v, a mean of g²), read from the catalogue by running its stages."""
    out = []
    for slot in rule.slots:
        after = [
            run_stages(
                rule,
                FLOATS,
                {
                    "w": 0.0,
                    "g": g,
                    "t": 1,
                    "lr": 0.5,
                    **rule.defaults,
                    **dict.fromkeys(rule.slots, 0.0),
                },
            )[slot]
            for g in (-1.0, 1.0)
        ]
        if all(x > 0 for x in after):
            out.append(slot)
    return out


def digest(file: str) -> tuple[int, str]:
    """A data file's size in bytes and SHA-256, read a block at a time (what --save records of
    the samples a run trained on). Raises OSError."""
    h = hashlib.sha256()
    size = 0
    with open(file, "rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
            size += len(block)
    return size, h.hexdigest()
