"""Samples from a data file: `samples: {csv: data.csv, inputs: [x1, x2], targets: [y]}`.

A CSV file has a header row naming its columns; a JSON Lines file has one object a line, keyed by
the same names. Every problem is one SourceError at the file's own line and column, naming the
row (data rows count from 1, the header not included) and the column: `data.csv:1235:7: row 1234,
column x2: expected a number, got the text 'n/a'`. Rows are read one at a time, so nothing but
the numbers themselves stays in memory.
"""

from __future__ import annotations

import csv
import json
import math
import os
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO

from backprop_cli.specs.datatext import MAX_CELL, lines, loads, open_text, quoted, shown
from backprop_cli.specs.model import MAX_MAGNITUDE, Sample, SamplesFile
from backprop_cli.specs.source import NUMBER, SourceError

FORMATS = ("csv", "jsonl")
# Values kept once read (rows × the columns the config names): each costs about 90 bytes as a
# Sample, so the file's samples take at most about 180 MB (docs/errors.md has the figures).
MAX_VALUES = 2_000_000
_KIND = {"csv": "CSV", "jsonl": "JSON Lines"}


def read_samples(ref: SamplesFile) -> tuple[Sample, ...]:
    """Every row of the file as a Sample (inputs, then targets, in the order the config names)."""
    with _open(ref.file, ref.format) as f:
        if ref.format == "csv":
            return tuple(_CsvRows(ref, f).samples())
        return tuple(_JsonRows(ref, f).samples())


def read_header(file: str) -> tuple[str, ...]:
    """The column names of a CSV file, or the keys of a JSON Lines file's first object."""
    fmt = "jsonl" if file.endswith(".jsonl") else "csv"
    with _open(file, fmt) as f:
        if fmt == "jsonl":
            return _JsonRows(SamplesFile("jsonl", file, file, (), ()), f).first_keys()
        return _CsvRows(SamplesFile("csv", file, file, (), ()), f).columns()


def locate(ref: SamplesFile, row: int, column: str) -> SourceError:
    """A SourceError to fill in, placed at a row (0-based) and column of the file: for rules
    checked after reading, such as a loss's targets."""
    with _open(ref.file, ref.format) as f:
        if ref.format == "csv":
            line, col = _CsvRows(ref, f).position(row, column)
        else:
            line, col = _JsonRows(ref, f).position(row, column)
    return SourceError(ref.file, line, col, f"row {row + 1}, column {shown(column)}", "")


def _open(file: str, fmt: str) -> IO[str]:
    return open_text(file, _KIND[fmt])


class _Rows:
    """What the two formats share: numbered lines, and numbers checked as the YAML ones are."""

    kind = ""

    def __init__(self, ref: SamplesFile, f: IO[str]) -> None:
        self.ref, self.f = ref, f
        self.width = len(ref.inputs) + len(ref.targets)

    def lines(self) -> Iterator[tuple[int, str]]:
        """(line number, text with its line ending) of every line, from the start."""
        self.f.seek(0)
        return lines(self.f, self.ref.file, self.kind)

    def fail(self, line: int, col: int, field: str, message: str) -> SourceError:
        return SourceError(self.ref.file, line, col, field, message)

    def count(self, row: int, line: int) -> None:
        """Refuse a row past the budget of values, before it is kept."""
        if row * self.width > MAX_VALUES:
            raise self.fail(
                line,
                1,
                f"row {row}",
                f"more than {MAX_VALUES:,} values ({self.width} a row): a data file may give at "
                f"most {MAX_VALUES // self.width:,} rows of these columns",
            )

    def number(
        self, value: object, line: int, col: int, row: int, column: str, *, text_ok: bool = True
    ) -> float:
        """A cell's number (text_ok: the cell is text, as CSV's are; JSON's numbers are not)."""
        where = f"row {row}, column {shown(column)}"
        if isinstance(value, str) and not text_ok:
            hint = " (remove the quotes)" if NUMBER.fullmatch(value.strip()) else ""
            message = f"expected a number, got the string {quoted(value)}: a string, not a number"
            raise self.fail(line, col, where, message + hint)
        if isinstance(value, str):
            text = value.strip()
            if not text:
                raise self.fail(line, col, where, "expected a number, got nothing (an empty value)")
            if not NUMBER.fullmatch(text):
                hint = " (write decimals with a point)" if "," in text else ""
                raise self.fail(
                    line, col, where, f"expected a number, got the text {quoted(text)}{hint}"
                )
            x = float(text)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            text, x = repr(value), float(value)
        else:
            got = "nothing (null)" if value is None else shown(json.dumps(value))
            raise self.fail(line, col, where, f"expected a number, got {got}")
        if math.isinf(x) or abs(x) > MAX_MAGNITUDE:
            shown_ = text if len(text) <= 24 else text[:20] + "..."
            message = f"{shown_} is too large (|x| must be at most {MAX_MAGNITUDE:g})"
            raise self.fail(line, col, where, message)
        return x

    def sample(self, values: Sequence[float]) -> Sample:
        n = len(self.ref.inputs)
        return Sample(tuple(values[:n]), tuple(values[n:]))


class _Record:
    """One CSV record: its cells, the text it was read from and the line that text starts on
    (a quoted cell may hold line breaks)."""

    __slots__ = ("cells", "line", "text")

    def __init__(self, cells: list[str], line: int, text: str) -> None:
        self.cells, self.line, self.text = cells, line, text

    def where(self, i: int) -> tuple[int, int]:
        """Line and column where cell i starts (past the last cell: where the record ends)."""
        starts = _starts(self.text)
        at = starts[i] if i < len(starts) else len(self.text.rstrip("\r\n"))
        return self.at(at)

    def at(self, offset: int) -> tuple[int, int]:
        return (
            self.line + self.text.count("\n", 0, offset),
            offset - self.text.rfind("\n", 0, offset),
        )


class _CsvRows(_Rows):
    kind = "CSV"

    def records(self) -> Iterator[_Record]:
        """Each record that is not blank, read by the csv module (quotes, "" inside them, line
        breaks in a quoted cell) in time linear in its length."""
        taken: list[str] = []
        first = 0

        def source() -> Iterator[str]:
            nonlocal first
            for n, text in self.lines():
                if not taken:
                    first = n
                taken.append(text)
                yield text

        reader = csv.reader(source(), strict=True)
        while True:
            try:
                cells = next(reader, None)
            except csv.Error as exc:
                raise self.not_csv(exc, _Record([], first, "".join(taken))) from None
            if cells is None:
                return
            record = _Record(cells, first, "".join(taken))
            taken.clear()
            if not record.text.strip():
                continue
            if cells and max(map(len, cells)) > MAX_CELL:
                i = next(i for i, c in enumerate(cells) if len(c) > MAX_CELL)
                raise self.fail(
                    *record.where(i), "", f"a value longer than {MAX_CELL:,} characters"
                )
            yield record

    def not_csv(self, exc: csv.Error, record: _Record) -> SourceError:
        text = str(exc)
        if "field larger than field limit" in text:
            return self.fail(record.line, 1, "", f"a value longer than {MAX_CELL:,} characters")
        if "unexpected end of data" in text:
            quote = record.text.rfind('"')
            return self.fail(*record.at(max(quote, 0)), "", "this quote is never closed")
        return self.fail(record.line, 1, "", f"not valid CSV: {text}")

    def header(self, records: Iterator[_Record]) -> list[tuple[str, tuple[int, int]]]:
        """The column names and where each is written."""
        for record in records:
            names = [name.strip() for name in record.cells]
            line = record.line
            if all(NUMBER.fullmatch(n) for n in names):
                raise self.fail(
                    line,
                    1,
                    "header",
                    "expected column names in the first row, got numbers (add a header row, "
                    f"such as {','.join(f'x{i + 1}' for i in range(len(names)))})",
                )
            seen: dict[str, int] = {}
            for i, n in enumerate(names):
                if not n:
                    raise self.fail(
                        *record.where(i), "header", f"column {len(seen) + 1} has no name"
                    )
                if n in seen:
                    raise self.fail(
                        *record.where(i),
                        "header",
                        f"column name {quoted(n)} is used twice (columns "
                        f"{seen[n] + 1} and {len(seen) + 1})",
                    )
                seen[n] = len(seen)
            return [(n, record.where(i)) for i, n in enumerate(names)]
        raise SourceError(self.ref.file, 0, 0, "", "the file is empty; expected a header row")

    def columns(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.header(self.records()))

    def picked(self, header: list[tuple[str, tuple[int, int]]]) -> list[int]:
        """Where each named column is, in the config's order (a name not there is the caller's
        to report: validate.py points at the name in the config)."""
        index = {name: i for i, (name, _) in enumerate(header)}
        return [index[name] for name in (*self.ref.inputs, *self.ref.targets)]

    def rows(self) -> Iterator[tuple[int, _Record]]:
        """(row, record) of each data row, as wide as the header."""
        records = self.records()
        width = len(self.header(records))
        for row, record in enumerate(records, 1):
            self.count(row, record.line)
            got = len(record.cells)
            if got != width:
                line, col = record.where(width) if got > width else record.where(got)
                if got > width:
                    col -= 1  # at the comma that starts the value too many
                raise self.fail(
                    line,
                    max(col, 1),
                    f"row {row}",
                    f"expected {width} values (the header has {width} columns), got {got}",
                )
            yield row, record

    def samples(self) -> Iterator[Sample]:
        header = self.header(self.records())
        picked = self.picked(header)
        names = [name for name, _ in header]
        fast, low, high = NUMBER.fullmatch, -MAX_MAGNITUDE, MAX_MAGNITUDE
        for row, record in self.rows():
            values = []
            for i in picked:
                text = record.cells[i]
                if fast(text):  # the common case, checked here without a call
                    x = float(text)
                    if low <= x <= high:
                        values.append(x)
                        continue
                values.append(self.number(text, *record.where(i), row, names[i]))
            yield self.sample(values)

    def position(self, row: int, column: str) -> tuple[int, int]:
        i = [name for name, _ in self.header(self.records())].index(column)
        for r, record in self.rows():
            if r == row + 1:
                return record.where(i)
        return 0, 0


class _JsonRows(_Rows):
    kind = "JSON Lines"

    def objects(self) -> Iterator[tuple[int, int, str, dict[str, object]]]:
        row = 0
        for line, text in self.lines():
            if not text.strip():
                continue
            row += 1
            self.count(row, line)
            value = loads(
                text,
                self.ref.file,
                line,
                field=f"row {row}",
                keyed=lambda key, row=row: f"row {row}, column {shown(key)}",  # type: ignore[misc]
                invalid="invalid JSON",
            )
            if not isinstance(value, dict):
                raise self.fail(
                    line, 1, f"row {row}", 'expected an object such as {"x1": 0.5, "y": 1}'
                )
            yield row, line, text, value

    def first_keys(self) -> tuple[str, ...]:
        for _, _, _, value in self.objects():
            return tuple(value)
        raise SourceError(self.ref.file, 0, 0, "", "the file is empty; expected a JSON object")

    def samples(self) -> Iterator[Sample]:
        names = (*self.ref.inputs, *self.ref.targets)
        empty = True
        for row, line, text, value in self.objects():
            empty = False
            values = []
            for name in names:
                if name not in value:
                    have = shown(", ".join(value), 200) or "no keys"
                    raise self.fail(
                        line, 1, f"row {row}", f"no key {quoted(name)} (this row has {have})"
                    )
                col = _key_col(text, name)
                values.append(self.number(value[name], line, col, row, name, text_ok=False))
            yield self.sample(values)
        if empty:
            raise SourceError(self.ref.file, 0, 0, "", "the file is empty; expected a JSON object")

    def position(self, row: int, column: str) -> tuple[int, int]:
        for r, line, text, _ in self.objects():
            if r == row + 1:
                return line, _key_col(text, column)
        return 0, 0


def _key_col(text: str, name: str) -> int:
    """Column of a key in a line of JSON (1 when it is written with escapes)."""
    return text.find(json.dumps(name)) + 1 or 1


def _starts(text: str) -> list[int]:
    """Where each cell of a CSV record starts (offsets): a quoted cell runs to its closing
    quote ("" inside it), then to the comma. Linear: str.find does the scanning."""
    starts, i = [0], 0
    while True:
        if text.startswith('"', i):
            j = i + 1
            while True:
                j = text.find('"', j)
                if j < 0:
                    return starts  # never closed: the csv module has said so
                if not text.startswith('""', j):
                    break
                j += 2
            i = j + 1
        k = text.find(",", i)
        if k < 0:
            return starts
        starts.append(k + 1)
        i = k + 1


def data_path(config_file: str, written: str) -> str:
    """The data file a config names, relative to the config's folder (the working folder for a
    config from stdin or from text), as errors show it."""
    if os.path.isabs(written) or config_file.startswith("<"):
        return written
    folder = Path(config_file).parent
    return str(folder / written) if str(folder) != "." else written


def format_of(file: str) -> str:
    """ "jsonl" for a .jsonl file, else "csv"."""
    return "jsonl" if file.lower().endswith(".jsonl") else "csv"


def pick_columns(
    file: str,
    inputs: Sequence[str] | None,
    targets: Sequence[str] | None,
    n_in: int | None = None,
    n_out: int | None = None,
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Which columns of a data file are the inputs and which the targets: as named; one list
    named, the other is every other column; neither, the last n_out are the targets (without
    n_out, the last column and those just before it named alike: y1, y2) and the others the
    inputs. The counts, where given, must agree."""
    columns = read_header(file)
    for names in (inputs, targets):
        for name in names or ():
            if name not in columns:
                raise SourceError(
                    file, 0, 0, "", f"no column {name!r}; its columns are {', '.join(columns)}"
                )
    if inputs is None and targets is None:
        targets = columns[-n_out:] if n_out else alike_at_end(columns)
    if targets is None:
        targets = [c for c in columns if c not in (inputs or ())]
    if inputs is None:
        inputs = [c for c in columns if c not in targets]
    for names, n, what in ((inputs, n_in, "inputs"), (targets, n_out, "outputs")):
        if not names or (n is not None and len(names) != n):
            need = f"{n} {what}" if n is not None else what
            raise SourceError(
                file,
                0,
                0,
                "",
                f"the network has {need} but the columns give {len(names)} "
                f"({', '.join(names) or 'none'}); name them with --inputs and --targets",
            )
    return tuple(inputs), tuple(targets)


def alike_at_end(columns: Sequence[str]) -> list[str]:
    """The last column and the run just before it named alike but for a number: y1, y2 of
    x1, x2, y1, y2; `label` alone of x1, x2, label. Never every column (an input is left)."""
    stem = re.fullmatch(r"(.*?)_?\d+", columns[-1])
    if stem is None:
        return list(columns[-1:])
    alike = re.compile(rf"{re.escape(stem[1])}_?\d+")
    n = 1
    while n < len(columns) and alike.fullmatch(columns[-n - 1]):
        n += 1
    return list(columns[-n:] if n < len(columns) else columns[-1:])
