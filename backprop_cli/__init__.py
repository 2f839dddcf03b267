"""backprop: backpropagation step by step, with real numbers.

The Python API, for notebooks and other tools (it never imports the command line):

    >>> from backprop_cli import load_spec, step
    >>> trace = step(load_spec())            # the worked example
    >>> trace.find("dE_total/dw5").value
    0.08216704056423077
"""

from __future__ import annotations

__version__ = "0.1.0"

from importlib import import_module

# Not `typing` (7 ms): `backprop` imports this package before it can set its signals.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .answers import check
    from .engine import step
    from .kernels import Trainer
    from .spec import Spec
    from .trace import Step, Trace
    from .validate import SpecError, load_spec, loads_spec

# Loaded on first use, so that `backprop --version` or `backprop init` start without the engine.
_API = {
    "check": "answers",
    "step": "engine",
    "Spec": "spec",
    "SpecError": "validate",
    "load_spec": "validate",
    "loads_spec": "validate",
    "Step": "trace",
    "Trace": "trace",
    "Trainer": "kernels",
}


def __getattr__(name: str) -> Any:
    if name in _API:
        return getattr(import_module(f".{_API[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "Spec",
    "SpecError",
    "Step",
    "Trace",
    "Trainer",
    "__version__",
    "check",
    "load_spec",
    "loads_spec",
    "step",
]
