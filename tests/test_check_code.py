"""`backprop check` grading code: the numbers of small, deliberately buggy implementations are
diagnosed with the bug's code.

`numpy_step` is backprop as people write it from scratch with NumPy, for a 2-2-2 network like the
post's; each keyword switches on one bug, written the way it is usually written (the comment on
each `if` shows the line as it appears in the wild). It prints every quantity under the post's
ids, with full float64 digits, so `check` judges it as a program's output.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from backprop_cli import check, load_spec, loads_spec, step
from backprop_cli.specs.model import Spec
from backprop_cli.tutor.grading import Report

from .tutor_support import ONLINE_SPEC

np = pytest.importorskip("numpy")

MAZUR = load_spec()
POST_W1 = [[0.15, 0.20], [0.25, 0.30]]
POST_W2 = [[0.40, 0.45], [0.50, 0.55]]


def two_samples(mode: str, reduction: str = "mean", biases: bool = False) -> Spec:
    """The post's network with a second sample, trained in `mode`."""
    return loads_spec(f"""\
name: two samples
inputs: [i1, i2]
layers:
  - {{name: h, activation: sigmoid, weights: {POST_W1}, bias: 0.35}}
  - {{name: o, activation: sigmoid, weights: {POST_W2}, bias: 0.6}}
loss: half_sse
training: {{learning_rate: 0.5, mode: {mode}, reduction: {reduction},
            update_biases: {str(biases).lower()}}}
samples:
  - {{inputs: [0.05, 0.10], targets: [0.01, 0.99]}}
  - {{inputs: [0.30, 0.70], targets: [0.90, 0.10]}}
""")


def sigmoid(z: Any) -> Any:
    return 1 / (1 + np.exp(-z))


def sigmoid_prime(z: Any) -> Any:
    return sigmoid(z) * (1 - sigmoid(z))


def numpy_step(spec: Spec = MAZUR, **bug: Any) -> dict[str, float]:
    """One epoch of backprop for a 2-2-2 sigmoid network, every quantity by the post's id."""
    W1 = np.array(POST_W1)
    W2 = np.array(POST_W2)
    b1, b2 = 0.35, 0.6
    lr = bug.get("lr", spec.training.learning_rate)
    update_biases = spec.training.update_biases
    if bug.get("bias_updated"):  # b1 -= lr * db1, though the config says update_biases: false
        update_biases = True
    if bug.get("bias_not_updated"):  # the bias update forgotten
        update_biases = False
    online = spec.training.mode == "online"
    if bug.get("online_vs_batch"):  # `for x, t in data: ...; W -= lr * dW` inside the loop
        online = not online
    mean = spec.training.reduction == "mean"
    if bug.get("mean_vs_sum"):  # dW = sum(grads) where the mean was meant (or the reverse)
        mean = not mean
    out: dict[str, float] = {}
    several = len(spec.samples) > 1
    grads: list[tuple[Any, Any, float, float]] = []

    def name(key: str, s: int) -> str:
        return f"{key}[{s + 1}]" if several else key

    def update(g: list[tuple[Any, Any, float, float]]) -> None:
        nonlocal W1, W2, b1, b2
        n = 1 if online or not mean else len(g)
        dW1 = sum(x[0] for x in g) / n
        dW2 = sum(x[1] for x in g) / n
        sign = 1 if bug.get("gradient_added") else -1  # W += lr * dW
        W2 = W2 + sign * lr * dW2
        W1 = W1 + sign * lr * dW1
        if update_biases:
            b1 = b1 + sign * lr * sum(x[2] for x in g) / n
            b2 = b2 + sign * lr * sum(x[3] for x in g) / n

    for s, sample in enumerate(spec.samples):
        x, t = np.array(sample.inputs), np.array(sample.targets)
        Wh = W1.T if bug.get("transposed") else W1  # net_h = W1.T @ x: rows and columns swapped
        net_h = Wh @ x + b1
        out_h = sigmoid(net_h)
        net_o = W2 @ out_h + b2
        out_o = sigmoid(net_o)
        E = 0.5 * (t - out_o) ** 2
        dE_dout = -(t - out_o)
        if bug.get("error_sign"):  # dE_dout = t - out_o
            dE_dout = t - out_o
        if bug.get("missing_half"):  # d/dout (t - out)**2 = 2 * (out - t), the ½ forgotten
            dE_dout = 2 * (out_o - t)
        dout_o = out_o * (1 - out_o)
        dout_h = out_h * (1 - out_h)
        if bug.get("no_derivative"):  # delta = error (the sigmoid's slope left out)
            dout_o, dout_h = np.ones(2), np.ones(2)
        if bug.get("derivative_of_out"):  # sigmoid_prime(out) where sigmoid_prime(net) belongs
            dout_o, dout_h = sigmoid_prime(out_o), sigmoid_prime(out_h)
        delta_o = dE_dout * dout_o
        dW2 = np.outer(delta_o, out_h)
        W2_seen = W2
        if bug.get("sequential_order"):  # `self.W2 -= lr * dW2` ran before the hidden deltas
            W2_seen = W2 - lr * dW2
        dE_dout_h = W2_seen.T @ delta_o
        delta_h = dE_dout_h * dout_h
        dW1 = np.outer(delta_h, x)
        if bug.get("transposed"):
            dW1 = np.outer(x, delta_h)  # the gradient of W1.T, stored as W1's
        for j, n in enumerate(("h1", "h2")):
            out[name(f"net_{n}", s)] = net_h[j]
            out[name(f"out_{n}", s)] = out_h[j]
        for j, n in enumerate(("o1", "o2")):
            out[name(f"net_{n}", s)] = net_o[j]
            out[name(f"out_{n}", s)] = out_o[j]
            out[name(f"E_{n}", s)] = E[j]
            out[name(f"dE_total/dout_{n}", s)] = dE_dout[j]
            out[name(f"dout_{n}/dnet_{n}", s)] = dout_o[j]
            out[name(f"delta_{n}", s)] = delta_o[j]
        out[name("E_total", s)] = E.sum()
        for j, n in enumerate(("h1", "h2")):
            out[name(f"dE_total/dout_{n}", s)] = dE_dout_h[j]
            out[name(f"dout_{n}/dnet_{n}", s)] = dout_h[j]
            out[name(f"delta_{n}", s)] = delta_h[j]
        for k, w in enumerate(("w1", "w2", "w3", "w4")):
            out[name(f"dE_total/d{w}", s)] = dW1.flat[k]
        for k, w in enumerate(("w5", "w6", "w7", "w8")):
            out[name(f"dE_total/d{w}", s)] = dW2.flat[k]
        if update_biases and spec.training.update_biases:
            out[name("dE_total/db1", s)] = delta_h.sum()
            out[name("dE_total/db2", s)] = delta_o.sum()
        grads.append((dW1, dW2, delta_h.sum(), delta_o.sum()))
        if online:
            update(grads)
            grads = []
    if grads:
        update(grads)
    last = len(spec.samples) - 1  # the epoch's result: w5+[2], after the last sample's update
    for k, w in enumerate(("w1", "w2", "w3", "w4")):
        out[name(f"{w}+", last)] = W1.flat[k]
    for k, w in enumerate(("w5", "w6", "w7", "w8")):
        out[name(f"{w}+", last)] = W2.flat[k]
    out[name("b1+", last)], out[name("b2+", last)] = b1, b2
    return {k: float(v) for k, v in out.items()}


def codes(report: Any) -> list[str]:
    return list(report.codes)


def test_the_clean_implementation_checks_clean() -> None:
    report = check(numpy_step())
    assert isinstance(report, Report)
    assert report.passed, [(v.answer.key, v.status) for v in report.verdicts if v.status != "right"]
    assert len(report.verdicts) == 41  # 11 forward, 12 backward, 8 gradients, 10 updates
    assert sum(v.answer.program for v in report.verdicts) == 38  # 0.3775 has 4 digits


def test_our_own_trace_round_trips(tmp_path: Path) -> None:
    trace = step(MAZUR)
    assert check(trace).passed
    path = tmp_path / "trace.json"
    path.write_text(json.dumps(trace.to_dict()))
    report = check(path)
    assert report.passed and len(report.verdicts) == len(trace.steps)
    spec = loads_spec(ONLINE_SPEC)
    path.write_text(json.dumps(step(spec).to_dict()))
    assert check(path, spec).passed


def test_every_id_with_w2_w3_transposed_is_transposed_weights(tmp_path: Path) -> None:
    # The issue's "done when": a JSON of every id from an implementation with w2/w3 transposed.
    path = tmp_path / "transposed.json"
    path.write_text(json.dumps(numpy_step(transposed=True), indent=1))
    report = check(path)
    assert not report.passed
    assert codes(report)[0] == "transposed_weights"
    slip = report.diagnosis.slips[0]  # type: ignore[union-attr]
    assert "w2/w3 trade places" in slip.description
    wrong = [v.answer.key for v in report.verdicts if v.status == "wrong"]
    assert set(slip.also) == set(wrong) - {report.diagnosis.verdict.answer.key}  # type: ignore[union-attr]
    assert report.verdicts[0].answer.key == "net_h1" and report.verdicts[0].status == "wrong"


BUGS: list[tuple[str, Callable[[], Spec], dict[str, Any]]] = [
    ("transposed_weights", lambda: MAZUR, {"transposed": True}),
    ("bias_updated", lambda: MAZUR, {"bias_updated": True}),
    ("bias_not_updated", lambda: two_samples("online", biases=True), {"bias_not_updated": True}),
    ("sequential_order", lambda: MAZUR, {"sequential_order": True}),
    ("derivative_of_out", lambda: MAZUR, {"derivative_of_out": True}),
    ("no_derivative", lambda: MAZUR, {"no_derivative": True}),
    ("error_sign", lambda: MAZUR, {"error_sign": True}),
    ("missing_half", lambda: MAZUR, {"missing_half": True}),
    ("mean_vs_sum", lambda: two_samples("batch"), {"mean_vs_sum": True}),
    ("online_vs_batch", lambda: two_samples("batch"), {"online_vs_batch": True}),
    ("online_vs_batch", lambda: two_samples("online"), {"online_vs_batch": True}),
    ("learning_rate", lambda: MAZUR, {"lr": 0.1}),
    ("gradient_added", lambda: MAZUR, {"gradient_added": True}),
]


@pytest.mark.parametrize(
    ("code", "spec", "bug"), BUGS, ids=[f"{c}-{i}" for i, (c, _, _) in enumerate(BUGS)]
)
def test_each_bug_is_diagnosed(code: str, spec: Callable[[], Spec], bug: dict[str, Any]) -> None:
    net = spec()
    assert check(numpy_step(net), net).passed  # the same code without the bug is right
    report = check(numpy_step(net, **bug), net)
    assert not report.passed
    assert codes(report)[0] == code, [(s.code, s.also, s.breaks) for s in report.diagnosis.slips]  # type: ignore[union-attr]


def test_learning_rate_says_which() -> None:
    report = check(numpy_step(lr=0.1))
    slip = report.diagnosis.slips[0]  # type: ignore[union-attr]
    assert slip.code == "learning_rate" and slip.eta == 0.1
    assert "η = 0.1, not the config's 0.5" in slip.description
    assert report.to_dict()["diagnosis"]["slips"][0]["learning_rate"] == 0.1


def test_program_output_has_no_rounding_verdict() -> None:
    good = numpy_step()
    # 1e-10 relative off: still right for a program; 1e-8 off: wrong, never "rounding"
    near = {"dE_total/dw5": good["dE_total/dw5"] * (1 + 1e-10)}
    far = {"dE_total/dw5": good["dE_total/dw5"] * (1 + 1e-8)}
    v = check(near).verdicts[0]
    assert v.status == "right" and v.reason == "program output: within 1e-9 relative"
    assert check(far).verdicts[0].status == "wrong"


SOFTMAX = loads_spec(f"""\
name: softmax output
inputs: [i1, i2]
layers:
  - {{name: h, activation: sigmoid, weights: {POST_W1}, bias: 0.35}}
  - {{name: o, activation: softmax, weights: {POST_W2}, bias: 0.6}}
loss: cross_entropy
training: {{learning_rate: 0.5, update_biases: false}}
samples:
  - {{inputs: [0.05, 0.10], targets: [0, 1]}}
""")


def numpy_softmax_step(twice: str = "") -> dict[str, float]:
    """Softmax with cross-entropy, whose delta is out − target; `twice` multiplies it by the
    softmax's derivative again, elementwise or through the Jacobian."""
    W1, W2 = np.array(POST_W1), np.array(POST_W2)
    x, t = np.array([0.05, 0.10]), np.array([0.0, 1.0])
    out_h = sigmoid(W1 @ x + 0.35)
    z = W2 @ out_h + 0.6
    s = np.exp(z) / np.exp(z).sum()
    delta_o = s - t
    if twice == "diagonal":  # delta = (s - t) * s * (1 - s), as for a sigmoid
        delta_o = delta_o * s * (1 - s)
    if twice == "full":  # delta = softmax_jacobian(s) @ (s - t)
        delta_o = (np.diag(s) - np.outer(s, s)) @ delta_o
    delta_h = (W2.T @ delta_o) * out_h * (1 - out_h)
    dW2, dW1 = np.outer(delta_o, out_h), np.outer(delta_h, x)
    out = {"out_o1": s[0], "out_o2": s[1], "delta_o1": delta_o[0], "delta_o2": delta_o[1]}
    out.update({"delta_h1": delta_h[0], "delta_h2": delta_h[1]})
    for k in range(4):
        out[f"dE_total/dw{k + 1}"], out[f"dE_total/dw{k + 5}"] = dW1.flat[k], dW2.flat[k]
        out[f"w{k + 1}+"] = (W1 - 0.5 * dW1).flat[k]
        out[f"w{k + 5}+"] = (W2 - 0.5 * dW2).flat[k]
    return {k: float(v) for k, v in out.items()}


@pytest.mark.parametrize("twice", ["diagonal", "full"])
def test_softmax_jacobian_twice(twice: str) -> None:
    assert check(numpy_softmax_step(), SOFTMAX).passed
    report = check(numpy_softmax_step(twice), SOFTMAX)
    assert report.codes[0] == "softmax_jacobian_twice"
    assert report.diagnosis is not None and report.diagnosis.verdict.answer.key == "delta_o1"
    assert ("(its Jacobian)" in report.diagnosis.slips[0].description) == (twice == "full")


def test_the_readme_s_transposed_json_is_this_implementation_s_output() -> None:
    shipped = Path(__file__).parents[1] / "configs" / "transposed.json"
    assert json.loads(shipped.read_text()) == numpy_step(transposed=True)


def test_an_unknown_bug_names_the_first_wrong_id_and_its_inputs() -> None:
    # out_h from tanh, where the config says sigmoid: no known bug gives it.
    values = numpy_step()
    values["out_h1"] = float(np.tanh(values["net_h1"]))
    report = check(values)
    d = report.diagnosis
    assert d is not None and d.verdict.answer.key == "out_h1" and d.slips == []
    assert [(name, v.status if v else None) for name, v in d.inputs] == [("net_h1", "right")]
    text = render(report)
    assert "First mistake: out_h1 (line 1)" in text
    assert "Its inputs you gave: net_h1 ✓: right, so the slip is in this step" in text
    assert "No known slip gives your value; redo this step from the numbers above." in text


def render(report: Report) -> str:
    import io

    from rich.console import Console

    from backprop_cli.render.check import render_report

    out = io.StringIO()
    Console(file=out, width=100, color_system=None).print(render_report(report))
    return out.getvalue()
