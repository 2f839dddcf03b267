"""A run that diverges on the numpy kernel says so in one line: numpy's own RuntimeWarning
(overflow encountered in matmul) does not show beside it."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from .clihelp import run

pytest.importorskip("numpy")

# Linear layers, inputs of 5 and 10, η = 10⁴: the weights overflow within a few epochs.
DIVERGING = """\
inputs: 2
layers:
  - {name: h, size: 2, activation: linear, init: {seed: 1}}
  - {name: o, size: 2, activation: linear, init: {seed: 2}}
samples:
  - {inputs: [5, 10], targets: [0.01, 0.99]}
loss: mse
training: {learning_rate: 10000}
"""


def test_a_diverging_numpy_run_prints_no_numpy_warning(tmp_path: Path) -> None:
    config = tmp_path / "diverging.yaml"
    config.write_text(DIVERGING, encoding="utf-8")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = run("train", str(config), "-n", "300", "--kernel", "numpy")
    assert [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)] == []
    assert result.exit_code == 1
    # The weights pass ±1e6 (what a saved config may hold) after epoch 2 and overflow within the
    # same chunk of epochs: numpy's overflow stays quiet, the bound speaks.
    assert result.stderr.startswith("error: w1 would be -3.2525905261528115e+21 after epoch 2")
    assert result.stderr.count("\n") == 1
    assert "Warning" not in result.stderr
