"""`backprop check` grades as a teacher (issue 21, Deliver 4).

Every expected figure comes from `Net`, the post's 2-2-2 network written out in plain Python as a
textbook does it (a student's or a program's calculation), not from the engine.
"""

from __future__ import annotations

import ast
import json
import math
import operator
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from backprop_cli import load_spec, loads_spec, step
from backprop_cli.tutor.grading import Report, check, read_answers
from backprop_cli.tutor.logcheck import check_log, parse_log

from .clihelp import assert_input_error, run

_SLOT = re.compile(r"\{([^{}]+)\}")
MAZUR_TEXT = (Path(__file__).parent.parent / "configs" / "mazur.yaml").read_text()
W1 = [[0.15, 0.20], [0.25, 0.30]]  # w1 w2 / w3 w4: neuron h1's row, then h2's
W2 = [[0.40, 0.45], [0.50, 0.55]]  # w5 w6 / w7 w8
POST_SAMPLE = ([0.05, 0.10], [0.01, 0.99])
SECOND_SAMPLE = ([0.9, 0.2], [0.5, 0.1])


def sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


class Net:
    """The post's network by hand: shared biases, ½ squared error, sigmoid outputs."""

    def __init__(self, hidden: str = "sigmoid") -> None:
        self.W1 = [row[:] for row in W1]
        self.W2 = [row[:] for row in W2]
        self.b1, self.b2 = 0.35, 0.60
        self.f = math.tanh if hidden == "tanh" else sigmoid

    def forward(self, x: list[float]) -> tuple[list[float], list[float], list[float]]:
        net_h = [self.W1[j][0] * x[0] + self.W1[j][1] * x[1] + self.b1 for j in range(2)]
        out_h = [self.f(n) for n in net_h]
        net_o = [self.W2[k][0] * out_h[0] + self.W2[k][1] * out_h[1] + self.b2 for k in range(2)]
        return net_h, out_h, [sigmoid(n) for n in net_o]

    def error(self, x: list[float], t: list[float]) -> float:
        out_o = self.forward(x)[2]
        return sum(0.5 * (t[k] - out_o[k]) ** 2 for k in range(2))

    def gradients(
        self, x: list[float], t: list[float], dhidden: Callable[[float], float] | None = None
    ) -> dict[str, Any]:
        """Han & Kamber's Err_j (= −∂E/∂net_j) and the gradients ∂E/∂w; `dhidden`, the hidden
        layer's f′ as a function of out (default: the layer's own)."""
        _, out_h, out_o = self.forward(x)
        err_o = [out_o[k] * (1 - out_o[k]) * (t[k] - out_o[k]) for k in range(2)]
        own = (lambda o: 1 - o * o) if self.f is math.tanh else (lambda o: o * (1 - o))
        d = dhidden or own
        err_h = [d(out_h[j]) * sum(err_o[k] * self.W2[k][j] for k in range(2)) for j in range(2)]
        return {
            "err_o": err_o,
            "err_h": err_h,
            "W1": [[-err_h[j] * x[i] for i in range(2)] for j in range(2)],
            "W2": [[-err_o[k] * out_h[j] for j in range(2)] for k in range(2)],
            "b1": -sum(err_h),
            "b2": -sum(err_o),
        }

    def update(self, g: dict[str, Any], eta: float = 0.5, biases: bool = False) -> None:
        """w += η·Err_j·O_i, which is w − η·∂E/∂w."""
        for W, G in ((self.W1, g["W1"]), (self.W2, g["W2"])):
            for j in range(2):
                for i in range(2):
                    W[j][i] -= eta * G[j][i]
        if biases:
            self.b1 -= eta * g["b1"]
            self.b2 -= eta * g["b2"]


def answers(text: str, spec_text: str | None = None) -> tuple[Any, Any]:
    spec = load_spec() if spec_text is None else loads_spec(spec_text)
    return spec, read_answers(text, "answers.yaml", step(spec))


def judged(text: str, spec_text: str | None = None, **kw: Any) -> Report:
    spec, given = answers(text, spec_text)
    return check(spec, given, **kw)


def by_id(report: Report) -> dict[str, Any]:
    return {v.answer.key: v for v in report.verdicts}


# --- the sign convention of δ ------------------------------------------------------------------


def han_kamber_sheet() -> str:
    """A student's sheet in Han & Kamber's notation: Err_j as delta_j, and w += η·Err_j·O_i."""
    net = Net()
    x, t = POST_SAMPLE
    g = net.gradients(x, t)
    net.update(g)
    err_o, err_h = g["err_o"], g["err_h"]
    return (
        f"delta_o1: {err_o[0]:.9f}\ndelta_o2: {err_o[1]:.9f}\n"
        f"delta_h1: {err_h[0]:.9f}\ndelta_h2: {err_h[1]:.9f}\n"
        f"w5+: {net.W2[0][0]:.9f}\nw1+: {net.W1[0][0]:.9f}\n"
    )


def test_han_kamber_deltas_are_a_convention_and_graded_in_it() -> None:
    sheet = han_kamber_sheet()
    assert "delta_o1: -0.138498562" in sheet and "w5+: 0.358916480" in sheet
    report = judged(sheet)
    assert report.passed and report.count("right") == 6
    assert report.convention == "han-kamber"
    assert by_id(report)["delta_o1"].expected == pytest.approx(-0.13849856162855698, rel=1e-12)
    assert report.notes == [
        "Your deltas follow δ = −∂E/∂net, as Han & Kamber and Mitchell write it (Err_j = "
        "O_j(1 − O_j)(T_j − O_j), w += η·Err_j·O_i); your updates agree: a convention, not a "
        "slip, so they are graded in it (--convention post grades them in the post's "
        "δ = ∂E/∂net)."
    ]
    assert report.to_dict()["convention"] == "han-kamber"


def test_in_the_posts_convention_the_sign_is_named_a_convention_not_a_slip() -> None:
    report = judged(han_kamber_sheet(), convention="post")
    assert report.count("wrong") == 4 and report.convention == "post"
    assert report.diagnosis is not None and report.diagnosis.verdict.answer.key == "delta_o1"
    first = report.diagnosis.slips[0]
    assert first.code == "convention"
    assert first.description.startswith(
        "your deltas follow δ = −∂E/∂net, as Han & Kamber and Mitchell write it"
    )
    assert "; your updates agree: a convention, not a slip (--convention han-kamber" in (
        first.description
    )
    assert set(first.also) == {"delta_o2", "delta_h1", "delta_h2"} and first.breaks == 0
    # The sign of (target − out) would make the updates wrong, which they are not.
    sign = next(s for s in report.diagnosis.slips if s.code == "error_sign")
    assert sign.breaks == 2


def test_the_convention_is_a_setting_of_the_answers_file_and_an_option(tmp_path: Path) -> None:
    # One delta only, of the post's sign: auto grades it in the post's convention ...
    sheet = "delta_o1: 0.138498562\n"
    assert judged(sheet).passed
    # ... and the answers file or --convention can say the sheet is Han & Kamber's.
    marked = judged("convention: han-kamber\n" + sheet)
    assert not marked.passed and by_id(marked)["delta_o1"].expected < 0
    assert marked.notes == [
        "Graded in the convention δ = −∂E/∂net, as Han & Kamber and Mitchell write it "
        "(Err_j = O_j(1 − O_j)(T_j − O_j), w += η·Err_j·O_i)."
    ]
    assert marked.diagnosis is not None
    assert marked.diagnosis.slips[0].code == "convention"
    assert "δ = ∂E/∂net, as the post writes it" in marked.diagnosis.slips[0].description
    path = tmp_path / "hk.yaml"
    path.write_text(han_kamber_sheet())
    result = run("check", str(path), "--convention", "han-kamber")
    assert result.exit_code == 0, result.stdout
    assert re.search(r"delta_o1\s+-0\.138498562\s+-0\.138498562\s+±5e-10\s+✓", result.stdout)
    assert "Graded in the convention δ = −∂E/∂net" in result.stdout
    post = run("check", str(path), "--convention", "post")
    assert post.exit_code == 1
    assert "• your deltas follow δ = −∂E/∂net, as Han & Kamber and Mitchell write it" in (
        post.stdout
    )
    for name, text in (("a.json", '{"convention": "han-kamber", "delta_o1": -0.1385}'),):
        (tmp_path / name).write_text(text)
        assert run("check", str(tmp_path / name)).exit_code == 0


def test_the_command_lines_choices_are_the_conventions() -> None:
    from backprop_cli.specs.choices import SIGN_CONVENTIONS
    from backprop_cli.tutor.conventions import AUTO, CONVENTIONS

    assert SIGN_CONVENTIONS == (AUTO, *CONVENTIONS) == ("auto", "post", "han-kamber")
    refused = run("check", "answers.yaml", "--convention", "mitchell")
    assert refused.exit_code == 2 and "'mitchell' is not one of" in refused.stderr


def test_an_unknown_convention_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "answers.yaml"
    path.write_text("delta_o1: 0.1385\nconvention: hk\n")
    match = assert_input_error(run("check", str(path)))
    assert match["line"] == "2" and match["col"] == "13"
    assert match["rest"] == "convention: expected one of post, han-kamber, got 'hk'"


def arithmetic(text: str) -> float | None:
    """The value of + − * and brackets over numbers; None for anything else (e^, calls)."""
    ops = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul}

    def value(node: ast.AST) -> float:
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            return float(node.value)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -value(node.operand)
        if isinstance(node, ast.BinOp) and type(node.op) in ops:
            return float(ops[type(node.op)](value(node.left), value(node.right)))
        raise ValueError(ast.dump(node))

    try:
        return value(ast.parse(text, mode="eval").body)
    except (SyntaxError, ValueError):
        return None


def test_in_convention_keeps_every_formula_true() -> None:
    # Each step's formula, with its numbers, gives its value in either convention.
    from backprop_cli.tutor.conventions import HAN_KAMBER, in_convention

    for spec in (load_spec(), loads_spec(ONLINE)):
        trace = in_convention(step(spec), HAN_KAMBER)
        flipped = 0
        for s in trace.steps:
            body = s.template.split(" = ")[0]
            value = arithmetic(_SLOT.sub(lambda m, t=s.terms: repr(t[m[1]]), body))
            if value is None:
                continue
            assert value == pytest.approx(s.value, rel=1e-12, abs=1e-15), (s.id, s.template)
            flipped += s.id.startswith("delta_") or "-{delta_" in s.template
        assert flipped >= 8
        delta = next(s for s in trace.steps if s.id == "delta_o1")
        assert delta.formula == "-dE_total/dout_o1 * dout_o1/dnet_o1"


# --- an id without [k] in a network of several samples -------------------------------------------

ONLINE = """\
name: two samples, online
inputs: 2
layers:
  - {size: 2, activation: sigmoid, weights: [[0.15, 0.2], [0.25, 0.3]], bias: 0.35}
  - {size: 2, activation: sigmoid, weights: [[0.4, 0.45], [0.5, 0.55]], bias: 0.6}
loss: half_sse
training: {learning_rate: 0.5, mode: online, update_biases: false}
samples:
  - {inputs: [0.05, 0.10], targets: [0.01, 0.99]}
  - {inputs: [0.9, 0.2], targets: [0.5, 0.1]}
"""


def online_w1() -> tuple[float, float]:
    """w1 after the first and after the second update of the online run."""
    net = Net()
    seen = []
    for x, t in (POST_SAMPLE, SECOND_SAMPLE):
        net.update(net.gradients(x, t))
        seen.append(net.W1[0][0])
    return seen[0], seen[1]


def test_an_unindexed_update_that_is_the_second_is_graded_as_the_second() -> None:
    first, second = online_w1()
    assert f"{second:.9f}" == "0.141788769"
    v = by_id(judged(f"w1+: {second:.9f}\n", ONLINE))["w1+"]
    assert v.status == "right"
    assert v.expected == pytest.approx(second, rel=1e-12)
    assert v.reason == "it is w1+[2], update 2 of 2, not w1+[1]"
    # Right for the first: graded as it, and the report says which one that was.
    report = judged(f"w1+: {first:.9f}\n", ONLINE)
    assert report.passed and by_id(report)["w1+"].expected == pytest.approx(first, rel=1e-12)
    assert report.notes == [
        "An id without [k] is graded as its first sample's or update's: w1+ as w1+[1] "
        "(update 1 of 2); [2] names the second."
    ]


def test_an_unindexed_update_that_is_neither_says_which_it_was_graded_as() -> None:
    report = judged("w1+: 0.1234\n", ONLINE)
    v = by_id(report)["w1+"]
    assert v.status == "wrong" and v.expected == pytest.approx(online_w1()[0], rel=1e-12)
    assert v.reason == "graded as w1+[1], update 1 of 2; it is no other update's either"
    # w1+[2] answered on its own line: the bare w1+ is the first update, and wrong.
    _, second = online_w1()
    both = judged(f"w1+[2]: {second:.9f}\nw1+: {second:.9f}\n", ONLINE)
    assert by_id(both)["w1+[2]"].status == "right"
    assert by_id(both)["w1+"].status == "wrong"
    result = run_text("check", f"w1+: {second:.9f}\n", ONLINE)
    assert re.search(r"w1\+\s+0\.141788769\s+0\.141788769\s+±5e-10\s+✓  \(it is w1\+\[2\]", result)


def run_text(command: str, sheet: str, spec_text: str, *args: str) -> str:
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        (Path(d) / "a.yaml").write_text(sheet)
        (Path(d) / "net.yaml").write_text(spec_text)
        result = run(command, str(Path(d) / "a.yaml"), str(Path(d) / "net.yaml"), *args)
        assert result.exit_code in (0, 1), result.stderr
        return str(result.stdout)


# --- --round N with answers worked to more decimals -----------------------------------------------


def exact_sheet(decimals: int) -> tuple[str, dict[str, float]]:
    net = Net()
    x, t = POST_SAMPLE
    _, out_h, _ = net.forward(x)
    values = {"out_h1": out_h[0], "E_total": net.error(x, t)}
    net.update(net.gradients(x, t))
    values.update({"w5+": net.W2[0][0], "w1+": net.W1[0][0], "E_total+": net.error(x, t)})
    return "".join(f"{k}: {v:.{decimals}f}\n" for k, v in values.items()), values


def test_answers_worked_without_rounding_are_graded_exactly_under_round() -> None:
    sheet, values = exact_sheet(6)
    report = judged(sheet, round_to=4)
    assert report.passed and report.count("right") == 5
    for key, v in by_id(report).items():
        assert v.expected == pytest.approx(values[key], rel=1e-12), key
        assert v.reason == "graded exactly" and v.rounded is None
    assert report.notes == [
        "5 answers give more decimals than --round 4 and agree with the exact run: worked "
        "without rounding (or to more decimals), so they are graded exactly, not against the "
        "run rounded to 4 decimals."
    ]
    # Answers to 4 decimals are still graded against the run rounded to 4.
    four = judged("out_h1: 0.5933\nE_total+: 0.2910\n", round_to=4)
    assert four.passed and not four.notes
    assert by_id(four)["E_total+"].expected == 0.291  # exact: 0.291027774
    # A wrong one among the exact ones is diagnosed against the exact run.
    wrong = judged(sheet.replace(f"{values['w5+']:.6f}", "0.317833"), round_to=4)
    assert wrong.diagnosis is not None and wrong.diagnosis.verdict.answer.key == "w5+"
    assert wrong.diagnosis.verdict.expected == pytest.approx(values["w5+"], rel=1e-12)
    assert "learning_rate" in wrong.codes  # η left out: 0.4 − 0.082167041 = 0.317833


def test_the_drift_column_shows_no_residue(tmp_path: Path) -> None:
    # net_h2 = 0.25·0.05 + 0.3·0.1 + 0.35 is 0.3925 on paper, 0.39249999999999996 in float64.
    assert 0.25 * 0.05 + 0.3 * 0.1 + 0.35 * 1 != 0.3925
    path = tmp_path / "a.yaml"
    path.write_text("net_h2: 0.3925\nE_total: 0.2984\n")
    out = run("check", str(path), "--round", "4").stdout
    assert re.search(r"net_h2\s+0\.3925\s+0\.3925\s+0\s+±5e-05\s+✓", out), out
    assert "e-17" not in out
    assert re.search(r"E_total\s+0\.2984\s+0\.2984\s+\+0\.000028891", out)


# --- slips not diagnosed before ----------------------------------------------------------------

TANH = """\
name: tanh hidden layer
inputs: 2
layers:
  - {name: h, activation: tanh, weights: [[0.15, 0.2], [0.25, 0.3]], bias: 0.35}
  - {name: o, activation: sigmoid, weights: [[0.4, 0.45], [0.5, 0.55]], bias: 0.6}
loss: half_sse
training: {learning_rate: 0.5, update_biases: false}
samples:
  - {inputs: [0.05, 0.10], targets: [0.01, 0.99]}
"""


def test_a_tanh_layer_with_the_logistics_derivative_is_named() -> None:
    net = Net("tanh")
    x, t = POST_SAMPLE
    g = net.gradients(x, t, dhidden=lambda o: o * (1 - o))  # the bug: σ′ for tanh
    net.update(g)
    sheet = (
        f"delta_h1: {-g['err_h'][0]:.9f}\ndE_total/dw1: {g['W1'][0][0]:.9f}\n"
        f"w1+: {net.W1[0][0]:.9f}\n"
    )
    report = judged(sheet, TANH)
    assert report.count("wrong") == 3
    assert report.diagnosis is not None
    slip = report.diagnosis.slips[0]
    assert slip.code == "wrong_derivative"
    assert slip.description == (
        "the wrong activation derivative in layer h: sigmoid's out * (1 - out) used for tanh, "
        "whose derivative is 1 - out^2"
    )
    assert slip.value == pytest.approx(-g["err_h"][0], rel=1e-12)
    assert set(slip.also) == {"dE_total/dw1", "w1+"}
    _, out_h, _ = Net("tanh").forward(x)
    assert slip.through == (("dout_h1/dnet_h1", pytest.approx(out_h[0] * (1 - out_h[0]))),)
    # A program's full-precision output of the same bug.
    program = {
        "delta_h1": -g["err_h"][0],
        "delta_h2": -g["err_h"][1],
        "dE_total/dw1": g["W1"][0][0],
        "dE_total/dw4": g["W1"][1][1],
    }
    spec = loads_spec(TANH)
    from backprop_cli.tutor.answers import from_plain

    given = from_plain({k: repr(v) for k, v in program.items()}, None, "<p>", step(spec))
    codes = check(spec, given).codes
    assert codes[0] == "wrong_derivative"


def adam_log() -> tuple[str, list[float]]:
    """The post's network trained 12 epochs with Adam (PyTorch's defaults), biases too."""
    net = Net()
    x, t = POST_SAMPLE
    keys = [(W, j, i) for W in ("W1", "W2") for j in range(2) for i in range(2)]
    m = {k: 0.0 for k in [*keys, "b1", "b2"]}
    v = dict(m)
    rows, lines = [], ["epoch,E_total"]
    for step_t in range(1, 13):
        g = net.gradients(x, t)
        for k in m:
            grad = g[k] if isinstance(k, str) else g[k[0]][k[1]][k[2]]
            m[k] = 0.9 * m[k] + 0.1 * grad
            v[k] = 0.999 * v[k] + 0.001 * grad * grad
            m_hat, v_hat = m[k] / (1 - 0.9**step_t), v[k] / (1 - 0.999**step_t)
            change = 0.05 * m_hat / (math.sqrt(v_hat) + 1e-8)
            if isinstance(k, str):
                setattr(net, k, getattr(net, k) - change)
            else:
                getattr(net, k[0])[k[1]][k[2]] -= change
        rows.append(net.error(x, t))
        lines.append(f"{step_t},{rows[-1]!r}")
    return "\n".join(lines) + "\n", rows


MOMENTUM = """\
name: momentum
inputs: 2
layers:
  - {name: h, activation: sigmoid, weights: [[0.15, 0.2], [0.25, 0.3]], bias: 0.35}
  - {name: o, activation: sigmoid, weights: [[0.4, 0.45], [0.5, 0.55]], bias: 0.6}
loss: half_sse
training: {learning_rate: 0.05, optimizer: {name: momentum, momentum: 0.9}}
samples:
  - {inputs: [0.05, 0.10], targets: [0.01, 0.99]}
"""


def test_an_adam_log_against_a_momentum_config_names_the_optimizer() -> None:
    text, rows = adam_log()
    spec = loads_spec(MOMENTUM)
    report = check_log(spec, lambda: parse_log(text, "adam.csv"))
    assert not report.passed and report.difference is not None
    assert report.difference.row.epoch == 1
    assert report.codes == ["optimizer"]
    slip = report.slips[0]
    assert slip.detail == {"optimizer": "adam"}
    assert slip.description == (
        "trained with adam (β1 = 0.9, β2 = 0.999, ε = 1e-08: its defaults), while this config "
        "says momentum (μ = 0.9)"
    )
    assert report.rows == 12
    # The same config with Adam agrees with the log row for row.
    adam = loads_spec(MOMENTUM.replace("{name: momentum, momentum: 0.9}", "{name: adam}"))
    assert check_log(adam, lambda: parse_log(text, "adam.csv")).passed
    assert rows[0] == pytest.approx(0.2817778542654659, rel=1e-12)


# --- a narrative that never calls a step right and then blames it ---------------------------------


def test_a_slip_in_an_input_not_given_is_placed_there() -> None:
    net = Net()
    x, t = POST_SAMPLE
    g = net.gradients(x, t)
    net.update(g, biases=True)  # the config holds the biases fixed
    net_h1 = net.W1[0][0] * x[0] + net.W1[0][1] * x[1] + net.b1
    sheet = f"w1+: {net.W1[0][0]:.9f}\nw2+: {net.W1[0][1]:.9f}\nnet_h1+: {net_h1:.9f}\n"
    report = judged(sheet)
    assert [v.status for v in report.verdicts] == ["right", "right", "wrong"]
    assert report.diagnosis is not None
    slip = report.diagnosis.slips[0]
    assert slip.code == "bias_updated"
    assert slip.through == (("b1+", pytest.approx(net.b1, rel=1e-12)),)
    out = run_text("check", sheet, MAZUR_TEXT)
    said = "Its inputs you gave: w1+ ✓, w2+ ✓: right, so the slip is in this step or in one you "
    assert said in out
    assert "right, so the slip is in this step\n" not in out
    assert "(by way of b1+ = 0.340637195, which you did not give)" in out.replace("\n    ", " ")


def test_a_slip_that_changes_an_input_written_right_is_ruled_out() -> None:
    # dE_total/dw1 from the output weights already updated (the sequential order): 0.0003647.
    alone = judged("dE_total/dw1: 0.0003647\n")
    assert "sequential_order" in alone.codes
    # With dE_total/dout_h1 written right, that order is ruled out: it changes that input.
    right = judged("dE_total/dout_h1: 0.036350306\ndE_total/dw1: 0.0003647\n")
    assert right.diagnosis is not None
    assert [name for name, _ in right.diagnosis.inputs] == [
        "dE_total/dout_h1",
        "dout_h1/dnet_h1",
        "dnet_h1/dw1",
    ]
    assert "sequential_order" not in right.codes
    # The derivative left out is a slip in the step that uses it: its factor written right
    # does not rule it out (the post's delta_o1 = dE_total/dout_o1 · dout_o1/dnet_o1).
    kept = judged("dE_total/dout_o1: 0.74136507\ndout_o1/dnet_o1: 0.1868\ndelta_o1: 0.7414\n")
    assert kept.codes[0] == "no_derivative"


def test_report_json_carries_the_convention_notes_and_through(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    path.write_text("w1+: 0.149780716\nw2+: 0.199561432\nnet_h1+: 0.368082374\n")
    doc = json.loads(run("check", str(path), "-f", "json").stdout)
    assert doc["convention"] == "post" and doc["notes"] == []
    assert doc["diagnosis"]["slips"][0]["through"] == [{"id": "b1+", "value": 0.3406371953026479}]
