"""Training: the epoch loop, as a generator of epoch records, on a fast kernel that records nothing.

Three kernels compute the same training, each from the catalogue's entries:
  - `CompiledKernel` (compiled.py), straight-line code for networks of elementwise activations
    (`FusedKernel` for small ones: a chunk of epochs in one generated function),
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
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any, NamedTuple

from backprop_cli.kernels.base import Factory, Kernel, largest
from backprop_cli.kernels.stopping import StopRequests
from backprop_cli.specs.choices import KERNELS as KERNELS
from backprop_cli.specs.model import MAX_MAGNITUDE, Spec, batches
from backprop_cli.specs.state import State, with_state

# numpy pays per call (a layer of a batch: a few µs whatever its size) and per element; plain
# floats pay per multiply-add. So numpy is faster once a call has enough multiply-adds in it and
# the layers are wide enough that its elementwise work is small beside them. Measured on a grid of
# sizes (benchmarks/crossover.py, docs/benchmarks.md): 16-16-16 with one sample (272 per call)
# is faster in plain floats, 32-32-32 with one sample (1,056 per call) 6x faster in numpy;
# 4-4-4 stays faster in plain floats even with 256 samples in a batch (5,120 per call).
NUMPY_PER_CALL = 1_000  # multiply-adds per numpy call: parameters × samples / (updates × layers)
NUMPY_FAN_IN = 8  # parameters per neuron: the mean fan-in, with the bias
# Multiply-adds in a chunk of epochs (Trainer.chunks): a few milliseconds of work at most.
CHUNK_WORK = 1 << 16


class Epoch(NamedTuple):
    """One finished epoch: its number (counted from the very first run) and E_total after it."""

    epoch: int
    E_total: float


def work(spec: Spec) -> int:
    """Multiply-adds per epoch, roughly: the size the kernel is chosen by."""
    return len(spec.parameters()) * len(spec.samples)


def numpy_pays(spec: Spec) -> bool:
    """Whether numpy trains this network faster than plain floats (by its size alone)."""
    calls = len(batches(spec)) * len(spec.layers)
    neurons = sum(layer.size for layer in spec.layers)
    fan_in = len(spec.parameters()) / neurons
    return work(spec) >= NUMPY_PER_CALL * calls and fan_in >= NUMPY_FAN_IN


def _one_blas_thread() -> None:
    """numpy's BLAS on one thread unless the user set it (read when numpy is first imported): on
    a busy 2-core machine two threads wait on each other, and 784-128-10 trained 10x slower."""
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


def choose_kernel(spec: Spec, kernel: str = "auto") -> str:
    """'python' or 'numpy': by size alone (numpy_pays; numpy only when it is installed)."""
    if kernel == "numpy":
        _one_blas_thread()
        import numpy
    if kernel != "auto":
        return "python" if kernel == "loops" else kernel
    if not numpy_pays(spec):
        return "python"
    _one_blas_thread()
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
        self.diverged_at: int | None = None  # the epoch whose E_total was not finite
        # When that epoch's loss was finite but it took a parameter past what a config may
        # hold (or a slot to a non-finite value): which one, and its value.
        self.beyond: tuple[str, float] | None = None
        if not isinstance(kernel, str):
            self.kernel_name = "engine"
            self.kernel: Kernel = kernel(spec, self.order, self.state)
        else:
            self.kernel_name = choose_kernel(spec, kernel)
            self.kernel = make_kernel(spec, self.order, self.state, self.kernel_name, kernel)
        self.loss_before = self.loss = self.kernel.evaluate()
        # n epochs, each E_total appended to a list: in one call where the kernel can.
        self.fused = hasattr(self.kernel, "epochs")
        self.epochs: Callable[[int, list[float]], None] = getattr(
            self.kernel, "epochs", self._one_by_one
        )

    def run(self, epochs: int, stop: StopRequests | None = None) -> Iterator[Epoch]:
        """Train up to `epochs` epochs, yielding each as it ends (the trainer's parameters are
        then that epoch's); stop after a non-finite E_total. `chunks` is the same training at
        full speed, epochs reported a chunk at a time.

        After a non-finite E_total the parameters and state are put back as they were after the
        last finite epoch (`diverged_at` says which epoch failed). With `stop`, a stop request
        ends the run between epochs, and an interrupt inside an epoch undoes that epoch and ends
        it; an epoch is counted only with its state (stopping.py).
        """
        for first, losses in self.chunks(epochs, stop, size=1):
            for k, loss in enumerate(losses):
                yield Epoch(first + k, loss)

    def chunks(
        self, epochs: int, stop: StopRequests | None = None, size: int | None = None
    ) -> Iterator[tuple[int, list[float]]]:
        """Train up to `epochs` epochs as `run` does, yielding (first epoch, E_total of each
        epoch) a chunk of epochs at a time: `size` epochs, by default as many as take a few
        milliseconds (CHUNK_WORK), so that a stop request is seen that often. No record is made
        per epoch: a kernel with `epochs` (compiled.FusedKernel) runs a chunk in one call."""
        self.diverged_at = self.beyond = None
        if size is None:  # for every kernel: the snapshot and the bounds check, once a chunk
            size = max(1, CHUNK_WORK // max(1, work(self.spec)))
        left = epochs
        while left > 0:
            if stop is not None and stop.stopped:
                return
            first, losses = self.epochs_done + 1, list[float]()
            n = min(size, left)
            ended = self._chunk(n, losses, stop)
            if losses:
                self.epochs_done += len(losses)
                self.loss = losses[-1]
                left -= len(losses)
                yield first, losses
            if ended:
                return

    def _chunk(self, n: int, losses: list[float], stop: StopRequests | None) -> bool:
        """n epochs in one call of the kernel; whether training must end. Whatever stops it
        (an interrupt, a non-finite E_total, an exception), the kernel goes back to the snapshot
        and runs again the whole epochs it had finished: the same floats, so the state is
        exactly that of the last whole (finite) epoch. An epoch that takes a parameter past
        ±MAX_MAGNITUDE (or a slot past any float) ends training as a non-finite loss does:
        what --save writes must load back."""
        keep = self.kernel.snapshot()
        failed = False
        try:
            try:
                if stop is not None:
                    stop.abortable = True
                self.epochs(n, losses)
            except (ArithmeticError, ValueError):
                # Python floats raise where numpy gives inf: x**2 overflowing, log(0), 1/0.
                failed = True  # in the epoch after the last one in losses
            if stop is not None:
                stop.abortable = False  # from here on a signal is only noted
        except KeyboardInterrupt:
            # Interrupted mid-epoch: go back to the end of the last whole epoch.
            if losses and not math.isfinite(losses[-1]):
                losses.pop()
            if self._replay(keep, losses):
                self.diverged_at = self.epochs_done + len(losses) + 1
            if stop is None:
                self._count(losses)
                raise
            stop.abortable = False
            stop.request()
            return True
        if losses and not math.isfinite(losses[-1]):
            losses.pop()
            failed = True
        if failed:
            beyond = self._replay(keep, losses)
        else:  # the usual end: one look at the state the chunk left, nothing per epoch
            beyond = not self._within() and self._replay(keep, losses)
        if failed or beyond:
            self.diverged_at = self.epochs_done + len(losses) + 1
        return failed or beyond

    def _replay(self, keep: Any, losses: list[float]) -> bool:
        """Go back to the snapshot (restored once: a kernel may go on in its lists) and run the
        whole epochs in losses again, the same floats, one at a time; at the first that takes
        the state beyond what a config may hold, go back to before it, drop it and the later
        losses, and say so (`beyond`). Whether it did."""
        self.kernel.restore(keep)
        for k in range(len(losses)):
            before = self.kernel.snapshot()
            self.epochs(1, [])
            if not self._within():
                self.beyond = self._culprit()
                self.kernel.restore(before)
                del losses[k:]
                return True
        return False

    def _within(self) -> bool:
        quick = getattr(self.kernel, "largest", None)
        if quick is not None:
            top, slot = quick()
        else:  # a kernel of one's own (a test's, say)
            slots = [list(v.values()) for v in self.kernel.slots().values()]
            top, slot = largest([list(self.kernel.parameters().values())]), largest(slots)
        return bool(top <= MAX_MAGNITUDE and slot <= sys.float_info.max)  # NaN is neither

    def _culprit(self) -> tuple[str, float]:
        """The first parameter (then slot value) out of bounds, with its value."""
        for pid, x in self.kernel.parameters().items():
            if not abs(x) <= MAX_MAGNITUDE:
                return pid, x
        for slot, values in self.kernel.slots().items():
            for pid, x in values.items():
                if not math.isfinite(x):
                    return f"{slot}.{pid}", x
        raise AssertionError("within bounds")  # pragma: no cover

    def _one_by_one(self, n: int, losses: list[float]) -> None:
        """`epochs` for a kernel that has only `epoch`."""
        for _ in range(n):
            loss = self.kernel.epoch()
            losses.append(loss)
            if not math.isfinite(loss):
                return

    def _count(self, losses: list[float]) -> None:
        """Count the epochs done before an interrupt that goes on up (no StopRequests)."""
        if losses:
            self.epochs_done += len(losses)
            self.loss = losses[-1]

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

    def extend(self, first: int, losses: Sequence[float]) -> None:
        """add(first + k, losses[k]) for every k, a slice at a time rather than a call each."""
        if not losses:
            return
        end = first + len(losses)
        self.last = (end - 1, losses[-1])
        epoch = first
        while epoch < end:
            stride = self.stride
            start = epoch + (-epoch) % stride  # the first epoch kept from here
            if start >= end:
                return
            room = max(1, self.cap - len(self.points))  # add() thins after each point once full
            stop = min(end, start + room * stride)
            kept = losses[start - first : stop - first : stride]
            self.points.extend(zip(range(start, stop, stride), kept, strict=True))
            epoch = stop
            if len(self.points) >= self.cap:
                self.stride *= 2
                first_point = self.points[0]
                self.points = [
                    p for p in self.points if p[0] % self.stride == 0 or p is first_point
                ]

    def all(self) -> list[tuple[int, float]]:
        """The kept points, always with the last epoch."""
        if self.last is not None and (not self.points or self.points[-1] != self.last):
            return [*self.points, self.last]
        return list(self.points)


def make_kernel(spec: Spec, order: str, state: State, chosen: str, asked: str = "auto") -> Kernel:
    """The kernel `choose_kernel` picked; "loops" (tests only) forces the loop kernel where
    compiled code would apply."""
    if chosen == "numpy":
        from backprop_cli.kernels.arrays import ArrayKernel

        return ArrayKernel(spec, order, state)
    from backprop_cli.kernels import compiled

    if asked != "loops" and compiled.fuses(spec, order):
        return compiled.FusedKernel(spec, order, state)
    if asked != "loops" and compiled.supports(spec, order):
        return compiled.CompiledKernel(spec, order, state)
    from backprop_cli.kernels.loops import LoopKernel

    return LoopKernel(spec, order, state)
