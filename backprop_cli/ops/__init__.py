"""The catalogue: every activation, loss and optimizer, each defined once.

The recording engine, the training kernels, the validator, the renderers and the JSON Schemas all
read their knowledge of an operation from here; nothing outside compares an operation's name with
a string, and an unknown name raises `UnknownOperation` at once. This package imports nothing
else of the project.
"""

from backprop_cli.ops.activations import ACTIVATIONS, Activation, log_softmax, log_sum_exp, softmax
from backprop_cli.ops.base import Hyper, UnknownOperation
from backprop_cli.ops.losses import LOSSES, Fused, Loss, OutputLogs, TorchLoss
from backprop_cli.ops.optimizers import (
    OPTIMIZERS,
    Optimizer,
    Stage,
    Vars,
    run_stages,
    stage_lines,
    update_source,
)
from backprop_cli.ops.vocab import FLOATS, NAMESPACE, SOURCE, Expr, arrays

# Symbols that name a constant of the computation rather than a value computed before it: the
# hyper-parameters of every entry, η, the output count n, the batch size N and the update count t;
# each with its LaTeX and what it means (one table for explain, mathtex and the inputs of a step).
SYMBOLS: dict[str, tuple[str, str]] = {
    "η": (r"\eta", "learning rate"),
    "n": ("n", "number of outputs"),
    "N": ("N", "number of samples"),
    "t": ("t", "update count"),
}
for _h in (
    *(h for a in ACTIVATIONS.values() for h in a.hyper),
    *(h for x in LOSSES.values() for h in x.hyper),
    *(h for o in OPTIMIZERS.values() for h in o.hyper),
):
    _latex, _meaning = SYMBOLS.get(_h.symbol, (_h.latex or _h.symbol, ""))
    if _h.meaning not in _meaning:  # α and λ mean a little differently in two entries
        _meaning = f"{_meaning}; {_h.meaning}" if _meaning else _h.meaning
    SYMBOLS[_h.symbol] = (_latex, _meaning)
CONSTANTS: frozenset[str] = frozenset(SYMBOLS)

__all__ = [
    "ACTIVATIONS",
    "CONSTANTS",
    "FLOATS",
    "LOSSES",
    "NAMESPACE",
    "OPTIMIZERS",
    "SOURCE",
    "SYMBOLS",
    "Activation",
    "Expr",
    "Fused",
    "Hyper",
    "Loss",
    "Optimizer",
    "OutputLogs",
    "Stage",
    "TorchLoss",
    "UnknownOperation",
    "Vars",
    "arrays",
    "log_softmax",
    "log_sum_exp",
    "run_stages",
    "softmax",
    "stage_lines",
    "update_source",
]
