"""Check a training log (E_total by epoch) against the same training, and name what differs.

A log is a `.csv` with columns `epoch,E_total` or `.jsonl` records with those keys (what
`backprop train --format jsonl` writes). It is read a row at a time, and the training runs
alongside it on a fast kernel, so a log of a million epochs takes constant memory.

First pass: the config's own training, until the first row that differs to the digits written.
Second pass (only when one differs): every known cause trained side by side from the start,
each dropped at its first disagreement; those that reproduce the whole log are the diagnosis:
  epoch_offset     the log's epoch n is our n − 1 or n + 1 (counted from 1, or after the update)
  sequential_order the hidden deltas from the updated output weights (or the reverse)
  online_vs_batch  one update per sample where the config batches, or the reverse
  mean_vs_sum      a batch's gradients summed where the config averages them, or the reverse
  learning_rate    another η (fitted to the log's first rows, then checked on all of them)
  optimizer        another update rule (sgd, momentum, adam, ...) with its default
                   hyper-parameters and the config's η
  rounding         every value rounded to N decimals as it went (within two units of the
                   rounded run: people round at slightly different points)
"""

from __future__ import annotations

import csv
import dataclasses
import io
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from backprop_cli.kernels import Kernel, Trainer
from backprop_cli.kernels.rounded import rounded_kernel
from backprop_cli.ops import OPTIMIZERS
from backprop_cli.specs import datatext
from backprop_cli.specs.model import Optimizer, Spec
from backprop_cli.specs.source import SourceError
from backprop_cli.tutor.grading import PROGRAM_DIGITS, PROGRAM_RTOL

MAX_ROUNDING = 12  # the N of `rounding` tried: 1 up to the decimals the log writes, at most this
ROUNDING_UNITS = 2.0  # a log within this many units of the rounded run is that run
FIT_STEPS = 40  # secant steps to fit η to the first rows
# The last epoch a log may name: check trains that far (a row that differs there trains every
# cause as far too: 107 s on the worked example, the rounded one the slowest); a row past it is
# refused when read, before any training toward it.
MAX_EPOCH = 1_000_000
# A log's size, from the file's before it is read: a million epochs as `train -f jsonl` writes
# them take about 64 MB (a CSV log 30 MB); the log is read a line at a time, so this bounds the
# time spent on lines that are not epochs, not memory.
MAX_LOG_BYTES = 256 * 2**20
PROGRESS_EVERY = 512  # epochs trained between two reports to the progress callback
# progress(what, epochs trained, the epoch trained to): what the caller shows; check never prints.
Progress = Callable[[str, int, int], None]


class LogRow(NamedTuple):
    """One epoch of a log: its number, E_total as written, and where."""

    epoch: int
    text: str
    value: float
    line: int
    col: int
    unit: float  # one unit in the last digit written
    program: bool  # written with 12 or more significant digits: a program's full output
    digits: int = 1  # significant digits written: 0 for a 0 (0.00, 0e5), which claims no unit


def agrees(row: LogRow, ours: float, units: float = 0.5) -> bool:
    """The row says `ours` to the digits written: within half a unit of its last digit (or
    1e-9 relative, for a program's full-precision output)."""
    if row.program:
        return abs(row.value - ours) <= PROGRAM_RTOL * abs(ours)
    if row.digits == 0:  # 0 (or 0e5) gives no digit to be within: right only for 0, as answers
        return ours == 0.0
    return abs(row.value - ours) <= units * row.unit * (1 + 1e-9)


# --- reading -----------------------------------------------------------------------------------


def read_log(path: Path) -> Iterator[LogRow]:
    """The rows of a log file, one at a time (SourceError names file:line:col)."""
    file = str(path)
    jsonl = path.suffix.lower() == ".jsonl"
    kind = "JSON Lines" if jsonl else "CSV"
    with datatext.open_text(file, kind, (MAX_LOG_BYTES, "a log")) as handle:
        numbered = datatext.lines(handle, file, kind)
        yield from _increasing(_jsonl(numbered, file) if jsonl else _csv(numbered, file), file)


def parse_log(text: str, file: str, suffix: str = ".csv") -> Iterator[LogRow]:
    """The rows of a log given as text."""
    jsonl = suffix == ".jsonl"
    kind = "JSON Lines" if jsonl else "CSV"
    numbered = datatext.lines(io.StringIO(text, newline=""), file, kind)
    return _increasing(_jsonl(numbered, file) if jsonl else _csv(numbered, file), file)


def _increasing(rows: Iterator[LogRow], file: str) -> Iterator[LogRow]:
    last: LogRow | None = None
    for row in rows:
        if last is not None and row.epoch <= last.epoch:
            raise SourceError(
                file,
                row.line,
                1,
                "epoch",
                f"epoch {row.epoch} after epoch {last.epoch} (line {last.line}); epochs must "
                "increase",
            )
        last = row
        yield row
    if last is None:
        raise SourceError(file, 1, 1, "", "no epochs: expected rows `epoch,E_total`")


def _csv(numbered: Iterator[tuple[int, str]], file: str) -> Iterator[LogRow]:
    """Rows read by the csv module (a quoted cell may span lines): each row's line is the one
    it starts on."""
    header: list[str] | None = None
    e = v = 0
    read = 0  # lines the csv module has taken
    reader = csv.reader((text for _, text in numbered), strict=True)
    while True:
        line = read + 1
        try:
            row = next(reader, None)
        except csv.Error as exc:
            raise SourceError(file, line, 1, "", f"not valid CSV: {exc}") from None
        if row is None:
            break
        read = reader.line_num
        if not row or all(not c.strip() for c in row):
            continue
        if header is None:
            header = _header(row, file, line)
            e, v = header.index("epoch"), header.index("E_total")
            continue
        if len(row) != len(header):
            raise SourceError(file, line, 1, "", f"expected {len(header)} columns, got {len(row)}")
        col = sum(len(c) + 1 for c in row[:v]) + 1
        yield _row(row[e], row[v], file, line, col)


def _header(row: list[str], file: str, line: int) -> list[str]:
    """A log's header: epoch first, then E_total (other columns may follow), each name once."""
    header = [c.strip() for c in row]
    got = datatext.quoted(",".join(row), 60)
    if "epoch" not in header or "E_total" not in header:
        raise SourceError(file, line, 1, "", f"expected a header epoch,E_total; got {got}")
    for k, name in enumerate(header):
        if name in header[:k]:
            col = sum(len(c) + 1 for c in row[:k]) + 1
            first = header.index(name) + 1
            message = f"column {datatext.quoted(name)} is given twice (columns {first} and {k + 1})"
            raise SourceError(file, line, col, "header", message)
    if header.index("epoch") > header.index("E_total") or header[0] != "epoch":
        message = f"the columns are in the wrong order: expected a header epoch,E_total; got {got}"
        raise SourceError(file, line, 1, "header", message)
    return header


def _jsonl(numbered: Iterator[tuple[int, str]], file: str) -> Iterator[LogRow]:
    for line, text in numbered:
        if not text.strip():
            continue
        # Numbers kept as written: their digits say how precisely to compare.
        record = datatext.loads(text, file, line, numbers=str, keyed=datatext.shown)
        if not isinstance(record, dict):
            raise SourceError(file, line, 1, "", "expected a JSON object a line")
        if record.get("type", "epoch") != "epoch":
            continue  # train's summary record
        for key in ("epoch", "E_total"):
            if key not in record:
                raise SourceError(file, line, 1, key, "missing: each record needs epoch, E_total")
        col = text.find('"E_total"') + 1
        yield _row(record["epoch"], record["E_total"], file, line, col)


_NOT_IN_NUMBERS = str.maketrans("", "", "0123456789.")


def _row(epoch: Any, value: Any, file: str, line: int, col: int) -> LogRow:
    if not isinstance(epoch, str) or not epoch.strip().isascii() or not epoch.strip().isdigit():
        got = datatext.quoted(epoch) if isinstance(epoch, str) else datatext.shown(repr(epoch))
        raise SourceError(file, line, 1, "epoch", f"expected a count from 0, got {got}")
    written = epoch.strip().lstrip("0")
    if len(written) > len(str(MAX_EPOCH)) or int(written or 0) > MAX_EPOCH:
        shown = written if len(written) <= 24 else f"of {len(written):,} digits"
        raise SourceError(
            file,
            line,
            1,
            "epoch",
            f"epoch {shown} is past {MAX_EPOCH:,}, the most epochs check trains to",
        )
    if not isinstance(value, str):
        got = datatext.shown(repr(value))
        raise SourceError(file, line, col, "E_total", f"expected a number, got {got}")
    if len(value) > datatext.MAX_CELL:
        message = f"a value longer than {datatext.MAX_CELL:,} characters"
        raise SourceError(file, line, col, "E_total", message)
    text = value.strip()
    whole, _, frac = text.partition(".")
    # The quick way for the million rows of a long log: plain decimals of a few digits, which
    # neither overflow nor round to 0; anything else takes the full check.
    if len(text) <= 30 and not text.translate(_NOT_IN_NUMBERS) and (whole + frac).isdigit():
        x, unit = float(text), 10.0 ** -len(frac)
        digits = len((whole + frac).lstrip("0"))
    else:
        try:
            parsed = datatext.written_number(text)
        except datatext.NotANumber as exc:
            got = datatext.quoted(value)
            message = str(exc) or f"expected a number written in digits, got {got}"
            raise SourceError(file, line, col, "E_total", message) from None
        x, unit, digits = parsed
    return LogRow(int(epoch), text, x, line, col, unit, digits >= PROGRAM_DIGITS, digits)


# --- the runs ----------------------------------------------------------------------------------


@dataclass(slots=True)
class Run:
    """One training, epoch by epoch, compared with the log as it is read."""

    code: str
    description: str
    kernel: Kernel
    epoch: int
    value: float
    offset: int = 0  # the log's epoch n is this run's n + offset
    units: float = 0.5  # how many units of the last digit written the values may differ by
    detail: dict[str, Any] = field(default_factory=dict)
    worst: float = 0.0  # the largest difference seen, in units of the digits written
    last: LogRow | None = None
    progress: Progress | None = None

    @classmethod
    def of(cls, code: str, description: str, trainer: Trainer, **kw: Any) -> Run:
        return cls(code, description, trainer.kernel, trainer.epochs_done, trainer.loss, **kw)

    def at(self, epoch: int) -> float:
        """E_total after `epoch` epochs (training on as far as that)."""
        report = self.progress
        while self.epoch < epoch:
            self.value = self.kernel.epoch()
            self.epoch += 1
            if report is not None and self.epoch % PROGRESS_EVERY == 0:
                report(self.code, self.epoch, epoch)
        return self.value

    def compare(self, row: LogRow, start: int) -> bool | None:
        """Whether the row agrees with this run; None when the run has no such epoch."""
        epoch = row.epoch + self.offset
        if epoch < start:
            return None
        ours = self.at(epoch)
        if not math.isfinite(ours):
            return False
        self.last = row
        self.worst = max(self.worst, abs(row.value - ours) / row.unit)
        return agrees(row, ours, self.units)


@dataclass(frozen=True, slots=True)
class LogSlip:
    """A cause that reproduces the whole log."""

    code: str
    description: str
    detail: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "description": self.description, **self.detail}


@dataclass(slots=True)
class Difference:
    """The first row that differs from the config's training."""

    row: LogRow
    ours: float | None  # None: the log's epoch is before this run's first

    def to_dict(self) -> dict[str, Any]:
        return {
            "epoch": self.row.epoch,
            "line": self.row.line,
            "text": self.row.text,
            "written": self.row.value,
            "ours": self.ours,
        }


@dataclass(slots=True)
class LogReport:
    """What the check of a log found: the rows compared (up to the first that differs), that
    difference, and the causes that reproduce the whole log."""

    network: str
    rows: int
    last_epoch: int
    difference: Difference | None
    slips: list[LogSlip]
    round_to: int | None = None

    @property
    def passed(self) -> bool:
        return self.difference is None

    @property
    def codes(self) -> list[str]:
        return [s.code for s in self.slips]

    def to_dict(self) -> dict[str, Any]:
        return {
            "network": self.network,
            "kind": "log",
            "round": self.round_to,
            "rows": self.rows,
            "last_epoch": self.last_epoch,
            "passed": self.passed,
            "first_difference": self.difference.to_dict() if self.difference else None,
            "diagnosis": {"slips": [s.to_dict() for s in self.slips]} if self.difference else None,
        }


def _trainer(spec: Spec, round_to: int | None = None, order: str | None = None) -> Trainer:
    if round_to is None:
        return Trainer(spec, update_order=order)
    return Trainer(spec, update_order=order, kernel=rounded_kernel(round_to))


def check_log(
    spec: Spec,
    rows: Callable[[], Iterator[LogRow]],
    *,
    round_to: int | None = None,
    progress: Progress | None = None,
) -> LogReport:
    """Compare a log with the training of `spec`; `rows()` reads the log afresh (twice at most,
    when a row differs and the causes are tried). progress: told every PROGRESS_EVERY epochs
    which run trains ("config", then each cause's code), how far, and toward which epoch."""
    base = Run.of("config", "", _trainer(spec, round_to), progress=progress)
    start = base.epoch
    count, last, difference = 0, start, None
    for row in rows():
        count, last = count + 1, row.epoch
        same = base.compare(row, start)
        if not same:
            ours = None if same is None else base.value
            difference = Difference(row, ours)
            break
    if difference is None:
        return LogReport(spec.name, count, last, None, [], round_to)
    alive = candidates(spec, round_to, rows, difference.row)
    for run in alive:
        run.progress = progress
    read = 0
    for row in rows():
        read += 1
        alive = [r for r in alive if r.compare(row, start) is not False]
        if not alive:
            break
    if alive:  # the causes were compared with every row
        count, last = read, row.epoch
    # Best first: the run nearest the log, in units of the tolerance it is allowed.
    found = sorted((r for r in alive if r.last is not None), key=lambda r: r.worst / r.units)
    slips = [LogSlip(r.code, r.description, r.detail) for r in found]
    return LogReport(spec.name, count, last, difference, slips, round_to)


def candidates(
    spec: Spec, round_to: int | None, rows: Callable[[], Iterator[LogRow]], differs: LogRow
) -> list[Run]:
    """A run for each known cause of a log that differs (`differs`: the first row that does)."""
    t = spec.training
    runs = [
        Run.of(
            "epoch_offset",
            "the log's epoch n is our epoch n − 1: it counts the epochs from 1, so its first "
            "row is the error before any update",
            _trainer(spec, round_to),
            offset=-1,
            detail={"offset": -1},
        ),
        Run.of(
            "epoch_offset",
            "the log's epoch n is our epoch n + 1: it writes the error after one update more",
            _trainer(spec, round_to),
            offset=1,
            detail={"offset": 1},
        ),
    ]
    if len(spec.layers) > 1:
        other = "sequential" if t.update_order == "simultaneous" else "simultaneous"
        code = "sequential_order" if other == "sequential" else "simultaneous_order"
        what = (
            "the hidden deltas from the output weights already updated (update_order: sequential)"
            if other == "sequential"
            else "the hidden deltas from the weights before the update (update_order: simultaneous)"
        )
        runs.append(Run.of(code, what, _trainer(spec, round_to, order=other)))
    if len(spec.samples) > 1:
        mode = "batch" if t.mode == "online" else "online"
        runs.append(
            Run.of(
                "online_vs_batch",
                f"trained in mode {mode}, while this config says {t.mode}",
                _trainer(_training(spec, mode=mode), round_to),
                detail={"mode": mode},
            )
        )
        reduction = "sum" if t.reduction == "mean" else "mean"
        runs.append(
            Run.of(
                "mean_vs_sum",
                f"the samples' gradients and errors reduced by {reduction}, while this config "
                f"says {t.reduction}",
                _trainer(_training(spec, reduction=reduction), round_to),
                detail={"reduction": reduction},
            )
        )
    for eta in fitted_etas(spec, rows, round_to):
        runs.append(
            Run.of(
                "learning_rate",
                f"trained with η = {eta:g}, not the config's {t.learning_rate:g}",
                _trainer(_training(spec, learning_rate=eta), round_to),
                detail={"learning_rate": eta},
            )
        )
    ours = t.optimizer
    for name, rule in OPTIMIZERS.entries.items():
        if name != ours.name:
            theirs, mine = _hyper_text(name, rule.defaults), _hyper_text(ours.name, ours.hyper)
            runs.append(
                Run.of(
                    "optimizer",
                    f"trained with {name}"
                    + (f" ({theirs}: its defaults)" if theirs else "")
                    + f", while this config says {ours.name}"
                    + (f" ({mine})" if mine else ""),
                    _trainer(_training(spec, optimizer=Optimizer(name, rule.defaults)), round_to),
                    detail={"optimizer": name},
                )
            )
    if round_to is None:
        # Rounded to more decimals than the log writes would not show in it.
        for n in range(1, min(MAX_ROUNDING, _decimals(differs.unit)) + 1):
            runs.append(
                Run.of(
                    "rounding",
                    f"every value rounded to {n} decimals as it went (backprop train --round {n})",
                    _trainer(spec, n),
                    units=ROUNDING_UNITS,
                    detail={"decimals": n},
                )
            )
    return runs


def _hyper_text(name: str, values: Any) -> str:
    """An optimizer's hyper-parameters as its formulas write them: β1 = 0.9, β2 = 0.999; an
    optional one (weight decay) only when it is on."""
    shown = [
        f"{h.symbol} = {values[h.key]:g}"
        for h in OPTIMIZERS[name].hyper
        if not (h.optional and values.get(h.key, h.default) == h.default)
    ]
    return ", ".join(shown)


def _decimals(unit: float) -> int:
    return max(0, round(-math.log10(unit)))


def _training(spec: Spec, **changes: Any) -> Spec:
    return dataclasses.replace(spec, training=dataclasses.replace(spec.training, **changes))


def fitted_etas(
    spec: Spec, rows: Callable[[], Iterator[LogRow]], round_to: int | None = None
) -> list[float]:
    """Learning rates that give the log's first row after epoch 0: the secant method on η,
    then the fit rounded to 1, 2 and 3 significant digits (people choose round rates)."""
    start = spec.training.epochs_done
    row = next((r for r in rows() if r.epoch > start), None)
    if row is None or row.epoch - start > 1000:
        return []  # too far in to fit quickly

    def error(eta: float) -> float:
        run = Run.of("", "", _trainer(_training(spec, learning_rate=eta), round_to))
        return run.at(row.epoch) - row.value

    eta0 = spec.training.learning_rate
    a, b = eta0, eta0 * 1.5
    try:
        fa, fb = error(a), error(b)
        for _ in range(FIT_STEPS):
            if fb == fa or not math.isfinite(fb):
                break
            a, b, fa = b, b - fb * (b - a) / (fb - fa), fb
            if not math.isfinite(b) or b <= 0:
                return []
            fb = error(b)
            if abs(fb) <= row.unit / 2:
                break
    except (ArithmeticError, ValueError):
        return []
    fits = [float(f"{b:.{k}g}") for k in (1, 2, 3)]
    return [x for x in dict.fromkeys(fits) if x != eta0 and x > 0]
