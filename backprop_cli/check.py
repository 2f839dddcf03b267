"""Check a student's hand-computed values against the trace, and name the first mistake.

The tolerance of each answer follows its significant digits: `0.40` gives two, so it is right when
it agrees with the exact value to two significant digits (within 0.005 of 0.3775), and counts as a
rounding difference within one unit of its last digit (as when intermediates are rounded by hand,
as the post does). A whole number claims no more than it gives: `1` for 0.75 gives one digit and
0.75 to one digit is 0.8, so `1` is wrong; and 0 is right only for a value that is 0.
For the first wrong answer in computation order, known slips are recomputed with the engine (a
neighbouring weight taken for another, the wrong bias, the sign of (target − out), a missing
activation derivative, the output weights already updated, ...) and named when one reproduces it.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import source
from .engine import CORRECT, Mistake
from .engine import step as run_step
from .explain import UnknownId, ancestors, locate, producer
from .ops import ACTIVATIONS, LOSSES
from .source import SourceError
from .spec import Spec
from .trace import Step, Trace, json_number
from .validate import _kind, load_spec

_NUMBER = re.compile(r"[-+]?(?P<int>\d*)(?:\.(?P<frac>\d*))?(?:[eE](?P<exp>[-+]?\d+))?")
_SLACK = 1e-9  # relative slack on the tolerance, so that 0.35 → 0.4 is within half of 0.1
RESIDUE = 1e-15  # |value| below this × Σ|terms| is what float64 leaves of an exact 0
# Digits an answer needs before a slip is named: "0.5" is within a unit of too many values.
MIN_DIGITS_SLIP = 2
MIN_DIGITS_OTHER = 3  # ... and before it is matched against every other quantity of the trace
VERDICTS = ("right", "rounding", "wrong")


@dataclass(frozen=True)
class Answer:
    """One value from the answers file, with where it was written and how precisely."""

    key: str  # the id as written: dE_total/dw5, or dE_total/dw5[2] for sample 2
    text: str  # the number as written: "0.40"
    value: float
    line: int
    col: int
    unit: float  # one unit in the last digit written: 0.01 for "0.40"


@dataclass
class Verdict:
    """An answer judged against the expected value (the exact run, or the run rounded to N)."""

    answer: Answer
    index: int  # position of the step in the trace: computation order
    step: Step
    expected: float
    exact: float
    status: str  # right | rounding | wrong
    reason: str = ""
    unit: float = 0.0  # the unit the answer is judged in (see judging_unit); ± half of it is ✓

    @property
    def difference(self) -> float:
        return self.answer.value - self.expected

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.answer.key,
            "line": self.answer.line,
            "col": self.answer.col,
            "answer": self.answer.value,
            "text": self.answer.text,
            "expected": json_number(self.expected),
            "exact": json_number(self.exact),
            "difference": json_number(self.difference),
            "unit": self.answer.unit,
            "margin": self.unit / 2,
            "verdict": self.status,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class Slip:
    """A known mistake that reproduces a wrong answer: what it is, and the value it gives."""

    code: str
    description: str
    value: float
    also: tuple[str, ...] = ()  # the student's other wrong answers this slip reproduces

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "description": self.description,
            "value": self.value,
            "also_explains": list(self.also),
        }


@dataclass
class Diagnosis:
    """What went wrong in the first wrong answer."""

    verdict: Verdict
    inputs: list[tuple[str, Verdict | None]]  # the step's inputs; the student's verdict if given
    slips: list[Slip] = field(default_factory=list)
    too_few_digits: bool = False  # the answer is too coarse to tell one slip from another

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.verdict.answer.key,
            "formula": self.verdict.step.formula,
            "substituted": self.verdict.step.substituted(),
            "expected": json_number(self.verdict.expected),
            "answer": self.verdict.answer.value,
            "inputs": [
                {"id": name, "given": v is not None, "verdict": v.status if v else None}
                for name, v in self.inputs
            ],
            "slips": [s.to_dict() for s in self.slips],
            "too_few_digits": self.too_few_digits,
        }


@dataclass
class Report:
    """Every answer's verdict, in computation order, and the diagnosis of the first wrong one."""

    verdicts: list[Verdict]
    diagnosis: Diagnosis | None
    round_to: int | None
    network: str = ""

    def count(self, status: str) -> int:
        return sum(1 for v in self.verdicts if v.status == status)

    @property
    def passed(self) -> bool:
        return self.count("wrong") == 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "network": self.network,
            "round": self.round_to,
            "answers": [v.to_dict() for v in self.verdicts],
            "summary": {s: self.count(s) for s in VERDICTS},
            "passed": self.passed,
            "diagnosis": self.diagnosis.to_dict() if self.diagnosis else None,
        }


# --- reading the answers -----------------------------------------------------------------------


def unit_of(text: str) -> float:
    """One unit in the last written digit: "0.40" → 0.01, "3.51e-5" → 1e-7, "12" → 1."""
    m = _NUMBER.fullmatch(text.strip())
    if not m:
        raise ValueError(f"not a number: {text!r}")
    decimals = len(m.group("frac") or "")
    exponent = int(m.group("exp") or 0)
    return 10.0 ** (exponent - decimals)


def significant_digits(text: str) -> int:
    """Digits written, leading zeros aside: "0.0217" → 3."""
    m = _NUMBER.fullmatch(text.strip())
    digits = (m.group("int") or "") + (m.group("frac") or "") if m else ""
    return len(digits.lstrip("0"))


def read_answers(text: str, file: str, trace: Trace) -> list[Answer]:
    """Parse an answers file (id: value, any subset, any order); errors name file:line:col."""
    try:
        doc = source.parse(text, file)
    except SourceError as exc:
        if "file is empty" in exc.message:
            exc.message = "the file is empty; expected answers, one `id: value` a line"
        raise
    if not isinstance(doc.value, dict):
        raise doc.error((), "expected a mapping of ids to values, e.g. `dE_total/dw5: 0.0822`")
    out: list[Answer] = []
    for key, value in doc.value.items():
        path = (key,)
        line, col = doc.where(path)
        try:
            locate(trace, key)
        except UnknownId as exc:
            message = str(exc).replace(f"no quantity {key!r} in this network", "no such quantity")
            raise SourceError(file, line, col, key, message) from None
        raw = doc.texts.get(path)
        if isinstance(value, bool) or raw is None:
            raise doc.error(path, f"expected a number, got {_kind(value)}")
        if isinstance(value, str) and not _NUMBER.fullmatch(value.strip()):
            raise doc.error(path, f"expected a number, got the text {value!r}")
        if not _NUMBER.fullmatch(raw.strip()) or not any(c.isdigit() for c in raw):
            raise doc.error(path, f"expected a number written in digits, got {raw!r}")
        x = float(raw)
        if not math.isfinite(x):
            raise doc.error(path, f"expected a finite number, got {raw!r}")
        out.append(Answer(key, raw.strip(), x, line, col, unit_of(raw)))
    if not out:
        raise doc.error((), "no answers: write one `id: value` a line")
    return out


def load_answers(path: Path, trace: Trace) -> list[Answer]:
    """Read an answers file from disk."""
    return read_answers(source.read_text(path), str(path), trace)


# --- judging ---------------------------------------------------------------------------------


def within(x: float, target: float, tolerance: float) -> bool:
    """|x − target| ≤ tolerance, with a hair of slack for the float of a decimal."""
    return abs(x - target) <= tolerance * (1 + _SLACK)


def is_zero(value: float, step: Step) -> bool:
    """0, or only the floating-point residue of a cancellation among the step's terms."""
    return abs(value) <= RESIDUE * sum(abs(x) for x in step.terms.values())


def judging_unit(answer: Answer, expected: float, step: Step) -> float:
    """The unit an answer is judged in: one unit of its last significant digit.

    That is the unit of its last written digit, unless the expected value, rounded to as many
    significant digits as the answer gives, ends in a finer digit: `1` gives one digit, and 0.75
    to one digit is 0.8, so `1` is judged in tenths. An answer of 0 gives no digit: its unit is 0,
    right only for a value that is 0.
    """
    n = significant_digits(answer.text)
    if n == 0:
        return 0.0
    if is_zero(expected, step):
        return answer.unit
    exponent = int(f"{abs(expected):.{n - 1}e}".split("e")[1])
    return min(answer.unit, 10.0 ** (exponent - n + 1))


def judge(answer: Answer, expected: float, step: Step) -> tuple[str, float]:
    """right (within half a unit), rounding (within one unit), or wrong; and the unit."""
    unit = judging_unit(answer, expected, step)
    if unit == 0.0:
        return ("right" if is_zero(expected, step) else "wrong"), unit
    if within(answer.value, expected, unit / 2):
        return "right", unit
    if within(answer.value, expected, unit):
        return "rounding", unit
    return "wrong", unit


def _decimals(unit: float) -> int:
    return max(0, round(-math.log10(unit)))


def check(
    spec: Spec, answers: list[Answer], *, round_to: int | None = None, diagnose: bool = True
) -> Report:
    """Judge every answer; diagnose the first wrong one in computation order."""
    exact = run_step(spec)
    reference = exact if round_to is None else run_step(spec, round_to=round_to)
    rounded: dict[int, Trace] = {}
    verdicts: list[Verdict] = []
    for a in answers:
        i = locate(reference, a.key)
        s = reference.steps[i]
        status, unit = judge(a, s.value, s)
        v = Verdict(a, i, s, s.value, exact.steps[locate(exact, a.key)].value, status, "", unit)
        if v.status == "rounding":
            v.reason = "within one unit of the last digit"
        elif v.status == "wrong" and round_to is None:
            # Rounding every intermediate by hand drifts further than one unit at times.
            for d in sorted({_decimals(b.unit) for b in answers if b.unit < 1}):
                if d not in rounded:
                    rounded[d] = run_step(spec, round_to=d)
                r = rounded[d].steps[locate(rounded[d], a.key)]
                if judge(a, r.value, r)[0] == "right":
                    v.status = "rounding"
                    v.reason = f"matches rounding every intermediate to {d} decimals"
                    break
        if v.status == "wrong" and v.unit == 0.0:
            v.reason = "0 is right only for a value that is 0"
        elif v.status == "wrong" and v.unit < a.unit:
            n = significant_digits(a.text)
            shown = f"{round(s.value / v.unit) * v.unit:.{_decimals(v.unit)}f}"
            v.reason = f"to {n} significant digit{'s' * (n > 1)} it is {shown}"
        verdicts.append(v)
    verdicts.sort(key=lambda v: v.index)
    first = next((v for v in verdicts if v.status == "wrong"), None)
    diagnosis = None
    if first is not None and diagnose:
        diagnosis = diagnose_first(spec, reference, verdicts, first, round_to)
    return Report(verdicts, diagnosis, round_to, spec.name)


# --- diagnosing ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Variant:
    """A known slip, as a way to run the engine."""

    code: str
    description: str
    spec: Spec
    update_order: str | None = None
    mistake: Mistake = CORRECT
    swapped: tuple[str, float, float] | None = None  # (id, value used, true value)


def diagnose_first(
    spec: Spec, trace: Trace, verdicts: list[Verdict], first: Verdict, round_to: int | None
) -> Diagnosis:
    """Name the inputs the student had right and the known slips that reproduce the answer."""
    by_index = {v.index: v for v in verdicts}
    inputs: list[tuple[str, Verdict | None]] = []
    for term in first.step.terms:
        j = producer(trace, first.index, term)
        if j is not None:
            inputs.append((trace.steps[j].id, by_index.get(j)))
    diagnosis = Diagnosis(first, inputs)
    a = first.answer
    if significant_digits(a.text) < MIN_DIGITS_SLIP:
        diagnosis.too_few_digits = True
        return diagnosis
    _, given = ancestors(trace, first.index)
    others = [v for v in verdicts if v.status == "wrong" and v is not first]
    for variant in variants(spec, given):
        t = run_step(
            variant.spec,
            update_order=variant.update_order,
            round_to=round_to,
            mistake=variant.mistake,
        )
        value = _variant_value(t, variant, first.step)
        if value is None or not within(a.value, value, judging_unit(a, value, first.step)):
            continue
        if within(value, first.expected, first.unit / 2):
            continue  # this slip does not change the answer at the precision written
        also = []
        for w in others:
            x = _variant_value(t, variant, w.step)
            if x is not None and within(w.answer.value, x, judging_unit(w.answer, x, w.step)):
                also.append(w.answer.key)
        diagnosis.slips.append(Slip(variant.code, variant.description, value, tuple(also)))
    # The slip that also explains most of the later wrong answers first; the post's typo first
    # among equals, since it is the one readers copy.
    diagnosis.slips.sort(key=lambda s: (-len(s.also), "post's own typo" not in s.description))
    if significant_digits(a.text) >= MIN_DIGITS_OTHER:
        for s in trace.steps[: first.index]:
            if s.id != first.step.id and within(a.value, s.value, judging_unit(a, s.value, s)):
                diagnosis.slips.append(
                    Slip("other_quantity", f"the value of {s.id}, not of {first.step.id}", s.value)
                )
                break
    return diagnosis


def _variant_value(trace: Trace, variant: Variant, step: Step) -> float | None:
    """The value of the same quantity in the run that reproduces a slip."""
    value = None
    for s in trace.steps:
        if s.id == step.id and s.sample == step.sample and s.update == step.update:
            value = s.value
            break
    else:
        value = next((s.value for s in trace.steps if s.id == step.id), None)
    if value is not None and variant.swapped and step.id == f"{variant.swapped[0]}+":
        # The slip was in using the weight, not in the weight being updated.
        _, used, true = variant.swapped
        value = value - used + true
    return value


def variants(spec: Spec, used: set[str]) -> Iterator[Variant]:
    """The known slips that touch the given values `used` (and the ones that touch every step)."""
    params = {p.id: p for p in spec.parameters()}
    fmt = _short
    typo = _is_worked_example(spec)
    for a, b in neighbours(spec):
        if a not in used:
            continue
        pa, pb = params[a], params[b]
        if pa.value == pb.value:
            continue
        what = f"{b} ({fmt(pb.value)}) used where {a} ({fmt(pa.value)}) belongs"
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
            code,
            what,
            spec.with_parameters({a: pb.value}),
            swapped=(a, pb.value, pa.value),
        )
    for p in params.values():
        if p.kind == "bias" and p.id in used and p.value != 0:
            yield Variant(
                "missing_bias",
                f"the bias {p.id} left out of net",
                spec.with_parameters({p.id: 0.0}),
                swapped=(p.id, 0.0, p.value),
            )
    yield Variant(
        "error_sign",
        "the sign of (target − out): dE_total/dout written as (target − out), not −(target − out)",
        spec,
        mistake=Mistake(error_sign=True),
    )
    # A constant factor of dE_total/dout forgotten: the 2 of mse's -2 * (target - out)/n.
    derivative = LOSSES[spec.loss].derivative_formula
    factor = re.match(r"-?(?P<k>\d+) \* ", derivative)
    if factor:
        k = factor["k"]
        written = _in_words(derivative.replace(f"{k} * ", "", 1))
        yield Variant(
            "factor_left_out",
            f"the factor {k} of the loss's derivative left out: dE_total/dout written as "
            f"{written}, not {_in_words(derivative)}",
            spec,
            mistake=Mistake(error_factor=1 / int(k)),
        )
    for k, layer in enumerate(spec.layers):
        act = ACTIVATIONS[layer.activation]
        if not act.elementwise or act.derivative_formula == "1":  # no factor to leave out
            continue
        yield Variant(
            "missing_derivative",
            f"the activation's derivative dout/dnet left out in layer {layer.name} "
            f"(for {layer.activation}: {_derivative_text(layer.activation)})",
            spec,
            mistake=Mistake(no_derivative=(k,)),
        )
    if len(spec.layers) > 1:
        if spec.training.update_order == "simultaneous":
            what = (
                "the output weights already updated: the hidden deltas used w+ (e.g. "
                f"{_first_output_weight(spec)}+), not the weights before the update"
            )
            if typo:
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
    t = spec.training
    yield Variant(
        "missing_learning_rate",
        "the learning rate η left out: w+ = w − dE_total/dw",
        dataclasses.replace(spec, training=dataclasses.replace(t, learning_rate=1.0)),
    )
    yield Variant(
        "update_sign",
        "the gradient added, not subtracted: w+ = w + η·dE_total/dw",
        dataclasses.replace(spec, training=dataclasses.replace(t, learning_rate=-t.learning_rate)),
    )


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


def _is_worked_example(spec: Spec) -> bool:
    mine, post = spec.to_dict(), load_spec().to_dict()
    mine.pop("name")
    post.pop("name")
    return bool(mine == post)


def _first_output_weight(spec: Spec) -> str:
    k = len(spec.layers) - 1
    return next(p.id for p in spec.parameters() if p.layer == k and p.kind == "weight")


def _in_words(formula: str) -> str:
    """A loss formula template as a person writes it: -(target - out)/n."""
    return formula.replace("{t}", "target").replace("{", "").replace("}", "")


def _derivative_text(activation: str) -> str:
    return (
        ACTIVATIONS[activation].derivative_formula.replace("{out}", "out").replace("{net}", "net")
    )


def _short(x: float) -> str:
    return f"{x:.10g}"
