"""Check values against the trace, and name the first mistake: a student's hand calculation or a
program's output.

The tolerance of each answer follows its digits: `0.40` is right when it is the exact value
rounded to its two decimals (within 0.005 of 0.3775), and counts as a rounding difference within
one unit of its last digit (as when intermediates are rounded by hand, as the post does). The
value rounded to the decimals written or to the significant digits written is right: `0.0100`
and `0.00995` for 0.009954. A whole number claims no more than its significant digits: `1` for
0.75 gives one digit and 0.75 to one digit is 0.8, so `1` is wrong; and a whole 0 is right only
for a value that is 0. Under --round N, an answer right for the exact run (rounded at the end)
but not for the run rounded to N is graded exactly. An answer
with 12 or more significant digits is a program's output: right within 1e-9 relative, else wrong.
For the first wrong answer in computation order, known slips and bugs (slips.py) are recomputed
with the engine and named when one reproduces it.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import chain
from typing import Any

from backprop_cli.engine.passes import step as run_step
from backprop_cli.engine.trace import Step, Trace, json_number
from backprop_cli.specs import datatext, source
from backprop_cli.specs.model import Spec
from backprop_cli.specs.source import SourceError
from backprop_cli.specs.validate import _kind
from backprop_cli.tutor.conventions import (
    AUTO,
    CONVENTIONS,
    HAN_KAMBER,
    POST,
    Convention,
    in_convention,
    is_delta,
)
from backprop_cli.tutor.explain import UnknownId, ancestors, locate, parse_id, producer
from backprop_cli.tutor.slips import ALIASES, Values, Variant, variants

_NUMBER = datatext.WRITTEN  # ASCII digits only
_SLACK = 1e-9  # relative slack on the tolerance, so that 0.35 → 0.4 is within half of 0.1
RESIDUE = 1e-15  # |value| below this × Σ|terms| is what float64 leaves of an exact 0
# Digits an answer needs before a slip is named: "0.5" is within a unit of too many values.
MIN_DIGITS_SLIP = 2
MIN_DIGITS_OTHER = 3  # ... and before it is matched against every other quantity of the trace
VERDICTS = ("right", "rounding", "wrong")
# Above this many steps, a slip is looked for among the values the wrong step reads, not among
# all those it rests on (tracing them all is quadratic in the trace's length).
ANCESTRY_STEPS = 2000
PROGRAM_DIGITS = 12  # an answer with this many significant digits is a program's output ...
PROGRAM_RTOL = 1e-9  # ... judged right within this relative difference
PROGRAM_REASON = "program output: within 1e-9 relative"
EXACTLY = "graded exactly"  # under --round N: worked without rounding, judged exactly
SETTING = "convention"  # the one key of an answers file that is a setting, not an id


@dataclass(frozen=True, slots=True)
class Answer:
    """One value from the answers file, with where it was written and how precisely."""

    key: str  # the id as written: dE_total/dw5, or dE_total/dw5[2] for sample 2
    text: str  # the number as written: "0.40"
    value: float
    line: int
    col: int
    unit: float  # one unit in the last digit written: 0.01 for "0.40"
    # Where a trace names the step exactly: its sample and update (0-based, as in trace JSON).
    at: tuple[int | None, int | None] | None = None

    @property
    def program(self) -> bool:
        """Written with 12 or more significant digits: a program's output, not a hand's."""
        return significant_digits(self.text) >= PROGRAM_DIGITS


class Answers(list[Answer]):
    """The answers of a file, and the convention it says they are worked in (None: not said)."""

    convention: str | None = None


def setting(value: object) -> str | None:
    """The convention an answers file names, or None when it is not one of them."""
    return value if isinstance(value, str) and value in CONVENTIONS else None


def setting_error(value: object) -> str:
    """What is wrong with `convention: value` (the field is named by the error's place)."""
    return f"expected one of {', '.join(CONVENTIONS)}, got {value!r}"


@dataclass(slots=True)
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
    # The decimals of the run it was judged against (None: the exact run); under --round N an
    # answer worked without rounding is judged against the exact run.
    rounded: int | None = None
    # Under --round N: this step's value in the run rounded to N, whichever run judged the
    # answer (its drift from `exact` is what rounding does, even to an answer graded exactly).
    in_rounded_run: float | None = None

    @property
    def difference(self) -> float:
        return self.answer.value - self.expected

    def to_dict(self) -> dict[str, Any]:
        rounded = (
            {} if self.in_rounded_run is None else {"rounded": json_number(self.in_rounded_run)}
        )
        return {
            "id": self.answer.key,
            "line": self.answer.line,
            "col": self.answer.col,
            "answer": self.answer.value,
            "text": self.answer.text,
            "expected": json_number(self.expected),
            "exact": json_number(self.exact),
            **rounded,
            "difference": json_number(self.difference),
            "unit": self.answer.unit,
            "margin": self.unit / 2,
            "program": self.answer.program,
            "verdict": self.status,
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class Slip:
    """A known mistake that reproduces a wrong answer: what it is, and the value it gives."""

    code: str
    description: str
    value: float
    also: tuple[str, ...] = ()  # the student's other wrong answers this slip reproduces
    breaks: int = 0  # answers that are right but that this slip would make wrong
    eta: float | None = None  # learning_rate: the η the updates fit
    # Inputs of the wrong step, not in the answers, that the slip changes: where it happened.
    through: tuple[tuple[str, float], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "code": self.code,
            "description": self.description,
            "value": self.value,
            "also_explains": list(self.also),
            "contradicts": self.breaks,
            "through": [{"id": name, "value": json_number(x)} for name, x in self.through],
        }
        if self.code in ALIASES:
            d["alias"] = ALIASES[self.code]  # the code this slip had before
        if self.eta is not None:
            d["learning_rate"] = self.eta
        return d


@dataclass(slots=True)
class Diagnosis:
    """What went wrong in the first wrong answer."""

    verdict: Verdict
    inputs: list[tuple[str, Verdict | None]]  # the step's inputs; the student's verdict if given
    slips: list[Slip] = field(default_factory=list)
    too_few_digits: bool = False  # the answer is too coarse to tell one slip from another
    others: int = 0  # the wrong answers after the first

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


@dataclass(slots=True)
class Report:
    """Every answer's verdict, in computation order, and the diagnosis of the first wrong one."""

    verdicts: list[Verdict]
    diagnosis: Diagnosis | None
    round_to: int | None
    network: str = ""
    convention: str = POST.name  # the sign convention of δ the answers were graded in
    notes: list[str] = field(default_factory=list)  # what the grading recognised, for the reader

    def count(self, status: str) -> int:
        return sum(1 for v in self.verdicts if v.status == status)

    @property
    def passed(self) -> bool:
        return self.count("wrong") == 0

    @property
    def codes(self) -> list[str]:
        """The diagnosis's slip codes, best first (empty when nothing is wrong or recognised)."""
        return [s.code for s in self.diagnosis.slips] if self.diagnosis else []

    def to_dict(self) -> dict[str, Any]:
        return {
            "network": self.network,
            "round": self.round_to,
            "convention": self.convention,
            "notes": list(self.notes),
            "answers": [v.to_dict() for v in self.verdicts],
            "summary": {s: self.count(s) for s in VERDICTS},
            "passed": self.passed,
            "diagnosis": self.diagnosis.to_dict() if self.diagnosis else None,
        }


class Ids:
    """Where each id is in a trace, indexed once: thousands of answers stay quick."""

    def __init__(self, trace: Trace) -> None:
        self.trace = trace
        self.first: dict[str, int] = {}
        self.exact: dict[tuple[str, int | None, int | None], int] = {}
        self.by_sample: dict[tuple[str, int | None], int] = {}
        self.every: dict[str, list[int]] = {}  # each sample's or update's step of an id
        self.samples: dict[int, int] = {}  # the first sample of each update
        for i, s in enumerate(trace.steps):
            self.first.setdefault(s.id, i)
            if (s.id, s.sample, s.update) not in self.exact:
                self.exact[(s.id, s.sample, s.update)] = i
                self.every.setdefault(s.id, []).append(i)
            self.by_sample.setdefault((s.id, s.sample), i)
            if s.update is not None and s.sample is not None:
                self.samples.setdefault(s.update, s.sample)

    def same(self, step: Step) -> int:
        """The index of the step of the same id, sample and update (in a run of the same
        network, rounded or not)."""
        return self.exact[(step.id, step.sample, step.update)]

    def spelled(self, index: int) -> tuple[str, str]:
        """The step as an id with [k] names it, and which of its kind it is:
        (`w1+[2]`, `update 2 of 2`), (`net_h1[2]`, `sample 2 of 2`)."""
        s = self.trace.steps[index]
        if s.sample is not None:
            return (
                f"{s.id}[{s.sample + 1}]",
                f"sample {s.sample + 1} of {len(self.trace.spec.samples)}",
            )
        if s.update is not None and s.update in self.samples:
            k = self.samples[s.update] + 1
            return f"{s.id}[{k}]", f"update {s.update + 1} of {len(self.samples)}"
        return s.id, "the one"

    def index(self, key: str, at: tuple[int | None, int | None] | None = None) -> int:
        """The step an answer names; UnknownId (with the closest ids) when there is none."""
        base, sample = parse_id(key)
        if at is not None and (base, at[0], at[1]) in self.exact:
            return self.exact[(base, at[0], at[1])]
        if sample is None and key in self.first:
            return self.first[key]
        if sample is not None and (base, sample) in self.by_sample:
            return self.by_sample[(base, sample)]
        return locate(self.trace, key)  # an update's id with a sample, or no such id


def with_fixed(trace: Trace) -> Trace:
    """The trace with `b1+` for each parameter the config holds fixed: its value, unchanged, so
    that a program that updates it anyway can say so (and be told `bias_updated`)."""
    have = set(trace.ids())
    fixed = [p for p in trace.parameters if f"{p.id}+" not in have]
    updates = [i for i, s in enumerate(trace.steps) if s.phase == "update"]
    if not fixed or not updates:
        return trace
    at = updates[-1] + 1
    last = trace.steps[updates[-1]].update
    added = [
        Step(
            f"{p.id}+",
            "update",
            p.layer,
            None,
            last,
            f"{{{p.id}}}",
            {p.id: p.value},
            p.value,
            (p.id,),
            "held fixed by the config",
        )
        for p in fixed
    ]
    return dataclasses.replace(trace, steps=trace.steps[:at] + added + trace.steps[at:])


# --- reading the answers -----------------------------------------------------------------------


def unit_of(text: str) -> float:
    """One unit in the last written digit: "0.40" → 0.01, "3.51e-5" → 1e-7, "12" → 1."""
    try:
        return datatext.written_number(text.strip()).unit
    except datatext.NotANumber:
        raise ValueError(f"not a number: {text!r}") from None


def number(raw: str, file: str, line: int, col: int, key: str) -> tuple[float, float]:
    """The value and the unit of its last digit, from a number as written; else SourceError.
    Any number of digits is read (12 or more are a program's output, judged to 1e-9)."""
    try:
        x = datatext.written_number(raw.strip())
    except datatext.NotANumber as exc:
        message = str(exc) or f"expected a number written in digits, got {datatext.quoted(raw)}"
        raise SourceError(file, line, col, key, message) from None
    return x.value, x.unit


def is_written_number(text: str) -> bool:
    """The text is a number in ASCII digits (a quoted one, in a message's hint)."""
    m = _NUMBER.fullmatch(text.strip())
    return m is not None and bool(m.group("int") or m.group("frac"))


def significant_digits(text: str) -> int:
    """Digits written, leading zeros aside: "0.0217" → 3."""
    m = _NUMBER.fullmatch(text.strip())
    digits = (m.group("int") or "") + (m.group("frac") or "") if m else ""
    return len(digits.lstrip("0"))


def decimals_written(text: str) -> int:
    """Digits written after the decimal point: "0.0100" → 4, "1" and "1." → 0."""
    m = _NUMBER.fullmatch(text.strip())
    return len(m.group("frac") or "") if m else 0


def read_answers(text: str, file: str, trace: Trace) -> Answers:
    """Parse an answers file (id: value, any subset, any order); errors name file:line:col."""
    try:
        doc = source.parse(text, file)
    except SourceError as exc:
        if "file is empty" in exc.message:
            exc.message = "the file is empty; expected answers, one `id: value` a line"
        raise
    if not isinstance(doc.value, dict):
        raise doc.error((), "expected a mapping of ids to values, e.g. `dE_total/dw5: 0.0822`")
    out = Answers()
    named = Named(trace, file)
    blank = 0
    for key, value in doc.value.items():
        if key == SETTING:  # `convention: han-kamber`: how the deltas are signed
            if setting(value) is None:
                raise doc.error((key,), setting_error(value))
            out.convention = setting(value)
            continue
        for sub, cell, where in cells(str(key), value, trace, doc.where((key,)), file):
            path = (key, *where)
            line, col = doc.where(path)
            named.add(sub, line, col)
            raw = doc.texts.get(path)
            if cell is None and raw == "":  # `id:` and nothing: not answered yet (init --sheet)
                blank += 1
                continue
            if isinstance(cell, bool) or raw is None:
                raise doc.error(path, f"expected a number, got {_kind(cell)}")
            if isinstance(cell, str) and is_written_number(cell):  # '0.3775', quoted
                message = "a string, not a number (remove the quotes)"
                raise doc.error(path, f"expected a number, got {datatext.quoted(cell)}: {message}")
            if isinstance(cell, str):
                raise doc.error(path, f"expected a number, got the text {datatext.quoted(cell)}")
            x, unit = number(raw, file, line, col, sub)
            out.append(Answer(sub, raw.strip(), x, line, col, unit))
    if not out and blank:
        raise doc.error((), "no answers yet: every value is blank; write each number after its id")
    if not out:
        raise doc.error((), "no answers: write one `id: value` a line")
    return out


def cells(
    key: str, value: Any, trace: Trace, where: tuple[int, int], file: str
) -> list[tuple[str, Any, tuple[int, ...]]]:
    """(scalar id, value, place inside the value) of one answer: itself, or the entries of a
    matrix given as nested lists under a layer-level id (W_o, dE_total/dW_o, delta_o[2]), one
    row per neuron as in the config; a column (delta_o) may be a flat list."""
    if not isinstance(value, list):
        return [(key, value, ())]
    from backprop_cli.engine.matrices import scalar_ids

    base, sample = parse_id(key)
    grid = scalar_ids(trace.spec).get(base)
    if grid is None:
        return [(key, value, ())]  # "expected a number, got a list"
    suffix = f"[{sample + 1}]" if sample is not None else ""
    column = all(len(row) == 1 for row in grid)
    if column and not any(isinstance(v, list) for v in value):
        if len(value) == len(grid):
            return [(grid[r][0] + suffix, v, (r,)) for r, v in enumerate(value)]
    elif len(value) == len(grid) and all(
        isinstance(row, list) and len(row) == len(g) for row, g in zip(value, grid, strict=True)
    ):
        return [
            (grid[r][c] + suffix, v, (r, c))
            for r, row in enumerate(value)
            for c, v in enumerate(row)
        ]
    shape = f"{len(grid)}×{len(grid[0])}"
    message = f"expected a {shape} matrix: {len(grid)} rows (one per neuron) of {len(grid[0])}"
    if column:
        message += f", or a list of {len(grid)}"
    raise SourceError(file, where[0], where[1], key, message)


class Named:
    """The ids an answers file names so far: each must exist, and be answered once."""

    def __init__(self, trace: Trace, file: str) -> None:
        self.ids = Ids(with_fixed(trace))
        self.file = file
        self.answered: dict[int, tuple[str, int]] = {}  # step index -> the id and line

    def add(
        self, key: str, line: int, col: int, at: tuple[int | None, int | None] | None = None
    ) -> None:
        try:
            index = self.ids.index(key, at)
        except UnknownId as exc:
            message = str(exc).replace(f"no quantity {key!r} in this network", "no such quantity")
            raise SourceError(self.file, line, col, key, message) from None
        if index in self.answered:  # two spellings of one quantity (w5+ and w5+[1])
            first, first_line = self.answered[index]
            message = f"the same quantity as {first!r} on line {first_line}; answer it once"
            raise SourceError(self.file, line, col, key, message)
        self.answered[index] = (key, line)


# --- judging ---------------------------------------------------------------------------------


def within(x: float, target: float, tolerance: float) -> bool:
    """|x − target| ≤ tolerance, with a hair of slack for the float of a decimal."""
    return abs(x - target) <= tolerance * (1 + _SLACK)


def is_zero(value: float, step: Step) -> bool:
    """0, or only the floating-point residue of a cancellation among the step's terms."""
    return abs(value) <= RESIDUE * sum(abs(x) for x in step.terms.values())


def judging_unit(answer: Answer, expected: float, step: Step) -> float:
    """The unit an answer is judged in: one unit of its last written digit.

    An answer with decimals is right when it is the value rounded to its decimals or to its
    significant digits; the decimals are the coarser reading (they differ only where rounding
    crosses a power of ten, 0.00995… → 0.0100 at 4 decimals, 0.00995 at 3 digits), so they
    decide. A whole number claims only its significant digits: `1` gives one digit, and 0.75 to
    one digit is 0.8, so `1` is judged in tenths. A whole 0 gives no digit: its unit is 0, right
    only for a value that is 0 (0.0000 gives four decimals: right below 0.00005).
    """
    if decimals_written(answer.text):
        return answer.unit
    n = significant_digits(answer.text)
    if n == 0:
        return 0.0
    if is_zero(expected, step):
        return answer.unit
    exponent = int(f"{abs(expected):.{n - 1}e}".split("e")[1])
    return min(answer.unit, 10.0 ** (exponent - n + 1))


def program_margin(expected: float, step: Step) -> float:
    """What a program's output may differ by: 1e-9 relative, or the residue of an exact 0."""
    return PROGRAM_RTOL * abs(expected) + RESIDUE * sum(abs(x) for x in step.terms.values())


def agrees(answer: Answer, value: float, step: Step) -> bool:
    """The answer is what `value` gives at the precision written (for naming a slip)."""
    if answer.program:
        return abs(answer.value - value) <= program_margin(value, step)
    return within(answer.value, value, judging_unit(answer, value, step))


def judge(answer: Answer, expected: float, step: Step) -> tuple[str, float]:
    """right (within half a unit), rounding (within one unit), or wrong; and the unit. A
    program's output is right within 1e-9 relative, and never a rounding (its unit is twice
    that margin)."""
    if answer.program:
        m = program_margin(expected, step)
        return ("right" if abs(answer.value - expected) <= m else "wrong"), 2 * m
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


class Runs:
    """The runs of a network an answer is judged against, in one convention of δ: the exact
    run and the run rounded to N decimals, each made once."""

    def __init__(self, spec: Spec, convention: Convention) -> None:
        self.spec, self.convention = spec, convention
        self.made: dict[int | None, tuple[Trace, Ids]] = {}

    def __call__(self, decimals: int | None = None) -> tuple[Trace, Ids]:
        if decimals not in self.made:
            run = with_fixed(run_step(self.spec, round_to=decimals))
            trace = in_convention(run, self.convention)
            self.made[decimals] = (trace, Ids(trace))
        return self.made[decimals]


def recognised(answers: list[Answer], trace: Trace, ids: Ids) -> Convention:
    """Han & Kamber's convention when every delta given that the sign tells apart has the
    opposite sign of the post's δ = ∂E/∂net (and at least one does); else the post's."""
    post = theirs = 0
    for a in answers:
        if not is_delta(a.key):
            continue
        s = trace.steps[ids.index(a.key, a.at)]
        right = judge(a, s.value, s)[0] != "wrong"
        flipped = judge(a, -s.value, s)[0] != "wrong"
        post += right and not flipped
        theirs += flipped and not right
    return HAN_KAMBER if theirs and not post else POST


def _graded(
    a: Answer, index: int, runs: Runs, round_to: int | None, decimals: list[int]
) -> Verdict:
    """The answer judged against the step at `index` of the run rounded to round_to (None:
    exact); a wrong hand answer is tried against rounding every intermediate to `decimals`."""
    reference, _ = runs(round_to)
    exact, exact_ids = runs(None)
    s = reference.steps[index]
    status, unit = judge(a, s.value, s)
    exact_value = exact.steps[exact_ids.same(s)].value
    v = Verdict(a, index, s, s.value, exact_value, status, "", unit, round_to)
    if a.program:
        v.reason = PROGRAM_REASON if status == "right" else ""
    elif v.status == "rounding":
        v.reason = "within one unit of the last digit"
    elif v.status == "wrong" and round_to is None:
        # Rounding every intermediate by hand drifts further than one unit at times.
        for d in decimals:
            t, t_ids = runs(d)
            r = t.steps[t_ids.same(s)]
            if judge(a, r.value, r)[0] == "right":
                v.status = "rounding"
                v.reason = f"matches rounding every intermediate to {d} decimals"
                break
    if v.status == "wrong" and v.unit == 0.0:
        v.reason = "0 is right only for a value that is 0"
    elif v.status == "wrong" and not a.program and v.unit < a.unit:
        n = significant_digits(a.text)
        shown = f"{round(s.value / v.unit) * v.unit:.{_decimals(v.unit)}f}"
        v.reason = f"to {n} significant digit{'s' * (n > 1)} it is {shown}"
    return v


def check(
    spec: Spec,
    answers: list[Answer],
    *,
    round_to: int | None = None,
    diagnose: bool = True,
    convention: str | None = None,
) -> Report:
    """Judge every answer; diagnose the first wrong one in computation order.

    convention: how the answers sign δ (conventions.py): "post", "han-kamber", or "auto" to
    recognise it from the deltas given; default: what the answers file says, else "auto".
    """
    asked = convention or getattr(answers, "convention", None) or AUTO
    plain = Runs(spec, POST)
    conv = recognised(answers, *plain(round_to)) if asked == AUTO else CONVENTIONS[asked]
    runs = plain if conv is POST else Runs(spec, conv)
    _, ids = runs(round_to)
    decimals = sorted({_decimals(b.unit) for b in answers if b.unit < 1 and not b.program})
    taken = {ids.index(a.key, a.at): a for a in answers}
    verdicts: list[Verdict] = []
    first_of: list[str] = []  # unindexed ids graded as their first sample's or update's
    for a in answers:
        i = ids.index(a.key, a.at)
        v = _graded(a, i, runs, round_to, decimals)
        every = ids.every.get(ids.trace.steps[i].id, [])
        if a.at is None and parse_id(a.key)[1] is None and len(every) > 1:
            name, what = ids.spelled(i)
            if v.status == "wrong":
                for j in every:
                    if j == i or taken.get(j, a) is not a:
                        continue  # that one is answered by its own id
                    w = _graded(a, j, runs, round_to, decimals)
                    if w.status != "wrong":
                        other, which = ids.spelled(j)
                        w.reason = f"it is {other}, {which}, not {name}"
                        v = w
                        break
                else:
                    kind = what.split()[0]
                    v.reason = f"graded as {name}, {what}; it is no other {kind}'s either"
            else:
                first_of.append(f"{a.key} as {name} ({what})")
        verdicts.append(v)
    notes: list[str] = []
    if round_to is not None:
        notes += _worked_exactly(verdicts, runs, round_to, decimals)
        rounded_run = runs(round_to)[0]
        for v in verdicts:
            v.in_rounded_run = rounded_run.steps[v.index].value
    verdicts.sort(key=lambda v: v.index)
    if first_of:
        more = f", … ({len(first_of)} ids)" if len(first_of) > 3 else ""
        notes.append(
            "An id without [k] is graded as its first sample's or update's: "
            f"{', '.join(first_of[:3])}{more}; [2] names the second."
        )
    if conv is not POST:
        notes.append(_convention_note(conv, verdicts, asked == AUTO))
    first = next((v for v in verdicts if v.status == "wrong"), None)
    diagnosis = None
    if first is not None and diagnose:
        trace = runs(first.rounded)[0]
        diagnosis = diagnose_first(spec, trace, verdicts, first, first.rounded, conv)
    return Report(verdicts, diagnosis, round_to, spec.name, conv.name, notes)


_RANK = {"wrong": 0, "rounding": 1, "right": 2}


def _worked_exactly(
    verdicts: list[Verdict], runs: Runs, round_to: int, decimals: list[int]
) -> list[str]:
    """Under --round N, an answer that the exact run (rounded at the end, to the answer's own
    digits) judges better than the run rounded to N was worked without rounding: it is judged
    against the exact run, and a note says so. Once one is, every wrong answer with more
    decimals than N is judged exactly too, so that its diagnosis is against the run it was
    worked in."""
    more = [d for d in decimals if d > round_to]
    exactly = {
        k: _graded(v.answer, v.index, runs, None, more)
        for k, v in enumerate(verdicts)
        if v.status != "right"
    }
    better = {k for k, w in exactly.items() if _RANK[w.status] > _RANK[verdicts[k].status]}
    if not better:
        return []

    def finer(k: int) -> bool:
        a = verdicts[k].answer
        return a.program or _decimals(a.unit) > round_to

    taken = sorted(
        k for k in exactly if k in better or (verdicts[k].status == "wrong" and finer(k))
    )
    for k in taken:
        w = exactly[k]
        if w.reason in ("", PROGRAM_REASON):
            w.reason = EXACTLY
        verdicts[k] = w
    notes = []
    long = [k for k in taken if finer(k)]
    if long:
        n, agree = len(long), sum(1 for k in long if k in better)
        they = "and agree" if agree == n else f"and {agree} of them agree"
        notes.append(
            f"{n} answer{'s' * (n > 1)} give{'s' * (n == 1)} more decimals than --round "
            f"{round_to} {they} with the exact run: worked without rounding (or to more "
            f"decimals), so {'they are' if n > 1 else 'it is'} graded exactly, not against the "
            f"run rounded to {round_to} decimals."
        )
    short = [k for k in taken if not finer(k)]
    if short:
        n = len(short)
        fewer = any(_decimals(verdicts[k].answer.unit) < round_to for k in short)
        notes.append(
            f"{n} answer{'s' * (n > 1)} to {round_to} decimals{' or fewer' * fewer} "
            f"agree{'s' * (n == 1)} with the exact run rounded at the end, not with the run "
            f"rounded to {round_to} decimals as it went: worked exactly and rounded at the end, so "
            f"{'they are' if n > 1 else 'it is'} graded exactly."
        )
    return notes


def _convention_note(conv: Convention, verdicts: list[Verdict], recognised: bool) -> str:
    """What the grading took the deltas' sign to mean, and whether the updates agree."""
    text = f"{conv.delta}, {conv.who} ({conv.rule})"
    if not recognised:
        return f"Graded in the convention {text}."
    return (
        f"Your deltas follow {text}{_updates_agree(verdicts)}: a convention, not a slip, so "
        "they are graded in it (--convention post grades them in the post's δ = ∂E/∂net)."
    )


def _updates_agree(verdicts: list[Verdict]) -> str:
    updates = [v for v in verdicts if v.step.phase == "update" and v.step.id.endswith("+")]
    if not updates:
        return ""
    if all(v.status != "wrong" for v in updates):
        return "; your updates agree"
    return "; your updates do not all agree"


# --- diagnosing ---------------------------------------------------------------------------------


def _conventions(spec: Spec, graded: Convention, verdicts: list[Verdict]) -> Iterator[Variant]:
    """The deltas in each convention other than the one graded in: a convention, not a slip;
    not offered when a delta given is right in the one graded in and not in it (a convention
    signs every delta alike: mixed signs are a slip)."""

    def contradicts(c: Convention, v: Verdict) -> bool:
        theirs = v.expected * c.sign * graded.sign  # a δ in c: the same value, its sign c's
        right = judge(v.answer, v.expected, v.step)[0] != "wrong"
        return right and judge(v.answer, theirs, v.step)[0] == "wrong"

    deltas = [v for v in verdicts if is_delta(v.step.id)]
    for c in CONVENTIONS.values():
        if c is not graded and not any(contradicts(c, v) for v in deltas):
            rule = f" ({c.rule})" if c.rule else ""
            yield Variant(
                "convention",
                f"your deltas follow {c.delta}, {c.who}{rule}{_updates_agree(verdicts)}: a "
                f"convention, not a slip (--convention {c.name} grades in it)",
                spec,
                convention=c.name,
            )


def _moved(x: float, ref: float) -> bool:
    """x is not ref (beyond float64's rounding of the same computation)."""
    return not math.isclose(x, ref, rel_tol=1e-12, abs_tol=0.0)


def diagnose_first(
    spec: Spec,
    trace: Trace,
    verdicts: list[Verdict],
    first: Verdict,
    round_to: int | None,
    convention: Convention = POST,
) -> Diagnosis:
    """Name the inputs the student had right and the known slips that reproduce the answer.

    A slip that changes an input the student wrote right is not theirs (their number rules it
    out), unless the slip is in using it (dout/dnet computed, then left out); one that changes
    an input they did not give says so, since the slip is then in that step."""
    by_index = {v.index: v for v in verdicts}
    inputs: list[tuple[str, Verdict | None]] = []
    at: list[int] = []
    for term in first.step.terms:
        j = producer(trace, first.index, term)
        if j is not None:
            inputs.append((trace.steps[j].id, by_index.get(j)))
            at.append(j)
    diagnosis = Diagnosis(first, inputs)
    a = first.answer
    if significant_digits(a.text) < MIN_DIGITS_SLIP:
        diagnosis.too_few_digits = True
        return diagnosis
    if len(trace.steps) <= ANCESTRY_STEPS:
        _, given = ancestors(trace, first.index)
    else:  # tracing every ancestor is quadratic: the values this step reads
        given = {parse_id(term)[0] for term in first.step.terms}
    others = [v for v in verdicts if v.status == "wrong" and v is not first]
    diagnosis.others = len(others)
    rights = [v for v in verdicts if v.status != "wrong"]
    last_update = max((s.update for s in trace.steps if s.update is not None), default=None)
    tried = chain(
        _conventions(spec, convention, verdicts),
        variants(spec, given, fitted_etas(spec, verdicts)),
    )
    for variant in tried:
        signs = CONVENTIONS[variant.convention] if variant.convention else convention
        values = Values(variant, in_convention(variant.run(round_to), signs), last_update)
        value = values.value(first.step)
        if value is None or not agrees(a, value, first.step):
            continue
        if agrees(a, first.expected, first.step):
            continue  # this slip does not change the answer at the precision written
        through: list[tuple[str, float]] = []
        ruled_out = False
        for (name, w), j in zip(inputs, at, strict=True):
            x = values.value(trace.steps[j])
            if x is None or not _moved(x, trace.steps[j].value):
                continue
            if w is None:
                through.append((name, x))
            elif not variant.in_use and not agrees(w.answer, x, w.step):
                ruled_out = True  # the student wrote this input right
        if ruled_out:
            continue
        also = []
        for w in others:
            x = values.value(w.step)
            if x is not None and agrees(w.answer, x, w.step):
                also.append(w.answer.key)
        breaks = 0
        for r in rights:
            x = values.value(r.step)
            if x is not None and not agrees(r.answer, x, r.step):
                breaks += 1
        slip = Slip(
            variant.code,
            variant.description,
            value,
            tuple(also),
            breaks,
            variant.eta,
            () if variant.in_use else tuple(through),
        )
        if not variant.broader or not any(
            (s.code, s.value, s.also, s.breaks) == (slip.code, value, slip.also, breaks)
            for s in diagnosis.slips
        ):  # the same slip in more layers than it shows in: the narrower one says it
            diagnosis.slips.append(slip)
    # The slip that also explains most of the later wrong answers first; the post's typo next,
    # since it is the one readers copy; then the one that keeps most right answers right.
    diagnosis.slips.sort(
        key=lambda s: (-len(s.also), "post's own typo" not in s.description, s.breaks)
    )
    if significant_digits(a.text) >= MIN_DIGITS_OTHER:
        for s in trace.steps[: first.index]:
            if s.id != first.step.id and agrees(a, s.value, s):
                diagnosis.slips.append(
                    Slip("other_quantity", f"the value of {s.id}, not of {first.step.id}", s.value)
                )
                break
    return diagnosis


def fitted_etas(spec: Spec, verdicts: list[Verdict]) -> tuple[float, ...]:
    """Learning rates that the first wrong update fits: η·(w − answer)/(w − expected), exact
    for sgd (and any update linear in η), rounded to 1, 2 and 3 significant digits."""
    for v in verdicts:
        pid = v.step.id[:-1]
        if v.status != "wrong" or v.step.phase != "update" or not v.step.id.endswith("+"):
            continue
        if pid not in v.step.terms:
            continue
        w = v.step.terms[pid]
        if w == v.expected:
            continue
        eta = spec.training.learning_rate * (w - v.answer.value) / (w - v.expected)
        if not math.isfinite(eta) or eta <= 0:
            return ()
        return tuple(dict.fromkeys(float(f"{eta:.{n}g}") for n in (1, 2, 3)))
    return ()
