"""The command line. Each command lives in a module of its own; importing it registers it."""

from __future__ import annotations

from . import schema as _schema  # noqa: F401  (registers the command)
from . import step as _step  # noqa: F401  (registers the command)
from .common import app, main

__all__ = ["app", "main"]
