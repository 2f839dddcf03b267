"""The numpy kernel's shortcuts: each gives the floats of the plain way (bit for bit where it
only reorganises the work) or agrees with it to rounding (where numpy adds in its own order)."""

from __future__ import annotations

import math

import pytest

from backprop_cli.kernels import Trainer
from backprop_cli.ops import ACTIVATIONS, FLOATS, SOURCE, Expr
from backprop_cli.ops.vocab import NUMPY_SOURCE
from backprop_cli.specs.validate import loads_spec

np = pytest.importorskip("numpy")
pytestmark = pytest.mark.numpy_kernel

from backprop_cli.kernels.arrays import _matrix, _rows  # noqa: E402
from backprop_cli.ops.vocab import arrays  # noqa: E402

NETS = [
    *np.linspace(-800.0, 800.0, 4001),
    *np.linspace(-40.0, 40.0, 8001),
    0.0,
    -0.0,
    5e-324,
    -5e-324,
    1e-300,
    -1e-300,
    math.inf,
    -math.inf,
]


def bits(xs: object) -> list[int]:
    return np.asarray(xs, dtype=np.float64).ravel().view(np.int64).tolist()  # type: ignore[no-any-return]


def ulps(a: object, b: object) -> int:
    """The largest distance between two arrays of floats in units in the last place.

    NaN from NaN is 0 apart, and so is -0.0 from 0.0.
    """
    x = np.asarray(a, dtype=np.float64).ravel()
    y = np.asarray(b, dtype=np.float64).ravel()
    both_nan = np.isnan(x) & np.isnan(y)
    # Ordered integers: a float's bits, negatives mirrored, so that neighbours differ by 1.
    ix, iy = (
        np.where(v.view(np.int64) < 0, np.int64(-(2**63)) - v.view(np.int64), v.view(np.int64))
        for v in (x, y)
    )
    far = np.abs(ix - iy)
    return int(far[~both_nan].max(initial=0))


def test_the_logistic_on_arrays_agrees_with_the_float_reader_to_the_last_bit() -> None:
    # numpy's exp is its own (vectorised, dispatched by CPU: AVX-512 differs from math.exp in the
    # last bit for a few per cent of inputs); through the division that is at most 2 units.
    x = np.array(NETS)
    assert ulps(arrays().logistic(x), [FLOATS.logistic(v) for v in NETS]) <= 2
    assert ulps(arrays().logistic(x.reshape(-1, 10)), arrays().logistic(x)) <= 1
    assert math.isnan(arrays().logistic(np.array([math.nan]))[0])
    assert float(arrays().logistic(-3.0)) == pytest.approx(
        math.exp(-3) / (1 + math.exp(-3)), rel=1e-15
    )
    assert FLOATS.logistic(-3.0) == math.exp(-3) / (1 + math.exp(-3))
    sigmoid = ACTIVATIONS["sigmoid"]
    assert ulps(sigmoid.value(arrays(), x, 0.0), arrays().logistic(x)) <= 1


def test_the_logistic_on_arrays_is_exact_at_its_ends() -> None:
    # Where e^-|x| is 0, 1 or subnormal-free, every exp gives the same float: exact, on every CPU.
    assert bits(
        arrays().logistic(np.array([math.inf, -math.inf, 0.0, -0.0, 800.0, -800.0]))
    ) == bits([1.0, 0.0, 0.5, 0.5, 1.0, 0.0])
    assert ulps([1.0], [np.nextafter(1.0, 2.0)]) == 1 and ulps([-0.0], [0.0]) == 0
    assert ulps([math.nan], [math.nan]) == 0 and ulps([1.0], [1.0]) == 0


def test_the_logistic_writes_the_same_source_as_before() -> None:
    # The compiled kernel and `backprop export`'s scripts: text unchanged by the array shortcut.
    net = Expr("net")
    assert str(SOURCE.logistic(net)) == (
        "((1.0 / (1.0 + exp((-net)))) if (net >= 0.0) else (exp(net) / (1.0 + exp(net))))"
    )
    assert str(ACTIVATIONS["sigmoid"].value(NUMPY_SOURCE, net, 0.0)) == (
        "np.where((net >= 0.0), (1.0 / (1.0 + np.exp((-net)))), "
        "(np.exp(net) / (1.0 + np.exp(net))))"
    )


def test_rows_are_packed_exactly() -> None:
    rows = [(0.1, -0.0, 5e-324, 1e308), (3, -2.5, 1e-300, -7.25)]
    m = _matrix(rows)
    assert m.shape == (2, 4) and m.flags.writeable
    assert bits(m) == bits(np.array(rows, dtype=np.float64))
    assert _matrix([]).shape == (0, 0)


def test_a_run_of_samples_is_a_view() -> None:
    assert _rows([4, 5, 6]) == slice(4, 7)
    assert _rows([3, 1]).tolist() == [3, 1]  # not a run: its rows picked out
    kernel = Trainer(loads_spec(CONFIG), kernel="numpy").kernel
    assert kernel.batches == [slice(0, 2), slice(2, 4), slice(4, 5)]  # type: ignore[attr-defined]
    assert np.shares_memory(kernel.X[kernel.batches[1]], kernel.X)  # type: ignore[attr-defined]


CONFIG = """name: five samples, three batches
inputs: 3
layers:
  - activation: sigmoid
    weights: [[0.1, -0.2, 0.3], [0.4, 0.5, -0.6], [-0.7, 0.8, 0.9], [0.15, -0.25, 0.35]]
    bias: [0.1, -0.1, 0.2, 0.0]
  - activation: softmax
    weights: [[0.2, -0.3, 0.4, 0.1], [-0.5, 0.6, 0.1, -0.2], [0.3, 0.2, -0.4, 0.5]]
    bias: [0.05, -0.05, 0.0]
loss: cross_entropy
training:
  learning_rate: 0.5
  mode: minibatch
  batch_size: 2
  optimizer: {name: adam}
samples:
  - {inputs: [0.1, 0.9, -0.3], targets: [1, 0, 0]}
  - {inputs: [0.5, -0.2, 0.8], targets: [0, 1, 0]}
  - {inputs: [-0.6, 0.3, 0.2], targets: [0, 0, 1]}
  - {inputs: [0.9, 0.1, -0.9], targets: [0.5, 0.5, 0]}
  - {inputs: [-0.1, -0.8, 0.4], targets: [0, 0.25, 0.75]}
"""


def test_an_epoch_after_a_restore_is_the_same_epoch() -> None:
    # The next batch's forward pass is taken from the last evaluate's: a snapshot keeps it with
    # the parameters, so an epoch run again after a restore gives the same floats.
    trainer = Trainer(loads_spec(CONFIG), kernel="numpy")
    kernel = trainer.kernel
    kernel.epoch()
    snap = kernel.snapshot()
    first = kernel.epoch(), kernel.parameters(), kernel.slots()
    kernel.restore(snap)
    assert (kernel.epoch(), kernel.parameters(), kernel.slots()) == first


def test_the_numpy_kernel_agrees_with_the_loops_over_epochs() -> None:
    # Softmax and the loss one row per neuron, the mean taken on the deltas: to rounding.
    spec = loads_spec(CONFIG)
    loops, fast = Trainer(spec, kernel="loops"), Trainer(spec, kernel="numpy")
    for a, b in zip(loops.run(20), fast.run(20), strict=True):
        assert b.E_total == pytest.approx(a.E_total, rel=1e-12)
    pa, pb = loops.parameters(), fast.parameters()
    assert all(pb[k] == pytest.approx(pa[k], rel=1e-11, abs=1e-14) for k in pa)
    flat = [o for row in loops.outputs() for o in row]
    assert [o for row in fast.outputs() for o in row] == pytest.approx(flat, rel=1e-12)


def test_the_cpu_features_asked_off_are_off() -> None:
    # .ci/run's second pass: NPY_DISABLE_CPU_FEATURES really moves numpy to its other code path.
    import os

    off = os.environ.get("NPY_DISABLE_CPU_FEATURES", "").replace(",", " ").split()
    if not off:
        pytest.skip("NPY_DISABLE_CPU_FEATURES is not set")
    from numpy._core import _multiarray_umath as umath

    assert [f for f in off if umath.__cpu_features__.get(f)] == []
