"""Files the commands write, and options at their limits: each case a reviewer found by hand."""

from __future__ import annotations

import json
import os
import stat
import sys
from importlib import resources
from pathlib import Path

import jsonschema
import pytest

from backprop_cli import load_spec, loads_spec, step
from backprop_cli.specs.validate import bundled_example_text

from .clihelp import assert_input_error, run


def test_written_files_get_the_usual_mode(tmp_path: Path) -> None:
    # mkstemp makes files 0600; a config or a drawing is for sharing, like any new file
    old = os.umask(0o022)
    try:
        for args, name in (
            (["init", "{}", "--layers", "2,2", "--seed", "1"], "ex.yaml"),
            (["draw", "-o", "{}"], "net.svg"),
            (["train", "-n", "2", "-f", "json", "--save", "{}"], "run.yaml"),
        ):
            path = tmp_path / name
            result = run(*[a.format(path) for a in args])
            assert result.exit_code == 0, result.stderr
            assert stat.S_IMODE(path.stat().st_mode) == 0o644, name
    finally:
        os.umask(old)


def test_draw_never_overwrites_without_force(tmp_path: Path) -> None:
    svg = tmp_path / "net.svg"
    svg.write_text("mine")
    result = run("draw", "-o", str(svg))
    assert_input_error(result)
    assert "already exists; add --force" in result.stderr
    assert svg.read_text() == "mine"
    assert run("draw", "-o", str(svg), "--force").exit_code == 0
    assert "<svg" in svg.read_text()


def test_quiet_silences_the_notes_of_every_writer(tmp_path: Path) -> None:
    noisy = run("init", str(tmp_path / "a.yaml"), "--layers", "2,2", "--seed", "1")
    assert noisy.stderr.startswith("wrote ")
    quiet = run("-q", "init", str(tmp_path / "b.yaml"), "--layers", "2,2", "--seed", "1")
    assert quiet.exit_code == 0 and quiet.stderr == ""
    saved = run("train", "-q", "-n", "2", "-f", "json", "--save", str(tmp_path / "c.yaml"))
    assert saved.exit_code == 0 and saved.stderr == ""


@pytest.mark.parametrize("rate", ["1e20", "inf", "nan", "0"])
def test_init_refuses_a_learning_rate_no_config_can_hold(rate: str, tmp_path: Path) -> None:
    result = run("init", str(tmp_path / "x.yaml"), "--layers", "2,2", "--learning-rate", rate)
    assert_input_error(result)
    assert result.stderr.startswith("error: --learning-rate")
    assert not (tmp_path / "x.yaml").exists()


def test_init_keeps_the_learning_rate_as_given() -> None:
    result = run("init", "-", "--layers", "2,2", "--seed", "1", "--learning-rate", "0.1234567")
    assert loads_spec(result.stdout).training.learning_rate == 0.1234567


def test_explain_refuses_a_sample_that_does_not_exist() -> None:
    result = run("explain", "delta_o1[7]")
    assert_input_error(result)
    assert result.stderr == "error: sample 7: the spec has 1 sample(s)\n"


def test_round_json_validates_against_the_trace_schema() -> None:
    schema = json.loads(
        resources.files("backprop_cli.specs.schemas").joinpath("trace.json").read_text("utf-8")
    )
    doc = json.loads(run("step", "--round", "3", "--format", "json").stdout)
    jsonschema.validate(doc, schema)
    assert doc["rounding"]["decimals"] == 3


def test_gradcheck_refuses_an_eps_lost_in_round_off() -> None:
    result = run("gradcheck", "--eps", "1e-12")
    assert result.exit_code == 2
    assert result.stdout == ""


def test_update_steps_belong_to_no_sample_in_either_order() -> None:
    text = bundled_example_text().replace(
        "samples:\n", "samples:\n  - inputs: [0.2, 0.7]\n    targets: [0.5, 0.1]\n"
    )
    for order in ("simultaneous", "sequential"):
        trace = step(loads_spec(text), update_order=order)
        updates = [s for s in trace.steps if s.phase == "update"]
        assert updates and {s.sample for s in updates} == {None}, order
        assert {s.update for s in updates} == {0, 1}


def test_numpy_kernel_without_numpy_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "numpy", None)
    result = run("train", "--kernel", "numpy", "-n", "1")
    assert_input_error(result)
    assert "pip install 'backprop-cli[fast]'" in result.stderr


def test_worked_example_is_unchanged_by_these_fixes() -> None:
    assert step(load_spec()).find("dE_total/dw5").value == 0.08216704056423077


def test_softmax_binary_cross_entropy_trains_bit_for_bit_like_step() -> None:
    from backprop_cli import Trainer

    spec = loads_spec(
        """
inputs: 2
layers:
  - {activation: tanh, weights: [[0.3, -0.2], [0.5, 0.1]], bias: [0.1, -0.1]}
  - {activation: softmax, weights: [[0.4, 0.2], [-0.3, 0.6], [0.2, -0.5]], bias: 0.05}
loss: binary_cross_entropy
samples:
  - {inputs: [0.5, -0.4], targets: [0.2, 0.7, 0.1]}
  - {inputs: [-0.3, 0.8], targets: [1, 0, 0]}
"""
    )
    for kernel in ("python", "loops"):
        trainer = Trainer(spec, kernel=kernel)
        list(trainer.run(1))
        assert trainer.parameters() == step(spec).updated, kernel
