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


def emit(data: str | RenderableType) -> None:
    """Write data to stdout: text as it is, rich renderables through the console."""
    if isinstance(data, str):
        sys.stdout.write(data if data.endswith("\n") else data + "\n")
        sys.stdout.flush()
    else:
        stdout.print(data)


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
    from ..fileio import OutputError, check_writable

    try:
        check_writable(path, force)
    except OutputError as exc:
        fail(f"{_output_name(path, option)}: {exc}")


def _output_name(path: Path, option: str) -> str:
    return f"{option} {path}" if option else str(path)


def write_output(path: Path, text: str, what: str, force: bool = False, option: str = "") -> None:
    """Write an output file atomically (after check_output), then say so on stderr; without
    force, a file that appeared since check_output is left alone."""
    from ..fileio import OutputError, write_atomic
    from ..source import os_reason

    name = _output_name(path, option)
    existed = path.exists()
    try:
        write_atomic(path, text, replace=force)
    except OutputError as exc:
        fail(f"{name}: {exc}")
    except OSError as exc:
        kept = f"; {path} is as it was" if existed else ""
        fail(f"{name}: cannot write ({os_reason(exc)}){kept}")
    info(f"wrote {path}{what}")


def load(config: Path | None) -> Spec:
    """Load a spec, or the worked example; a bad file exits 2 with one line."""
    from ..source import SourceError
    from ..validate import load_spec

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
    """Console-script entry: Ctrl-C exits 130, a closed pipe ends quietly, and a stdout that
    cannot be written (closed, a full disk) is one line on stderr, exit 74."""
    from .streams import spell_what_cannot_be_encoded

    if sys.stdout is None:  # started with stdout closed (`>&-`)
        _no_output("standard output is closed (to discard the output, use >/dev/null)")
    spell_what_cannot_be_encoded()
    try:
        return app(args=argv, prog_name="backprop")
    except KeyboardInterrupt:
        stderr.print("interrupted")
        sys.exit(int(ExitCode.INTERRUPTED))
    except BrokenPipeError:
        _quiet_broken_pipe()
    except OSError as exc:
        # Only writing stdout can fail this late: every file the tool reads or writes is
        # checked where it is opened.
        from ..source import os_reason

        where = f"{exc.filename}: " if exc.filename else "standard output: "
        _no_output(f"{where}cannot write ({os_reason(exc)})")


def _no_output(message: str) -> NoReturn:
    import os

    stderr.print(Text.assemble(("error:", "bold red"), " ", message), soft_wrap=True)
    if sys.stdout is not None:
        # What is still buffered would fail again at exit, with a second message: drop it.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    sys.exit(int(ExitCode.OUTPUT))


def _quiet_broken_pipe() -> NoReturn:
    # The reader (e.g. `head`) has gone: stop without a traceback, as other Unix tools do.
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    sys.exit(int(ExitCode.OK))
