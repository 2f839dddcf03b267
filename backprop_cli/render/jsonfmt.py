"""Strict JSON (RFC 8259: never NaN or Infinity), full precision."""

from __future__ import annotations

import json
from typing import Any


def dumps(data: Any, *, indent: int | None = 2) -> str:
    """One JSON document; raises ValueError rather than write NaN or Infinity."""
    return json.dumps(data, indent=indent, ensure_ascii=False, allow_nan=False)
