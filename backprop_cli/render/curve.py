"""A loss curve drawn with plain characters, and (with matplotlib) written to a PNG or SVG file."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

from . import number


def text_curve(points: Sequence[tuple[int, float]], width: int = 60, height: int = 10) -> str:
    """E_total against epoch as rows of text: `*` marks, a y axis with its range, log scale when
    the values span more than two decades."""
    pts = [(e, v) for e, v in points if math.isfinite(v)]
    if len(pts) < 2:
        return ""
    values = [v for _, v in pts]
    lo, hi = min(values), max(values)
    log = lo > 0 and hi / lo > 100

    def y(v: float) -> float:
        return math.log10(v) if log else v

    ylo, yhi = y(lo), y(hi)
    span = (yhi - ylo) or 1.0
    e0, e1 = pts[0][0], pts[-1][0]
    grid = [[" "] * width for _ in range(height)]
    for e, v in pts:
        col = round((e - e0) / ((e1 - e0) or 1) * (width - 1))
        row = round((yhi - y(v)) / span * (height - 1))
        grid[row][col] = "*"
    top, bottom = number(hi, 6), number(lo, 6)
    pad = max(len(top), len(bottom))
    lines = []
    for r, cells in enumerate(grid):
        label = top if r == 0 else bottom if r == height - 1 else ""
        lines.append(f"{label:>{pad}} |{''.join(cells).rstrip()}")
    left, right = f"epoch {e0}", f"epoch {e1}"
    lines.append(" " * pad + " +" + "-" * width)
    lines.append(" " * (pad + 2) + left + right.rjust(width - len(left)))
    if log:
        lines.append(" " * (pad + 2) + "(E_total, log scale)")
    return "\n".join(lines)


def plot_curve(points: Sequence[tuple[int, float]], path: Path, title: str) -> None:
    """Write the curve with matplotlib (the `plot` extra); the file type follows the suffix."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    epochs = [e for e, _ in points]
    values = [v for _, v in points]
    ax.plot(epochs, values)
    if all(v > 0 for v in values) and max(values) / min(values) > 100:
        ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("E_total")
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
