"""Resume refuses optimizer state it cannot honour: state saved for other shapes, warm moments
without a step count, and state for parameters that are not trained."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from .clihelp import assert_input_error, run


@pytest.fixture()
def saved(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The worked example with Adam, trained 3 epochs and saved, as plain data."""
    monkeypatch.chdir(tmp_path)
    run("init", "-l", "2,2,2", "--seed", "1", "net.yaml")
    config = yaml.safe_load(Path("net.yaml").read_text())
    config["training"]["optimizer"] = {"name": "adam"}
    config["training"]["update_biases"] = True
    Path("adam.yaml").write_text(yaml.safe_dump(config))
    result = run("train", "adam.yaml", "-n", "3", "--save", "saved.yaml")
    assert result.exit_code == 0, result.stderr
    data: dict[str, Any] = yaml.safe_load(Path("saved.yaml").read_text())
    return data


def _resume(config: dict[str, Any]) -> Any:
    Path("edited.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    return run("train", "edited.yaml", "-n", "1")


def test_a_saved_file_resumes(saved: dict[str, Any]) -> None:
    assert saved["training"]["optimizer"]["state"]["shapes"] == "2-2+b-2+b"
    assert _resume(saved).exit_code == 0


def test_state_for_other_shapes_is_refused(saved: dict[str, Any]) -> None:
    # A neuron added to the hidden layer: m_w5 would now be the moment of another weight.
    hidden, out = saved["layers"]
    hidden["weights"].append([0.1, 0.2])
    hidden["neurons"].append("h3")
    for row in out["weights"]:
        row.append(0.3)
    result = _resume(saved)
    match = assert_input_error(result)
    assert match["rest"] == (
        "training.optimizer.state.shapes: the state was saved for a network of shapes "
        "2-2+b-2+b, this one is 2-3+b-2+b; its ids name other weights now (remove the state to "
        "start the optimizer afresh)"
    )


@pytest.mark.parametrize("step", [0, None])
def test_warm_moments_need_a_step_count(saved: dict[str, Any], step: int | None) -> None:
    state = saved["training"]["optimizer"]["state"]
    if step is None:
        del state["step"]
    else:
        state["step"] = step
    result = _resume(saved)
    match = assert_input_error(result)
    assert match["rest"].startswith("training.optimizer.state: m.w1 is not 0 but step")
    assert match["rest"].endswith(
        "is 0 or missing: give step, the number of updates the state has seen"
    )


def test_state_for_untrained_parameters_is_refused(saved: dict[str, Any]) -> None:
    saved["training"]["update_biases"] = False
    result = _resume(saved)
    match = assert_input_error(result)
    assert match["rest"] == (
        "training.optimizer.state.m.b1: b1 is not trained (update_biases: false), so it can "
        "have no state"
    )
