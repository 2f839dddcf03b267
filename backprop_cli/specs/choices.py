"""The named choices of a run: update orders, trace phases, matrix layouts, training kernels,
sign conventions.

They live here, in a module that imports nothing, so that the command line can offer them as its
choices without loading the engine; spec, trace and kernels take theirs from here.
"""

from __future__ import annotations

UPDATE_ORDERS = ("simultaneous", "sequential")
PHASES = ("forward", "loss", "backward", "update", "after")
# The matrix view's layouts: W as neurons × inputs (the config, PyTorch), or inputs × neurons (X·W)
LAYOUTS = ("out-in", "in-out")
KERNELS = ("auto", "python", "numpy")  # python: compiled straight-line code when it applies
EXPORT_TARGETS = ("numpy", "pytorch")  # what `backprop export --to` writes a script in
# The sign of δ `backprop check` grades in (conventions.py); auto: recognised from the answers
SIGN_CONVENTIONS = ("auto", "post", "han-kamber")
