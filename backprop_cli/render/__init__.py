"""Renderers: turn a trace into rich renderables, JSON, Markdown or LaTeX, and return them."""

from __future__ import annotations

import math


def number(x: float, precision: int = 9) -> str:
    """A value rounded for display to `precision` decimals, trailing zeros dropped, as the post.

    Values too small to show at that precision switch to scientific notation rather than print 0.
    """
    if not math.isfinite(x):
        return "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")
    if x != 0 and abs(x) < 0.5 * 10.0**-precision:
        return f"{x:.{max(precision - 1, 0)}e}".replace("e-0", "e-")
    text = f"{x:.{precision}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text
