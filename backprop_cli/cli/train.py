"""`backprop train`: many epochs, a summary a student can read, a JSONL stream, saved results."""

import contextlib
import importlib.util
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NamedTuple

import typer

from backprop_cli.cli.common import (
    ConfigArg,
    _no_output,
    _quiet_broken_pipe,
    app,
    check_output,
    emit,
    err_console,
    error,
    fail,
    info,
    load,
    write_output,
)
from backprop_cli.cli.common import quiet as global_quiet
from backprop_cli.cli.options import (
    KERNEL,
    OUTPUT,
    PRECISION,
    DocumentOutputOpt,
    ForceOpt,
    Kernel,
    KernelOpt,
    PrecisionOpt,
    QuietOpt,
    RoundOpt,
    TrainEpochsOpt,
    TrainFormat,
    TrainFormatOpt,
    UpdateOrder,
    UpdateOrderOpt,
)
from backprop_cli.kernels.stopping import StopRequests
from backprop_cli.render import number

if TYPE_CHECKING:
    from collections.abc import Callable

    from backprop_cli.kernels import Curve, Trainer
    from backprop_cli.specs.model import Spec
    from backprop_cli.tutor.rounding import Drift

PLOT_HINT = "pip install 'backprop-cli[plot]'"


@app.command()
def train(
    config: ConfigArg = None,
    epochs: TrainEpochsOpt = None,
    format: TrainFormatOpt = TrainFormat.table,
    every: Annotated[
        int | None,
        typer.Option(
            "--every",
            min=1,
            help="Report E_total every K epochs (a table; in jsonl, every K-th epoch record).",
        ),
    ] = None,
    save: Annotated[
        Path | None,
        typer.Option(
            "--save",
            help="Write the trained network (a config with the optimizer state) to OUT.yaml.",
            metavar="OUT.yaml",
            dir_okay=False,
        ),
    ] = None,
    force: ForceOpt = False,
    allow_changed_samples: Annotated[
        bool,
        typer.Option(
            "--allow-changed-samples",
            help="Resume a saved run even though its samples file has changed since the save "
            "(the new --save records the new file).",
        ),
    ] = False,
    update_order: UpdateOrderOpt = None,
    plot: Annotated[
        Path | None,
        typer.Option(
            "--plot",
            help="Write the loss curve to FILE.png or FILE.svg (needs: "
            + PLOT_HINT.replace("[", "\\[")
            + ").",
            metavar="FILE",
            dir_okay=False,
        ),
    ] = None,
    round_to: RoundOpt = None,
    output: DocumentOutputOpt = None,
    quiet: QuietOpt = False,
    precision: PrecisionOpt = PRECISION,
    kernel: KernelOpt = KERNEL,
) -> None:
    """Train for many epochs, then summarise: E_total, outputs, parameters, the loss curve.

    An epoch is one pass over all samples in the configured mode; its E_total is the loss
    after the epoch's updates, as the post reports it. Ctrl-C stops at the last whole epoch,
    prints the summary so far (and saves with --save), exit 130; SIGTERM and SIGHUP do the
    same, exit 143 and 129. A loss that is no longer a number, or a parameter past ±1e6,
    stops training with exit 1, keeping the last epoch within bounds. With --save, a stdout
    that cannot be written does not stop training (exit 74 after the save), and a save that
    fails goes to a fallback file named on stderr (exit 74). With --round, training runs
    slowly, each number rounded as it is computed.

    [bold]Examples[/]

      backprop train --epochs 10000                [dim]# the post's 10,000 rounds[/]
      backprop train -n 4000 --save run.yaml && backprop train run.yaml -n 6000
      backprop train -n 10000 --format jsonl | tail -n 1 | jq .E_total
      backprop train -n 10000 -f html -o report.html  [dim]# a page with the curve[/]
    """
    try:
        _train(
            config,
            epochs,
            format,
            every,
            save,
            force,
            update_order,
            allow_changed_samples,
            plot,
            round_to,
            precision,
            kernel,
            output,
        )
    except BrokenPipeError:
        # Click would turn a closed pipe (`| head`) into exit 1; end quietly, as `head` expects.
        _quiet_broken_pipe()


def _train(
    config: Path | None,
    epochs: int | None,
    format: TrainFormat,
    every: int | None,
    save: Path | None,
    force: bool,
    update_order: UpdateOrder | None,
    allow_changed_samples: bool,
    plot: Path | None,
    round_to: int | None,
    precision: int,
    kernel: Kernel,
    output: Path | None = None,
) -> None:
    from backprop_cli.kernels import Curve, Trainer
    from backprop_cli.render import jsonfmt

    spec = load(config)
    ref = spec.samples_from
    if ref is not None and ref.changed is not None and not allow_changed_samples:
        fail(ref.changed)
    configured = spec.training.epochs
    n = epochs if epochs is not None else (configured if configured is not None else 1)
    _check_outputs(save, force, plot)  # before any work, so a mistake costs nothing
    if save is not None:
        spec = _with_digest(spec)
    if output is not None:
        if format is not TrainFormat.html:
            fail(f"--output: for --format html, not --format {format.value}")
        check_output(output, force, OUTPUT)
    order = str(update_order.value) if update_order else None
    try:
        if round_to is not None:
            from backprop_cli.kernels.rounded import rounded_kernel

            trainer = Trainer(spec, update_order=order, kernel=rounded_kernel(round_to))
        else:
            trainer = Trainer(spec, update_order=order, kernel=str(kernel.value))
    except ImportError:
        fail("--kernel numpy needs numpy: pip install 'backprop-cli[fast]'")
    exact = Trainer(spec, update_order=order) if round_to is not None else None
    curve = Curve()
    curve.add(trainer.epochs_done, trainer.loss)
    table_rows = _Rows()
    stream = format is TrainFormat.jsonl
    out = _Out(save)
    progress = _progress(n, global_quiet())
    start = trainer.epochs_done
    with StopRequests() as stop:
        try:
            for first, losses in trainer.chunks(n, stop):
                if exact is not None and exact.diverged_at is None:  # keeps pace, for the drift
                    for _ in exact.chunks(len(losses)):
                        pass
                curve.extend(first, losses)
                _report(first, losses, every, stream, out, table_rows)
                if progress is not None:
                    progress.advance(trainer.epochs_done - start, trainer.loss)
        finally:
            if progress is not None:
                with contextlib.suppress(OSError):  # no terminal any more (SIGHUP)
                    progress.stop()
        out.training = False
        ran = trainer.epochs_done - start
        if trainer.diverged_at is not None:
            status = "diverged"
        elif stop.stopped and ran < n:
            status = "interrupted"
        else:
            status = "completed"
        summary = trainer.summary(ran, status)
        drift = _drift(trainer, exact) if exact is not None else None
        if drift is not None:
            summary["drift"] = drift
        # The save comes first: a reader that has gone (`| head`) must not cost it.
        saved = _save(trainer, save, force) if save is not None else None
        if format is TrainFormat.table:
            from backprop_cli.render.training import render_summary

            out.emit(
                render_summary(
                    spec,
                    summary,
                    curve.all(),
                    table_rows,
                    drift,
                    precision,
                    trainer.order,
                    decimals=round_to,
                    exact_parameters=None if exact is None else exact.parameters(),
                )
            )
        elif format is TrainFormat.html:
            from backprop_cli.render.html import render_train_html

            page = render_train_html(
                spec,
                summary,
                curve.all(),
                precision=precision,
                update_order=trainer.order,
                decimals=round_to,
                drifts=_drifts(spec, trainer, exact) if exact is not None else (),
            )
            if output is None:
                out.emit(page)
            else:
                write_output(output, page, "", force, OUTPUT)
        else:
            out.emit(jsonfmt.dumps(summary, indent=None if stream else 2))
        if saved is not None and not saved.failed:
            info(saved.note)
        if every is not None and table_rows.stride > 1:
            info(
                f"--every {every}: the table keeps {len(table_rows)} rows, one every "
                f"{every * table_rows.stride} epochs; -f jsonl --every {every} streams them all"
            )
        _finish(spec, trainer, plot, force, curve, status, stop.signal, out, saved)


def _report(
    first: int,
    losses: list[float],
    every: int | None,
    stream: bool,
    out: "_Out",
    table_rows: "_Rows",
) -> None:
    """The epochs of a chunk that are shown: every K-th (--every K), else all when streaming."""
    if every is None and not stream:
        return
    step = every or 1
    start = first + (-first) % step  # the first epoch shown
    epochs = range(start, first + len(losses), step)
    kept = losses[start - first :: step]
    if stream:
        out.lines(
            [
                f'{{"type": "epoch", "epoch": {e}, "E_total": {x!r}}}\n'
                for e, x in zip(epochs, kept, strict=True)
            ]
        )
    else:
        for row in zip(epochs, kept, strict=True):
            table_rows.append(row)


class _Out:
    """stdout for training: when it cannot be written (a reader gone, `| head -1`; a full disk,
    `> /dev/full`), training with --save goes on to the end and saves, saying so on stderr; a
    closed pipe then ends with exit 0, as `head` expects, any other error with exit 74 (after
    the save). Without --save it stops at once, quietly or with exit 74."""

    def __init__(self, save: Path | None) -> None:
        self.save, self.closed = save, False
        self.error: OSError | None = None  # what writing stdout met, a closed pipe aside
        self.training = True  # False once the epochs are over (the save is then made)

    def write(self, line: str) -> None:
        if self.closed:
            return
        try:
            sys.stdout.write(line)
            sys.stdout.flush()
        except OSError as exc:
            self._gone(exc)

    def lines(self, lines: list[str]) -> None:
        """Lines written a pipe's atomic size at a time (PIPE_BUF, 4 KB): a signal that lands
        in a bigger write() to a full pipe can lose what the write had not yet sent."""
        piece: list[str] = []
        size = 0
        for line in lines:
            if size + len(line) > 4000 and piece:
                self.write("".join(piece))
                piece, size = [], 0
            piece.append(line)
            size += len(line)
        if piece:
            self.write("".join(piece))

    def emit(self, data: Any) -> None:
        if self.closed:
            return
        try:
            emit(data)
        except OSError as exc:
            self._gone(exc)

    def _gone(self, exc: OSError) -> None:
        import os

        from backprop_cli.specs.source import os_reason

        pipe = isinstance(exc, BrokenPipeError)
        if self.save is None:
            if pipe:
                _quiet_broken_pipe()
            _no_output(f"standard output: cannot write ({os_reason(exc)})")
        self.closed = True
        if not pipe:
            self.error = exc
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # what is still buffered goes nowhere, quietly
        os.close(devnull)
        if self.training:
            what = "was closed" if pipe else f"cannot be written ({os_reason(exc)})"
            info(f"stdout {what}; training goes on and --save {self.save} will be written")


class _Rows(list[tuple[int, float]]):
    """The --every rows a table shows: at most `cap`; past that every other row goes and the
    stride doubles (as the loss curve does), so memory stays flat however many epochs run."""

    cap = 2000

    def __init__(self) -> None:
        super().__init__()
        self.stride = 1  # in rows: keep every stride-th row offered
        self.offered = 0

    def append(self, row: tuple[int, float]) -> None:
        self.offered += 1
        if (self.offered - 1) % self.stride:
            return
        super().append(row)
        if len(self) >= self.cap:
            self.stride *= 2
            self[:] = self[::2]


def _check_outputs(save: Path | None, force: bool, plot: Path | None) -> None:
    if save is not None:
        check_output(save, force, "--save")
    if plot is not None:
        if plot.suffix.lower() not in (".png", ".svg"):
            fail(f"--plot {plot}: give a .png or .svg file name")
        if importlib.util.find_spec("matplotlib") is None:
            fail(f"--plot needs matplotlib: {PLOT_HINT}")
        check_output(plot, force, "--plot")


def _with_digest(spec: "Spec") -> "Spec":
    """The spec with the size and SHA-256 of its samples file as training starts (what --save
    records, so that a resume on other data is refused)."""
    from dataclasses import replace

    from backprop_cli.specs.resume import digest
    from backprop_cli.specs.source import os_reason

    ref = spec.samples_from
    if ref is None or (ref.sha256 is not None and ref.changed is None):
        return spec  # none, or the file is what the config recorded (validate.py hashed it)
    try:
        size, sha = digest(ref.file)
    except OSError as exc:
        fail(f"{ref.file}: cannot read ({os_reason(exc)})")
    return replace(spec, samples_from=replace(ref, size=size, sha256=sha, changed=None))


def _drift(trainer: "Trainer", exact: "Trainer") -> dict[str, Any]:
    """How far the rounded run has moved from the exact one."""
    rounded, true = trainer.parameters(), exact.parameters()
    return {
        "E_total": exact.loss,
        "E_total_drift": trainer.loss - exact.loss,
        "parameters": {pid: rounded[pid] - true[pid] for pid in rounded},
    }


def _drifts(spec: "Spec", trainer: "Trainer", exact: "Trainer") -> "list[Drift]":
    """The drift table's rows: the error, then each parameter the exact run trained."""
    from backprop_cli.tutor.rounding import Drift

    rounded, true = trainer.parameters(), exact.parameters()
    rows = [Drift("E_total", trainer.loss, exact.loss)]
    rows += [
        Drift(p.id, rounded[p.id], true[p.id]) for p in spec.parameters() if true[p.id] != p.value
    ]
    return rows


class _Saved(NamedTuple):
    """Where --save went: `note` to show once the summary is out; with `failed` (the reason
    `asked` could not be written) the run went to `path`, a fallback file, or nowhere (None)."""

    asked: Path
    path: Path | None
    note: str
    failed: str | None = None


FALLBACKS = 20  # OUT.recovered.yaml, OUT.recovered-2.yaml, ...: names tried in each folder


def _save(trainer: "Trainer", save: Path, force: bool) -> _Saved:
    """Write the trained network to save; if that fails (its folder gone, the file made by
    another run meanwhile, a full disk), to a new file beside it or in the temporary folder,
    never over another file."""
    import tempfile

    from backprop_cli.specs.fileio import Exists, OutputError, write_atomic
    from backprop_cli.specs.source import os_reason

    trained = trainer.trained_spec()
    existed = save.exists()
    try:
        write_atomic(save, _saved_text(trainer, trained, save), replace=force)
        return _Saved(save, save, f"saved {save}")
    except OutputError as exc:
        failed = str(exc)
    except OSError as exc:
        failed = f"cannot write ({os_reason(exc)})" + (f"; {save} is as it was" if existed else "")
    folders = [save.parent, Path(tempfile.gettempdir())]
    stem, suffix = save.stem, save.suffix or ".yaml"
    for folder in dict.fromkeys(folders):
        for k in range(1, FALLBACKS + 1):
            path = folder / f"{stem}.recovered{'' if k == 1 else f'-{k}'}{suffix}"
            try:
                write_atomic(path, _saved_text(trainer, trained, path), replace=False)
                return _Saved(save, path, f"saved {path}", failed)
            except Exists:
                continue  # taken: the next name
            except OSError:
                break  # this folder cannot be written: the next one
    return _Saved(save, None, "", failed)


def _saved_text(trainer: "Trainer", trained: "Spec", path: Path) -> str:
    from backprop_cli.specs.fileio import dump_spec

    header = (
        f"Trained by `backprop train`: {trainer.epochs_done} epochs in all "
        f"(E_total {trainer.loss!r}).\nResume with: backprop train {path} --epochs N"
    )
    return dump_spec(trained, header, path.parent)


def _finish(
    spec: "Spec",
    trainer: "Trainer",
    plot: Path | None,
    force: bool,
    curve: "Curve",
    status: str,
    signum: int | None,
    out: _Out,
    saved: _Saved | None,
) -> None:
    """Plot, report how training ended, and exit with its code: a signal's first (130, 143,
    129), then a lost output (74: stdout, or --save gone to a fallback), then divergence (1)."""
    from backprop_cli.kernels.stopping import stopped_by
    from backprop_cli.specs.errors import ExitCode
    from backprop_cli.specs.model import MAX_MAGNITUDE
    from backprop_cli.specs.source import os_reason

    if plot is not None:
        from backprop_cli.render.curve import plot_curve

        write_output(plot, plot_curve(curve.all(), plot, spec.name), "", force, "--plot")
    code = ExitCode.OK
    if status == "diverged":
        lr = number(spec.training.learning_rate)
        if trainer.beyond is not None and "." not in trainer.beyond[0]:
            pid, x = trainer.beyond
            why = (
                f"{pid} would be {x!r} after epoch {trainer.diverged_at}, past "
                f"±{MAX_MAGNITUDE:g}, the most a config may hold (try a learning rate smaller "
                f"than {lr}, or scale the data)"
            )
        else:
            what = "E_total" if trainer.beyond is None else f"the optimizer's {trainer.beyond[0]}"
            why = (
                f"{what} is no longer a finite number at epoch {trainer.diverged_at}: the "
                f"learning rate {lr} is probably too large (try a smaller one)"
            )
        error(f"{why}; kept the parameters of epoch {trainer.epochs_done}")
        code = ExitCode.FAILED
    if saved is not None and saved.failed is not None:
        where = (
            f"the run is saved in {saved.path} instead"
            if saved.path
            else "nor could a file be made beside it or in the temporary folder: the run is lost"
        )
        error(f"--save {saved.asked}: {saved.failed}; {where}")
        code = ExitCode.OUTPUT
    if out.error is not None:
        kept = f"; the run is saved in {saved.path}" if saved is not None and saved.path else ""
        error(f"standard output: cannot write ({os_reason(out.error)}){kept}")
        code = ExitCode.OUTPUT
    if status == "interrupted" and signum is not None:
        info(f"{stopped_by(signum)} after epoch {trainer.epochs_done}")
        code = ExitCode(128 + signum)
    if code is not ExitCode.OK:
        raise typer.Exit(int(code))


class _Eta:
    """Time left at the average rate since the first chunk of epochs: steady, where rich's own
    estimate (the rate of its last 30 seconds at most) jumped between 2:28 and 7:40 in one
    5-minute run as the machine's load changed."""

    def __init__(self, total: int, clock: "Callable[[], float]" = time.monotonic) -> None:
        self.total, self.clock = total, clock
        self.first: tuple[float, int] | None = None  # after the first chunk: start-up left out

    def seconds(self, done: int) -> float | None:
        now = self.clock()
        if self.first is None:
            self.first = (now, done)
            return None
        t0, d0 = self.first
        if done <= d0 or now <= t0:
            return None
        return (self.total - done) * (now - t0) / (done - d0)

    def text(self, done: int) -> str:
        left = self.seconds(done)
        if left is None:
            return "-:--:--"
        minutes, secs = divmod(int(left), 60)
        hours, minutes = divmod(minutes, 60)
        return f"{hours}:{minutes:02d}:{secs:02d}"


class _Progress:
    """A rich progress bar on stderr, with E_total."""

    def __init__(self, total: int) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self.bar = Progress(
            TextColumn("epoch"),
            MofNCompleteColumn(),
            BarColumn(),
            TextColumn("E_total {task.fields[loss]}"),
            TimeElapsedColumn(),
            TextColumn("[progress.remaining]{task.fields[left]}"),
            console=err_console(),
            transient=True,
        )
        self.task = self.bar.add_task("train", total=total, loss="", left="-:--:--")
        self.eta = _Eta(total)
        self.start = time.monotonic()
        self.started = False

    def advance(self, done: int, loss: float) -> None:
        # Only runs that last more than a moment get a bar.
        if not self.started and time.monotonic() - self.start > 0.3:
            self.bar.start()
            self.started = True
        left = self.eta.text(done)
        self.bar.update(self.task, completed=done, loss=number(loss, 9), left=left)

    def stop(self) -> None:
        if self.started:
            self.bar.stop()


def _progress(total: int, off: bool) -> _Progress | None:
    if off or not err_console().is_terminal or total < 2:
        return None
    return _Progress(total)
