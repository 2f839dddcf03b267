"""Every input size has a bound and an answer: the file size, plain values against alias
expansions, what --save writes for a large network, and training tables of many epochs."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from backprop_cli import loads_spec
from backprop_cli.kernels import Trainer
from backprop_cli.specs.fileio import dump_spec

from .clihelp import assert_input_error, run

BACKPROP = [sys.executable, "-m", "backprop_cli"]


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
def test_an_endless_file_is_one_line() -> None:
    proc = subprocess.run(
        [*BACKPROP, "step", "/dev/zero"], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 2
    assert proc.stderr == (
        "error: /dev/zero: larger than 64 MB, the most a config may be "
        "(BACKPROP_MAX_CONFIG_MB=N allows N MB)\n"
    )


def test_the_size_cap_can_be_set(tmp_path: Path) -> None:
    path = tmp_path / "net.yaml"
    path.write_text(run("init", "-l", "2,2,1", "-").stdout)
    assert run("step", str(path), env={"BACKPROP_MAX_CONFIG_MB": "1"}).exit_code == 0
    result = run("step", str(path), env={"BACKPROP_MAX_CONFIG_MB": "0.0001"})
    assert_input_error(result)
    assert result.stderr == (
        f"error: {path}: larger than 104 bytes, the most a config may be "
        "(BACKPROP_MAX_CONFIG_MB=N allows N MB)\n"
    )


def _network(inputs: int, hidden: int, outputs: int, samples: int) -> str:
    def rows(n: int, m: int) -> str:
        return "[" + ", ".join("[" + ", ".join(["0.01"] * m) + "]" for _ in range(n)) + "]"

    sample = (
        "{inputs: ["
        + ", ".join(["0.5"] * inputs)
        + "], targets: ["
        + ", ".join(["0.5"] * outputs)
        + "]}"
    )
    return (
        f"inputs: {inputs}\nlayers:\n"
        f"  - {{name: h, activation: sigmoid, weights: {rows(hidden, inputs)}, bias: 0.1}}\n"
        f"  - {{name: o, activation: sigmoid, weights: {rows(outputs, hidden)}, bias: 0.1}}\n"
        "training: {learning_rate: 0.1, update_biases: true, optimizer: adam}\n"
        "samples:\n" + "".join(f"  - {sample}\n" for _ in range(samples))
    )


def test_twenty_thousand_samples_are_no_alias_bomb() -> None:
    spec = loads_spec(_network(2, 2, 2, 20_000))
    assert len(spec.samples) == 20_000


def test_what_save_writes_for_a_large_network_loads_back() -> None:
    # 39,900 weights with Adam's m and v: 119,700 numbers, past the old 100,000-node budget.
    spec = loads_spec(_network(190, 190, 20, 1))
    trainer = Trainer(spec)
    list(trainer.run(1))
    back = loads_spec(dump_spec(trainer.trained_spec()))
    assert back.training.optimizer.step == 1
    assert back.parameters() == trainer.trained_spec().parameters()


def test_a_long_answers_file_gets_an_answer_not_an_alias_bomb(tmp_path: Path) -> None:
    answers = tmp_path / "answers.yaml"
    answers.write_text("".join(f"x{k}: 0.5\n" for k in range(200_000)))
    result = run("check", str(answers))
    assert result.exit_code == 2
    assert "alias bomb" not in result.stderr and "x0" in result.stderr


def test_train_every_1_keeps_a_bounded_table(tmp_path: Path) -> None:
    result = run("train", "-n", "5000", "--every", "1")
    assert result.exit_code == 0
    table = result.stdout.split("E_total by epoch")[1].split("\n\n")[0]
    rows = re.findall(r"^ *\d+ +[\d.]+$", table, re.M)
    assert 1000 <= len(rows) <= 2000
    assert "the table keeps" in result.stderr and "-f jsonl --every 1" in result.stderr
    # JSONL keeps every epoch
    lines = run("train", "-n", "5000", "--every", "1", "-f", "jsonl").stdout.splitlines()
    assert len(lines) == 5001 and json.loads(lines[-1])["type"] == "summary"


def test_the_size_cap_holds_for_stdin_too() -> None:
    from typer.testing import CliRunner

    from backprop_cli.cli import app

    text = run("init", "-l", "2,2,1", "-").stdout
    env = {"BACKPROP_MAX_CONFIG_MB": "0.0001", "COLUMNS": "100"}
    result = CliRunner().invoke(app, ["step", "-"], input=text, env=env)
    assert result.exit_code == 2
    assert result.stderr == (
        "error: <stdin>: larger than 104 bytes, the most a config may be "
        "(BACKPROP_MAX_CONFIG_MB=N allows N MB)\n"
    )
