"""Ctrl-C and SIGTERM during training: whatever instant they land, what is saved and reported is
exactly some whole number of epochs, with the count and the optimizer state that go with it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

import pytest

import backprop_cli
from backprop_cli import loads_spec
from backprop_cli.cli import train as train_command
from backprop_cli.kernels import Trainer, stopping
from backprop_cli.kernels import trainer as trainer_module

from .test_train import net, run

PACKAGE = str(Path(backprop_cli.__file__).parent)
EPOCHS = 2


# The epoch loop, where every line is a point: the trainer's and the command's.
LOOP_FILES = tuple(m.__file__ or "" for m in (trainer_module, train_command, stopping))
KERNEL_EVERY = 7  # inside the kernel's epoch every line is alike (mid-epoch): every 7th


def _tracer(at: int, seen: list[int]) -> Callable[..., Any]:
    """A trace function that raises SIGINT at the `at`-th point of training: each line run in
    the loop (Trainer.run and the command's loop) from the start of training to the save, and
    every KERNEL_EVERY-th line of the kernel; seen[0] counts the points."""
    armed, kernel_lines = [False], [0]

    def local(frame: FrameType, event: str, arg: Any) -> Any:
        if event == "line" and armed[0]:
            if not frame.f_code.co_filename.endswith(LOOP_FILES):
                kernel_lines[0] += 1
                if kernel_lines[0] % KERNEL_EVERY:
                    return local
            seen[0] += 1
            if seen[0] == at:
                signal.raise_signal(signal.SIGINT)
        return local

    def call(frame: FrameType, event: str, arg: Any) -> Any:
        code = frame.f_code
        inside = code.co_filename.startswith(PACKAGE) or code.co_filename.startswith("<")
        if code is Trainer.chunks.__code__:
            armed[0] = True  # the loop starts
        if code.co_name == "_save":
            armed[0] = False
        return local if inside else None

    return call


def _train(tmp_path: Path, name: str, *args: str, at: int = 0) -> tuple[Any, str, int]:
    folder = tmp_path / name
    folder.mkdir()
    out = folder / "out.yaml"
    seen = [0]
    os.chdir(folder)  # every run saves to ./out.yaml: the header quotes the name
    previous = sys.gettrace()  # coverage's tracer, when it runs: put it back, or it stops here
    sys.settrace(_tracer(at, seen))
    try:
        result = run("../net.yaml", "-f", "json", "--save", "out.yaml", *args)
    finally:
        sys.settrace(previous)
        os.chdir(tmp_path)
    return result, out.read_text() if out.exists() else "", seen[0]


def test_an_interrupt_at_any_line_saves_whole_epochs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "net.yaml").write_text(net("adam", "minibatch"))
    references = {}
    for k in range(EPOCHS + 1):
        result, text, lines = _train(tmp_path, f"ref{k}", "-n", str(k))
        assert result.exit_code == 0
        references[k] = (json.loads(result.stdout), text)
    assert lines > 50  # the loop really was traced
    for at in range(1, lines + 1):
        result, text, _ = _train(tmp_path, f"at{at}", "-n", str(EPOCHS), at=at)
        assert "Traceback" not in result.stderr, (at, result.stderr)
        summary = json.loads(result.stdout)
        k = summary["epochs"]
        assert summary["epochs_done"] == k, at
        reference, saved = references[k]
        assert result.exit_code == (0 if k == EPOCHS else 130), (at, result.exit_code)
        for key in ("E_total", "parameters", "outputs"):
            assert summary[key] == reference[key], (at, key)
        assert text == saved, at  # count, weights, moments and step count: all of epoch k
        if k < EPOCHS:
            assert f"interrupted after epoch {k}" in result.stderr


def test_sigterm_stops_at_an_epoch_like_ctrl_c(tmp_path: Path) -> None:
    (tmp_path / "net.yaml").write_text(net("adam", "minibatch"))
    out = tmp_path / "term.yaml"
    cmd = [sys.executable, "-m", "backprop_cli", "train", str(tmp_path / "net.yaml")]
    cmd += ["-n", "100000000", "-f", "jsonl", "--save", str(out)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    proc.stdout.readline()
    time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    rest, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    assert "Traceback" not in err and "stopped by SIGTERM after epoch" in err
    summary = json.loads(rest.splitlines()[-1])
    assert summary["type"] == "summary" and summary["status"] == "interrupted"
    saved = loads_spec(out.read_text())
    assert saved.training.epochs_done == summary["epochs_done"]


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_before_training_is_still_the_default(signum: int) -> None:
    # Outside the loop the usual handlers are back: the tests' own process is not left deaf.
    assert signal.getsignal(signum) in (signal.default_int_handler, signal.SIG_DFL)
