"""Samples from a data file: `samples: {csv: data.csv, inputs: [x1, x2], targets: [y]}`.

A CSV file has a header row naming its columns; a JSON Lines file has one object a line, keyed by
the same names. Every problem is one SourceError at the file's own line and column, naming the
row (data rows count from 1, the header not included) and the column: `data.csv:1235:7: row 1234,
column x2: expected a number, got the text 'n/a'`. Rows are read one at a time, so nothing but
the numbers themselves stays in memory.
"""

from __future__ import annotations

import json
import math
import os
import re
import stat
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO

from .source import NUMBER, SourceError, os_reason, stat_input
from .spec import MAX_MAGNITUDE, Sample, SamplesFile

FORMATS = ("csv", "jsonl")
MAX_ROWS = 10_000_000  # far more than a step-by-step tool trains on; a runaway file stops here


def read_samples(ref: SamplesFile) -> tuple[Sample, ...]:
    """Every row of the file as a Sample (inputs, then targets, in the order the config names)."""
    with _open(ref.file) as f:
        if ref.format == "csv":
            return tuple(_CsvRows(ref, f).samples())
        return tuple(_JsonRows(ref, f).samples())


def read_header(file: str) -> tuple[str, ...]:
    """The column names of a CSV file, or the keys of a JSON Lines file's first object."""
    with _open(file) as f:
        if file.endswith(".jsonl"):
            return _JsonRows(SamplesFile("jsonl", file, file, (), ()), f).first_keys()
        return _CsvRows(SamplesFile("csv", file, file, (), ()), f).columns()


def locate(ref: SamplesFile, row: int, column: str) -> SourceError:
    """A SourceError to fill in, placed at a row (0-based) and column of the file: for rules
    checked after reading, such as a loss's targets."""
    with _open(ref.file) as f:
        if ref.format == "csv":
            line, col = _CsvRows(ref, f).position(row, column)
        else:
            line, col = _JsonRows(ref, f).position(row, column)
    return SourceError(ref.file, line, col, f"row {row + 1}, column {column}", "")


def _open(file: str) -> IO[str]:
    if not stat.S_ISREG(stat_input(file).st_mode):
        raise SourceError(file, 0, 0, "", "is not a regular file; expected a data file")
    try:
        return open(file, encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise SourceError(file, 0, 0, "", f"cannot read: {os_reason(exc)}") from None


class _Rows:
    """What the two formats share: numbered lines, and numbers checked as the YAML ones are."""

    kind = ""

    def __init__(self, ref: SamplesFile, f: IO[str]) -> None:
        self.ref, self.f = ref, f
        self.n = 0  # lines read so far

    def rewind(self) -> None:
        self.f.seek(0)
        self.n = 0

    def lines(self) -> Iterator[tuple[int, str]]:
        """(line number, text) of each non-blank line from where the last read stopped."""
        while True:
            try:
                text = self.f.readline()
            except UnicodeDecodeError:
                raise _not_utf8(self.ref.file) from None
            if not text:
                return
            self.n += 1
            n = self.n
            if "\x00" in text:
                raise SourceError(
                    self.ref.file, 0, 0, "", f"looks like a binary file, not {self.kind} text"
                )
            if text.strip():
                yield n, text.rstrip("\r\n")

    def fail(self, line: int, col: int, field: str, message: str) -> SourceError:
        return SourceError(self.ref.file, line, col, field, message)

    def number(self, value: object, line: int, col: int, row: int, column: str) -> float:
        where = f"row {row}, column {column}"
        if isinstance(value, str):
            text = value.strip()
            if not text:
                raise self.fail(line, col, where, "expected a number, got nothing (an empty value)")
            if not NUMBER.fullmatch(text):
                hint = " (write decimals with a point)" if "," in text else ""
                raise self.fail(line, col, where, f"expected a number, got the text {text!r}{hint}")
            x = float(text)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            text, x = repr(value), float(value)
        else:
            got = "nothing (null)" if value is None else f"{json.dumps(value)}"
            raise self.fail(line, col, where, f"expected a number, got {got}")
        if math.isinf(x) or abs(x) > MAX_MAGNITUDE:
            shown = text if len(text) <= 24 else text[:20] + "..."
            message = f"{shown} is too large (|x| must be at most {MAX_MAGNITUDE:g})"
            raise self.fail(line, col, where, message)
        return x

    def sample(self, values: Sequence[float]) -> Sample:
        n = len(self.ref.inputs)
        return Sample(tuple(values[:n]), tuple(values[n:]))


class _CsvRows(_Rows):
    kind = "CSV"

    def header(self) -> tuple[int, list[tuple[str, int]]]:
        for line, text in self.lines():
            cells = _cells(text)
            names = [name.strip() for name, _ in cells]
            if all(NUMBER.fullmatch(n) for n in names):
                raise self.fail(
                    line,
                    1,
                    "header",
                    "expected column names in the first row, got numbers (add a header row, "
                    f"such as {','.join(f'x{i + 1}' for i in range(len(names)))})",
                )
            seen: dict[str, int] = {}
            for (_, col), n in zip(cells, names, strict=True):
                if not n:
                    raise self.fail(line, col, "header", f"column {len(seen) + 1} has no name")
                if n in seen:
                    raise self.fail(
                        line,
                        col,
                        "header",
                        f"column name {n!r} is used twice (columns "
                        f"{seen[n] + 1} and {len(seen) + 1})",
                    )
                seen[n] = len(seen)
            return line, [(n, col) for n, (_, col) in zip(names, cells, strict=True)]
        raise SourceError(self.ref.file, 0, 0, "", "the file is empty; expected a header row")

    def columns(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.header()[1])

    def picked(self, header: list[tuple[str, int]]) -> list[int]:
        """Where each named column is, in the config's order (a name not there is the caller's
        to report: validate.py points at the name in the config)."""
        index = {name: i for i, (name, _) in enumerate(header)}
        return [index[name] for name in (*self.ref.inputs, *self.ref.targets)]

    def rows(self) -> Iterator[tuple[int, int, list[tuple[str, int]] | list[str]]]:
        """(row, line, cells) of each data row; cells without positions on the fast path."""
        self.rewind()
        _, header = self.header()
        width = len(header)
        for row, (line, text) in enumerate(self.lines(), 1):
            if row > MAX_ROWS:
                raise self.fail(line, 1, f"row {row}", f"more than {MAX_ROWS:,} rows")
            # The common case, no quotes: a plain split; positions only when something is wrong.
            plain: list[str] | None = text.split(",") if '"' not in text else None
            if plain is None or len(plain) != width:
                cells = _cells(text)
                if len(cells) != width:
                    col = cells[width][1] - 1 if len(cells) > width else len(text) + 1
                    raise self.fail(
                        line,
                        max(col, 1),
                        f"row {row}",
                        f"expected {width} values (the header has {width} columns), "
                        f"got {len(cells)}",
                    )
                yield row, line, cells
            else:
                yield row, line, plain

    def samples(self) -> Iterator[Sample]:
        _, header = self.header()
        picked = self.picked(header)
        names = [name for name, _ in header]
        for row, line, cells in self.rows():
            values = []
            for i in picked:
                cell = cells[i]
                if isinstance(cell, tuple):
                    text, col = cell
                else:
                    text, col = cell, 0
                try:
                    values.append(self.number(text, line, col, row, names[i]))
                except SourceError as exc:
                    if not col:  # found on the fast path: now find the column
                        exc.col = _cells(_line(self.ref.file, line))[i][1]
                    raise exc from None
            yield self.sample(values)

    def position(self, row: int, column: str) -> tuple[int, int]:
        _, header = self.header()
        i = [name for name, _ in header].index(column)
        for r, line, _ in self.rows():
            if r == row + 1:
                return line, _cells(_line(self.ref.file, line))[i][1]
        return 0, 0


class _JsonRows(_Rows):
    kind = "JSON Lines"

    def objects(self) -> Iterator[tuple[int, int, str, dict[str, object]]]:
        for row, (line, text) in enumerate(self.lines(), 1):
            if row > MAX_ROWS:
                raise self.fail(line, 1, f"row {row}", f"more than {MAX_ROWS:,} rows")
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                raise self.fail(line, exc.colno, f"row {row}", f"invalid JSON: {exc.msg}") from None
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
                    have = ", ".join(value) or "no keys"
                    raise self.fail(line, 1, f"row {row}", f"no key {name!r} (this row has {have})")
                values.append(self.number(value[name], line, _key_col(text, name), row, name))
            yield self.sample(values)
        if empty:
            raise SourceError(self.ref.file, 0, 0, "", "the file is empty; expected a JSON object")

    def position(self, row: int, column: str) -> tuple[int, int]:
        for r, line, text, _ in self.objects():
            if r == row + 1:
                return line, _key_col(text, column)
        return 0, 0


def _not_utf8(file: str) -> SourceError:
    """Where the first byte that is not UTF-8 is (the text reader decodes ahead, in chunks)."""
    with open(file, "rb") as f:
        raw = f.read()
    try:
        raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        return SourceError(file, line, col, "", "not valid UTF-8 text")
    return SourceError(file, 0, 0, "", "not valid UTF-8 text")


def _key_col(text: str, name: str) -> int:
    """Column of a key in a line of JSON (1 when it is written with escapes)."""
    return text.find(json.dumps(name)) + 1 or 1


def _line(file: str, n: int) -> str:
    with open(file, encoding="utf-8-sig", newline="") as f:
        for i, text in enumerate(f, 1):
            if i == n:
                return text.rstrip("\r\n")
    return ""


def _cells(text: str) -> list[tuple[str, int]]:
    """The cells of one CSV line with the 1-based column each starts at; a cell may be quoted,
    with "" for a quote inside it."""
    cells: list[tuple[str, int]] = []
    i, n = 0, len(text)
    while True:
        start = i
        if i < n and text[i] == '"':
            value, i = "", i + 1
            while i < n:
                if text[i] == '"':
                    if i + 1 < n and text[i + 1] == '"':
                        value, i = value + '"', i + 2
                        continue
                    i += 1
                    break
                value, i = value + text[i], i + 1
            end = text.find(",", i)
            end = n if end < 0 else end
            value += text[i:end]
        else:
            end = text.find(",", i)
            end = n if end < 0 else end
            value = text[i:end]
        cells.append((value, start + 1))
        if end >= n:
            return cells
        i = end + 1


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
