"""What every command shares: the typer app, the two consoles, one output routine, errors.

The `cli` package is the only place that imports typer or prints. Data goes to stdout; messages
go to stderr.
"""

from __future__ import annotations

import signal
import sys
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console, RenderableType
from rich.text import Text

from .. import __version__
from ..errors import ExitCode

if TYPE_CHECKING:
    from ..spec import Spec

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
    markdown = "markdown"
    latex = "latex"


class UpdateOrder(str, Enum):
    simultaneous = "simultaneous"
    sequential = "sequential"


class Phase(str, Enum):
    forward = "forward"
    loss = "loss"
    backward = "backward"
    update = "update"
    after = "after"


# --- output and errors -------------------------------------------------------------------------


MIN_WIDTH = 20  # narrower (COLUMNS=0, COLUMNS=1) is laid out at 20 columns


def emit(data: str | RenderableType) -> None:
    """Write data to stdout: text as it is, rich renderables through the console."""
    if isinstance(data, str):
        sys.stdout.write(data if data.endswith("\n") else data + "\n")
        sys.stdout.flush()
    else:
        _console().print(data)


def _console() -> Console:
    """stdout's console, or one like it at MIN_WIDTH when the terminal claims fewer columns."""
    if stdout.width >= MIN_WIDTH:
        return stdout
    return Console(
        file=stdout.file,
        width=MIN_WIDTH,
        soft_wrap=False,
        force_terminal=stdout.is_terminal,
        color_system=stdout.color_system or None,  # type: ignore[arg-type]
        no_color=stdout.no_color,
    )


def fail(message: str, code: ExitCode = ExitCode.USAGE) -> NoReturn:
    """One line on stderr, then exit."""
    # Plain Text, not markup: a message quotes the user's own input, brackets and colons included.
    stderr.print(Text.assemble(("error:", "bold red"), " ", message), soft_wrap=True)
    raise typer.Exit(int(code))


_settings = {"quiet": False}


def set_quiet() -> None:
    """From here on, no notes or progress on stderr (as `backprop --quiet`)."""
    _settings["quiet"] = True


def quiet() -> bool:
    """True under `backprop --quiet`: no notes or progress on stderr."""
    return _settings["quiet"]


def info(message: str) -> None:
    """A note for the reader on stderr (never data); `--quiet` silences it, errors still show."""
    if not _settings["quiet"]:
        stderr.print(Text(message, style="dim"), soft_wrap=True)


def check_output(path: Path, force: bool, option: str = "") -> None:
    """Refuse, before any work, an output file that would overwrite or cannot be written."""
    name = f"{option} {path}" if option else str(path)
    if path.is_dir():
        fail(f"{name}: is a directory; give a file name")
    if path.exists() and not force:
        fail(f"{name}: already exists; add --force to overwrite it")
    if not path.parent.is_dir():
        fail(f"{name}: the folder {path.parent} does not exist")


def write_output(path: Path, text: str, what: str) -> None:
    """Write an output file atomically (after check_output), then say so on stderr."""
    from ..fileio import write_atomic

    try:
        write_atomic(path, text)
    except OSError as exc:
        fail(f"{path}: cannot write ({exc.strerror or exc})")
    info(f"wrote {path}{what}")


def load(config: Path | None) -> Spec:
    """Load a spec, or the worked example; a bad file exits 2 with one line."""
    from ..source import SourceError
    from ..spec import load_spec

    try:
        return load_spec(config)
    except SourceError as exc:
        fail(str(exc))


def _version(value: bool) -> None:
    if value:
        emit(f"backprop {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
    quiet_: Annotated[
        bool,
        typer.Option("--quiet", "-q", help="No notes or progress on stderr (errors still show)."),
    ] = False,
) -> None:
    """Backpropagation step by step, with real numbers."""
    _settings["quiet"] = quiet_


ConfigArg = Annotated[
    Path | None,
    typer.Argument(
        help="Network spec (YAML). Default: the worked example.",
        show_default=False,
        dir_okay=True,
        exists=False,
    ),
]


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
