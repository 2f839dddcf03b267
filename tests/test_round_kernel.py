"""`train --round N` on the rounded loop kernel: bit for bit the recording engine run epoch after
epoch with every recorded value rounded (what `train --round` did before, 50× slower), over the
catalogue-driven conformance grid's SAMPLE (every 7th case: every pair of activations, loss and
optimizer, and every setting; all 1,890 cases with BACKPROP_FULL_GRID=1, which .ci/run does not
set) in both update orders, and on the bundled configs."""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

import pytest

from backprop_cli import load_spec, loads_spec, step
from backprop_cli.engine.passes import dataset_loss
from backprop_cli.kernels import Epoch, Trainer
from backprop_cli.kernels.compiled import supports
from backprop_cli.kernels.rounded import RoundedLoopKernel, rounded_kernel
from backprop_cli.specs.model import Spec, initial_values
from backprop_cli.specs.state import State

from .test_conformance import SAMPLE, config

ROOT = Path(__file__).resolve().parent.parent


class EngineRounded:
    """The reference: `engine.step(spec, round_to=N)` epoch after epoch, the E_total after an
    epoch the after-phase's last recorded value (the kernel `train --round` used to run)."""

    def __init__(self, spec: Spec, order: str, state: State, round_to: int) -> None:
        self.spec, self.order, self.state, self.round_to = spec, order, state, round_to
        self.params = initial_values(spec)

    def evaluate(self) -> float:
        return dataset_loss(self.spec, self.params, self.round_to)

    def epoch(self) -> float:
        spec = self.spec.with_parameters(self.params)
        trace = step(spec, update_order=self.order, round_to=self.round_to, state=self.state)
        self.params = dict(trace.updated)
        return trace.steps[-1].value

    def snapshot(self) -> Any:
        slots = {s: dict(v) for s, v in self.state.slots.items()}
        return dict(self.params), slots, self.state.t

    def restore(self, snap: Any) -> None:
        self.params, self.state.slots, self.state.t = snap

    def parameters(self) -> dict[str, float]:
        return dict(self.params)

    def slots(self) -> dict[str, dict[str, float]]:
        return {s: dict(v) for s, v in self.state.slots.items()}

    def outputs(self) -> list[list[float]]:
        raise NotImplementedError


def bits(value: Any) -> Any:
    """Floats by repr (so −0.0 ≠ 0.0 and nan = nan), dicts compared key by key."""
    if isinstance(value, dict):
        return {k: bits(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [bits(v) for v in value]
    return repr(value)


class Run(NamedTuple):
    """What a run leaves, as exact text (bits): compared field by field."""

    loss_before: Any
    epochs: Any
    diverged_at: int | None
    parameters: Any
    slots: Any
    t: int


def engine_run(spec: Spec, order: str, round_to: int, epochs: int) -> Run:
    """The reference run, made once for both kernels (it is most of this file's time)."""
    ref = Trainer(
        spec, update_order=order, kernel=lambda s, o, st: EngineRounded(s, o, st, round_to)
    )
    done = list(ref.run(epochs))
    return Run(
        bits(ref.loss_before),
        bits(done),
        ref.diverged_at,
        bits(ref.parameters()),
        bits(ref.kernel.slots()),
        ref.state.t,
    )


def same_as(want: Run, spec: Spec, order: str, round_to: int, epochs: int, loops: bool) -> None:
    factory = RoundedLoopKernel.factory(round_to) if loops else rounded_kernel(round_to)
    new = Trainer(spec, update_order=order, kernel=factory)
    if not loops:
        kind = "FusedKernel" if supports(spec, order) else "RoundedLoopKernel"
        assert type(new.kernel).__name__ == kind
    assert bits(new.loss_before) == want.loss_before
    if loops:
        got = list(new.run(epochs))
    else:  # the fast path: epochs a chunk at a time (2 epochs, then 3, ...)
        chunks = new.chunks(epochs, size=2 + epochs % 3)
        got = [Epoch(first + k, x) for first, losses in chunks for k, x in enumerate(losses)]
    assert bits(got) == want.epochs
    assert new.diverged_at == want.diverged_at
    assert bits(new.parameters()) == want.parameters
    if want.t:
        assert bits(new.kernel.slots()) == want.slots
    else:  # stopped before the first update (a parameter past ±1e6): no slot has moved from 0
        assert {bits(x) for v in new.kernel.slots().values() for x in v.values()} <= {"0.0"}
    assert new.state.t == want.t


def run_both(spec: Spec, order: str, round_to: int, epochs: int, loops: bool = True) -> None:
    """The rounded kernel `train --round` picks, and (with `loops`) the rounded loop kernel,
    each bit for bit the rounded engine's run."""
    want = engine_run(spec, order, round_to, epochs)
    same_as(want, spec, order, round_to, epochs, loops=False)
    if loops:
        same_as(want, spec, order, round_to, epochs, loops=True)


def order_of(case: int) -> str:
    """Online cases alternate between the sequential and the simultaneous order (both bias
    settings, plain and saturated); other modes have one sample per update only when online."""
    return "sequential" if case % 12 in (0, 3) else "simultaneous"


@pytest.mark.parametrize("case", SAMPLE, ids=lambda c: "-".join(map(str, c)))
def test_rounded_kernel_equals_the_rounded_engine(case: tuple[str, str, str, str, int]) -> None:
    spec = loads_spec(config(*case))
    # the loop kernel too, where compiled code applies (else it is the one picked)
    run_both(spec, order_of(case[4]), 3, 4, loops=supports(spec, order_of(case[4])))


@pytest.mark.parametrize("decimals", [0, 2, 4, 6, 9])
@pytest.mark.parametrize("name", [None, "deep-softmax.yaml", "mazur.yaml"])
@pytest.mark.parametrize("order", ["simultaneous", "sequential"])
def test_rounded_kernel_over_many_epochs(name: str | None, decimals: int, order: str) -> None:
    spec = load_spec(None if name is None else ROOT / "configs" / name)
    run_both(spec, order, decimals, 40)


@pytest.mark.parametrize("loops", [False, True])
def test_rounded_outputs_are_the_exact_forward_pass(loops: bool) -> None:
    spec = load_spec(None)
    factory = RoundedLoopKernel.factory(4) if loops else rounded_kernel(4)
    trainer = Trainer(spec, kernel=factory)
    list(trainer.run(3))
    exact = Trainer(spec.with_parameters(trainer.parameters()), kernel="loops")
    assert trainer.outputs() == exact.outputs()
    assert any(round(v, 4) != v for row in trainer.outputs() for v in row)
