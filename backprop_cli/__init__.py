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

    from backprop_cli.engine.passes import step
    from backprop_cli.engine.trace import Step, Trace
    from backprop_cli.kernels import Trainer
    from backprop_cli.specs.model import Spec
    from backprop_cli.specs.validate import SpecError, load_spec, loads_spec
    from backprop_cli.tutor.answers import check

# Loaded on first use, so that `backprop --version` or `backprop init` start without the engine.
_API = {
    "check": "tutor.answers",
    "step": "engine.passes",
    "Spec": "specs.model",
    "SpecError": "specs.validate",
    "load_spec": "specs.validate",
    "loads_spec": "specs.validate",
    "Step": "engine.trace",
    "Trace": "engine.trace",
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
