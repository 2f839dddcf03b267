"""`backprop check`: verdicts by the digits written, and the diagnosis of the first mistake."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from backprop_cli import load_spec, loads_spec, step
from backprop_cli.engine.passes import Mistake
from backprop_cli.specs.source import SourceError
from backprop_cli.tutor.grading import Report, check, read_answers, unit_of

from .tutor_support import ONLINE_SPEC, RANDOM_SPEC, run, write

ROOT = Path(__file__).parent.parent


def judge(text: str, spec_text: str | None = None, **kwargs: Any) -> Report:
    spec = load_spec() if spec_text is None else loads_spec(spec_text)
    return check(spec, read_answers(text, "answers.yaml", step(spec)), **kwargs)


def verdicts(report: Report) -> dict[str, str]:
    return {v.answer.key: v.status for v in report.verdicts}


def slips(report: Report) -> list[str]:
    assert report.diagnosis is not None
    return [s.code for s in report.diagnosis.slips]


@pytest.mark.parametrize(
    ("text", "unit"),
    [
        ("0.40", 0.01),
        ("0.4", 0.1),
        ("3.51e-5", 1e-7),
        ("3.510e-5", 1e-8),
        ("12", 1.0),
        ("-0.0217", 1e-4),
        ("1.5E+3", 100.0),
        (".5", 0.1),
    ],
)
def test_unit_of_the_last_digit(text: str, unit: float) -> None:
    assert unit_of(text) == pytest.approx(unit, rel=1e-12)


def test_tolerance_follows_the_digits_written() -> None:
    # net_h1 = 0.3775: "0.4" claims one decimal (±0.05), "0.40" claims two (±0.005).
    assert verdicts(judge("net_h1: 0.4")) == {"net_h1": "right"}
    assert verdicts(judge("net_h1: 0.40")) == {"net_h1": "wrong"}
    assert verdicts(judge("net_h1: 0.38")) == {"net_h1": "right"}
    assert verdicts(judge("net_h1: 0.378")) == {"net_h1": "right"}  # exactly half a unit
    assert verdicts(judge("net_h1: 0.3780")) == {"net_h1": "wrong"}
    # A quoted number is a string, refused as in a config (the plain one keeps its digits).
    with pytest.raises(SourceError, match="a string, not a number"):
        judge('net_h1: "0.40"')
    # Exponents count the mantissa's digits: dE_total/dw1 = 4.385677e-4.
    assert verdicts(judge("dE_total/dw1: 4.39e-4")) == {"dE_total/dw1": "right"}
    assert verdicts(judge("dE_total/dw1: 4.3857e-4")) == {"dE_total/dw1": "right"}
    assert verdicts(judge("dE_total/dw1: 4.3856e-4")) == {"dE_total/dw1": "rounding"}
    assert verdicts(judge("dE_total/dw1: 4.3858e-4")) == {"dE_total/dw1": "wrong"}
    assert verdicts(judge("dE_total/dw1: 4.38e-4")) == {"dE_total/dw1": "rounding"}
    assert verdicts(judge("dE_total/dw1: 4.37e-4")) == {"dE_total/dw1": "wrong"}


def test_rounding_within_one_unit_as_the_post() -> None:
    # The post's dE_o2/dout_h1 = -0.019049119; exact -0.0190491183 (its intermediates rounded).
    report = judge("dE_o2/dout_h1: -0.019049119")
    (v,) = report.verdicts
    assert v.status == "rounding" and v.expected == -0.019049118258278118
    assert report.passed


def test_rounding_every_intermediate_drifts_past_one_unit() -> None:
    # With every intermediate rounded to 5 decimals, net_o1+ comes out 1.05686, one unit and a
    # quarter of a percent from the exact 1.0568499740: still a rounding difference.
    report = judge("out_h1: 0.59327\nnet_o1+: 1.05686")
    v = next(v for v in report.verdicts if v.answer.key == "net_o1+")
    assert v.status == "rounding"
    assert v.reason == "matches rounding every intermediate to 5 decimals"


def test_computation_order_and_first_mistake() -> None:
    report = judge("dE_total/dw5: 0.9\nnet_h1: 0.3825\nout_o1: 0.75136507\n")
    assert [v.answer.key for v in report.verdicts] == ["net_h1", "out_o1", "dE_total/dw5"]
    assert report.diagnosis is not None
    assert report.diagnosis.verdict.answer.key == "net_h1"
    assert not report.passed


def test_the_example_answers_file() -> None:
    text = (ROOT / "configs" / "answers-example.yaml").read_text()
    report = judge(text)
    assert report.count("wrong") == 1
    assert report.count("rounding") >= 1
    assert report.count("right") >= 5
    assert slips(report)[0] == "neighbour_weight"
    assert report.diagnosis is not None
    first = report.diagnosis.slips[0]
    assert first.description.startswith("w3 (0.25) used where w2 (0.2) belongs")
    assert "the post's own typo" in first.description
    assert first.value == pytest.approx(0.3825, abs=1e-15)


# --- every known slip, recognised ------------------------------------------------------------


@pytest.mark.parametrize(
    ("answers", "code", "phrase"),
    [
        ("net_h1: 0.3825", "neighbour_weight", "w3 (0.25) used where w2 (0.2)"),
        ("net_h2: 0.3875", "neighbour_weight", "w1 (0.15) used where w3 (0.25)"),
        ("net_h1: 0.6275", "wrong_bias", "b2 (0.6) used where b1 (0.35)"),
        ("net_o1: 0.8559", "wrong_bias", "b1 (0.35) used where b2 (0.6)"),
        ("net_h1: 0.0275", "missing_bias", "the bias b1 left out"),
        ("dE_total/dout_o1: -0.7414", "error_sign", "the sign of (target − out)"),
        ("dE_total/dw5: -0.08217", "error_sign", "the sign of (target − out)"),
        ("delta_o1: 0.7414", "no_derivative", "left out in layer o"),
        ("delta_h1: 0.03635", "no_derivative", "left out in layer h"),
        ("dE_total/dw1: 0.0003647", "sequential_order", "output weights already updated"),
        ("E_total+: 0.291027924", "sequential_order", "output weights already updated"),
        ("w5+: 0.3178", "learning_rate", "η left out"),
        ("w7+: 0.4887", "gradient_added", "added, not subtracted"),
        ("out_h1: 0.3775", "other_quantity", "the value of net_h1"),
    ],
)
def test_each_known_slip_is_recognised(answers: str, code: str, phrase: str) -> None:
    report = judge(answers)
    assert not report.passed
    assert report.diagnosis is not None
    matching = [s for s in report.diagnosis.slips if s.code == code]
    assert matching, slips(report)
    assert any(phrase in s.description for s in matching), [s.description for s in matching]


def test_the_typo_propagates_and_is_explained_downstream() -> None:
    # A student who uses w3 for w2 in net_h1 carries it through: out_h1 is wrong too.
    report = judge("net_h1: 0.3825\nout_h1: 0.594475\n")
    assert report.diagnosis is not None
    typo = report.diagnosis.slips[0]
    assert "the post's own typo" in typo.description
    assert typo.also == ("out_h1",)


def test_inputs_the_student_had_right() -> None:
    report = judge("dE_total/dout_o1: 0.74136507\ndout_o1/dnet_o1: 0.1868\ndelta_o1: 0.1400\n")
    d = report.diagnosis
    assert d is not None and d.verdict.answer.key == "delta_o1"
    assert [(name, v.status if v else None) for name, v in d.inputs] == [
        ("dE_total/dout_o1", "right"),
        ("dout_o1/dnet_o1", "right"),
    ]
    assert d.slips == []


def test_an_answer_no_slip_explains() -> None:
    report = judge("dE_total/dw5: 0.0921")
    assert report.diagnosis is not None and report.diagnosis.slips == []


def test_sequential_config_recognises_the_opposite_order() -> None:
    spec_text = (
        (ROOT / "configs" / "mazur.yaml")
        .read_text()
        .replace("update_biases: false", "update_biases: false\n  update_order: sequential")
    )
    report = judge("dE_total/dw1: 0.0004386", spec_text)
    assert verdicts(report) == {"dE_total/dw1": "wrong"}
    assert "simultaneous_order" in slips(report)


# --- --round ------------------------------------------------------------------------------------


def test_round_expects_the_calculator_values() -> None:
    exact = judge("dE_total/dw5: 0.0822\nw5+: 0.3589\nE_total+: 0.291")
    assert exact.passed
    rounded = judge("w3+: 0.2497\nE_total+: 0.2910", round_to=4)
    assert verdicts(rounded) == {"w3+": "right", "E_total+": "right"}
    v = next(v for v in rounded.verdicts if v.answer.key == "w3+")
    assert v.expected == 0.2497 and v.exact == 0.24975114363236958
    # Without --round, 0.2497 is a unit off the exact 0.24975114: a rounding difference.
    assert verdicts(judge("w3+: 0.2497")) == {"w3+": "rounding"}


# --- random networks ----------------------------------------------------------------------------


def test_random_network_answers_from_its_own_trace() -> None:
    spec = loads_spec(RANDOM_SPEC)
    trace = step(spec)
    lines = []
    for s in trace.steps[::7]:
        key = s.id if s.sample is None else f"{s.id}[{s.sample + 1}]"
        lines.append(f'"{key}": {s.value:.6f}')
    report = check(spec, read_answers("\n".join(lines), "a.yaml", trace))
    assert report.passed, [(v.answer.key, v.answer.text, v.expected) for v in report.verdicts]
    assert len(report.verdicts) == len(lines)


def test_random_network_error_sign_diagnosed() -> None:
    # A student who flips the sign does so in both samples of an online epoch; the second
    # sample then sees weights the first update moved the wrong way.
    spec = loads_spec(ONLINE_SPEC)
    slipped = step(spec, mistake=Mistake(error_sign=True)).find("delta_o2", 1)
    assert slipped is not None
    answers = f"net_h1[1]: {step(spec).steps[0].value:.6f}\ndelta_o2[2]: {slipped.value:.6f}"
    report = check(spec, read_answers(answers, "a.yaml", step(spec)))
    assert verdicts(report) == {"net_h1[1]": "right", "delta_o2[2]": "wrong"}
    assert slips(report) == ["error_sign"]


# --- the file and the command line ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        ("net_h1: 0.3775\ndE_total/dw9: 0.1\n", "a.yaml:2:15", "closest: dE_total/dw8"),
        ("net_h1: abc\n", "a.yaml:1:9", "expected a number"),
        ("net_h1: true\n", "a.yaml:1:9", "boolean"),
        ("net_h1: [0.3]\n", "a.yaml:1:9", "expected a number"),
        ("net_h1: .nan\n", "a.yaml:1:9", "in digits"),
        ("- 0.3\n", "a.yaml:1:1", "expected a mapping"),
        ("# nothing yet\n", "a.yaml:1:1", "empty"),
        ("w5: 0.4\n", "a.yaml:1:5", "given (parameter"),
        ("net_h1: 0.3\nnet_h1: 0.4\n", "a.yaml:2:1", "duplicate key"),
    ],
)
def test_bad_answers_name_the_place(text: str, where: str, message: str) -> None:
    with pytest.raises(SourceError) as info:
        read_answers(text, "a.yaml", step(load_spec()))
    assert str(info.value).startswith(where + ":")
    assert message in str(info.value)


def test_plus_ids_quoted_or_not() -> None:
    report = judge("w5+: 0.35891648\n\"w6+\": 0.408666186\n'E_total+': 0.291027774\n")
    assert verdicts(report) == {"w5+": "right", "w6+": "right", "E_total+": "right"}


def test_command_exit_codes(tmp_path: Path) -> None:
    good = write(tmp_path, "net_h1: 0.3775\nw5+: 0.3589\n", "good.yaml")
    result: Any = run("check", str(good))
    assert result.exit_code == 0, result.stderr
    assert "2 ✓ · 0 ≈ rounding · 0 ✗" in result.stdout
    result = run("check", str(ROOT / "configs" / "answers-example.yaml"))
    assert result.exit_code == 1
    assert "First mistake: net_h1" in result.stdout
    assert "the post's own typo" in result.stdout
    bad = write(tmp_path, "dE_total/dw9: 0.1\n", "bad.yaml")
    result = run("check", str(bad))
    assert result.exit_code == 2 and result.stdout == ""
    assert "bad.yaml:1:15" in result.stderr and "dE_total/dw8" in result.stderr
    result = run("check", str(tmp_path / "missing.yaml"))
    assert result.exit_code == 2 and "no such file" in result.stderr


def test_command_json_for_graders() -> None:
    result: Any = run("check", str(ROOT / "configs" / "answers-example.yaml"), "-f", "json")
    assert result.exit_code == 1
    doc = json.loads(result.stdout, parse_constant=lambda c: pytest.fail(c))
    assert doc["passed"] is False
    assert doc["network"] == "A step by step backpropagation example"
    assert doc["summary"]["wrong"] == 1
    first = doc["answers"][0]
    assert first["id"] == "net_h1" and first["verdict"] == "wrong"
    assert first["expected"] == 0.3775 and first["unit"] == 0.0001
    assert doc["diagnosis"]["slips"][0]["code"] == "neighbour_weight"


def test_command_round_shows_the_drift(tmp_path: Path) -> None:
    answers = write(tmp_path, "w3+: 0.2497\n", "a.yaml")
    result: Any = run("check", str(answers), "--round", "4")
    assert result.exit_code == 0, result.stdout
    assert "drift from exact" in result.stdout
    assert "-0.000051144" in result.stdout  # 0.2497 − 0.24975114363


def test_command_on_a_random_config(tmp_path: Path) -> None:
    config = write(tmp_path, RANDOM_SPEC)
    trace = step(load_spec(config))
    s = trace.find("E+")
    assert s is not None
    answers = write(tmp_path, f"E+: {s.value:.4f}\n", "a.yaml")
    result: Any = run("check", str(answers), str(config))
    assert result.exit_code == 0, result.stdout + result.stderr


def test_too_few_digits_to_name_a_slip() -> None:
    # "0.6" is within a unit of b2-for-b1's 0.6275, and of much else: no slip is named.
    report = judge("net_h1: 0.6")
    assert report.diagnosis is not None
    assert report.diagnosis.too_few_digits and report.diagnosis.slips == []
    assert judge("net_h1: 0.63").diagnosis.slips[0].code == "wrong_bias"  # type: ignore[union-attr]
