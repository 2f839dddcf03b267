"""Answers to check, in the format the file's extension names.

  .yaml/.yml  `id: value`, one a line (a hand calculation)
  .json       {"id": value, ...}; or a whole trace as `backprop step --format json` writes it (or
              a program imitating its `steps`: objects with `id` and `value`, and `sample`,
              `update` where an id repeats)
  .csv        rows `id,value` (a header row `id,value` is optional)
A `.csv` whose header starts `epoch` and any `.jsonl` is a training log instead (logcheck.py).
Every error names file:line:col.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from backprop_cli.engine.trace import Trace
from backprop_cli.specs import datatext, source
from backprop_cli.specs.source import SourceError
from backprop_cli.tutor import grading
from backprop_cli.tutor.grading import (
    SETTING,
    Answer,
    Answers,
    Named,
    cells,
    number,
    read_answers,
    setting,
    setting_error,
)

if TYPE_CHECKING:
    from backprop_cli.tutor.logcheck import LogReport

SUFFIXES = (".yaml", ".yml", ".json", ".csv")
LOG_SUFFIXES = (".jsonl",)


def kind_of(path: Path, head: str = "") -> str:
    """ "answers" or "log": by the extension, and for .csv by its header (epoch,E_total)."""
    suffix = path.suffix.lower()
    if suffix in LOG_SUFFIXES:
        return "log"
    if suffix == ".csv":
        first = next((line for line in head.splitlines() if line.strip()), "")
        names = [c.strip().strip('"').lower() for c in first.split(",")]
        if names[0] == "epoch" or {"epoch", "e_total"} <= set(names):  # E_total,epoch too
            return "log"
    return "answers"


def head(path: Path) -> str:
    """The first characters of a file, to tell a log's header from answers (empty when it
    cannot be read: reading it properly then says why). A log may be long: no more is read."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read(4096)
    except OSError:
        return ""


_KINDS = {".json": "JSON", ".csv": "CSV"}


def load_answers(path: Path, trace: Trace) -> list[Answer]:
    """Read an answers file from disk, in the format its extension names."""
    suffix = path.suffix.lower()
    text = datatext.read_text(str(path), _KINDS.get(suffix, "YAML"))
    return parse_answers(text, str(path), trace, suffix)


def parse_answers(text: str, file: str, trace: Trace, suffix: str = ".yaml") -> list[Answer]:
    """Answers from text in the given format (".yaml", ".json", ".csv")."""
    if suffix == ".json":
        return _json(text, file, trace)
    if suffix == ".csv":
        return _csv(text, file, trace)
    if suffix in (".yaml", ".yml", ""):
        return read_answers(text, file, trace)
    raise SourceError(
        file,
        0,
        0,
        "",
        f"unknown answers format {suffix!r}; one of .yaml, .yml, .json, .csv, .jsonl",
    )


# --- JSON ----------------------------------------------------------------------------------------


def _json(text: str, file: str, trace: Trace) -> list[Answer]:
    # No NaN, no key twice, nesting and numbers bounded; a refused value is named by its id.
    plain = datatext.loads(text, file, keyed=datatext.shown)
    try:
        doc: source.Document | None = source.parse(text, file)
    except SourceError:
        doc = None  # JSON that YAML reads otherwise: values without their places
    return from_plain(plain, doc, file, trace, strings=False)


def from_plain(
    plain: Any, doc: source.Document | None, file: str, trace: Trace, *, strings: bool = True
) -> list[Answer]:
    """Answers from parsed JSON (or Python values): ids to values, or a trace's `steps`.
    strings: a value may be the text of a number (from Python, to keep its digits: "0.40");
    a file's JSON holds numbers, as a YAML answer does."""
    if isinstance(plain, dict) and isinstance(plain.get("steps"), list):
        return _steps(plain["steps"], doc, file, trace)
    if not isinstance(plain, dict):
        raise SourceError(
            file, 1, 1, "", "expected an object of ids to values, or a trace with `steps`"
        )
    named = Named(trace, file)
    out = Answers()
    for key, value in plain.items():
        line, col = _where(doc, (key,))
        if key == SETTING:  # "convention": "han-kamber"
            if setting(value) is None:
                raise SourceError(file, line, col, key, setting_error(value))
            out.convention = setting(value)
            continue
        for sub, sub_value, path in cells(key, value, trace, (line, col), file):
            line, col = _where(doc, (key, *path))
            raw = _text(doc, (key, *path), sub_value)
            if isinstance(sub_value, bool) or not isinstance(sub_value, (int, float, str)):
                what = "a list" if isinstance(sub_value, list) else type(sub_value).__name__
                raise SourceError(file, line, col, sub, f"expected a number, got {what}")
            if isinstance(sub_value, str) and not strings:
                raise SourceError(file, line, col, sub, _string_message(sub_value))
            named.add(sub, line, col)
            x, unit = number(str(raw), file, line, col, sub)
            out.append(Answer(sub, str(raw).strip(), x, line, col, unit))
    if not out:
        raise SourceError(file, 1, 1, "", 'no answers: write {"id": value, ...}')
    return out


def _steps(steps: list[Any], doc: source.Document | None, file: str, trace: Trace) -> list[Answer]:
    named = Named(trace, file)
    several = len(trace.spec.samples) > 1
    out: list[Answer] = []
    for i, item in enumerate(steps):
        line, col = _where(doc, ("steps", i))
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            raise SourceError(file, line, col, f"steps[{i}]", "expected an object with an id")
        if "value" not in item:
            raise SourceError(file, line, col, f"steps[{i}]", "no value")
        if item["value"] is None:
            continue  # not finite in the program that wrote it: nothing to compare
        at = None
        sample, update = item.get("sample"), item.get("update")
        if "sample" in item or "update" in item:
            for name, v in (("sample", sample), ("update", update)):
                if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 0):
                    raise SourceError(
                        file, line, col, f"steps[{i}].{name}", "expected a count from 0, or null"
                    )
            at = (sample, update)
        key = item["id"]
        shown = f"{key}[{sample + 1}]" if several and sample is not None else key
        vline, vcol = _where(doc, ("steps", i, "value")) if doc else (line, col)
        value = item["value"]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise SourceError(file, vline, vcol, f"steps[{i}].value", "expected a number")
        named.add(key if at else shown, vline, vcol, at)
        raw = _text(doc, ("steps", i, "value"), value)
        x, unit = number(raw, file, vline, vcol, key)
        out.append(Answer(shown, raw.strip(), x, vline, vcol, unit, at))
    if not out:
        raise SourceError(file, 1, 1, "steps", "no steps with a value")
    return out


def _string_message(value: str) -> str:
    hint = " (remove the quotes)" if grading.is_written_number(value) else ""
    got = datatext.quoted(value)
    return f"expected a number, got the string {got}: a string, not a number{hint}"


def _where(doc: source.Document | None, path: tuple[str | int, ...]) -> tuple[int, int]:
    if doc is None:
        return 1, 1
    return doc.where(path)


def _text(doc: source.Document | None, path: tuple[str | int, ...], value: Any) -> str:
    """The number as written in the file (its digits count), else as Python writes it."""
    if doc is not None and path in doc.texts:
        return doc.texts[path]
    return value if isinstance(value, str) else repr(value)


# --- CSV -----------------------------------------------------------------------------------------


def _csv(text: str, file: str, trace: Trace) -> list[Answer]:
    named = Named(trace, file)
    out = Answers()
    reader = csv.reader(io.StringIO(text))
    read = 0  # lines read: a record starts on the line after (a quoted id may span lines)
    try:
        for row in reader:
            line, read = read + 1, reader.line_num
            if not row or all(not c.strip() for c in row):
                continue
            if not out and [c.strip().lower() for c in row] == ["id", "value"]:
                continue  # the header
            if len(row) != 2:
                raise SourceError(
                    file, line, 1, "", f"expected 2 columns `id,value`, got {len(row)}"
                )
            key, raw = row[0].strip(), row[1]
            col = len(row[0]) + 2
            if key == SETTING:  # convention,han-kamber
                if setting(raw.strip()) is None:
                    raise SourceError(file, line, col, key, setting_error(raw.strip()))
                out.convention = setting(raw.strip())
                continue
            try:
                named.add(key, line, 1)
            except SourceError as exc:
                exc.field = datatext.shown(exc.field, 80)  # an id holding a line break
                raise
            x, unit = number(raw, file, line, col, key)
            out.append(Answer(key, raw.strip(), x, line, col, unit))
    except csv.Error as exc:
        raise SourceError(file, reader.line_num, 1, "", f"not valid CSV: {exc}") from None
    if not out:
        raise SourceError(file, 1, 1, "", "no answers: write one `id,value` a row")
    return out


# --- the Python API ------------------------------------------------------------------------------


def check(
    answers: Any, spec: Any = None, *, round_to: int | None = None, convention: str | None = None
) -> grading.Report | LogReport:
    """Check values against a network, as `backprop check` does; the report as a value.

    answers: a path (.yaml, .yml, .json, .csv; a .csv `epoch,E_total` or a .jsonl log gives a
    LogReport), a Trace, a trace document (`{"steps": [...]}`), or a mapping of ids to values.
    spec: a Spec, a config's path, or None for the worked example.
    convention: how the deltas are signed, "post" or "han-kamber" (default: as the answers file
    says, else recognised from the deltas given).
    `report.passed` is True when nothing is wrong; `report.codes` names the diagnosis.
    A bad file or an unknown id raises SourceError (its message names file:line:col).
    """
    from backprop_cli.engine.passes import step as run_step
    from backprop_cli.specs.model import Spec
    from backprop_cli.specs.validate import load_spec
    from backprop_cli.tutor.logcheck import check_log, read_log

    if not isinstance(spec, Spec):
        spec = load_spec(None if spec is None else Path(spec))
    trace = run_step(spec)
    if isinstance(answers, (str, Path)):
        path = Path(answers)
        if kind_of(path, head(path)) == "log":
            return check_log(spec, lambda: read_log(path), round_to=round_to)
        given = load_answers(path, trace)
    elif isinstance(answers, Trace):
        doc = {"steps": [s.to_dict() for s in answers.steps]}
        given = from_plain(doc, None, "<trace>", trace)
    elif isinstance(answers, Mapping):
        given = from_plain(dict(answers), None, "<answers>", trace)
    else:
        raise TypeError(f"cannot check {type(answers).__name__}: give a path, a Trace or a dict")
    return grading.check(spec, given, round_to=round_to, convention=convention)
