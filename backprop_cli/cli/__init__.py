"""The command line: one module per command, imported only when its command runs."""

from __future__ import annotations

from . import root as _root  # noqa: F401  (the options before any command: --version, -q)
from .common import COMMANDS, app, main

# Every command: its name, then the module of this package that defines it with @app.command().
# `backprop NAME` imports NAME's module alone (start-up stays light); `backprop --help` and shell
# completion import them all, to list each with its help. To add a command, write cli/NAME.py
# (like step.py: typer, .common and .options at the top, all else inside the function) and add
# a line here; the list is in the order --help shows it.
COMMANDS.update(
    {
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
)

__all__ = ["COMMANDS", "app", "main"]
