"""`backprop check LOG`: a training log (E_total by epoch) against the same training.

`plain_train` is the post's network trained in plain Python, as a reader writes it to print
the loss every epoch; each keyword is one way such a log comes out different from ours.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from backprop_cli import check, load_spec, loads_spec
from backprop_cli.specs.model import Spec
from backprop_cli.specs.source import SourceError
from backprop_cli.tutor.logcheck import LogReport, check_log, parse_log

from .tutor_support import run

MAZUR = load_spec()


def two_samples(mode: str, reduction: str = "mean") -> Spec:
    return loads_spec(f"""\
name: two samples
inputs: [i1, i2]
layers:
  - {{name: h, activation: sigmoid, weights: [[0.15, 0.2], [0.25, 0.3]], bias: 0.35}}
  - {{name: o, activation: sigmoid, weights: [[0.4, 0.45], [0.5, 0.55]], bias: 0.6}}
loss: half_sse
training: {{learning_rate: 0.5, mode: {mode}, reduction: {reduction}, update_biases: false}}
samples:
  - {{inputs: [0.05, 0.10], targets: [0.01, 0.99]}}
  - {{inputs: [0.30, 0.70], targets: [0.90, 0.10]}}
""")


def plain_train(spec: Spec, epochs: int, **bug: Any) -> list[tuple[int, float]]:
    """(epoch, E_total) for epochs 0..epochs of a 2-2-2 sigmoid network, in plain Python."""
    w = [list(r) for layer in spec.layers for r in layer.weights]  # w1..w4 rows, then w5..w8
    b1, b2 = (layer.bias[0] if layer.bias else 0.0 for layer in spec.layers)
    data = [(s.inputs, s.targets) for s in spec.samples]
    lr = bug.get("lr", spec.training.learning_rate)
    online = (spec.training.mode == "online") != bool(bug.get("online_vs_batch"))
    mean = (spec.training.reduction == "mean") != bool(bug.get("mean_vs_sum"))
    n = bug.get("round")  # round(x, n) after every operation, as with a calculator

    def r(x: float) -> float:
        return round(x, n) if n is not None else x

    def sig(z: float) -> float:
        return r(1 / (1 + math.exp(-z)))

    def forward(x: Any) -> tuple[list[float], list[float]]:
        h = [sig(r(w[j][0] * x[0] + w[j][1] * x[1] + b1)) for j in range(2)]
        o = [sig(r(w[2 + j][0] * h[0] + w[2 + j][1] * h[1] + b2)) for j in range(2)]
        return h, o

    def loss() -> float:
        total = 0.0
        for x, t in data:
            _, o = forward(x)
            total += r(sum(r(0.5 * (t[j] - o[j]) ** 2) for j in range(2)))
        return r(total / len(data) if mean else total)

    def grads(x: Any, t: Any) -> list[list[float]]:
        h, o = forward(x)
        d_o = [r(r(-(t[j] - o[j])) * r(o[j] * (1 - o[j]))) for j in range(2)]
        g = [[0.0, 0.0] for _ in range(4)]
        for j in range(2):
            g[2 + j] = [r(d_o[j] * h[0]), r(d_o[j] * h[1])]
        w_out = w
        if bug.get("sequential"):  # the output weights updated before the hidden deltas
            w_out = [
                *w[:2],
                *([r(w[2 + j][i] - lr * g[2 + j][i]) for i in range(2)] for j in range(2)),
            ]
        for j in range(2):
            back = r(r(d_o[0] * w_out[2][j]) + r(d_o[1] * w_out[3][j]))
            d_h = r(back * r(h[j] * (1 - h[j])))
            g[j] = [r(d_h * x[0]), r(d_h * x[1])]
        return g

    def apply(gs: list[list[list[float]]]) -> None:
        k = len(gs) if mean else 1
        for a in range(4):
            for i in range(2):
                w[a][i] = r(w[a][i] - lr * r(sum(g[a][i] for g in gs) / k))

    log = [(0, loss())]
    for epoch in range(1, epochs + 1):
        if online:
            for x, t in data:
                apply([grads(x, t)])
        else:
            apply([grads(x, t) for x, t in data])
        log.append((epoch, loss()))
    if bug.get("count_from_1"):  # for epoch in range(1, n + 1): print(epoch, loss()); train()
        log = [(e + 1, v) for e, v in log[:-1]]
    return log


def write_csv(path: Path, log: list[tuple[int, float]], fmt: str = "{:.10f}") -> Path:
    path.write_text("epoch,E_total\n" + "".join(f"{e},{fmt.format(v)}\n" for e, v in log))
    return path


def test_the_post_s_figure_is_our_epoch_9999(tmp_path: Path) -> None:
    # The "done when": a CSV log of the worked example whose row 10000 says 0.0000351085
    log = write_csv(tmp_path / "mazur.csv", plain_train(MAZUR, 10_000, count_from_1=True))
    assert log.read_text().splitlines()[10_000] == "10000,0.0000351085"
    report = check(log)
    assert isinstance(report, LogReport) and not report.passed
    assert report.difference is not None and report.difference.row.epoch == 1
    assert report.difference.row.text == "0.2983711088"  # the error before any update
    assert report.codes == ["epoch_offset"]
    assert report.slips[0].detail == {"offset": -1}
    assert report.rows == 10_000


def test_a_log_of_the_same_training_passes(tmp_path: Path) -> None:
    log = write_csv(tmp_path / "ok.csv", plain_train(MAZUR, 300))
    report = check(log)
    assert report.passed and report.rows == 301 and report.codes == []


@pytest.mark.parametrize(
    ("spec", "bug", "code", "detail"),
    [
        (MAZUR, {"sequential": True}, "sequential_order", {}),
        (MAZUR, {"lr": 0.25}, "learning_rate", {"learning_rate": 0.25}),
        (two_samples("online"), {"online_vs_batch": True}, "online_vs_batch", {"mode": "batch"}),
        (two_samples("batch"), {"online_vs_batch": True}, "online_vs_batch", {"mode": "online"}),
        (two_samples("batch"), {"mean_vs_sum": True}, "mean_vs_sum", {"reduction": "sum"}),
        (MAZUR, {"count_from_1": True}, "epoch_offset", {"offset": -1}),
    ],
)
def test_each_cause_is_named(spec: Spec, bug: dict[str, Any], code: str, detail: Any) -> None:
    log = plain_train(spec, 200, **bug)
    text = "epoch,E_total\n" + "".join(f"{e},{v!r}\n" for e, v in log)
    report = check_log(spec, lambda: parse_log(text, "log.csv"))
    assert not report.passed
    assert report.codes[0] == code, report.codes
    assert report.slips[0].detail == detail


def test_rounding_as_it_went_says_n(tmp_path: Path) -> None:
    log = write_csv(tmp_path / "calc.csv", plain_train(MAZUR, 100, round=4), "{:.4f}")
    report = check(log)
    assert not report.passed
    assert report.codes == ["rounding"]
    assert report.slips[0].detail == {"decimals": 4}


def test_jsonl_of_train_passes_and_is_read_as_a_log(tmp_path: Path) -> None:
    result = run("train", "--epochs", "50", "--format", "jsonl")
    path = tmp_path / "run.jsonl"
    path.write_text(result.stdout)
    report = check(path)
    assert report.passed and report.rows == 50  # the summary record is not an epoch
    doc = json.loads(run("check", str(path), "--format", "json").stdout)
    assert doc["passed"] is True and doc["kind"] == "log" and doc["last_epoch"] == 50


def test_log_command_output(tmp_path: Path) -> None:
    log = write_csv(tmp_path / "mazur.csv", plain_train(MAZUR, 50, count_from_1=True))
    result = run("check", str(log))
    assert result.exit_code == 1
    assert "First difference: epoch 1 (line 2): the log says 0.2983711088" in result.stdout
    assert "[epoch_offset]" in result.stdout
    ok = write_csv(tmp_path / "ok.csv", plain_train(MAZUR, 5))
    result = run("check", str(ok))
    assert result.exit_code == 0
    assert result.stdout.strip() == "✓ all 6 epochs agree to the digits written (up to epoch 5)"


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("epoch,loss\n1,0.3\n", "log.csv:1:1: expected a header epoch,E_total; got 'epoch,loss'"),
        ("epoch,E_total\n1,0.29\n1,0.28\n", "log.csv:3:1: epoch: epoch 1 after epoch 1"),
        ("epoch,E_total\n1,abc\n", "log.csv:2:3: E_total: expected a number written in digits"),
        ("epoch,E_total\nx,0.2\n", "log.csv:2:1: epoch: expected a count from 0"),
        ("epoch,E_total\n1,0.2,3\n", "log.csv:2:1: expected 2 columns, got 3"),
        ("epoch,E_total\n", "log.csv:1:1: no epochs"),
    ],
)
def test_bad_logs_name_the_place(text: str, where: str) -> None:
    with pytest.raises(SourceError) as exc:
        check_log(MAZUR, lambda: parse_log(text, "log.csv"))
    assert str(exc.value).startswith(where), str(exc.value)


def test_bad_jsonl_names_the_place(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"epoch": 1, "E_total": 0.29}\n{"epoch": 2, \n')
    result = run("check", str(path))
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {path}:2:")
    assert "not valid JSON" in result.stderr


BIG = """\
import resource, sys
from pathlib import Path
from backprop_cli import loads_spec
from backprop_cli.tutor.logcheck import check_log, read_log
rows = int(sys.argv[2])
path = Path(sys.argv[1])
with path.open("w") as f:  # a network at its optimum: E_total is 0 every epoch
    f.write("epoch,E_total\\n")
    for e in range(rows):
        f.write(f"{e},0\\n")
spec = loads_spec('''
inputs: 1
layers: [{size: 1, activation: linear, weights: [[0.5]], bias: 0.0}]
loss: half_sse
samples: [{inputs: [1.0], targets: [0.5]}]
''')
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
report = check_log(spec, lambda: read_log(path))
assert report.passed and report.rows == rows, report
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)
"""


def test_a_million_epochs_in_constant_memory(tmp_path: Path) -> None:
    # The peak resident size grows by less than 4 MB reading 10^6 rows; holding them (as
    # NamedTuples in a list) would take over 100 MB.
    def growth(rows: int) -> int:
        out = subprocess.run(
            [sys.executable, "-c", BIG, str(tmp_path / f"{rows}.csv"), str(rows)],
            capture_output=True,
            text=True,
            check=True,
        )
        return int(out.stdout)  # kilobytes

    assert growth(1_000_000) - growth(1_000) < 4_000


def test_the_readme_s_log_is_the_post_s_training_counted_from_1() -> None:
    shipped = Path(__file__).parents[1] / "configs" / "losses.csv"
    log = plain_train(MAZUR, 10_000, count_from_1=True)
    rows = [(e, v) for e, v in log if e <= 3 or e % 1000 == 0]
    assert shipped.read_text() == "epoch,E_total\n" + "".join(f"{e},{v:.10f}\n" for e, v in rows)


def test_a_log_no_cause_explains(tmp_path: Path) -> None:
    log = plain_train(MAZUR, 20)
    log[10] = (10, log[10][1] * 1.5)  # one epoch off, by nothing the checker knows
    report = check(write_csv(tmp_path / "odd.csv", log))
    assert report.difference is not None and report.difference.row.epoch == 10
    assert report.codes == [] and report.rows == 11
    result = run("check", str(tmp_path / "odd.csv"))
    assert result.exit_code == 1
    assert "No known cause reproduces the log" in result.stdout
    assert json.loads(run("check", str(tmp_path / "odd.csv"), "-f", "json").stdout)[
        "diagnosis"
    ] == {"slips": []}


def test_a_log_that_starts_before_a_resumed_run(tmp_path: Path) -> None:
    saved = tmp_path / "saved.yaml"
    run("train", "--epochs", "3", "--save", str(saved), "--quiet")
    log = write_csv(tmp_path / "log.csv", plain_train(MAZUR, 5))
    result = run("check", str(log), str(saved))
    assert result.exit_code == 1
    assert "the log says 0.2983711088, but this training starts later" in result.stdout
