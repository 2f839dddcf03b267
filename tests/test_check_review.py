"""`backprop check` after a fresh user's review (issue 21, Deliver 4): an answer rounded to the
decimals written is right, across a power of ten too; answers worked exactly and rounded at the
end are recognised under --round N, and the drift column is the rounded run's; the convention
is offered only when no delta given contradicts it.

Expected figures come from `Net` (the post's network written out in plain Python), not from the
engine; the rounded run's figures are rounded here by hand.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from backprop_cli import load_spec, step
from backprop_cli.tutor.grading import Answer, judge, unit_of

from .clihelp import run
from .test_check_teacher import POST_SAMPLE, Net, by_id, judged, sigmoid


def exact_values() -> dict[str, float]:
    """The post's quantities, in its sign of δ (δ = ∂E/∂net = −Err_j)."""
    net = Net()
    x, t = POST_SAMPLE
    net_h, out_h, out_o = net.forward(x)
    g = net.gradients(x, t)
    values = {
        "net_h1": net_h[0],
        "out_h1": out_h[0],
        "out_h2": out_h[1],
        "out_o1": out_o[0],
        "out_o2": out_o[1],
        "E_total": net.error(x, t),
        "delta_o1": -g["err_o"][0],
        "delta_o2": -g["err_o"][1],
        "delta_h1": -g["err_h"][0],
        "delta_h2": -g["err_h"][1],
    }
    net.update(g)
    for n, (j, i) in enumerate(((0, 0), (0, 1), (1, 0), (1, 1)), start=1):
        values[f"w{n}+"] = net.W1[j][i]
        values[f"w{n + 4}+"] = net.W2[j][i]
    values["E_total+"] = net.error(x, t)
    return values


def sheet(values: dict[str, float], decimals: int) -> str:
    return "".join(f'"{k}": {v:.{decimals}f}\n' for k, v in values.items())


# --- 1. rounded to the decimals written is right ------------------------------------------------


def test_an_answer_rounded_to_its_decimals_is_right_across_a_power_of_ten() -> None:
    exact = exact_values()
    assert f"{exact['delta_h2']:.9f}" == "0.009954255"  # 0.0100 at 4 decimals, 0.00995 at 3 digits
    report = judged("delta_h1: 0.0088\ndelta_h2: 0.0100\n")
    assert report.passed and report.count("right") == 2
    d = by_id(report)["delta_h2"]
    assert d.expected == pytest.approx(exact["delta_h2"], rel=1e-12)
    assert d.unit == pytest.approx(1e-4) and d.to_dict()["margin"] == pytest.approx(5e-5)
    # Nothing wrong becomes right: a unit off is ≈ rounding or ✗, and a whole number still
    # claims only its significant digits (1 for out_o1 = 0.751 is ✗).
    assert {k: v.status for k, v in by_id(judged("delta_h2: 0.0099\n")).items()} == {
        "delta_h2": "rounding"
    }
    assert by_id(judged("delta_h2: 0.0102\n"))["delta_h2"].status == "wrong"
    whole = by_id(judged("out_o1: 1\n"))["out_o1"]
    assert (whole.status, whole.reason) == ("wrong", "to 1 significant digit it is 0.8")


def test_the_command_ticks_delta_h2_at_four_decimals(tmp_path: Path) -> None:
    path = tmp_path / "answers.yaml"
    path.write_text("delta_h1: 0.0088\ndelta_h2: 0.0100\n")
    result = run("check", str(path))
    assert result.exit_code == 0, result.stdout
    assert re.search(r"delta_h2\s+0\.0100\s+0\.009954255\s+±5e-05\s+✓\n", result.stdout)
    assert "redo this step" not in result.stdout and "significant digits" not in result.stdout


def test_every_correct_rounding_of_every_quantity_is_right() -> None:
    """Each value of the run rounded to 1..6 decimals, and to 1..6 significant digits, is ✓;
    the rounding one unit above or below is not (ties aside)."""
    trace = step(load_spec())
    checked = 0
    for s in trace.steps:
        x = s.value
        texts = [f"{x:.{d}f}" for d in range(1, 7)] + [f"{x:.{n}g}" for n in range(1, 7)]
        for text in texts:
            a = Answer(s.id, text, float(text), 1, 1, unit_of(text))
            assert judge(a, x, s)[0] == "right", (s.id, x, text)
            checked += 1
        for d in range(1, 7):
            u = 10.0**-d
            for shift in (-u, u):
                text = f"{float(f'{x:.{d}f}') + shift:.{d}f}"
                if abs(abs(float(text) - x) - u / 2) < 1e-9 * u:
                    continue  # a tie: both neighbours are the value rounded
                a = Answer(s.id, text, float(text), 1, 1, unit_of(text))
                assert judge(a, x, s)[0] != "right", (s.id, x, text)
    assert checked == 12 * len(trace.steps)


# --- 2. and 3. --round N: worked exactly, rounded at the end -------------------------------------


def test_answers_worked_exactly_and_rounded_to_n_are_right_under_round_n() -> None:
    exact = exact_values()
    report = judged(sheet(exact, 4), round_to=4)
    assert report.passed and report.count("right") == len(exact), [
        (v.answer.key, v.status, v.reason) for v in report.verdicts if v.status != "right"
    ]
    assert report.diagnosis is None
    d = by_id(report)["delta_h2"]
    assert d.answer.text == "0.0100" and d.reason == "graded exactly" and d.rounded is None
    assert d.expected == pytest.approx(exact["delta_h2"], rel=1e-12)
    exactly = [v.answer.key for v in report.verdicts if v.reason == "graded exactly"]
    assert "delta_h2" in exactly and "out_h1" not in exactly  # 0.5933 in both runs
    n = len(exactly)
    assert report.notes == [
        f"{n} answers to 4 decimals agree with the exact run rounded at the end, not with the "
        "run rounded to 4 decimals as it went: worked exactly and rounded at the end, so they "
        "are graded exactly."
    ]


def test_six_decimals_equal_to_the_exact_run_are_right_under_round_4() -> None:
    exact = exact_values()
    assert f"{exact['delta_o1']:.9f}" == "0.138498562" and f"{exact['w7+']:.8f}" == "0.51130127"
    report = judged(sheet(exact, 6), round_to=4)
    assert report.passed and report.count("right") == len(exact)
    for key in ("delta_o1", "w7+"):
        v = by_id(report)[key]
        assert (v.status, v.reason) == ("right", "graded exactly"), key
        assert v.expected == pytest.approx(exact[key], rel=1e-12)
    exactly = sum(1 for v in report.verdicts if v.reason == "graded exactly")
    assert exactly == len(exact) - 1  # net_h1 = 0.3775 is the same in both runs
    assert report.notes[0].startswith(f"{exactly} answers give more decimals than --round 4 ")


def test_the_drift_column_is_the_rounded_runs_drift(tmp_path: Path) -> None:
    exact = exact_values()
    # By hand, to 4 decimals: net_h1 = 0.3775, out_h1 = σ(0.3775) = 0.5933.
    rounded_out_h1 = round(sigmoid(0.3775), 4)
    assert rounded_out_h1 == 0.5933
    drift = f"{rounded_out_h1 - exact['out_h1']:+.9f}"
    assert drift == "+0.000030008"
    report = judged(sheet(exact, 6), round_to=4)
    v = by_id(report)["out_h1"]
    assert v.reason == "graded exactly"
    assert v.in_rounded_run == pytest.approx(0.5933, rel=1e-12)
    assert v.to_dict()["rounded"] == pytest.approx(0.5933, rel=1e-12)
    path = tmp_path / "six.yaml"
    path.write_text("net_h1: 0.377500\nout_h1: 0.593270\n")
    out = run("check", str(path), "--round", "4").stdout
    assert re.search(rf"out_h1\s+0\.593270\s+0\.593269992\s+\{drift}\s+±5e-07\s+✓", out), out
    # net_h1 is 0.3775 rounded or not (0.37749999999999995 in float64): no drift, no residue.
    assert re.search(r"net_h1\s+0\.377500\s+0\.3775\s+0\s+±5e-07\s+✓", out), out


# --- 4. mixed signs are a slip, not a convention ------------------------------------------------


def test_mixed_signs_of_delta_are_the_sign_slip_not_a_convention() -> None:
    exact = exact_values()
    # delta_o1 negated (Han & Kamber's sign), delta_o2 in the post's.
    text = f"delta_o1: {-exact['delta_o1']:.9f}\ndelta_o2: {exact['delta_o2']:.9f}\n"
    assert text == "delta_o1: -0.138498562\ndelta_o2: -0.038098237\n"
    report = judged(text)
    assert report.convention == "post"
    assert by_id(report)["delta_o2"].status == "right"
    assert report.diagnosis is not None and report.diagnosis.verdict.answer.key == "delta_o1"
    assert report.codes == ["error_sign"]
    assert report.diagnosis.slips[0].breaks == 1  # it would flip delta_o2 too
    # Both negated: the convention is recognised, and graded in.
    both = f"delta_o1: {-exact['delta_o1']:.9f}\ndelta_o2: {-exact['delta_o2']:.9f}\n"
    assert judged(both).convention == "han-kamber" and judged(both).passed
