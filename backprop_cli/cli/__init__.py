"""The command line. Each command lives in a module of its own; importing it registers it."""

from __future__ import annotations

from . import check as _check  # noqa: F401  (each import registers its command)
from . import draw as _draw  # noqa: F401
from . import explain as _explain  # noqa: F401
from . import export as _export  # noqa: F401
from . import gradcheck as _gradcheck  # noqa: F401
from . import init as _init  # noqa: F401
from . import root as _root  # noqa: F401  (the options before any command)
from . import schema as _schema  # noqa: F401
from . import step as _step  # noqa: F401
from . import train as _train  # noqa: F401
from .common import app, main

__all__ = ["app", "main"]
