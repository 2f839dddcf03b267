"""`backprop check` grades like a teacher (issue 8, item 5): significant figures, margins shown."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from backprop_cli import load_spec, loads_spec, step
from backprop_cli.tutor.grading import Report, check, read_answers

from .clihelp import run

ROOT = Path(__file__).parent.parent
MSE = (ROOT / "configs" / "mazur.yaml").read_text().replace("loss: half_sse", "loss: mse")
# net_h1 = -0.4*1 + 0.3*1 + 0.1*1: exactly 0 on paper, -2.78e-17 in float64; out_h1 (relu) is 0
CANCELS = """\
name: cancels
inputs: 2
layers:
  - {name: h, activation: relu, weights: [[-0.4, 0.3], [0.5, 0.5]], bias: [0.1, 0.0]}
  - {name: o, activation: sigmoid, weights: [[0.5, -0.5]], bias: 0.0}
loss: half_sse
samples:
  - {inputs: [1, 1], targets: [1]}
"""


def judge(text: str, spec_text: str | None = None) -> Report:
    spec = load_spec() if spec_text is None else loads_spec(spec_text)
    return check(spec, read_answers(text, "answers.yaml", step(spec)))


def verdicts(report: Report) -> dict[str, str]:
    return {v.answer.key: v.status for v in report.verdicts}


def test_a_whole_number_claims_only_the_digits_it_gives() -> None:
    # out_h1 = 0.593, out_o1 = 0.751, E_total = 0.298: 0 and 1 gave no digit of them.
    report = judge("out_h1: 0\nout_o1: 1\nE_total: 0\n")
    assert verdicts(report) == {"out_h1": "wrong", "out_o1": "wrong", "E_total": "wrong"}
    assert not report.passed
    units = {v.answer.key: v.unit for v in report.verdicts}
    assert units == {"out_h1": 0.0, "out_o1": pytest.approx(0.1), "E_total": 0.0}
    out_o1 = next(v for v in report.verdicts if v.answer.key == "out_o1")
    assert out_o1.reason == "to 1 significant digit it is 0.8"


def test_one_significant_digit_that_agrees_is_right() -> None:
    # out_o2 = 0.7729 is 0.8 to one digit; net_o1+ = 1.0568 is 1; dE_total/dw1 = 0.000439 is 0.0004
    report = judge("out_o2: 0.8\nnet_o1+: 1\ndE_total/dw1: 0.0004\n")
    assert set(verdicts(report).values()) == {"right"}
    assert verdicts(judge("out_o2: 0.7")) == {"out_o2": "rounding"}  # within one unit
    assert verdicts(judge("out_o2: 0.6")) == {"out_o2": "wrong"}


def test_zero_is_right_for_a_value_that_is_zero() -> None:
    report = judge("net_h1: 0\nout_h1: 0.0\nnet_h2: 1\n", CANCELS)
    assert verdicts(report) == {"net_h1": "right", "out_h1": "right", "net_h2": "right"}
    net_h1 = step(loads_spec(CANCELS)).find("net_h1")
    assert net_h1 is not None and net_h1.value == pytest.approx(-2.7755575615628914e-17)
    # and 0 is still wrong beside it, where the value is not 0
    assert verdicts(judge("out_o1: 0", CANCELS)) == {"out_o1": "wrong"}


def test_the_margin_is_on_every_row() -> None:
    answers = ROOT / "configs" / "answers-example.yaml"
    result = run("check", str(answers))
    ids = r"^(net|out|E_|dE|dout|w)"
    rows = [line for line in result.stdout.splitlines() if re.match(ids, line)]
    assert len(rows) == 13
    margins = {line.split()[0]: line.split()[3] for line in rows}
    assert margins["net_h1"] == "±5e-05"  # 0.3825, ✗
    assert margins["net_h2"] == "±5e-05"  # 0.3925, ✓
    assert margins["out_h1"] == "±5e-10"
    assert margins["w5+"] == "±5e-09"


def test_zero_rows_show_no_margin_and_say_why(tmp_path: Path) -> None:
    answers = tmp_path / "a.yaml"
    answers.write_text("out_h1: 0\n")
    result = run("check", str(answers))
    assert result.exit_code == 1
    row = result.stdout.splitlines()[2]
    assert row.split()[:5] == ["out_h1", "0", "0.593269992", "±0", "✗"]
    assert "(0 is right only for a value that is 0)" in row
    assert "0 is right only for a value that is 0; work this step out" in result.stdout


def test_json_gives_the_margin() -> None:
    result = run("check", str(ROOT / "configs" / "answers-example.yaml"), "--format", "json")
    doc = json.loads(result.stdout)
    margins = {a["id"]: a["margin"] for a in doc["answers"]}
    assert margins["net_h1"] == pytest.approx(5e-5)
    assert margins["dE_total/dw1"] == pytest.approx(5e-10)


def test_mse_factor_2_forgotten_is_recognised() -> None:
    # MSE over 2 outputs: dE_total/dout_o1 = -2 * (0.01 - 0.75136507)/2 = 0.74136507;
    # without the 2 it is half that, 0.370682535.
    exact = step(loads_spec(MSE)).find("dE_total/dout_o1")
    assert exact is not None and exact.value == pytest.approx(0.74136507, abs=5e-9)
    report = judge("dE_total/dout_o1: 0.3707\n", MSE)
    assert report.diagnosis is not None
    (slip,) = [s for s in report.diagnosis.slips if s.code == "missing_half"]
    assert slip.value == pytest.approx(0.370682535, abs=5e-10)
    assert slip.description == (
        "the factor 2 of the loss's derivative left out: dE_total/dout written as "
        "-(target - out)/n, not -2 * (target - out)/n"
    )
    # downstream too: delta_o1 = 0.74136507 * 0.186815602 halves to 0.069249281
    report = judge("delta_o1: 0.06925\n", MSE)
    assert report.diagnosis is not None
    assert [s.code for s in report.diagnosis.slips] == ["missing_half"]


def test_no_mse_slip_for_half_sse() -> None:
    report = judge("dE_total/dout_o1: 0.3707\n")
    assert report.diagnosis is not None
    assert "missing_half" not in [s.code for s in report.diagnosis.slips]
