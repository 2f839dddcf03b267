"""A rich table laid out once, its rows written as segments: the look of rich's Table, at the
speed of writing text.

rich lays out every cell of a Table on its own (measure, wrap, pad, crop: 97% of the time of a
big trace). A table of fixed-width, unwrapped columns needs none of that per cell: rich renders
the title, the header and the rule (a Table without rows), and each row is written here as the
segments rich would write for it, padded and styled the same way, byte for byte (tests compare
the two). A cell that is not plain text, or does not fit its column, is laid out by rich.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence

from rich.box import Box
from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.padding import Padding
from rich.segment import Segment
from rich.table import Table
from rich.text import Text

from backprop_cli.render.wrap import text_width

# A cell: a str is plain text, shown as Text(str) would show it (no markup), lines split at
# "\n"; anything else (a Text with styles, a note that wraps) is laid out by rich.
Cell = str | RenderableType


class Rows:
    """`table` (its columns, title and style; no rows) with `rows` under its header."""

    def __init__(self, table: Table, rows: Sequence[Sequence[Cell]]) -> None:
        top, _, bottom, _ = table.padding
        unlike = (table.rows, table.show_edge, table.show_footer, table.show_lines, table.leading)
        if any(unlike) or table.row_styles or table.collapse_padding or top or bottom:
            raise ValueError("Rows writes the rows of a rowless table with no edge or footer")
        self.table, self.rows = table, rows

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        table = self.table
        extra = table._extra_width  # the column dividers: rich's own figures, so widths agree
        widths = table._calculate_column_widths(
            console, options.update_width(options.max_width - extra)
        )
        shown = options.update(width=sum(widths) + extra, highlight=table.highlight, height=None)
        safe = console.safe_box if table.safe_box is None else table.safe_box
        box = table.box.substitute(shown, safe=safe) if table.box else None
        columns = [_Column(console, shown, table, k, w) for k, w in enumerate(widths)]
        head = None
        if console.color_system is None and box is not None:
            head = _plain_head(table, columns, widths, sum(widths) + extra, box)
        if head is None:
            yield table  # title, header and rule, by rich
        else:
            yield Segment(head)
        if not self.rows:
            return
        # between cells: the box's vertical of a middle row, another in the last row
        dividers = (box.mid_vertical, box.foot_vertical) if box else ("", "")
        if console.color_system is None:
            yield from self._plain(console, columns, dividers)
            return
        border = console.get_style(table.style or "") + console.get_style(table.border_style or "")
        mid, foot = (Segment(d, border) for d in dividers)
        last = len(self.rows) - 1
        for index, row in enumerate(self.rows):
            cells = [column.lines(console, cell) for column, cell in zip(columns, row, strict=True)]
            height = max(len(c) for c in cells)
            if not height:  # no column wide enough to show anything: a blank line
                cells = [[[Segment(" " * column.width)]] for column in columns]
                height = 1
            for k, column in enumerate(columns):
                if len(cells[k]) < height:
                    cells[k] = column.align(cells[k], row[k], height)
            divider = foot if index == last else mid
            for n in range(height):
                for k, cell in enumerate(cells):
                    if k and divider.text:
                        yield divider
                    yield from cell[n]
                yield Segment.line()

    def _plain(
        self, console: Console, columns: list[_Column], dividers: tuple[str, str]
    ) -> Iterator[Segment]:
        """The rows without styles (no colour): many rows are one string."""
        last = len(self.rows) - 1
        out: list[str] = []
        for index, row in enumerate(self.rows):
            cells = [column.text(console, cell) for column, cell in zip(columns, row, strict=True)]
            divider = dividers[index == last]
            height = max(map(len, cells))
            if not height:  # no column wide enough to show anything: a blank line
                cells = [[" " * column.width] for column in columns]
                height = 1
            if min(map(len, cells)) < height:
                for k, column in enumerate(columns):
                    if len(cells[k]) < height:
                        cells[k] = column.align_text(cells[k], row[k], height)
            if height == 1:
                out.append(divider.join([c[0] for c in cells]) + "\n")
            else:
                lines = zip(*cells, strict=True)
                out.append("".join([divider.join(line) + "\n" for line in lines]))
            if len(out) >= _BATCH:
                yield Segment("".join(out))
                out.clear()
        if out:
            yield Segment("".join(out))


_BATCH = 256  # rows written as one segment: the console handles each segment on its own

_PADDED = re.compile(" +\n")


class Trimmed:
    """A renderable whose lines end at their last character: rich pads each line of a table,
    a title or a wrapped text with spaces to the width, and a pipe keeps them (an output would
    not diff against the same output at another width, nor against the README)."""

    def __init__(self, renderable: RenderableType) -> None:
        self.renderable = renderable

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        return trimmed(console.render(self.renderable, options))


def trimmed(segments: Iterable[Segment]) -> Iterator[Segment]:
    """The segments without the spaces that end a line: spaces are held back until a character
    follows them on the same line (then they are written) or the line ends (then dropped)."""
    held: list[Segment] = []
    for segment in segments:
        text = segment.text
        if segment.control:
            yield from held
            held.clear()
            yield segment
            continue
        if "\n" in text:
            if text != "\n":
                text = _PADDED.sub("\n", text)
            if text[0] != "\n":  # the held spaces are followed by characters of this line
                yield from held
            held.clear()
            body = text.rstrip(" ")
            if body != text:  # the last line may go on in the next segment
                held.append(Segment(text[len(body) :], segment.style))
            yield segment if body == segment.text else Segment(body, segment.style)
            continue
        body = text.rstrip(" ")
        if not body:
            held.append(segment)
            continue
        yield from held
        held.clear()
        if body == text:
            yield segment
        else:
            yield Segment(body, segment.style)
            held.append(Segment(text[len(body) :], segment.style))


def _plain_head(
    table: Table, columns: list[_Column], widths: list[int], width: int, box: Box
) -> str | None:
    """The title, header and rule of the table as rich writes them without colour, or None
    where rich must lay them out (a title that would wrap, a header of two lines, markup, a
    caption, a table with no header): each table of a trace has them, and rich's layout of
    them cost more than all of the worked example's rows."""
    if table.caption is not None or not table.show_header or table.width is not None:
        return None
    if table.title_justify != "left":
        return None  # written below as a left-justified line
    lines = []
    if table.title is not None:
        text = _plain_text(table.title)
        if text is None or "\n" in text or not text.isprintable() or text_width(text) > width:
            return None
        lines.append(text + " " * (width - text_width(text)))  # justified left, as rich pads
    cells = []
    for column, head in zip(columns, [c.header for c in table.columns], strict=True):
        text = _plain_text(head)
        fitted = None if text is None or "\n" in text else column._fitted(text)
        if fitted is None:
            return None
        cells.append(column.pad_text + fitted[0] + column.end_text)
    lines.append(box.head_vertical.join(cells))
    lines.append(box.get_row(widths, "head", edge=False))
    return "\n".join(lines) + "\n"


def _plain_text(renderable: object) -> str | None:
    """What a title or header shows: a Text's plain text when nothing of it needs rich (no
    justify, overflow or wrap of its own), a str without markup or emoji codes."""
    if isinstance(renderable, str):
        return None if "[" in renderable or ":" in renderable else renderable
    if not isinstance(renderable, Text):
        return None
    own = (renderable.justify, renderable.overflow, renderable.no_wrap, renderable.tab_size)
    return renderable.plain if own == (None, None, None, None) and renderable.end == "\n" else None


class _Column:
    """One column as rich lays out its cells: width, padding, justification, style."""

    def __init__(
        self, console: Console, options: ConsoleOptions, table: Table, index: int, width: int
    ) -> None:
        column = table.columns[index]
        _, right, _, left = table.padding
        if not table.pad_edge:
            left = 0 if index == 0 else left
            right = 0 if index == len(table.columns) - 1 else right
        self.width, self.left, self.right = width, left, right
        self.inner = width - left - right
        self.justify = column.justify
        self.style = console.get_style(column.style or "")
        self.vertical = column.vertical
        self.options = options.update(
            width=width,
            justify=column.justify,
            no_wrap=column.no_wrap,
            overflow=column.overflow,
            height=None,
            highlight=column.highlight,
        )
        self.pads = [Segment(" " * left, self.style)] if left else []
        self.end = [Segment(" " * right, self.style)] if right else []
        self.simple = column.justify in ("left", "center", "right")
        self.pad_text, self.end_text = " " * left, " " * right

    def text(self, console: Console, cell: Cell) -> list[str]:
        """The cell's lines of text, each `width` wide (its styles left out)."""
        if cell.__class__ is str and self.simple and "\n" not in cell and cell.isascii():
            # most cells: one line of printable ASCII, as _fitted justifies it, in one step
            gap = self.inner - len(cell)
            if self.justify == "left" and gap >= 0 and self.inner >= 1 and cell.isprintable():
                return [self.pad_text + cell + " " * gap + self.end_text]
        fitted = self._fitted(cell)
        if fitted is None:
            return ["".join(s.text for s in line) for line in self._laid_out(console, cell)]
        return [self.pad_text + text + self.end_text for text in fitted]

    def align_text(self, lines: list[str], cell: Cell, height: int) -> list[str]:
        """A cell shorter than its row, blank lines added where rich adds them."""
        vertical = getattr(cell, "vertical", None) or self.vertical
        if vertical == "top":
            return lines + [" " * self.width] * (height - len(lines))
        segments = self.align([[Segment(line)] for line in lines], cell, height)
        return ["".join(s.text for s in line) for line in segments]

    def lines(self, console: Console, cell: Cell) -> list[list[Segment]]:
        """The cell's lines of segments, each `width` wide."""
        fitted = self._fitted(cell)
        if fitted is None:
            return self._laid_out(console, cell)
        return [[*self.pads, Segment(text, self.style), *self.end] for text in fitted]

    def _laid_out(self, console: Console, cell: Cell) -> list[list[Segment]]:
        """The cell laid out by rich, as its Table lays out each cell."""
        shown = Text(cell) if isinstance(cell, str) else cell
        padded = Padding(shown, (0, self.right, 0, self.left))
        return console.render_lines(padded, self.options, style=self.style)

    def _fitted(self, cell: Cell) -> list[str] | None:
        """A plain cell's lines justified in the column; None for one rich must lay out (a line
        it would cut, or with control characters or tabs, which rich strips or expands)."""
        if not isinstance(cell, str) or not self.simple or self.inner < 1:
            return None
        inner, justify = self.inner, self.justify
        lines = []
        for text in cell.split("\n") if "\n" in cell else (cell,):
            if not text.isprintable():
                return None
            if justify != "left":
                text = text.rstrip()
            gap = inner - (len(text) if text.isascii() else text_width(text))
            if gap < 0:
                return None
            if justify == "left":
                lines.append(text + " " * gap)
            else:
                before = gap // 2 if justify == "center" else gap
                lines.append(" " * before + text + " " * (gap - before))
        return lines

    def align(self, lines: list[list[Segment]], cell: Cell, height: int) -> list[list[Segment]]:
        """A cell shorter than its row, blank lines added where rich adds them."""
        vertical = getattr(cell, "vertical", None) or self.vertical
        align = {"top": Segment.align_top, "middle": Segment.align_middle}.get(
            vertical, Segment.align_bottom
        )
        return align(lines, self.width, height, self.style)
