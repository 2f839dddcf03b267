"""The command line: parse options, call the engine, print through one routine, pick exit codes.

This is the only module that imports typer or prints. Data goes to stdout; messages go to stderr.
"""

from __future__ import annotations

import difflib
import signal
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console, RenderableType

from . import __version__
from .engine import step as run_step
from .errors import ExitCode
from .render import jsonfmt
from .render.table import render_trace
from .source import SourceError
from .spec import UPDATE_ORDERS, Spec, load_spec
from .trace import PHASES, Trace

app = typer.Typer(
    name="backprop",
    help="Backpropagation step by step, with real numbers.\n\n"
    "With no CONFIG, commands run the worked example of 'A Step by Step Backpropagation "
    "Example'.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)

stdout = Console(soft_wrap=False)
stderr = Console(stderr=True)


class Format(str, Enum):
    """Output formats of `backprop step`."""

    table = "table"
    json = "json"


class UpdateOrder(str, Enum):
    simultaneous = "simultaneous"
    sequential = "sequential"


assert tuple(o.value for o in UpdateOrder) == UPDATE_ORDERS


class Phase(str, Enum):
    forward = "forward"
    loss = "loss"
    backward = "backward"
    update = "update"
    after = "after"


assert tuple(p.value for p in Phase) == PHASES


# --- output and errors -------------------------------------------------------------------------


def emit(data: str | RenderableType) -> None:
    """Write data to stdout: text as it is, rich renderables through the console."""
    if isinstance(data, str):
        sys.stdout.write(data if data.endswith("\n") else data + "\n")
        sys.stdout.flush()
    else:
        stdout.print(data)


def fail(message: str, code: ExitCode = ExitCode.USAGE) -> NoReturn:
    """One line on stderr, then exit."""
    stderr.print(f"[bold red]error:[/] {message}", highlight=False, markup=True, soft_wrap=True)
    raise typer.Exit(int(code))


def load(config: Path | None) -> Spec:
    """Load a spec, or the worked example; a bad file exits 2 with one line."""
    try:
        return load_spec(config)
    except SourceError as exc:
        fail(_escape(str(exc)))


def _escape(text: str) -> str:
    return text.replace("[", r"\[")


def _version(value: bool) -> None:
    if value:
        emit(f"backprop {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """Backpropagation step by step, with real numbers."""


ConfigArg = Annotated[
    Path | None,
    typer.Argument(
        help="Network spec (YAML). Default: the worked example.",
        show_default=False,
        dir_okay=True,
        exists=False,
    ),
]


# --- step --------------------------------------------------------------------------------------


@app.command()
def step(
    config: ConfigArg = None,
    format: Annotated[
        Format, typer.Option("--format", "-f", help="table, or json (the full trace).")
    ] = Format.table,
    precision: Annotated[
        int, typer.Option(min=0, max=17, help="Decimals shown in tables (JSON is always full).")
    ] = 9,
    only: Annotated[
        list[str] | None,
        typer.Option("--only", help="Show only steps whose id matches (glob; repeatable)."),
    ] = None,
    phase: Annotated[
        list[Phase] | None, typer.Option("--phase", help="Show only this phase (repeatable).")
    ] = None,
    sample: Annotated[
        int | None, typer.Option("--sample", min=1, help="Show only sample K (1 = the first).")
    ] = None,
    update_order: Annotated[
        UpdateOrder | None,
        typer.Option(
            "--update-order",
            help="simultaneous: every gradient from the weights before the update (the post's "
            "text); sequential: hidden deltas use the already updated output weights.",
        ),
    ] = None,
) -> None:
    """One update, every quantity computed, in the post's notation.

    [bold]Examples[/]

      backprop step                                 [dim]# the worked example[/]
      backprop step configs/mazur.yaml --only 'dE_total/dw*'
      backprop step net.yaml --format json | jq '.steps[] | select(.id=="dE_total/dw5") | .value'
    """
    spec = load(config)
    if sample is not None and sample > len(spec.samples):
        fail(f"--sample {sample}: the spec has {len(spec.samples)} sample(s)")
    trace = run_step(spec, update_order=update_order.value if update_order else None)
    phases = [p.value for p in phase] if phase else None
    steps = trace.select(only, phases, None if sample is None else sample - 1)
    if only and not steps:
        _no_match(trace, only)
    filtered = bool(only or phases or sample is not None)
    if format is Format.json:
        doc = trace.to_dict()
        doc["steps"] = [s.to_dict() for s in steps]
        emit(jsonfmt.dumps(doc))
    else:
        emit(render_trace(trace, steps, precision=precision, summary=not filtered))


def _no_match(trace: Trace, patterns: list[str]) -> NoReturn:
    ids = trace.ids()
    near = difflib.get_close_matches(patterns[0], ids, n=5, cutoff=0.4)
    hint = f"; closest: {', '.join(near)}" if near else ""
    fail(f"--only {' '.join(patterns)}: no step matches{hint}")


# --- entry point -------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> Any:
    """Console-script entry: Ctrl-C exits 130 and a closed pipe ends quietly."""
    try:
        return app(args=argv, prog_name="backprop")
    except KeyboardInterrupt:
        stderr.print("interrupted")
        sys.exit(int(ExitCode.INTERRUPTED))
    except BrokenPipeError:
        _quiet_broken_pipe()


def _quiet_broken_pipe() -> NoReturn:
    # The reader (e.g. `head`) has gone: stop without a traceback, as other Unix tools do.
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    sys.exit(int(ExitCode.OK))
