"""`backprop` itself: the options given before any command (--version, -q)."""

from typing import Annotated

import typer

from backprop_cli import __version__
from backprop_cli.cli.common import app, emit
from backprop_cli.cli.options import QuietOpt


def _version(value: bool) -> None:
    if value:
        emit(f"backprop {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
    quiet: QuietOpt = False,
) -> None:
    """Backpropagation step by step, with real numbers."""
