"""Training kernels: the epoch loop and the fast arithmetic under it, from the catalogue."""

from .base import Factory, Kernel
from .trainer import KERNELS, Curve, Epoch, Trainer, choose_kernel, make_kernel, work

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
