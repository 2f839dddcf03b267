"""The known slips of hand calculations and the bugs of code, each as a way to rerun the engine.

A slip is never a second copy of the maths: it is the engine run on a changed spec (another η,
a weight taken for its neighbour, a transposed matrix, the other training mode) or with a
`Mistake` flag the engine honours at the one place the slip happens (the sign of (target − out),
f′ taken at out). `backprop check` reruns each and names those that reproduce the numbers given.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from backprop_cli.engine.passes import CORRECT, Mistake
from backprop_cli.engine.passes import step as run_step
from backprop_cli.engine.trace import Step, Trace
from backprop_cli.ops import ACTIVATIONS, LOSSES
from backprop_cli.specs.model import Spec
from backprop_cli.specs.validate import load_spec

# The codes for the bugs of code, with the code each replaced (kept as an alias in JSON).
ALIASES = {
    "no_derivative": "missing_derivative",
    "missing_half": "factor_left_out",
    "learning_rate": "missing_learning_rate",
    "gradient_added": "update_sign",
}


@dataclass(frozen=True, slots=True)
class Variant:
    """A known slip, as a way to run the engine."""

    code: str
    description: str
    spec: Spec
    update_order: str | None = None
    mistake: Mistake = CORRECT
    swapped: tuple[str, float, float] | None = None  # (id, value used, true value)
    # Parameter ids as the buggy program names them → the ids of the same values in this run
    # (a transposed matrix: the program's w2 holds what this run calls w3).
    renamed: Mapping[str, str] = field(default_factory=dict)
    eta: float | None = None  # the learning rate this variant trains with, when that is the slip
    broader: bool = False  # the same slip as others of its code, in more layers at once
    # The slip is in the step that uses a value, not in the value: the run records what was
    # used (dout/dnet as 1 where it was left out), which the student may have written right.
    in_use: bool = False
    convention: str | None = None  # the deltas in this sign convention (conventions.py)

    def run(self, round_to: int | None = None) -> Trace:
        return run_step(
            self.spec, update_order=self.update_order, round_to=round_to, mistake=self.mistake
        )

    def id_in_run(self, step_id: str) -> str:
        """The id in this run of what the buggy program calls step_id."""
        if not self.renamed:
            return step_id
        # A parameter's id stands alone (w2+), after /d (dE_total/dw2) or after _ (v_w2).
        ids = "|".join(re.escape(p) for p in sorted(self.renamed, key=len, reverse=True))
        pattern = rf"(?:(?<=/d)|(?<=_)|(?<![A-Za-z0-9_]))(?:{ids})(?![A-Za-z0-9_])"
        return re.sub(pattern, lambda m: self.renamed[m[0]], step_id)


class Values:
    """A variant's run, indexed for lookups by (id, sample, update): thousands of answers stay
    quick."""

    def __init__(self, variant: Variant, trace: Trace, last_update: int | None = None) -> None:
        """last_update: the reference run's last update; its values (w5+) are the epoch's
        result, and so are the last update's of a run that updates more or less often."""
        self.variant = variant
        self.last_update = last_update
        self.exact: dict[tuple[str, int | None, int | None], float] = {}
        self.first: dict[str, float] = {}
        self.final: dict[str, float] = {}
        self.by_sample: dict[tuple[str, int | None], float] = {}
        for s in trace.steps:
            self.exact.setdefault((s.id, s.sample, s.update), s.value)
            self.by_sample.setdefault((s.id, s.sample), s.value)
            self.first.setdefault(s.id, s.value)
            if s.phase == "update" and s.sample is None:
                self.final[s.id] = s.value
        for p in trace.parameters:  # a fixed parameter's w+ is its value
            self.first.setdefault(f"{p.id}+", trace.updated.get(p.id, p.value))

    def value(self, step: Step) -> float | None:
        """The value of the same quantity in the run that reproduces the slip."""
        v = self.variant
        sid = v.id_in_run(step.id)
        value = None
        if step.phase == "update" and step.update == self.last_update and step.sample is None:
            value = self.final.get(sid)
        if value is None:
            value = self.exact.get((sid, step.sample, step.update))
        if value is None:  # a run that updates more or less often: the same sample's value
            value = self.by_sample.get((sid, step.sample))
        if value is None:
            value = self.first.get(sid)
        if value is not None and v.swapped and step.id == f"{v.swapped[0]}+":
            # The slip was in using the weight, not in the weight being updated.
            _, used, true = v.swapped
            value = value - used + true
        return value


def variants(spec: Spec, used: set[str], etas: tuple[float, ...] = ()) -> Iterator[Variant]:
    """The known slips that touch the given values `used`, the ones that touch every step, and
    the bugs of code; `etas`, learning rates that fit the updates given."""
    yield from hand_slips(spec, used)
    yield from code_bugs(spec, etas)


def hand_slips(spec: Spec, used: set[str]) -> Iterator[Variant]:
    """Slips of a person copying numbers: a neighbouring weight, the wrong bias, no bias."""
    params = {p.id: p for p in spec.parameters()}
    typo = is_worked_example(spec)
    for a, b in neighbours(spec):
        if a not in used:
            continue
        pa, pb = params[a], params[b]
        if pa.value == pb.value:
            continue
        what = f"{b} ({_short(pb.value)}) used where {a} ({_short(pa.value)}) belongs"
        if pa.kind == "bias":
            code = "wrong_bias"
        else:
            code = "neighbour_weight"
            if typo and (a, b) == ("w2", "w3"):
                what += (
                    ": the post's own typo in its hidden-layer section "
                    "(net_h1 = w1*i1 + w3*i2 + b1)"
                )
        yield Variant(
            code, what, spec.with_parameters({a: pb.value}), swapped=(a, pb.value, pa.value)
        )
    for p in params.values():
        if p.kind == "bias" and p.id in used and p.value != 0:
            yield Variant(
                "missing_bias",
                f"the bias {p.id} left out of net",
                spec.with_parameters({p.id: 0.0}),
                swapped=(p.id, 0.0, p.value),
            )


def code_bugs(spec: Spec, etas: tuple[float, ...] = ()) -> Iterator[Variant]:
    """The bugs people write in code (and the same slips by hand), in the issue's codes."""
    t = spec.training
    yield from _transposed(spec)
    if any(p.kind == "bias" for p in spec.parameters()):
        if t.update_biases:
            yield _training(
                spec,
                "bias_not_updated",
                "the biases held fixed, while this config trains them (update_biases: true)",
                update_biases=False,
            )
        else:
            yield _training(
                spec,
                "bias_updated",
                "the biases trained too, while this config holds them fixed (update_biases: false)",
                update_biases=True,
            )
    if len(spec.layers) > 1:
        if t.update_order == "simultaneous":
            what = (
                "the output weights already updated: the hidden deltas used w+ (e.g. "
                f"{_first_output_weight(spec)}+), not the weights before the update"
            )
            if is_worked_example(spec):
                what += " (the order behind the post's closing figure E_total+ = 0.291027924)"
            yield Variant("sequential_order", what, spec, update_order="sequential")
        else:
            yield Variant(
                "simultaneous_order",
                "the weights before the update used in the hidden deltas, while this config "
                "updates the output layer first (update_order: sequential)",
                spec,
                update_order="simultaneous",
            )
    yield from _derivative_slips(spec)
    yield from _wrong_derivatives(spec)
    yield Variant(
        "error_sign",
        "the sign of (target − out): dE_total/dout written as (target − out), not −(target − out)",
        spec,
        mistake=Mistake(error_sign=True),
    )
    half = LOSSES[spec.loss].missing_half
    if half is not None:
        yield Variant("missing_half", half[1], spec, mistake=Mistake(error_factor=half[0]))
    if len(spec.samples) > 1:
        other = "sum" if t.reduction == "mean" else "mean"
        yield _training(
            spec,
            "mean_vs_sum",
            f"the gradients over samples {'summed' if other == 'sum' else 'averaged'}, while this "
            f"config takes their {t.reduction} (reduction: {t.reduction})",
            reduction=other,
        )
        if t.mode == "online":
            yield _training(
                spec,
                "online_vs_batch",
                "one update for the whole batch, while this config updates after every sample "
                "(mode: online)",
                mode="batch",
            )
        else:
            yield _training(
                spec,
                "online_vs_batch",
                f"one update per sample, while this config updates per batch (mode: {t.mode})",
                mode="online",
            )
    out = spec.layers[-1]
    if not ACTIVATIONS[out.activation].elementwise and out.activation in LOSSES[spec.loss].fused:
        for how, what in (
            ("diagonal", "its diagonal out·(1 − out)"),
            ("full", "its Jacobian"),
        ):
            yield Variant(
                "softmax_jacobian_twice",
                f"out − target (already dE_total/dnet for {out.activation} with {spec.loss}) "
                f"multiplied by the {out.activation} derivative again ({what})",
                spec,
                mistake=Mistake(jacobian_twice=how),
            )
    for eta in (1.0, *etas):
        if eta == t.learning_rate or not math.isfinite(eta) or eta <= 0:
            continue
        what = f"the updates fit η = {_short(eta)}, not the config's {_short(t.learning_rate)}"
        if eta == 1.0:
            what = "the learning rate η left out: w+ = w − dE_total/dw"
        yield dataclasses.replace(
            _training(spec, "learning_rate", what, learning_rate=eta), eta=eta
        )
    yield _training(
        spec,
        "gradient_added",
        "the gradient added, not subtracted: w+ = w + η·dE_total/dw",
        learning_rate=-t.learning_rate,
    )


def _training(spec: Spec, code: str, what: str, **changes: object) -> Variant:
    training = dataclasses.replace(spec.training, **changes)  # type: ignore[arg-type]
    return Variant(code, what, dataclasses.replace(spec, training=training))


def _derivative_slips(spec: Spec) -> Iterator[Variant]:
    """The activation's derivative left out, or taken at out: in every layer (one helper
    function used throughout, as code does) and in each layer alone (as a hand slip)."""
    layers = [
        k
        for k, layer in enumerate(spec.layers)
        if ACTIVATIONS[layer.activation].elementwise
        and ACTIVATIONS[layer.activation].derivative_formula != "1"  # no factor to leave out
    ]
    groups = [(k,) for k in layers] + ([tuple(layers)] if len(layers) > 1 else [])
    for group in groups:
        where = _layers_text(spec, group)
        acts = sorted({spec.layers[k].activation for k in group})
        forms = "; ".join(f"for {a}: {_derivative_text(a)}" for a in acts)
        yield Variant(
            "no_derivative",
            f"the activation's derivative dout/dnet left out in {where} ({forms})",
            spec,
            mistake=Mistake(no_derivative=group),
            broader=len(group) > 1,
            in_use=True,
        )
    for group in groups:
        acts = sorted({spec.layers[k].activation for k in group})
        yield Variant(
            "derivative_of_out",
            f"f′ applied to out instead of net in {_layers_text(spec, group)} "
            f"({', '.join(f'{a}′(out), not {a}′(net)' for a in acts)})",
            spec,
            mistake=Mistake(derivative_of_out=group),
            broader=len(group) > 1,
        )


def _wrong_derivatives(spec: Spec) -> Iterator[Variant]:
    """Another activation's derivative coded for a layer's own (tanh with the logistic's
    out·(1 − out)): the engine handed that activation's entry for the layer's derivative."""
    pairs: dict[tuple[str, str], list[int]] = {}
    for k, layer in enumerate(spec.layers):
        for name in ACTIVATIONS[layer.activation].confused_with:
            pairs.setdefault((layer.activation, name), []).append(k)
    for (own, name), layers in pairs.items():
        groups = [(k,) for k in layers] + ([tuple(layers)] if len(layers) > 1 else [])
        for group in groups:
            yield Variant(
                "wrong_derivative",
                f"the wrong activation derivative in {_layers_text(spec, group)}: {name}'s "
                f"{_derivative_text(name)} used for {own}, whose derivative is "
                f"{_derivative_text(own)}",
                spec,
                mistake=Mistake(derivative_from=tuple((k, ACTIVATIONS[name]) for k in group)),
                broader=len(group) > 1,
            )


def _transposed(spec: Spec) -> Iterator[Variant]:
    """A square layer's W used as Wᵀ: w_ji where w_ij belongs (w2 and w3 trade places); each
    square layer alone, then all of them."""
    params = spec.parameters()
    square = [k for k, layer in enumerate(spec.layers) if len(layer.weights[0]) == layer.size]
    groups = [(k,) for k in square] + ([tuple(square)] if len(square) > 1 else [])
    for group in groups:
        at = {(p.layer, p.neuron, p.input): p for p in params if p.kind == "weight"}
        renamed: dict[str, str] = {}
        values: dict[str, float] = {}
        for (k, j, i), p in at.items():
            if k in group and j != i:
                q = at[(k, i, j)]
                renamed[p.id] = q.id
                values[q.id] = p.value
        if not renamed:
            continue
        pairs = sorted({tuple(sorted((a, b), key=_natural)) for a, b in renamed.items()})
        trade = ", ".join(f"{a}/{b}" for a, b in pairs)
        yield Variant(
            "transposed_weights",
            f"W of {_layers_text(spec, group)} used as Wᵀ (net = Wᵀ·x): {trade} trade places",
            spec.with_parameters(values),
            renamed=renamed,
            broader=len(group) > 1,
        )


def _natural(pid: str) -> tuple[str, int]:
    m = re.match(r"(.*?)(\d+)$", pid)
    return (m[1], int(m[2])) if m else (pid, 0)


def _layers_text(spec: Spec, group: tuple[int, ...]) -> str:
    names = [spec.layers[k].name for k in group]
    if len(names) == 1:
        return f"layer {names[0]}"
    return "layers " + ", ".join(names)


def neighbours(spec: Spec) -> Iterator[tuple[str, str]]:
    """(a, b): b is a weight that could be taken for a by eye — same neuron, same input, or the
    next or previous number — or another bias."""
    params = spec.parameters()
    weights = [p for p in params if p.kind == "weight"]
    biases = [p for p in params if p.kind == "bias"]
    for n, p in enumerate(weights):
        for m, q in enumerate(weights):
            if p is q or p.layer != q.layer:
                continue
            same_row = p.neuron == q.neuron and abs((p.input or 0) - (q.input or 0)) == 1
            same_col = p.input == q.input and abs((p.neuron or 0) - (q.neuron or 0)) == 1
            if same_row or same_col or abs(n - m) == 1:
                yield p.id, q.id
    for p in biases:
        for q in biases:
            if p is not q:
                yield p.id, q.id


def is_worked_example(spec: Spec) -> bool:
    mine, post = spec.to_dict(), load_spec().to_dict()
    mine.pop("name")
    post.pop("name")
    return bool(mine == post)


def _first_output_weight(spec: Spec) -> str:
    k = len(spec.layers) - 1
    return next(p.id for p in spec.parameters() if p.layer == k and p.kind == "weight")


def _derivative_text(activation: str) -> str:
    return (
        ACTIVATIONS[activation].derivative_formula.replace("{out}", "out").replace("{net}", "net")
    )


def _short(x: float) -> str:
    return f"{x:.10g}"
