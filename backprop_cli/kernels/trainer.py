"""Training: the epoch loop, as a generator of epoch records, on a fast kernel that records nothing.

Three kernels compute the same training, each from the catalogue's entries:
  - `CompiledKernel` (compiled.py), straight-line code for networks of elementwise activations,
  - `LoopKernel` (loops.py), plain floats and lists, for every other small network: both follow
    engine.py operation by operation, so 1 epoch equals `backprop step` bit for bit;
  - `ArrayKernel` (arrays.py), numpy matrices, for large ones (the `fast` extra). Its sums run in
    a different order, so it agrees with the engine to rounding (about 1e-15 relative).
`RoundedLoopKernel` (rounded.py) is the loop kernel rounding every value the engine records, for
`train --round N`: bit for bit `engine.step(spec, round_to=N)` epoch after epoch.
The kernel is chosen from the network's size alone, so a resumed run takes the path the first
run took and stays bit-exact.

An epoch is one pass over the samples in the configured mode; its E_total is the loss over all
samples after the epoch's updates, as the post reports it.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any, NamedTuple

from ..choices import KERNELS as KERNELS
from ..spec import Spec
from ..state import State, with_state
from ..stopping import StopRequests
from .base import Factory, Kernel

# Above this many multiply-adds per epoch (parameters × samples) numpy beats plain floats.
NUMPY_THRESHOLD = 20_000


class Epoch(NamedTuple):
    """One finished epoch: its number (counted from the very first run) and E_total after it."""

    epoch: int
    E_total: float


def work(spec: Spec) -> int:
    """Multiply-adds per epoch, roughly: the size the kernel is chosen by."""
    return len(spec.parameters()) * len(spec.samples)


def choose_kernel(spec: Spec, kernel: str = "auto") -> str:
    """'python' or 'numpy': by size alone (numpy only when it is installed)."""
    if kernel == "numpy":
        import numpy
    if kernel != "auto":
        return "python" if kernel == "loops" else kernel
    if work(spec) < NUMPY_THRESHOLD:
        return "python"
    try:
        import numpy  # noqa: F401
    except ImportError:
        return "python"
    return "numpy"


class Trainer:
    """Trains a spec epoch by epoch; holds the parameters, optimizer state and epoch count."""

    def __init__(
        self, spec: Spec, *, update_order: str | None = None, kernel: str | Factory = "auto"
    ):
        """kernel: "auto", "python" or "numpy" (see choose_kernel), or a factory of a kernel of
        one's own, such as rounded.RoundedLoopKernel (`--round N`)."""
        self.spec = spec
        self.order = update_order or spec.training.update_order
        self.state = State.of(spec.training)
        self.epochs_done = spec.training.epochs_done
        if not isinstance(kernel, str):
            self.kernel_name = "engine"
            self.kernel: Kernel = kernel(spec, self.order, self.state)
        else:
            self.kernel_name = choose_kernel(spec, kernel)
            self.kernel = make_kernel(spec, self.order, self.state, self.kernel_name, kernel)
        self.loss_before = self.loss = self.kernel.evaluate()

    def run(self, epochs: int, stop: StopRequests | None = None) -> Iterator[Epoch]:
        """Train up to `epochs` epochs, yielding each; stop after a non-finite E_total.

        After a non-finite E_total the parameters and state are put back as they were after the
        last finite epoch (`diverged_at` says which epoch failed). With `stop`, a stop request
        ends the run between epochs, and an interrupt inside an epoch undoes that epoch and ends
        it; an epoch is counted only with its state (stopping.py).
        """
        self.diverged_at: int | None = None
        for _ in range(epochs):
            if stop is not None and stop.stopped:
                return
            keep = self.kernel.snapshot()
            try:
                try:
                    if stop is not None:
                        stop.abortable = True
                    loss = self.kernel.epoch()
                except (ArithmeticError, ValueError):
                    # Python floats raise where numpy gives inf: x**2 overflowing, log(0), 1/0.
                    loss = math.nan
                if stop is not None:
                    stop.abortable = False  # from here on a signal is only noted
            except KeyboardInterrupt:
                # Interrupted mid-epoch: go back to the end of the last whole epoch.
                if stop is None:
                    self.kernel.restore(keep)
                    raise
                stop.abortable = False
                self.kernel.restore(keep)
                stop.request()
                return
            if not math.isfinite(loss):
                self.kernel.restore(keep)
                self.diverged_at = self.epochs_done + 1
                return
            self.epochs_done += 1
            self.loss = loss
            yield Epoch(self.epochs_done, loss)

    def parameters(self) -> dict[str, float]:
        """Every parameter by id, in the post's order."""
        return self.kernel.parameters()

    def outputs(self) -> list[list[float]]:
        """The network's outputs for every sample, with the current parameters."""
        return self.kernel.outputs()

    def summary(self, epochs: int, status: str) -> dict[str, Any]:
        """The `summary` record of docs/train-format.md (JSON-ready: finite floats only)."""
        return {
            "type": "summary",
            "epochs": epochs,
            "epochs_done": self.epochs_done,
            "status": status,
            "E_total_before": self.loss_before,
            "E_total": self.loss,
            "parameters": self.parameters(),
            "outputs": self.outputs(),
        }

    def trained_spec(self) -> Spec:
        """The spec with the trained parameters and optimizer state (what --save writes)."""
        order = [p.id for p in self.spec.parameters()]
        self.state.slots = {
            name: {pid: v[pid] for pid in order if pid in v}
            for name, v in self.kernel.slots().items()
        }
        return with_state(self.spec, self.parameters(), self.state, self.epochs_done)


class Curve:
    """E_total by epoch in at most `cap` points: when full, every other point goes and the
    stride doubles, so memory stays flat however many epochs run."""

    def __init__(self, cap: int = 1024) -> None:
        self.cap, self.stride = cap, 1
        self.points: list[tuple[int, float]] = []
        self.last: tuple[int, float] | None = None

    def add(self, epoch: int, loss: float) -> None:
        self.last = (epoch, loss)
        if epoch % self.stride:
            return
        self.points.append((epoch, loss))
        if len(self.points) >= self.cap:
            self.stride *= 2
            self.points = [p for p in self.points if p[0] % self.stride == 0 or p is self.points[0]]

    def all(self) -> list[tuple[int, float]]:
        """The kept points, always with the last epoch."""
        if self.last is not None and (not self.points or self.points[-1] != self.last):
            return [*self.points, self.last]
        return list(self.points)


def make_kernel(spec: Spec, order: str, state: State, chosen: str, asked: str = "auto") -> Kernel:
    """The kernel `choose_kernel` picked; "loops" (tests only) forces the loop kernel where
    compiled code would apply."""
    if chosen == "numpy":
        from .arrays import ArrayKernel

        return ArrayKernel(spec, order, state)
    from . import compiled

    if asked != "loops" and compiled.supports(spec, order):
        return compiled.CompiledKernel(spec, order, state)
    from .loops import LoopKernel

    return LoopKernel(spec, order, state)
