"""`backprop` itself: the options given before any command (--version, -q)."""

from typing import Annotated

import typer

from .. import __version__
from .common import app, emit
from .options import QuietOpt


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
