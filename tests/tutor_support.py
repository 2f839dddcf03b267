"""Helpers of the tutor tests: networks to test on, and the command line run in-process."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from backprop_cli.cli import app

ENV = {"COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb"}

RANDOM_SPEC = """\
name: random 3-4-3 softmax
inputs: 3
layers:
  - size: 4
    activation: tanh
    init: {seed: 7, scheme: xavier}
    bias: [0.1, -0.2, 0.05, 0.0]
  - size: 3
    activation: softmax
    init: {seed: 7, scheme: he}
    bias: 0.1
loss: cross_entropy
training: {learning_rate: 0.1, mode: batch, reduction: mean}
samples:
  - {inputs: [0.5, -1.0, 2.0], targets: [1, 0, 0]}
  - {inputs: [1.5, 0.2, -0.3], targets: [0, 0, 1]}
  - {inputs: [-0.5, 0.7, 0.1], targets: [0, 1, 0]}
"""

ONLINE_SPEC = """\
name: random 2-3-2 sigmoid, two samples, online
inputs: 2
layers:
  - {size: 3, activation: sigmoid, init: {seed: 3, scheme: uniform}, bias: 0.35}
  - {size: 2, activation: sigmoid, init: {seed: 3, scheme: uniform}, bias: 0.6}
loss: half_sse
training: {learning_rate: 0.5, mode: online}
samples:
  - {inputs: [0.05, 0.10], targets: [0.01, 0.99]}
  - {inputs: [0.9, 0.2], targets: [0.5, 0.1]}
"""


def run(*args: str) -> object:
    """Invoke `backprop ARGS`; the result has exit_code, stdout and stderr."""
    return CliRunner().invoke(app, list(args), env=ENV)


def write(tmp_path: Path, text: str, name: str = "net.yaml") -> Path:
    """A file in tmp_path with this text."""
    path = tmp_path / name
    path.write_text(text)
    return path
