"""Training kernels: the epoch loop and the fast arithmetic under it, from the catalogue.

Names are loaded on first use: the command line imports kernels.stopping at start-up (its
signal handlers) and must not pay for the kernels themselves.
"""

from __future__ import annotations

from importlib import import_module

TYPE_CHECKING = False  # not `typing`: see backprop_cli/__init__.py
if TYPE_CHECKING:
    from typing import Any

    from backprop_cli.kernels.base import Factory, Kernel
    from backprop_cli.kernels.trainer import (
        KERNELS,
        Curve,
        Epoch,
        Trainer,
        choose_kernel,
        make_kernel,
        work,
    )

_WHERE = {
    "Factory": "base",
    "Kernel": "base",
    **{n: "trainer" for n in ("KERNELS", "Curve", "Epoch", "Trainer")},
    **{n: "trainer" for n in ("choose_kernel", "make_kernel", "work")},
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(import_module(f"{__name__}.{_WHERE[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "KERNELS",
    "Curve",
    "Epoch",
    "Factory",
    "Kernel",
    "Trainer",
    "choose_kernel",
    "make_kernel",
    "work",
]
