"""`backprop export`: a network's step (or its training) as one standalone, commented script in
plain NumPy or in PyTorch, printing every quantity with the id the trace gives it.

The scripts are teaching material: one section per phase, matrices laid out neurons × inputs (as
torch.nn.Linear.weight), no helper library. Every formula in them comes from the catalogue: the
NumPy expressions are the catalogue's own definitions read by `ops.vocab.NUMPY_SOURCE`, and the
PyTorch modules are named by the entries' `torch` fields.
"""

from __future__ import annotations

from backprop_cli.export.layout import ExportError
from backprop_cli.specs.model import Spec


def script(spec: Spec, to: str, epochs: int | None = None, source: str = "") -> str:
    """The script's text: `to` is "numpy" or "pytorch"; with epochs, it trains that many epochs
    and prints the loss and the parameters at the end instead of every step. Raises ExportError
    for what the target cannot compute as backprop does."""
    from backprop_cli.export.numpy_script import numpy_script
    from backprop_cli.export.torch_script import torch_script

    writers = {"numpy": numpy_script, "pytorch": torch_script}
    if to not in writers:
        raise ExportError(f"unknown target {to!r}; known: {', '.join(writers)}")
    return writers[to](spec, epochs, source)


TARGETS = ("numpy", "pytorch")

__all__ = ["TARGETS", "ExportError", "script"]
