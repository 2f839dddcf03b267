"""What every training kernel provides, and the layout they share."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from functools import cached_property
from itertools import chain
from typing import Any, Protocol

from backprop_cli.ops import ACTIVATIONS, LOSSES, update_source
from backprop_cli.ops.vocab import compile_function
from backprop_cli.specs.model import Names, Spec
from backprop_cli.specs.state import State


class Kernel(Protocol):
    """Trains a spec: an epoch at a time, with snapshots to go back to."""

    def evaluate(self) -> float: ...

    def epoch(self) -> float: ...

    def snapshot(self) -> Any: ...

    def restore(self, snap: Any) -> None: ...

    def parameters(self) -> dict[str, float]: ...

    def slots(self) -> dict[str, dict[str, float]]: ...

    def outputs(self) -> list[list[float]]: ...

    # Optional: `largest()`, the largest |parameter| and |slot value| (NaN if one is NaN), read
    # from the kernel's own lists; without it the trainer reads parameters() and slots().


# A kernel factory: (spec, update order, optimizer state) -> kernel.
Factory = Callable[[Spec, str, State], Kernel]


def optimizer_update(state: State, round_to: int | None = None) -> Callable[..., None]:
    """`update(ws, gs, t, *slots)`: the optimizer's stages compiled, with η and the
    hyper-parameters written in (the engine's floats, bit for bit), applied in place to each
    entry of the lists ws and slots; with round_to, each stage's value rounded as the engine
    records it."""
    params, lines = update_source(state.rule, state.constants(), round_to)
    return compile_function("update", params, lines)


class LayerKernel:
    """A kernel that trains layer by layer: what it knows of the network, from the spec."""

    def __init__(self, spec: Spec, order: str, state: State) -> None:
        self.spec, self.state = spec, state
        self.L = len(spec.layers) - 1
        self.acts = [ACTIVATIONS[layer.activation] for layer in spec.layers]
        self.loss = LOSSES[spec.loss]
        self.alphas = [layer.alpha for layer in spec.layers]
        self.shared = [layer.bias_shared for layer in spec.layers]
        self.mean = spec.training.reduction == "mean"
        self.sequential = order == "sequential"
        self.n_out = spec.layers[-1].size
        self.fused = self.loss.fused.get(spec.layers[-1].activation)

    @cached_property
    def names(self) -> Names:
        """Parameter ids by position, made when first asked: a kernel of arrays needs them only
        to report (784-128-10: 0.05 s of a 0.5 s training)."""
        return Names.of(self.spec)


def scalar_function(name: str, params: list[str], expr: Any) -> Callable[..., Any]:
    """A one-line function of floats from an expression the SOURCE vocabulary wrote: the
    catalogue's arithmetic without the interpreter's calls, the same floats."""
    return compile_function(name, params, [f"return {expr}"])


def parameter_values(
    spec: Spec, names: Names, W: Sequence[Any], B: Sequence[Any]
) -> dict[str, float]:
    """Parameters by id from weights W[k][j][i] and biases B[k] (one value when shared)."""
    values: dict[str, float] = {}
    for k, layer in enumerate(spec.layers):
        for j, row in enumerate(names.weight[k]):
            for i, pid in enumerate(row):
                values[pid] = float(W[k][j][i])
        b = B[k]
        if b is not None:
            for j, bid in enumerate(names.bias[k]):
                assert bid is not None
                values[bid] = float(b[0] if layer.bias_shared else b[j])
    return {p.id: values[p.id] for p in spec.parameters()}


def largest(lists: Iterable[Sequence[float]]) -> float:
    """The largest |x| in some lists of floats (0 when empty), NaN when one holds NaN: two
    passes in C over all of them, no Python per list or per value."""
    lists = list(lists)
    # A NaN, or +inf beside -inf, makes the sum NaN (a sum of finite floats never is).
    if math.isnan(sum(chain.from_iterable(lists))):
        return math.nan
    return max(map(abs, chain.from_iterable(lists)), default=0.0)
