"""A loss curve drawn with plain characters, and (with matplotlib) written to a PNG or SVG file."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console, ConsoleOptions, RenderResult
from rich.text import Text

from backprop_cli.render import number


@dataclass(frozen=True, slots=True)
class Scale:
    """Where a loss curve's points go, for every drawing of it: the finite points, their range,
    and a log scale when the values span more than two decades."""

    points: list[tuple[int, float]]
    lo: float
    hi: float
    log: bool

    def y(self, v: float) -> float:
        return math.log10(v) if self.log else v

    @property
    def span(self) -> float:
        return (self.y(self.hi) - self.y(self.lo)) or 1.0


def scale(points: Sequence[tuple[int, float]]) -> Scale | None:
    """The curve's scale, or None when fewer than two finite points leave nothing to draw."""
    pts = [(e, v) for e, v in points if math.isfinite(v)]
    if len(pts) < 2:
        return None
    values = [v for _, v in pts]
    lo, hi = min(values), max(values)
    return Scale(pts, lo, hi, lo > 0 and hi / lo > 100)


def text_curve(
    points: Sequence[tuple[int, float]], width: int = 60, height: int = 10, room: int = 0
) -> str:
    """E_total against epoch as rows of text: `*` marks, a y axis with its range, log scale when
    the values span more than two decades. With room (the columns there are), the labels under
    the plot move left, or onto lines of their own, rather than run past it."""
    sc = scale(points)
    if sc is None:
        return ""
    pts, lo, hi, log, y = sc.points, sc.lo, sc.hi, sc.log, sc.y
    yhi, span = y(hi), sc.span
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
    room = room or pad + 2 + max(width, len(left), len(right), 20)
    end = min(pad + 2 + width, room)  # where the plot ends, or the line

    def under(text: str) -> str:
        """A label under the plot from its left edge, moved left as far as it must."""
        return " " * max(0, min(pad + 2, room - len(text))) + text

    if len(left) + len(right) < width:
        lines.append(" " * (pad + 2) + left + right.rjust(width - len(left)))
    else:  # too narrow for both on one line
        lines += [under(left), " " * max(0, end - len(right)) + right]
    if log:
        said = "(E_total, log scale)"
        lines += [under(said)] if len(said) <= room else [under("(E_total,"), under("log scale)")]
    return "\n".join(lines)


class TextCurve:
    """The text curve as wide as the width it is given (up to 60 columns of plot), so that a
    narrow terminal never wraps a row of it."""

    def __init__(self, points: Sequence[tuple[int, float]]) -> None:
        self.points = points

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        pts = [(e, v) for e, v in self.points if math.isfinite(v)]
        if len(pts) < 2:
            return
        label = max(len(number(v, 6)) for _, v in pts)
        # the axis' labels and " |" on the left; the epochs' labels move left where they must
        width = max(min(60, options.max_width - label - 2), 2)
        text = text_curve(self.points, width=width, room=options.max_width)
        yield Text(text, no_wrap=True, overflow="ellipsis")


def plot_curve(points: Sequence[tuple[int, float]], path: Path, title: str) -> bytes:
    """The curve drawn with matplotlib (the `plot` extra), as the bytes of a file of path's
    type (its suffix), for the caller to write."""
    import io

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
    data = io.BytesIO()
    fig.savefig(data, format=path.suffix.lstrip(".").lower())
    plt.close(fig)
    return data.getvalue()
