"""The command line: one module per command, imported only when its command runs.

Importing this package is light: `main` first makes SIGINT, SIGTERM and SIGHUP end the program
quietly (exit 130, 143, 129), then imports typer, rich and the commands, so that a Ctrl-C in the
first tenth of a second is no traceback. `app` and `COMMANDS` are loaded when first asked for.
"""

from __future__ import annotations

import os
import sys

from backprop_cli.kernels.stopping import exit_on_signals

TYPE_CHECKING = False  # not `typing`: this is imported before the signals are set
if TYPE_CHECKING:
    from typing import Any

    from backprop_cli.cli.common import COMMANDS, app


def _as_the_program() -> bool:
    """Whether this import is the `backprop` console script's (pip's script imports main, then
    calls it): then the signals are set now, before anything else is imported."""
    script = getattr(sys.modules.get("__main__"), "__file__", None) or ""
    return os.path.basename(script) in ("backprop", "backprop-script.py")


if _as_the_program():
    exit_on_signals()

# Every command: its name, then the module of this package that defines it with @app.command().
# `backprop NAME` imports NAME's module alone (start-up stays light); `backprop --help` and shell
# completion import them all, to list each with its help. To add a command, write cli/NAME.py
# (like step.py: typer, .common and .options at the top, all else inside the function) and add
# a line here; the list is in the order --help shows it.
_COMMANDS = {
    "check": "check",
    "draw": "draw",
    "explain": "explain",
    "export": "export",
    "gradcheck": "gradcheck",
    "import": "import_onnx",
    "init": "init",
    "schema": "schema",
    "step": "step",
    "train": "train",
}


def main(argv: list[str] | None = None) -> Any:
    """Console-script entry (`backprop`, `python -m backprop_cli`): see common.main. Called with
    argv (tests, other programs), the signal handlers it sets are put back when it returns; run
    as the program (argv None) they stay, for the last instants before the process ends."""
    restore = exit_on_signals()
    try:
        _load()
        from backprop_cli.cli.common import main as run

        return run(argv)
    finally:
        if argv is not None:
            restore()


def _load() -> None:
    """The root's options (--version, -q) and the list of commands, on the app."""
    from backprop_cli.cli import common, root  # noqa: F401  (root: the options before any command)

    if not common.COMMANDS:
        common.COMMANDS.update(_COMMANDS)


def __getattr__(name: str) -> Any:
    if name in ("app", "COMMANDS"):
        _load()
        from backprop_cli.cli import common

        return getattr(common, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["COMMANDS", "app", "main"]
