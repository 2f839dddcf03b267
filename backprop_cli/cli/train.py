"""`backprop train`: many epochs, a summary a student can read, a JSONL stream, saved results."""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ..render import number
from .common import (
    ConfigArg,
    _quiet_broken_pipe,
    app,
    check_output,
    emit,
    fail,
    info,
    load,
    stderr,
)
from .common import quiet as global_quiet
from .options import (
    KERNEL,
    PRECISION,
    ForceOpt,
    Kernel,
    KernelOpt,
    PrecisionOpt,
    QuietOpt,
    RoundOpt,
    TrainFormat,
    TrainFormatOpt,
    UpdateOrder,
    UpdateOrderOpt,
)

if TYPE_CHECKING:
    from ..kernels import Curve, Trainer
    from ..spec import Spec

PLOT_HINT = "pip install 'backprop-cli[plot]'"


@app.command()
def train(
    config: ConfigArg = None,
    epochs: Annotated[
        int | None,
        typer.Option(
            "--epochs",
            "-n",
            min=0,
            show_default=False,
            help="Epochs to run (one pass over all samples each). Default: training.epochs, "
            "else 1.",
        ),
    ] = None,
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
    quiet: QuietOpt = False,
    precision: PrecisionOpt = PRECISION,
    kernel: KernelOpt = KERNEL,
) -> None:
    """Train for many epochs, then summarise: E_total, outputs, parameters, the loss curve.

    An epoch is one pass over all samples in the configured mode; its E_total is the loss
    after the epoch's updates, as the post reports it. Ctrl-C stops after the current epoch,
    prints the summary so far (and saves with --save), exit 130. A loss that is no longer a
    number stops training with exit 1, keeping the last finite parameters. With --round,
    training runs slowly, each number rounded as it is computed.

    [bold]Examples[/]

      backprop train --epochs 10000                [dim]# the post's 10,000 rounds[/]
      backprop train -n 4000 --save run.yaml && backprop train run.yaml -n 6000
      backprop train -n 10000 --format jsonl | tail -n 1 | jq .E_total
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
) -> None:
    from ..kernels import Curve, Trainer
    from ..render import jsonfmt

    spec = load(config)
    configured = spec.training.epochs
    n = epochs if epochs is not None else (configured if configured is not None else 1)
    _check_outputs(save, force, plot)  # before any work, so a mistake costs nothing
    order = str(update_order.value) if update_order else None
    try:
        if round_to is not None:
            from ..rounding import RoundKernel

            trainer = Trainer(spec, update_order=order, kernel=RoundKernel.factory(round_to))
        else:
            trainer = Trainer(spec, update_order=order, kernel=str(kernel.value))
    except ImportError:
        fail("--kernel numpy needs numpy: pip install 'backprop-cli[fast]'")
    exact = Trainer(spec, update_order=order) if round_to is not None else None
    curve = Curve()
    curve.add(trainer.epochs_done, trainer.loss)
    table_rows: list[tuple[int, float]] = []
    stream = format is TrainFormat.jsonl
    status, ran = "completed", 0
    progress = _progress(n, global_quiet())
    try:
        exact_epochs = exact.run(n) if exact is not None else None
        for rec in trainer.run(n):
            ran += 1
            if exact_epochs is not None:
                next(exact_epochs, None)
            curve.add(rec.epoch, rec.E_total)
            if every is None or rec.epoch % every == 0:
                if stream:
                    sys.stdout.write(
                        f'{{"type": "epoch", "epoch": {rec.epoch}, "E_total": {rec.E_total!r}}}\n'
                    )
                    sys.stdout.flush()
                elif every is not None:
                    table_rows.append((rec.epoch, rec.E_total))
            if progress is not None and (ran & 63 == 0 or ran == n):
                progress.advance(ran, rec.E_total)
        if trainer.diverged_at is not None:
            status = "diverged"
    except KeyboardInterrupt:
        status = "interrupted"
    finally:
        if progress is not None:
            progress.stop()
    summary = trainer.summary(ran, status)
    drift = _drift(trainer, exact) if exact is not None else None
    if drift is not None:
        summary["drift"] = drift
    if format is TrainFormat.table:
        from ..render.training import render_summary

        emit(
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
    else:
        emit(jsonfmt.dumps(summary, indent=None if stream else 2))
    _finish(spec, trainer, save, plot, curve, status)


def _check_outputs(save: Path | None, force: bool, plot: Path | None) -> None:
    if save is not None:
        check_output(save, force, "--save")
    if plot is not None:
        if plot.suffix.lower() not in (".png", ".svg"):
            fail(f"--plot {plot}: give a .png or .svg file name")
        if importlib.util.find_spec("matplotlib") is None:
            fail(f"--plot needs matplotlib: {PLOT_HINT}")


def _drift(trainer: Trainer, exact: Trainer) -> dict[str, Any]:
    """How far the rounded run has moved from the exact one."""
    rounded, true = trainer.parameters(), exact.parameters()
    return {
        "E_total": exact.loss,
        "E_total_drift": trainer.loss - exact.loss,
        "parameters": {pid: rounded[pid] - true[pid] for pid in rounded},
    }


def _finish(
    spec: Spec, trainer: Trainer, save: Path | None, plot: Path | None, curve: Curve, status: str
) -> None:
    """Save, plot, report how training ended, and exit with its code."""
    from ..errors import ExitCode
    from ..fileio import dump_spec, write_atomic
    from ..spec import MAX_MAGNITUDE

    if save is not None:
        header = (
            f"Trained by `backprop train`: {trainer.epochs_done} epochs in all "
            f"(E_total {trainer.loss!r}).\nResume with: backprop train {save} --epochs N"
        )
        trained = trainer.trained_spec()
        try:
            write_atomic(save, dump_spec(trained, header))
        except OSError as exc:
            fail(f"--save {save}: cannot write ({exc.strerror or exc})")
        big = [p.id for p in trained.parameters() if abs(p.value) > MAX_MAGNITUDE]
        note = ""
        if big:
            names = ", ".join(big[:3]) + (", ..." if len(big) > 3 else "")
            note = (
                f" (but {names} exceed ±{MAX_MAGNITUDE:g}, the most a config may hold, so it "
                "records the failure and will not load)"
            )
        info(f"saved {save}{note}")
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
        info(f"interrupted after epoch {trainer.epochs_done}")
        raise typer.Exit(int(ExitCode.INTERRUPTED))


class _Progress:
    """A rich progress bar on stderr, with E_total."""

    def __init__(self, total: int) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.bar = Progress(
            TextColumn("epoch"),
            MofNCompleteColumn(),
            BarColumn(),
            TextColumn("E_total {task.fields[loss]}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=stderr,
            transient=True,
        )
        self.task = self.bar.add_task("train", total=total, loss="")
        self.start = time.monotonic()
        self.started = False

    def advance(self, done: int, loss: float) -> None:
        # Only runs that last more than a moment get a bar.
        if not self.started and time.monotonic() - self.start > 0.3:
            self.bar.start()
            self.started = True
        self.bar.update(self.task, completed=done, loss=number(loss, 9))

    def stop(self) -> None:
        if self.started:
            self.bar.stop()


def _progress(total: int, off: bool) -> _Progress | None:
    if off or not stderr.is_terminal or total < 2:
        return None
    return _Progress(total)
