"""Reading data files that may be hostile: samples, answers, logs and traces.

Every read is bounded before memory is spent (a line, a cell, a file's values), a binary or
UTF-16 file is named as such from its first bytes, a byte that is not UTF-8 is placed without
reading the file again, and JSON is strict: no NaN or Infinity, no key given twice, no number
beyond a float's range, no nesting past MAX_DEPTH. Errors are SourceErrors naming file:line:col.
"""

from __future__ import annotations

import codecs
import io
import json
import math
import os
import re
import shlex
import stat
from collections.abc import Callable, Iterator
from typing import IO, Any, NamedTuple

from backprop_cli.specs.source import (
    SourceError,
    max_bytes,
    os_reason,
    stat_input,
    too_large,
    utf8_text,
)

# A line of a CSV or JSON Lines file: 10,000 inputs (the widest layer) of 17-digit numbers
# with their names take about 400,000 characters; past this it is not a data file.
MAX_LINE = 4 * 2**20
# One CSV cell, a number or a name: 17 digits are plenty, 4,096 characters is no number.
MAX_CELL = 4096
MAX_DEPTH = 64  # JSON nesting, as YAML's (a trace nests 3 deep)
_SNIFF = 8192  # bytes looked at to tell text from binary or UTF-16


class _Refused(Exception):
    """Raised inside json's hooks: what was refused, and which one in the text (the n-th)."""

    def __init__(self, kind: str, message: str, nth: int = 0) -> None:
        super().__init__(message)
        self.kind, self.message, self.nth = kind, message, nth


# --- opening -------------------------------------------------------------------------------


def encoding_problem(head: bytes, file: str, kind: str) -> SourceError | None:
    """A UTF-16 or UTF-32 file, or a binary one, from its first bytes; None when it may be
    UTF-8 text. The other readers read UTF-8 only (a BOM is fine), so the fix is named."""
    enc = ""
    if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        enc = "UTF-32"
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or _utf16_ascii(head):
        enc = "UTF-16"
    elif b"\x00" in head:
        return binary(file, kind)
    if not enc:
        return None
    stem, suffix = os.path.splitext(os.path.basename(file))
    fix = f"iconv -f {enc} -t UTF-8 {shlex.quote(file)} > {shlex.quote(stem + '-utf8' + suffix)}"
    return SourceError(
        file, 0, 0, "", f"is {enc} text; {kind} is read as UTF-8: convert it ({fix})"
    )


def _utf16_ascii(head: bytes) -> bool:
    # UTF-16 without a BOM: ASCII text has a NUL in every other byte, and only there.
    sample = head[:512] if len(head) % 2 == 0 else head[:511]
    if len(sample) < 4:
        return False
    odd, even = sample[1::2], sample[0::2]
    return (odd.count(0) == len(odd) and 0 not in even) or (
        even.count(0) == len(even) and 0 not in odd
    )


def binary(file: str, kind: str) -> SourceError:
    return SourceError(file, 0, 0, "", f"looks like a binary file, not {kind} text")


def open_text(file: str, kind: str, cap: tuple[int, str] | None = None) -> IO[str]:
    """A regular file opened as UTF-8 text (a BOM dropped). Bytes that are not UTF-8 are kept as
    surrogates for lines() to place: the decoder never fails in the middle of a read.
    cap: the most bytes this kind of file may have, and the kind as a message names it."""
    st = stat_input(file)
    if not stat.S_ISREG(st.st_mode):
        raise SourceError(file, 0, 0, "", "is not a regular file; expected a data file")
    try:
        raw = open(file, "rb")  # noqa: SIM115 (the text wrapper owns it)
    except OSError as exc:
        raise SourceError(file, 0, 0, "", f"cannot read: {os_reason(exc)}") from None
    try:
        problem = encoding_problem(raw.read(_SNIFF), file, kind)
        if problem is not None:
            raise problem
        if cap is not None and st.st_size > cap[0]:
            raise too_large(file, cap[0], cap[1], env=False)
        raw.seek(0)
    except OSError as exc:
        raw.close()
        raise SourceError(file, 0, 0, "", f"cannot read: {os_reason(exc)}") from None
    except SourceError:
        raw.close()
        raise
    return io.TextIOWrapper(raw, encoding="utf-8-sig", errors="surrogateescape", newline="")


_NOT_UTF8 = re.compile("[\udc80-\udcff]")


def lines(f: IO[str], file: str, kind: str) -> Iterator[tuple[int, str]]:
    """(line number, text with its line ending) of every line; a line longer than MAX_LINE, a NUL
    or a byte that is not UTF-8 is a SourceError there, found without reading further."""
    n = 0
    while True:
        text = f.readline(MAX_LINE + 1)
        if not text:
            return
        n += 1
        if "\x00" in text:
            raise binary(file, kind)
        if not text.isascii():
            bad = _NOT_UTF8.search(text)
            if bad is not None:
                col = len(text[: bad.start()].encode("utf-8", "surrogateescape")) + 1
                raise SourceError(file, n, col, "", "not valid UTF-8 text")
        if len(text) > MAX_LINE and not text.endswith(("\n", "\r")):
            raise SourceError(
                file, n, 1, "", f"a line longer than {MAX_LINE:,} characters (not a data file?)"
            )
        yield n, text


def read_text(path: str, kind: str, what: str = "an answers file") -> str:
    """A whole file as text (answers), within the size cap configs have; errors as lines().
    A binary file is named from its first bytes, a regular file too large from its size, before
    the rest is read (/dev/zero, a sparse file: 8 KB read, not the cap)."""
    st = stat_input(path)
    if stat.S_ISDIR(st.st_mode):
        raise SourceError(path, 0, 0, "", f"is a directory, not a {kind} file")
    limit = max_bytes()
    try:
        with open(path, "rb") as f:
            head = f.read(_SNIFF)
            problem = encoding_problem(head, path, kind)
            if problem is not None:
                raise problem
            if stat.S_ISREG(st.st_mode) and st.st_size > limit:
                raise too_large(path, limit, what)
            raw = head + f.read(limit + 1 - len(head))  # an endless device: never past the cap
    except OSError as exc:
        raise SourceError(path, 0, 0, "", f"cannot read: {os_reason(exc)}") from None
    if len(raw) > limit:
        raise too_large(path, limit, what)
    problem = encoding_problem(raw[:_SNIFF], path, kind)
    if problem is not None:
        raise problem
    if b"\x00" in raw:
        raise binary(path, kind)
    return utf8_text(raw, path)


# --- numbers as written ---------------------------------------------------------------------

# A number in ASCII digits only: float() also takes ١٢ and １ (Unicode digits), which no data
# file means as a number.
WRITTEN = re.compile(
    r"[-+]?(?P<int>[0-9]*)(?:\.(?P<frac>[0-9]*))?(?:[eE](?P<exp>[-+]?[0-9]+))?", re.ASCII
)
_TINY = math.ulp(0.0)  # the smallest float above 0: the finest unit a float can hold


class Written(NamedTuple):
    """A number as written: its value, one unit in its last digit, its significant digits."""

    value: float
    unit: float
    digits: int


class NotANumber(ValueError):
    """Why a text is not a number a float can hold (the message, without file or field)."""


def short_number(text: str) -> str:
    """A number's text as a message quotes it: whole up to 40 characters, else its start and
    its length."""
    return text if len(text) <= 40 else f"{text[:20]}... ({len(text):,} characters)"


def written_number(text: str) -> Written:
    """The value, unit and significant digits of a number written in ASCII digits (stripped);
    NotANumber when it is not one, or is beyond a float's range, or is a nonzero value that
    rounds to 0. Any number of digits is read: 12 or more make a program's output, judged to
    1e-9 relative, so digits past what a float holds change nothing."""
    m = WRITTEN.fullmatch(text)
    if m is None or not (m["int"] or m["frac"]):
        raise NotANumber("")
    frac = m["frac"] or ""
    digits = len(((m["int"] or "") + frac).lstrip("0"))
    exp_text = (m["exp"] or "0").lstrip("+")
    # An exponent of thousands of digits is past any float's range (int() refuses 4,300).
    huge = (-1 if exp_text[0] == "-" else 1) * 10**12
    exp = int(exp_text) if len(exp_text.lstrip("-")) <= 12 else huge
    last = exp - len(frac)  # the power of ten of the last digit written
    if digits:
        lead = last + digits - 1  # ... and of the first significant one
        if lead > 308:
            raise NotANumber(f"{short_number(text)} is beyond the range of a float")
        if lead < -325:
            raise NotANumber(_below(text))
    value = float(text) if digits else (-0.0 if text.startswith("-") else 0.0)
    if math.isinf(value):
        raise NotANumber(f"{short_number(text)} is beyond the range of a float")
    if digits and value == 0.0:
        raise NotANumber(_below(text))
    unit = 10.0 ** min(last, 308) if last > -323 else _TINY
    return Written(value, unit, digits)


def _below(text: str) -> str:
    return (
        f"{short_number(text)} is below the smallest float (about 5e-324): it would read as 0 "
        "(write 0 if you mean 0)"
    )


# --- shown in messages ----------------------------------------------------------------------


def shown(text: str, limit: int = 40) -> str:
    """Text from a file as a message shows it: repr-style escapes for anything that is not
    printable (a newline must not split the message's one line), cut past `limit` characters."""
    cut = text if len(text) <= limit else text[:limit]
    out = cut if cut.isprintable() else repr(cut)[1:-1]
    return out + "..." if len(cut) < len(text) else out


def one_line(message: str) -> str:
    """A message with every character that is not printable (line breaks, escape codes) written
    as repr writes it, so it stays one line whatever text from a file it quotes."""
    if message.isprintable():
        return message
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in message)


def quoted(text: str, limit: int = 40) -> str:
    """Text in quotes, as repr would write it, cut past `limit` characters."""
    return repr(text) if len(text) <= limit else repr(text[:limit])[:-1] + "...'"


# --- strict JSON ----------------------------------------------------------------------------


def loads(
    text: str,
    file: str,
    line: int = 0,
    *,
    numbers: Callable[[str], Any] | None = None,
    field: str = "",
    keyed: Callable[[str], str] | None = None,
    invalid: str = "not valid JSON",
) -> Any:
    """Parse JSON refusing what is not plain data; a SourceError at the place at fault.

    line: the line of a JSON Lines file this text is (columns counted in it), or 0 for a whole
    document (lines counted in the text). numbers: what to make of a number's text (float or
    int by default), once it is known to be within a float's range. keyed: the field of a
    refused value from the key it is written under (the id, the column), when there is one."""
    deep = _too_deep(text)
    if deep is not None:
        raise _at(text, file, line, deep, field, f"nested more than {MAX_DEPTH} levels deep")
    counts = {"number": 0, "object": 0}

    def constant(name: str) -> Any:
        raise _Refused("constant", f"{name} is not a number (JSON has no NaN or Infinity)")

    def number(kind: str) -> Callable[[str], Any]:
        def parse(s: str) -> Any:
            counts["number"] += 1
            x = float(s)  # from the text: no 4,300-digit limit, and inf past a float's range
            if abs(x) == float("inf"):
                digits = len(s.lstrip("-"))
                what = s if len(s) <= 24 else s[:20] + "..."
                if kind == "int" and digits > 24:
                    what = f"an integer of {digits:,} digits"
                message = f"{what} is beyond the range of a float"
                raise _Refused("number", message, counts["number"])
            if x == 0.0 and kind == "float" and re.split("[eE]", s)[0].strip("-0."):
                raise _Refused("number", _below(s), counts["number"])  # 1e-400
            if numbers is not None:
                return numbers(s)
            return x if kind == "float" else int(s)

        return parse

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        counts["object"] += 1
        out = dict(items)
        if len(out) < len(items):
            raise _Refused("key", "", counts["object"])
        return out

    try:
        return json.loads(
            text,
            parse_constant=constant,
            parse_float=number("float"),
            parse_int=number("int"),
            object_pairs_hook=pairs,
        )
    except json.JSONDecodeError as exc:
        where = _position(text, line, exc.pos)
        raise SourceError(file, *where, field, f"{invalid}: {exc.msg}") from None
    except _Refused as exc:
        raise _refused(exc, text, file, line, field, keyed) from None


_STRING = r'"[^"\\]*(?:\\.[^"\\]*)*"'
_BRACKETS = re.compile(_STRING + r"|[\[\]{}]")
_TOKENS = re.compile(_STRING + r"|-?(?:Infinity|[0-9][0-9.eE+\-]*)|NaN|[\[\]{},]")


def _too_deep(text: str) -> int | None:
    """Where the nesting first passes MAX_DEPTH (an offset), before json's recursion gets
    there; str.count tells most texts apart at once."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return None
    depth = 0
    for m in _BRACKETS.finditer(text):
        c = m.group()
        if c in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return m.start()
        elif c in "]}":
            depth -= 1
    return None


class _Object:
    def __init__(self) -> None:
        self.keys: dict[str, int] = {}  # each key and where it is written
        self.want_key = True
        self.twice: tuple[str, int] | None = None  # the first key given again, and where
        self.key: str | None = None  # the last key read: what a value is written under


def _refused(
    exc: _Refused,
    text: str,
    file: str,
    line: int,
    field: str,
    keyed: Callable[[str], str] | None = None,
) -> SourceError:
    """The refusal at its place. json's hooks see numbers and constants in the order written
    and objects in the order they close: the tokens are walked to the same one."""
    numbers = objects = 0
    stack: list[_Object | None] = []
    for m in _TOKENS.finditer(text):
        tok, at = m.group(), m.start()
        top = stack[-1] if stack else None
        if tok[0] == '"':
            if top is not None and top.want_key:
                key = json.loads(tok)
                if key in top.keys and top.twice is None:
                    top.twice = (key, at)
                top.keys.setdefault(key, at)
                top.want_key, top.key = False, key
        elif tok == "{":
            stack.append(_Object())
        elif tok == "[":
            stack.append(None)
        elif tok == ",":
            if top is not None:
                top.want_key = True
        elif tok in "]}":
            stack.pop() if stack else None
            if tok == "}" and top is not None:
                objects += 1
                if exc.kind == "key" and objects == exc.nth and top.twice is not None:
                    key, second = top.twice
                    first = _position(text, line, top.keys[key])
                    return _at(text, file, line, second, *_twice(key, first, line, field))
        elif tok == "NaN" or tok.endswith("Infinity"):
            if exc.kind == "constant":
                return _at(text, file, line, at, _under(stack, field, keyed), exc.message)
        else:
            numbers += 1
            if exc.kind == "number" and numbers == exc.nth:
                return _at(text, file, line, at, _under(stack, field, keyed), exc.message)
    return SourceError(file, line or 1, 1, field, exc.message or "a key is given twice")


def _under(stack: list[_Object | None], field: str, keyed: Callable[[str], str] | None) -> str:
    """The field of a value refused inside the innermost object: named by its key."""
    key = next((o.key for o in reversed(stack) if o is not None and o.key is not None), None)
    if key is None:
        return field
    return keyed(key) if keyed is not None else (field or shown(key))


def _twice(key: str, first: tuple[int, int], line: int, field: str) -> tuple[str, str]:
    """The field and message of a key given twice (named in the message when the field is
    something else)."""
    where = f"column {first[1]}" if line else f"line {first[0]}, column {first[1]}"
    if field:
        return field, f"duplicate key {quoted(key)} (first given at {where})"
    return shown(key), f"duplicate key (first given at {where})"


def _position(text: str, line: int, offset: int) -> tuple[int, int]:
    if line:
        return line, offset + 1
    return text.count("\n", 0, offset) + 1, offset - text.rfind("\n", 0, offset)


def _at(text: str, file: str, line: int, offset: int, field: str, message: str) -> SourceError:
    return SourceError(file, *_position(text, line, offset), field, message)
