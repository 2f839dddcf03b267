"""The sign conventions of δ that textbooks write, so that answers worked in one are graded in it.

The post writes δ = ∂E/∂net and w+ = w − η·δ·x. Han & Kamber (Err_j = O_j(1 − O_j)(T_j − O_j),
w += η·Err_j·O_i) and Mitchell (δ_k = o_k(1 − o_k)(t_k − o_k), w += η·δ_k·x) write δ = −∂E/∂net:
their deltas have the opposite sign, and the same updated weights. Only the quantities named δ
change; every ∂E/∂x keeps the sign its name gives it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from backprop_cli.engine.trace import Step, Trace
from backprop_cli.tutor.explain import parse_id


@dataclass(frozen=True, slots=True)
class Convention:
    """How δ is defined, and the sign that takes from the post's δ = ∂E/∂net."""

    name: str  # as --convention and `convention:` in an answers file spell it
    delta: str  # "δ = −∂E/∂net"
    sign: float
    who: str  # "as Han & Kamber and Mitchell write it"
    rule: str = ""  # their formulas, for a reader who knows them by those


POST = Convention("post", "δ = ∂E/∂net", 1.0, "as the post writes it")
HAN_KAMBER = Convention(
    "han-kamber",
    "δ = −∂E/∂net",
    -1.0,
    "as Han & Kamber and Mitchell write it",
    "Err_j = O_j(1 − O_j)(T_j − O_j), w += η·Err_j·O_i",
)
CONVENTIONS = {c.name: c for c in (POST, HAN_KAMBER)}
AUTO = "auto"  # recognised from the answers' deltas (choices.SIGN_CONVENTIONS lists all three)


def is_delta(step_id: str) -> bool:
    """Whether a quantity is a δ, whose sign is a convention (delta_o1, delta_h2[2])."""
    return parse_id(step_id)[0].startswith("delta_")


def _negated(template: str) -> str:
    """−(each side of the formula): −a * b for a product, −(a + b) for a sum."""
    sides = []
    for side in template.split(" = "):
        sides.append(f"-({side})" if " + " in side or " - " in side else f"-{side}")
    return " = ".join(sides)


def in_convention(trace: Trace, convention: Convention) -> Trace:
    """The trace with δ as the convention defines it: each delta's value and formula negated,
    and each step that reads a delta written with −δ (its value unchanged)."""
    if convention.sign == 1.0:
        return trace
    steps: list[Step] = []
    for s in trace.steps:
        deltas = [k for k in s.terms if is_delta(k)]
        if is_delta(s.id):
            s = dataclasses.replace(s, template=_negated(s.template), value=-s.value)
        if deltas:  # a delta step reads none: its inputs are ∂E/∂out and ∂out/∂net
            terms = {k: -x if k in deltas else x for k, x in s.terms.items()}
            s = dataclasses.replace(s, template=_negated(s.template), terms=terms)
        steps.append(s)
    return dataclasses.replace(trace, steps=steps)
