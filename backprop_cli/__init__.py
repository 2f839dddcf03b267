"""backprop: backpropagation step by step, with real numbers.

The Python API, for notebooks and other tools (it never imports the command line):

    >>> from backprop_cli import load_spec, step
    >>> trace = step(load_spec())            # the worked example
    >>> trace.find("dE_total/dw5").value
    0.08216704056423077
"""

from __future__ import annotations

__version__ = "0.1.0"

from .engine import step
from .spec import Spec, SpecError, load_spec, loads_spec
from .trace import Step, Trace

__all__ = ["Spec", "SpecError", "Step", "Trace", "__version__", "load_spec", "loads_spec", "step"]
