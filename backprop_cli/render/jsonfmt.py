"""Strict JSON (RFC 8259: never NaN or Infinity), full precision."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping
from json.encoder import encode_basestring
from typing import Any

PIECE = 1 << 16  # characters per piece: few writes, and a bounded buffer


def dumps(data: Any, *, indent: int | None = 2) -> str:
    """One JSON document, the text of json.dumps (indent 2 or none), at the speed of json's C
    encoder; raises ValueError rather than write NaN or Infinity."""
    if indent is None:
        return json.dumps(data, ensure_ascii=False, allow_nan=False)
    assert indent == 2, indent
    return "".join(_encode(data, "\n"))


def pieces(data: Any) -> Iterator[str]:
    """The text of dumps(data) (indent 2), in pieces of about PIECE characters. A value that is
    an iterator (a generator of step dicts) is written as a list, one item at a time, so neither
    the list nor the document is ever whole in memory."""
    buffer: list[str] = []
    size = 0
    for text in _encode(data, "\n"):
        buffer.append(text)
        size += len(text)
        if size >= PIECE:
            yield "".join(buffer)
            buffer, size = [], 0
    if buffer:
        yield "".join(buffer)


def _encode(value: Any, newline: str) -> Iterator[str]:
    """What json.dumps(indent=2) writes for value, with `newline` (a line break and the current
    indent) before each of its lines; an iterator is consumed item by item."""
    if isinstance(value, Iterator):
        inner = newline + "  "
        sep = "["
        for item in value:
            yield sep + inner + _text(item, inner)
            sep = ","
        yield "[]" if sep == "[" else newline + "]"
    elif isinstance(value, Mapping) and any(isinstance(v, Iterator) for v in value.values()):
        inner = newline + "  "
        sep = "{"
        for key, item in value.items():
            yield f"{sep}{inner}{_key(key)}: "
            yield from _encode(item, inner)
            sep = ","
        yield newline + "}"
    else:
        yield _text(value, newline)


# Values json's C encoder writes alone, with nothing inside to indent.
_SCALARS = frozenset({str, float, int, bool, type(None)})


def _text(value: Any, newline: str) -> str:
    """One value whole (a step dict, a number). A list or dict of scalars only is written by
    json's C encoder, without indent but with "," and the line break as its separator: the
    very text of indent 2, some ten times faster than json's Python encoder."""
    if isinstance(value, str):
        return encode_basestring(value)
    if isinstance(value, Mapping):
        if not value:
            return "{}"
        inner = newline + "  "
        if _SCALARS.issuperset(map(type, value.values())) and all(map(_is_str, value)):
            return "{" + inner + _flat(value, inner)[1:-1] + newline + "}"
        items = [inner + _key(k) + ": " + _text(v, inner) for k, v in value.items()]
        return "{" + ",".join(items) + newline + "}"
    if isinstance(value, list | tuple):
        if not value:
            return "[]"
        inner = newline + "  "
        if _SCALARS.issuperset(map(type, value)):
            return "[" + inner + _flat(value, inner)[1:-1] + newline + "]"
        return "[" + ",".join(inner + _text(v, inner) for v in value) + newline + "]"
    return _scalar(value)


def _is_str(key: Any) -> bool:
    return type(key) is str


def _flat(value: Any, inner: str) -> str:
    """A container of scalars in json's C encoder, items separated by "," and inner."""
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=("," + inner, ": "))


def _key(key: Any) -> str:
    if not isinstance(key, str):
        raise TypeError(f"keys must be str, not {type(key).__name__}")
    return encode_basestring(key)


def _scalar(x: Any) -> str:
    if x is None:
        return "null"
    if x is True:
        return "true"
    if x is False:
        return "false"
    if isinstance(x, int):
        return int.__repr__(x)
    if isinstance(x, float):
        if not math.isfinite(x):
            raise ValueError(f"Out of range float values are not JSON compliant: {x!r}")
        return float.__repr__(x)
    raise TypeError(f"Object of type {type(x).__name__} is not JSON serializable")
