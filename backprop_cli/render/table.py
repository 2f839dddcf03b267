"""Rich tables: one per phase and layer (id · formula · with numbers · value)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence

from rich import box
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.jupyter import JupyterMixin
from rich.measure import Measurement
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from backprop_cli.engine.passes import iter_phases
from backprop_cli.engine.trace import Step, Trace
from backprop_cli.ops import OPTIMIZERS
from backprop_cli.render.ascii import spell
from backprop_cli.render.numbers import Numbers, written
from backprop_cli.render.rows import Cell, Rows
from backprop_cli.render.wrap import atom_width, text_width, words, wrap
from backprop_cli.specs.model import Param

_PHASE_TITLES = {
    "forward": "Forward pass",
    "loss": "Total error",
    "backward": "Backward pass",
    "update": "Update",
    "after": "After the update",
}


def group_title(
    trace: Trace, phase: str, layer: int | None, sample: int | None, update: int | None
) -> str:
    """A heading such as 'Backward pass · output layer o · sample 2'."""
    spec = trace.spec
    parts = [_PHASE_TITLES.get(phase, phase)]
    if phase == "update" and layer is None:
        parts.append("batch gradient")
    if phase == "loss" and sample is None:
        parts.append("batch")
    if layer is not None:
        kind = "output layer" if layer == len(spec.layers) - 1 else "hidden layer"
        parts.append(f"{kind} {spec.layers[layer].name}")
    elif phase == "after":
        parts.append("total error")
    if len(spec.samples) > 1:
        if sample is not None:
            parts.append(f"sample {sample + 1}")
        if update is not None and spec.training.mode != "online":
            parts.append(f"update {update + 1}")
    if phase == "update":
        parts.append(f"η = {written(spec.training.learning_rate, 9)}")
        opt = spec.training.optimizer  # its hyper-parameters show in the formulas' numbers
        rule = OPTIMIZERS[opt.name]
        if rule.counts_updates:
            parts.append(f"{opt.name}, t = {opt.step + (update or 0) + 1}")
        elif not rule.plain:
            parts.append(opt.name)
    return " · ".join(parts)


def plain(text: str, style: str = "") -> Text | str:
    """Text as rich shows a str without markup or emoji codes ([b], :smile:), made without
    parsing it (nor loading rich's emoji table); a str that has them stays a str."""
    return text if "[" in text or ":" in text else Text(text, style=style)


def titled_table(title: str) -> Table:
    """A table in the house style: a bold title on the left, a rule under the header, no frame."""
    return Table(
        title=plain(title, "bold"),
        title_justify="left",
        title_style="bold",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        min_width=len(title),
    )


class Fitted:
    """A table where every cell fits its column whole (a header may go a word a line); where
    even that is too wide, `narrow`: the same rows written as lines, which fit any width from
    20 columns. rich itself would cut the numbers of unwrapped columns short with an ellipsis
    (it squeezes every column alike once the wrapped ones are as narrow as they go)."""

    def __init__(self, table: Table, narrow: RenderableType) -> None:
        self.table, self.narrow = table, narrow
        self.given = [(c.header, c.width) for c in table.columns]
        self.min_width = table.min_width

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        table, width = self.table, options.max_width
        columns = table.columns
        for column, (header, fixed) in zip(columns, self.given, strict=True):
            column.header, column.width = header, fixed  # as given: it may be shown again
        wide = options.update_width(1 << 16)
        least, natural = _cell_widths(console, wide, table)
        gaps = _gaps(console, wide, table)
        table.min_width = min(self.min_width or 0, width)
        if sum(natural) + gaps <= width:
            yield table
            return
        if sum(least) + gaps > width:
            yield self.narrow
            return
        widths, spare = list(least), width - gaps - sum(least)
        # the columns that want least more first: a header kept on one line, a note less wrapped
        for k in sorted(range(len(columns)), key=lambda k: natural[k] - least[k]):
            more = min(spare, natural[k] - least[k])
            widths[k] += more
            spare -= more
        for column, w in zip(columns, widths, strict=True):
            column.width = w
            column.header = _header_lines(column.header, w)
        yield table


def _cell_widths(
    console: Console, wide: ConsoleOptions, table: Table
) -> tuple[list[int], list[int]]:
    """Each column's narrowest (its widest unbroken cell, or word where it wraps, and its
    header's widest word) and natural width (its widest cell or header on one line)."""
    least, natural = [], []
    for column in table.columns:
        head = _plain_header(column.header)
        lo = max((text_width(w) for w in head.split()), default=0)
        hi = max((text_width(line) for line in head.split("\n")), default=0)
        for cell in column.cells:
            m = Measurement.get(console, wide, cell)
            lo = max(lo, m.maximum if column.no_wrap else m.minimum)
            hi = max(hi, m.maximum)
        least.append(lo)
        natural.append(hi)
    return least, natural


def _gaps(console: Console, wide: ConsoleOptions, table: Table) -> int:
    """The columns' padding and the dividers between them: the table's width less its cells',
    measured with every column one cell wide."""
    kept = [c.width for c in table.columns], table.min_width
    for column in table.columns:
        column.width = 1
    table.min_width = None
    gaps = Measurement.get(console, wide, table).maximum - len(table.columns)
    for column, w in zip(table.columns, kept[0], strict=True):
        column.width = w
    table.min_width = kept[1]
    return gaps


def _plain_header(header: RenderableType) -> str:
    return header.plain if isinstance(header, Text) else header if isinstance(header, str) else ""


def _header_lines(header: RenderableType, width: int) -> RenderableType:
    """A header wider than its column, its words on as few lines as fit the width."""
    text = _plain_header(header)
    if text_width(text) <= width or not text:
        return header
    lines: list[str] = []
    for word in text.split():
        if lines and text_width(lines[-1]) + 1 + text_width(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    joined = "\n".join(lines)
    return Text(joined, style=header.style) if isinstance(header, Text) else joined


class Indented:
    """A line of a narrow layout broken at spaces, two columns in from the margin, or at the
    margin where its widest word would not fit beside the indent (a number wider than the line
    goes past it whole, never split)."""

    def __init__(self, text: Text) -> None:
        self.text = text

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = options.max_width
        widest = max(map(text_width, self.text.plain.split()), default=0)
        if widest + 2 <= width:
            yield Padding(words(self.text, width - 2), (0, 0, 0, 2))
        else:  # a word wider than the line overflows it whole (Padding would crop it)
            yield words(self.text, width)


def step_table(title: str, steps: Sequence[Step], shown: Numbers) -> StepTable:
    """One table of steps."""
    return StepTable(title, steps, shown)


_Key = tuple[int, int, int]  # a layout's rows' lines, broken lines and imbalance


class StepTable:
    """One table of steps (id · formula · with numbers · value), laid out for the width it is
    given: the formula columns get at least their widest unbreakable piece and are broken
    between terms (render/wrap.py); where even that does not fit, the steps are written one
    after another (Stacked)."""

    HEADERS = ("id", "formula", "with numbers", "value")

    def __init__(
        self, title: str, steps: Sequence[Step], shown: Numbers, spelled: bool = False
    ) -> None:
        self.title, self.steps, self.shown, self.spelled = title, steps, shown, spelled
        self.rows = [(s.id, *shown.formula_and_numbers(s), shown.value(s)) for s in steps]
        if spelled:  # for a stream without the symbols: measured as printed (η is `eta`)
            self.title = spell(title)
            self.rows = [(a, spell(f), spell(n), v) for a, f, n, v in self.rows]
        # narrowest and widest of each column; the header wraps between its words
        self.low = [max(text_width(w) for w in h.split()) for h in self.HEADERS]
        self.high = [text_width(h) for h in self.HEADERS]
        low_id, low_f, low_n, low_v = self.low
        high_id, high_f, high_n, high_v = self.high
        self.widths: list[tuple[int, int]] = []  # of each row's formula and numbers
        for s, (sid, formula, numbers, value) in zip(steps, self.rows, strict=True):
            wid, wf, wn = text_width(sid), text_width(formula), text_width(numbers)
            self.widths.append((wf, wn))
            wv = text_width(value) + (2 if s.note else 0)
            # no piece is wider than its whole text: a text no wider than the widest piece so
            # far leaves the column's narrowest as it is (and need not be cut into pieces)
            if wf > low_f:
                low_f = max(low_f, atom_width(formula))
            if wn > low_n:
                low_n = max(low_n, atom_width(numbers))
            if wid > low_id:
                low_id = wid
            if wv > low_v:
                low_v = wv
            if wf > high_f:
                high_f = wf
            if wn > high_n:
                high_n = wn
            if s.note:
                low_f = max(low_f, *(text_width(w) for w in s.note.split()))
        # the id and value columns are never broken: their narrowest is their widest
        self.low = [low_id, low_f, low_n, low_v]
        self.high = [max(high_id, low_id), high_f, high_n, max(high_v, low_v)]

    def _split(self, lowest: int, highest: int, free: int) -> int:
        """The formula column's width that makes the table shortest (each row as tall as its
        taller cell), then breaks the fewest lines; of a few widths: evenly spaced ones and
        those where a whole formula or line of numbers just fits."""

        counted: dict[tuple[str, int], int] = {}
        rows = [(r[1], wf, r[2], wn) for r, (wf, wn) in zip(self.rows, self.widths, strict=True)]

        def lines(text: str, width: int) -> int:
            if (text, width) not in counted:
                counted[text, width] = len(wrap(text, width))
            return counted[text, width]

        def height(fw: int, bound: _Key | None, ties: bool) -> _Key | None:
            """(rows' lines, broken lines, imbalance) at formula width fw; None as soon as it
            cannot come below `bound` (or reach it, where `ties` win): every row left adds at
            least a line, and two to the broken ones."""
            nw, left = free - fw, len(rows)
            balance = abs(fw * (self.high[2]) - (free - fw) * self.high[1])
            tall = broken = 0
            for formula, wf, numbers, wn in rows:
                a = 1 if wf <= fw else lines(formula, fw)
                b = 1 if wn <= nw else lines(numbers, nw)
                tall += a if a > b else b
                broken += a + b  # then: the fewest broken formulas
                left -= 1
                if bound is not None and tall + left >= bound[0]:
                    least = (tall + left, broken + 2 * left, balance)
                    if least > bound or (least == bound and not ties):
                        return None
            return tall, broken, balance

        proportional = lowest + (highest - lowest) * self.high[1] // (self.high[1] + self.high[2])
        if sum(len(r[1]) + len(r[2]) for r in self.rows) > 5000:
            return proportional  # a big table: no time to try; in proportion to the widest
        # widths where a whole formula, or a whole line of numbers, just fits
        natural = {wf for _, wf, _, _ in rows} | {free - wn for _, _, _, wn in rows}
        fitting = sorted(w for w in natural if lowest <= w <= highest)
        candidates = {proportional, *(lowest + (highest - lowest) * k // 8 for k in range(9))}
        candidates.update(fitting[:: max(len(fitting) // 8, 1)])
        # the first of the lowest in the set's order, as min() would pick; a candidate is
        # dropped as soon as it cannot beat the best so far (starting from the proportional
        # width, which often wins): the same width, with fewer rows wrapped
        order = list(candidates)
        first = height(proportional, None, True)
        assert first is not None  # with no bound, every width is measured whole
        best, at = first, order.index(proportional)
        for k, fw in enumerate(order):
            if fw == proportional:
                continue
            key = height(fw, best, k < at)  # one before the best wins a tie
            if key is not None and (key < best or (key == best and k < at)):
                best, at = key, k
        return order[at]

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        if options.ascii_only and not self.spelled:
            yield StepTable(self.title, self.steps, self.shown, spelled=True)
            return
        # between columns: padding, the (blank) rule, padding
        width, gaps = options.max_width, 3 * (len(self.HEADERS) - 1)
        if sum(self.low) + gaps > width:
            yield Group(
                Text(self.title, style="bold"),
                *(Stacked(s, self.shown, self.spelled) for s in self.steps),
            )
            return
        fixed = self.low[0] + self.low[3]
        free = width - gaps - fixed
        (lo1, lo2), (hi1, hi2) = self.low[1:3], self.high[1:3]
        if hi1 + hi2 <= free:
            fw, nw = hi1, hi2
        else:
            fw = self._split(lo1, free - lo2, free)
            nw = free - fw
        table = titled_table(self.title)
        table.min_width = min(len(self.title), width)
        # fixed widths: rich measures no cell, and nothing wraps but what wrap() broke
        widths = (self.low[0], fw, nw, self.low[3])
        # a header too long for its column goes a word a line (the columns do not wrap)
        heads = [
            h if text_width(h) <= w else h.replace(" ", "\n")
            for h, w in zip(self.HEADERS, widths, strict=True)
        ]
        table.add_column(plain(heads[0]), style="cyan", no_wrap=True, width=widths[0])
        table.add_column(plain(heads[1]), no_wrap=True, width=fw)
        table.add_column(plain(heads[2]), no_wrap=True, width=nw)
        table.add_column(
            plain(heads[3]), justify="right", style="bold", no_wrap=True, width=widths[3]
        )
        rows: list[tuple[Cell, ...]] = []
        for s, (sid, formula, numbers, value), (wf, wn) in zip(
            self.steps, self.rows, self.widths, strict=True
        ):
            # plain text: no markup or emoji parsing (ids are shown as written)
            if wf > fw:
                formula = "\n".join(wrap(formula, fw))
            if wn > nw:
                numbers = "\n".join(wrap(numbers, nw))
            cells = (sid, formula, numbers, value)
            if not s.note:
                rows.append(cells)
                continue
            warned = Text(value)
            warned.append(" ⚠", style="yellow")
            rows.append((*cells[:3], warned))
            note = Text(s.note, style="yellow italic", no_wrap=False, overflow="fold")
            rows.append(("", note, "", ""))
        yield Rows(table, rows)


class Stacked:
    """One step on lines of its own: `id = formula`, `= numbers`, `= value`, for a narrow
    terminal. Continuation lines are indented; nothing is cut that fits on a line."""

    def __init__(self, step: Step, shown: Numbers, spelled: bool = False) -> None:
        self.step, self.shown, self.spelled = step, shown, spelled

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        s, width = self.step, options.max_width
        parts = [s.formula, self.shown.substituted(s), self.shown.value(s)]
        if self.spelled:  # measured as printed: η is `eta`
            parts = [spell(p) for p in parts]
        parts = [p for k, p in enumerate(parts) if k == 0 or p != parts[k - 1]]
        idw = text_width(s.id) + 1
        hanging = idw + 2 + max(atom_width(p) for p in parts) <= width
        out = Text()
        if hanging:
            out.append(s.id, style="cyan")
            indent = idw
        else:
            head = Text(s.id, style="cyan")
            head.truncate(width, overflow="ellipsis")
            out.append_text(head)
            out.append("\n")
            indent = 0
        for k, part in enumerate(parts):
            # narrow: continuation lines indented by 2 if that costs no cut, else at the margin
            # (they start with an operator)
            cont = 2 if atom_width(part) <= width - 2 else 0
            if hanging:
                lines = wrap(part, width - indent - 2)
            else:
                lines = wrap(part, width - cont, first=width - 2)
            for j, line in enumerate(lines):
                if hanging:
                    lead = " " * indent + ("= " if j == 0 else "  ")
                    if k == 0 and j == 0:
                        lead = " = "
                else:
                    lead = "= " if j == 0 else " " * cont
                if k or j:
                    out.append("\n")
                out.append(lead)
                out.append(line, style="bold" if k == len(parts) - 1 else "")
        yield Text.assemble(out, no_wrap=True, overflow="ellipsis")
        if s.note:
            yield Text(s.note, style="yellow italic")


def parameter_table(
    params: Sequence[Param],
    new: Mapping[str, float],
    shown: Numbers,
    drift: Mapping[str, str] | None = None,
    exact: Numbers | None = None,
) -> ParameterTable:
    """Every parameter, old → new (and, for a rounded run, its drift from the exact one, as
    render/drift.py writes it); old values as written in the config, the rest by `shown`."""
    exact = exact or shown
    rows = []
    for p in params:
        after = new.get(p.id, p.value)
        row = [
            p.id,
            exact(p.value),
            "→",
            shown(after),
            "" if after == p.value else shown(after - p.value),
        ]
        if drift is not None:
            row.append(drift[p.id])
        rows.append(tuple(row))
    return ParameterTable(rows, drift is not None)


class ParameterTable:
    """The parameters as a table where it fits the width, else one line each (Fitted)."""

    HEADERS = ("id", "old", "", "new", "change", "drift from exact")
    JUSTIFY = ("left", "right", "center", "right", "right", "right")
    STYLES = ("cyan", "", "", "bold", "", "")

    def __init__(self, rows: Sequence[tuple[str, ...]], drift: bool, spelled: bool = False) -> None:
        self.rows, self.drift, self.spelled = rows, drift, spelled
        self.columns = len(self.HEADERS) - (0 if drift else 1)

    def _table(self, widths: Sequence[int | None]) -> Table:
        table = titled_table("Parameters")
        for k, width in enumerate(widths):
            table.add_column(
                plain(self.HEADERS[k]),
                justify=self.JUSTIFY[k],  # type: ignore[arg-type]
                style=self.STYLES[k],
                no_wrap=True,
                width=width,
            )
        return table

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        if options.ascii_only and not self.spelled:  # measured as printed: → is `->`
            rows = [tuple(spell(c) for c in row) for row in self.rows]
            yield ParameterTable(rows, self.drift, spelled=True)
            return
        widths = [text_width(h) for h in self.HEADERS[: self.columns]]
        for row in self.rows:
            widths = [max(w, text_width(c)) for w, c in zip(widths, row, strict=True)]
        # each column's padding (none at the edges) and the dividers between them
        natural = sum(widths) + 3 * (self.columns - 1)
        markup = any("[" in c or ":" in c for row in self.rows for c in row)
        if natural <= options.max_width and not markup:
            yield Rows(self._table(widths), self.rows)  # as rich lays it out, many times quicker
        else:
            yield self._fitted()

    def _fitted(self) -> Fitted:
        """rich's own table (which may squeeze columns), or lines where even that does not fit."""
        table = self._table([None] * self.columns)
        lines = [Text("Parameters", style="bold")]
        for row in self.rows:
            table.add_row(*row)
            line = Text(row[0], style="cyan")
            line.append(f" {row[1]} {spell('→') if self.spelled else '→'} ")
            line.append(row[3], style="bold")
            if row[4]:
                line.append(f" (change {row[4]})")
            if self.drift:
                line.append(f" (drift {row[5]})")
            lines.append(line)
        return Fitted(table, Group(*lines))


def loss_line(trace: Trace, shown: Numbers) -> Text:
    """E_total before → after."""
    change = trace.loss_after - trace.loss_before
    label = (
        "E_total"
        if len(trace.spec.samples) == 1
        else f"E ({trace.spec.training.reduction} over samples)"
    )
    text = Text(f"{label}: ")
    text.append(shown(trace.loss_before))
    text.append(" → ")
    text.append(shown(trace.loss_after), style="bold")
    text.append(f"  ({'+' if change >= 0 else ''}{shown(change)})")
    return text


class Shown(JupyterMixin):
    """A renderable that also displays itself in Jupyter (rich's Group alone does not)."""

    def __init__(self, renderable: RenderableType) -> None:
        self.renderable = renderable

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield self.renderable


def render_trace(
    trace: Trace,
    steps: Iterable[Step] | None = None,
    *,
    precision: int = 9,
    summary: bool = True,
    decimals: int | None = None,
) -> Shown:
    """The trace (or the given subset of its steps) as tables, then parameters and E_total;
    `decimals`: a run rounded to that many decimals, its results shown with trailing zeros."""
    parts = trace_parts(trace, steps, precision=precision, summary=summary, decimals=decimals)
    return Shown(Group(*parts))


def trace_parts(
    trace: Trace,
    steps: Iterable[Step] | None = None,
    *,
    precision: int = 9,
    summary: bool = True,
    decimals: int | None = None,
) -> Iterator[RenderableType]:
    """What render_trace shows, one title, table or line at a time, each made only when it is
    asked for: printed one by one, a trace of 10,000 samples is never laid out whole."""
    chosen = trace.steps if steps is None else list(steps)
    shown = Numbers.of(trace.steps, precision)
    result = shown if decimals is None else Numbers(decimals, zeros=True)
    sub = Trace(trace.spec, chosen)
    yield Text(trace.spec.name, style="bold underline")
    yield Text("")
    for (phase, layer, sample, update), group in iter_phases(sub):
        yield step_table(group_title(trace, phase, layer, sample, update), group, shown)
        yield Text("")
    if summary:
        yield parameter_table(trace.parameters, trace.updated, result, None, shown)
        yield Text("")
        yield loss_line(trace, result)
