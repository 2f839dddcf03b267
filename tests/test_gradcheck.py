"""`backprop gradcheck`: backprop's gradient of every parameter against central differences."""

from __future__ import annotations

import functools
import json
import math
from pathlib import Path
from typing import Any

import pytest

from backprop_cli import load_spec, loads_spec, step
from backprop_cli.engine.passes import Mistake, dataset_loss
from backprop_cli.specs.model import initial_values
from backprop_cli.tutor import gradcheck as gc_module
from backprop_cli.tutor.gradcheck import analytic_gradient, gradcheck, numeric_gradient

from .tutor_support import ONLINE_SPEC, RANDOM_SPEC, run, write


def test_worked_example_gradients_are_the_posts() -> None:
    grads = analytic_gradient(load_spec())
    assert grads["w5"] == 0.08216704056423077
    assert grads["w1"] == 0.0004385677344743465
    # The post holds its biases fixed; the check covers them anyway: dE/db2 = delta_o1 + delta_o2.
    trace = step(load_spec())
    d1, d2 = trace.find("delta_o1"), trace.find("delta_o2")
    assert d1 is not None and d2 is not None
    assert math.isclose(grads["b2"], d1.value + d2.value, rel_tol=1e-12)


def test_worked_example_passes() -> None:
    result = gradcheck(load_spec())
    assert result.passed
    assert [r.id for r in result.rows] == [f"w{n}" for n in range(1, 9)] + ["b1", "b2"]
    assert result.max_rel_error < 1e-6
    assert result.loss == 0.2983711087600027
    w5 = next(r for r in result.rows if r.id == "w5")
    assert math.isclose(w5.numeric, 0.08216704056423077, rel_tol=1e-8)


def test_numeric_gradient_is_a_central_difference() -> None:
    spec = load_spec()
    g, noise = numeric_gradient(spec, "w5", 1e-4)
    params = initial_values(spec)
    up, down = dict(params), dict(params)
    up["w5"] += 1e-4
    down["w5"] -= 1e-4
    assert g == (dataset_loss(spec, up) - dataset_loss(spec, down)) / 2e-4
    assert 0 < noise < 1e-9


@pytest.mark.parametrize("spec_text", [RANDOM_SPEC, ONLINE_SPEC], ids=["random", "online"])
def test_random_networks_pass(spec_text: str) -> None:
    result = gradcheck(loads_spec(spec_text))
    assert result.passed, [(r.id, r.rel_error) for r in result.rows if not r.passed]
    assert len(result.rows) == len(loads_spec(spec_text).parameters())


def test_reduction_sum_is_n_times_mean() -> None:
    mean = loads_spec(RANDOM_SPEC)
    total = loads_spec(RANDOM_SPEC.replace("reduction: mean", "reduction: sum"))
    gm, gs = analytic_gradient(mean), analytic_gradient(total)
    for pid in gm:
        assert math.isclose(gs[pid], 3 * gm[pid], rel_tol=1e-12, abs_tol=1e-15)
    assert gradcheck(total).passed


def test_a_wrong_backprop_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    # An engine that leaves out the hidden layer's dout/dnet: only w1..w4 and b1 go wrong.
    wrong = functools.partial(step, mistake=Mistake(no_derivative=(0,)))
    monkeypatch.setattr(gc_module, "run_step", wrong)
    result = gradcheck(load_spec())
    assert not result.passed
    assert [r.id for r in result.rows if not r.passed] == ["w1", "w2", "w3", "w4", "b1"]
    result_cli: Any = run("gradcheck")
    assert result_cli.exit_code == 1
    assert "5 of 10 parameters FAIL" in result_cli.stdout


def test_a_coarse_eps_fails_a_tight_tol() -> None:
    result = gradcheck(load_spec(), eps=0.5, tol=1e-6)
    assert not result.passed
    assert gradcheck(load_spec(), eps=0.5, tol=0.1).passed


def test_command(tmp_path: Path) -> None:
    result: Any = run("gradcheck")
    assert result.exit_code == 0, result.stderr
    assert "all 10 parameters pass" in result.stdout
    result = run("gradcheck", "--format", "json", "--eps", "1e-5")
    doc = json.loads(result.stdout)
    assert doc["passed"] is True and doc["eps"] == 1e-5
    assert [p["id"] for p in doc["parameters"]][:2] == ["w1", "w2"]
    assert doc["parameters"][4]["analytic"] == 0.08216704056423077
    config = write(tmp_path, RANDOM_SPEC)
    result = run("gradcheck", str(config), "--eps", "0.5")
    assert result.exit_code == 1
    result = run("gradcheck", str(tmp_path / "none.yaml"))
    assert result.exit_code == 2
