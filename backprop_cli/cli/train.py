"""`backprop train`: many epochs, a summary a student can read, a JSONL stream, saved results."""

import importlib.util
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ..render import number
from ..stopping import StopRequests
from .common import (
    ConfigArg,
    _quiet_broken_pipe,
    app,
    check_output,
    emit,
    err_console,
    fail,
    info,
    load,
    write_output,
)
from .common import quiet as global_quiet
from .options import (
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

if TYPE_CHECKING:
    from collections.abc import Callable

    from ..kernels import Curve, Trainer
    from ..spec import Spec

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
    prints the summary so far (and saves with --save), exit 130; SIGTERM does the same, exit
    143. A loss that is no longer a number stops training with exit 1, keeping the last finite
    parameters. With --round, training runs slowly, each number rounded as it is computed.

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
    plot: Path | None,
    round_to: int | None,
    precision: int,
    kernel: Kernel,
    output: Path | None = None,
) -> None:
    from ..kernels import Curve, Trainer
    from ..render import jsonfmt

    spec = load(config)
    configured = spec.training.epochs
    n = epochs if epochs is not None else (configured if configured is not None else 1)
    _check_outputs(save, force, plot)  # before any work, so a mistake costs nothing
    if output is not None:
        if format is not TrainFormat.html:
            fail(f"--output: for --format html, not --format {format.value}")
        check_output(output, force, OUTPUT)
    order = str(update_order.value) if update_order else None
    try:
        if round_to is not None:
            from ..kernels.rounded import rounded_kernel

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
                progress.stop()
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
            from ..render.training import render_summary

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
                )
            )
        elif format is TrainFormat.html:
            from ..render.html import render_train_html

            page = render_train_html(
                spec, summary, curve.all(), precision=precision, update_order=trainer.order
            )
            if output is None:
                out.emit(page)
            else:
                write_output(output, page, "", force, OUTPUT)
        else:
            out.emit(jsonfmt.dumps(summary, indent=None if stream else 2))
        if saved is not None:
            info(saved)
        if every is not None and table_rows.stride > 1:
            info(
                f"--every {every}: the table keeps {len(table_rows)} rows, one every "
                f"{every * table_rows.stride} epochs; -f jsonl --every {every} streams them all"
            )
        _finish(spec, trainer, plot, curve, status, stop.signal)


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
    """stdout for training: when the reader goes away (`| head -1`), training with --save goes
    on to the end and saves, saying so on stderr; without --save it stops quietly."""

    def __init__(self, save: Path | None) -> None:
        self.save, self.closed = save, False

    def write(self, line: str) -> None:
        if self.closed:
            return
        try:
            sys.stdout.write(line)
            sys.stdout.flush()
        except BrokenPipeError:
            self._gone()

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
        except BrokenPipeError:
            self._gone()

    def _gone(self) -> None:
        if self.save is None:
            _quiet_broken_pipe()
        import os

        self.closed = True
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # what is still buffered goes nowhere, quietly
        os.close(devnull)
        info(f"stdout was closed; training goes on and --save {self.save} will be written")


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


def _drift(trainer: "Trainer", exact: "Trainer") -> dict[str, Any]:
    """How far the rounded run has moved from the exact one."""
    rounded, true = trainer.parameters(), exact.parameters()
    return {
        "E_total": exact.loss,
        "E_total_drift": trainer.loss - exact.loss,
        "parameters": {pid: rounded[pid] - true[pid] for pid in rounded},
    }


def _save(trainer: "Trainer", save: Path, force: bool) -> str:
    """Write the trained network; the note to show once the summary is out."""
    from ..fileio import OutputError, dump_spec, write_atomic
    from ..source import os_reason
    from ..spec import MAX_MAGNITUDE

    header = (
        f"Trained by `backprop train`: {trainer.epochs_done} epochs in all "
        f"(E_total {trainer.loss!r}).\nResume with: backprop train {save} --epochs N"
    )
    trained = trainer.trained_spec()
    existed = save.exists()
    try:
        write_atomic(save, dump_spec(trained, header, save.parent), replace=force)
    except OutputError as exc:
        fail(f"--save {save}: {exc}")
    except OSError as exc:
        kept = f"; {save} is as it was" if existed else ""
        fail(f"--save {save}: cannot write ({os_reason(exc)}){kept}")
    big = [p.id for p in trained.parameters() if abs(p.value) > MAX_MAGNITUDE]
    note = ""
    if big:
        names = ", ".join(big[:3]) + (", ..." if len(big) > 3 else "")
        note = (
            f" (but {names} exceed ±{MAX_MAGNITUDE:g}, the most a config may hold, so it "
            "records the failure and will not load)"
        )
    return f"saved {save}{note}"


def _finish(
    spec: "Spec",
    trainer: "Trainer",
    plot: Path | None,
    curve: "Curve",
    status: str,
    signum: int | None,
) -> None:
    """Plot, report how training ended, and exit with its code."""
    import signal

    from ..errors import ExitCode

    if plot is not None:
        from ..render.curve import plot_curve

        plot_curve(curve.all(), plot, spec.name)
        info(f"wrote {plot}")
    if status == "diverged":
        lr = number(spec.training.learning_rate)
        fail(
            f"E_total is no longer a finite number at epoch {trainer.diverged_at}: the learning "
            f"rate {lr} is probably too large (try a smaller one); kept the parameters of "
            f"epoch {trainer.epochs_done}",
            ExitCode.FAILED,
        )
    if status == "interrupted":
        term = signum == signal.SIGTERM
        info(f"{'stopped by SIGTERM' if term else 'interrupted'} after epoch {trainer.epochs_done}")
        raise typer.Exit(int(ExitCode.TERMINATED if term else ExitCode.INTERRUPTED))


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
