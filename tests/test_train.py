"""`backprop train`: the post's 10,000 epochs, bit-exact resume, optimizers, and failure modes."""

from __future__ import annotations

import importlib.util
import itertools
import json
import math
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from backprop_cli import load_spec, loads_spec, step
from backprop_cli.cli import app
from backprop_cli.kernels import Curve, Trainer
from backprop_cli.kernels.compiled import CompiledKernel, FusedKernel
from backprop_cli.kernels.loops import LoopKernel
from backprop_cli.ops import OPTIMIZERS as CATALOGUE_OPTIMIZERS
from backprop_cli.specs.fileio import dump_spec
from backprop_cli.specs.state import State
from backprop_cli.specs.validate import SpecError

OPTIMIZERS = CATALOGUE_OPTIMIZERS.names()
ENV = {"COLUMNS": "100", "NO_COLOR": "1"}


def run(*args: str) -> Any:
    return CliRunner().invoke(app, ["train", *args], env=ENV)


def close(a: float, b: float, rel: float = 1e-12) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=0.0)


def net(
    optimizer: str = "sgd",
    mode: str = "online",
    *,
    reduction: str = "mean",
    order: str = "simultaneous",
    biases: bool = True,
    shared: bool = True,
    acts: tuple[str, str, str] = ("sigmoid", "sigmoid", "half_sse"),
    lr: float = 0.5,
) -> str:
    """A 2-2-2 network with three samples (the worked example's weights)."""
    hidden, out, loss = acts
    t1, t2 = (
        ("[0.0, 1.0]", "[1.0, 0.0]") if loss == "cross_entropy" else ("[0.01, 0.99]", "[0.7, 0.3]")
    )
    batch = "\n  batch_size: 2" if mode == "minibatch" else ""
    return f"""
inputs: [i1, i2]
layers:
  - {{name: h, activation: {hidden}, weights: [[0.15, 0.20], [0.25, 0.30]],
      bias: {"0.35" if shared else "[0.35, 0.3]"}}}
  - {{name: o, activation: {out}, weights: [[0.40, 0.45], [0.50, 0.55]],
      bias: {"0.6" if shared else "[0.6, 0.1]"}}}
loss: {loss}
training:
  learning_rate: {lr}
  update_biases: {str(biases).lower()}
  mode: {mode}{batch}
  reduction: {reduction}
  update_order: {order}
  optimizer: {{name: {optimizer}}}
samples:
  - {{inputs: [0.05, 0.10], targets: {t1}}}
  - {{inputs: [0.5, -0.3], targets: {t2}}}
  - {{inputs: [1.0, 0.2], targets: {t1}}}
"""


# --- the post's figures ----------------------------------------------------------------------


def test_ten_thousand_epochs_give_the_posts_figures() -> None:
    t = Trainer(load_spec())
    last = list(t.run(10_000))[-1]
    assert last.epoch == 10_000
    assert close(t.loss, 3.510187782978859e-05)
    ((o1, o2),) = t.outputs()
    assert close(o1, 0.01591362044355068) and close(o2, 0.9840642735146238)


def test_sequential_order_gives_the_posts_closing_outputs() -> None:
    t = Trainer(load_spec(), update_order="sequential")
    list(t.run(10_000))
    ((o1, o2),) = t.outputs()
    assert close(o1, 0.0159121963260343) and close(o2, 0.9840657344856291)


def test_cli_summary_gives_the_figures() -> None:
    result = run("-n", "10000", "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["type"] == "summary" and doc["epochs"] == 10_000
    assert close(doc["E_total"], 3.510187782978859e-05)
    assert close(doc["outputs"][0][0], 0.01591362044355068)
    assert close(doc["outputs"][0][1], 0.9840642735146238)


# --- the kernel is the engine, bit for bit --------------------------------------------------------

GRID = list(
    itertools.product(
        OPTIMIZERS,
        ("online", "batch", "minibatch"),
        ("simultaneous", "sequential"),
        [
            ("sigmoid", "sigmoid", "half_sse"),
            ("tanh", "linear", "mse"),
            ("relu", "sigmoid", "binary_cross_entropy"),
            ("leaky_relu", "softmax", "cross_entropy"),
            ("sigmoid", "softmax", "half_sse"),
        ],
    )
)


@pytest.mark.parametrize("kernel", ["python", "loops"])
@pytest.mark.parametrize(("optimizer", "mode", "order", "acts"), GRID)
def test_epochs_equal_engine_steps_bit_for_bit(
    optimizer: str, mode: str, order: str, acts: tuple[str, str, str], kernel: str
) -> None:
    shared = acts[0] != "tanh"  # both bias layouts, across the grid
    reduction = "sum" if acts[1] == "linear" else "mean"
    spec = loads_spec(
        net(optimizer, mode, order=order, acts=acts, shared=shared, reduction=reduction)
    )
    trainer = Trainer(spec, kernel=kernel)
    assert isinstance(
        trainer.kernel, LoopKernel if kernel == "loops" else (LoopKernel, CompiledKernel)
    )
    state = State.of(spec.training)
    current = spec
    for epoch in trainer.run(3):
        trace = step(current, state=state)
        assert trainer.parameters() == trace.updated
        assert epoch.E_total == trace.loss_after
        current = current.with_parameters(trace.updated)


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_train_one_epoch_equals_step_updated(optimizer: str, tmp_path: Path) -> None:
    path = tmp_path / "net.yaml"
    path.write_text(net(optimizer, "online"))
    result = run(str(path), "-n", "1", "--format", "json")
    assert result.exit_code == 0, result.output
    trace = step(loads_spec(net(optimizer, "online")))
    assert json.loads(result.stdout)["parameters"] == trace.updated


def test_compiled_kernel_covers_the_elementwise_grid() -> None:
    kinds = {
        type(Trainer(loads_spec(net(o, m, order=r, acts=a)), kernel="python").kernel).__name__
        for o, m, r, a in GRID
    }
    assert kinds == {"FusedKernel", "LoopKernel"}
    assert isinstance(Trainer(load_spec()).kernel, CompiledKernel)


@pytest.mark.numpy_kernel
def test_numpy_kernel_agrees_to_rounding() -> None:
    for optimizer, mode in itertools.product(OPTIMIZERS, ("online", "batch", "minibatch")):
        spec = loads_spec(net(optimizer, mode, shared=False))
        a, b = Trainer(spec, kernel="python"), Trainer(spec, kernel="numpy")
        for x, y in zip(a.run(30), b.run(30), strict=True):
            assert close(x.E_total, y.E_total, 1e-12)
        pa, pb = a.parameters(), b.parameters()
        assert all(close(pa[k], pb[k], 1e-11) for k in pa)
    post = Trainer(load_spec(), kernel="numpy")
    list(post.run(1000))
    assert close(post.loss, 0.001114349453733746)


# --- optimizers in `backprop step` --------------------------------------------------------------


def test_adam_first_step_against_hand_arithmetic() -> None:
    trace = step(loads_spec(net("adam", "batch", biases=False)))
    g = trace.find("dE_batch/dw5")
    assert g is not None
    grad = g.value
    m_hat, v_hat = trace.find("m\u0302_w5"), trace.find("v\u0302_w5")
    assert m_hat is not None and v_hat is not None
    # After one update the bias corrections undo (1 − β): m̂ = g and v̂ = g².
    assert close(m_hat.value, grad) and close(v_hat.value, grad * grad)
    assert close(trace.updated["w5"], 0.4 - 0.5 * grad / (abs(grad) + 1e-8))
    w5 = trace.find("w5+")
    assert w5 is not None
    assert w5.formula == "w5 - η * m\u0302_w5 / (sqrt(v\u0302_w5) + ε)"


def test_momentum_velocity_carries_across_updates() -> None:
    trace = step(loads_spec(net("momentum", "online", biases=False)))
    v = [s for s in trace.steps if s.id == "v_w1"]
    g = [s.value for s in trace.steps if s.id == "dE_total/dw1"]
    assert [s.formula for s in v] == ["μ * v_w1 + dE_total/dw1"] * 3
    assert v[0].value == g[0]
    assert close(v[1].value, 0.9 * g[0] + g[1])
    nest = step(loads_spec(net("nesterov", "online", biases=False))).find("w1+")
    assert nest is not None and nest.formula == "w1 - η * (dE_total/dw1 + μ * v_w1)"


def test_step_table_names_the_optimizer_and_its_t(tmp_path: Path) -> None:
    path = tmp_path / "adam.yaml"
    path.write_text(net("adam", "online", biases=False))
    out = CliRunner().invoke(app, ["step", str(path), "--phase", "update"], env=ENV).stdout
    assert "Update · output layer o · η = 0.5 · adam, t = 3" in out
    assert "β2 * v_w5" in out and "+ (1 - β2) * (dE_total/dw5)^2" in out


def test_plain_sgd_update_is_unchanged() -> None:
    s = step(load_spec()).find("w5+")
    assert s is not None
    assert s.formula == "w5 - η * dE_total/dw5"
    assert s.value == 0.4 - 0.5 * 0.08216704056423077


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="needs PyTorch")
@pytest.mark.parametrize("optimizer", OPTIMIZERS)
@pytest.mark.parametrize("decay", [None, 0.01])
def test_optimizers_follow_pytorch(optimizer: str, decay: float | None) -> None:
    import torch

    text = net(optimizer, "minibatch", biases=False)
    if decay is not None:  # every rule with a weight_decay, at a value other than its default
        if "weight_decay" not in CATALOGUE_OPTIMIZERS[optimizer].defaults:
            pytest.skip(f"{optimizer} has no weight_decay")
        text = text.replace(
            f"{{name: {optimizer}}}", f"{{name: {optimizer}, weight_decay: {decay}}}"
        )
    spec = loads_spec(text)
    trainer = Trainer(spec)
    list(trainer.run(5))
    w1 = torch.tensor([[0.15, 0.20], [0.25, 0.30]], dtype=torch.float64, requires_grad=True)
    w2 = torch.tensor([[0.40, 0.45], [0.50, 0.55]], dtype=torch.float64, requires_grad=True)
    # The catalogue names the same rule in torch.optim, with its hyper-parameters.
    name, kwargs = CATALOGUE_OPTIMIZERS[optimizer].torch
    opt = getattr(torch.optim, name)([w1, w2], lr=0.5, **kwargs(spec.training.optimizer.hyper))
    x = torch.tensor([s.inputs for s in spec.samples], dtype=torch.float64)
    t = torch.tensor([s.targets for s in spec.samples], dtype=torch.float64)
    for _ in range(5):
        for batch in ([0, 1], [2]):
            opt.zero_grad()
            out = torch.sigmoid(torch.sigmoid(x[batch] @ w1.T + 0.35) @ w2.T + 0.6)
            (0.5 * (t[batch] - out) ** 2).sum(dim=1).mean().backward()
            opt.step()
    ours = trainer.parameters()
    theirs = [*w1.detach().flatten().tolist(), *w2.detach().flatten().tolist()]
    for k, value in enumerate(theirs):
        assert close(ours[f"w{k + 1}"], value, 1e-12)


# --- save and resume ---------------------------------------------------------------------------


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_resume_is_bit_exact(optimizer: str) -> None:
    spec = load_spec().with_parameters({})
    text = dump_spec(spec).replace("name: sgd", f"name: {optimizer}")
    whole = Trainer(loads_spec(text))
    list(whole.run(10_000))
    first = Trainer(loads_spec(text))
    list(first.run(4000))
    saved = loads_spec(dump_spec(first.trained_spec()))  # through the YAML text
    assert saved.training.epochs_done == 4000
    second = Trainer(saved)
    records = list(second.run(6000))
    assert records[0].epoch == 4001 and records[-1].epoch == 10_000
    assert second.parameters() == whole.parameters()
    assert second.loss == whole.loss
    assert second.trained_spec().training.optimizer == whole.trained_spec().training.optimizer


def test_save_then_resume_from_the_command_line(tmp_path: Path) -> None:
    out = tmp_path / "run.yaml"
    assert run("-n", "4000", "--save", str(out), "-f", "json").exit_code == 0
    resumed = run(str(out), "-n", "6000", "-f", "json")
    whole = run("-n", "10000", "-f", "json")
    a, b = json.loads(resumed.stdout), json.loads(whole.stdout)
    assert a["parameters"] == b["parameters"] and a["E_total"] == b["E_total"]
    assert a["epochs"] == 6000 and a["epochs_done"] == 10_000
    # The saved file is a config `step` accepts.
    assert CliRunner().invoke(app, ["step", str(out), "-f", "json"], env=ENV).exit_code == 0


def test_save_refuses_to_overwrite_before_training(tmp_path: Path) -> None:
    out = tmp_path / "run.yaml"
    out.write_text("precious\n")
    result = run("-n", "1000000", "--save", str(out))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "exists; add --force" in result.stderr
    assert out.read_text() == "precious\n"
    assert run("-n", "2", "--save", str(out), "--force", "-f", "json").exit_code == 0
    assert loads_spec(out.read_text()).training.epochs_done == 2
    assert [p.name for p in tmp_path.iterdir()] == ["run.yaml"]  # no temporary file left


def test_unknown_optimizer_state_is_refused() -> None:
    bad = net("momentum") + ""
    bad = bad.replace("optimizer: {name: momentum}", "optimizer: {name: momentum, state: {m: {}}}")
    with pytest.raises(SpecError, match="unknown state 'm'"):
        loads_spec(bad)


# --- streaming ---------------------------------------------------------------------------------


def _strict(text: str) -> Any:
    def refuse(name: str) -> Any:
        raise ValueError(f"not JSON: {name}")

    return json.loads(text, parse_constant=refuse)


def test_epochs_default_to_the_config_else_one(tmp_path: Path) -> None:
    assert json.loads(run("-f", "json").stdout)["epochs"] == 1
    path = tmp_path / "net.yaml"
    path.write_text(net().replace("training:\n", "training:\n  epochs: 7\n"))
    assert json.loads(run(str(path), "-f", "json").stdout)["epochs"] == 7
    path.write_text(net().replace("training:\n", "training:\n  epochs: 0\n"))
    doc = json.loads(run(str(path), "-f", "json").stdout)
    assert doc["epochs"] == 0 and doc["E_total"] == doc["E_total_before"]


def test_jsonl_is_strict_json_line_by_line() -> None:
    result = run("-n", "50", "--format", "jsonl")
    lines = result.stdout.splitlines()
    assert len(lines) == 51
    records = [_strict(line) for line in lines]
    assert records[0] == {"type": "epoch", "epoch": 1, "E_total": 0.29102777369359933}
    assert [r["epoch"] for r in records[:-1]] == list(range(1, 51))
    summary = records[-1]
    assert summary["type"] == "summary" and summary["epochs"] == 50
    assert summary["E_total"] == records[-2]["E_total"]
    assert set(summary["parameters"]) == {f"w{k}" for k in range(1, 9)} | {"b1", "b2"}


def test_every_thins_the_stream_and_makes_a_table() -> None:
    records = [
        _strict(x) for x in run("-n", "100", "-f", "jsonl", "--every", "25").stdout.splitlines()
    ]
    assert [r.get("epoch") for r in records] == [25, 50, 75, 100, None]
    table = run("-n", "100", "--every", "50").stdout
    fifty = [e.E_total for e in Trainer(load_spec()).run(50)][-1]
    assert "E_total by epoch" in table
    assert f"   50   {fifty:.9f}" in table


def test_table_summary_shows_outputs_parameters_and_curve() -> None:
    out = run("-n", "10000").stdout
    assert "E_total after epoch 10000: 0.000035102" in out
    assert "0.01591362     0.01" in out
    assert "w5    0.4   →   -3.892977199" in out
    assert "epoch 10000" in out and "*" in out


def test_broken_pipe_ends_quietly() -> None:
    cmd = [sys.executable, "-m", "backprop_cli", "train", "-n", "1000000", "-f", "jsonl"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()
    proc.stdout.close()
    err = proc.stderr.read()
    assert proc.wait(timeout=60) == 0
    assert _strict(first)["epoch"] == 1
    assert err == b""


# --- interruptions and failures -------------------------------------------------------------------


def test_ctrl_c_stops_at_the_epoch_prints_and_saves(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    used = type(Trainer(load_spec()).kernel)
    assert used is FusedKernel  # epochs a chunk at a time, in one call
    real = used.epochs
    calls = [0]

    def interrupted(self: Any, n: int, losses: list[float]) -> None:
        calls[0] += 1
        if calls[0] == 1:
            real(self, 4, losses)  # four whole epochs, the fifth half way through... Ctrl-C
            raise KeyboardInterrupt
        real(self, n, losses)

    monkeypatch.setattr(used, "epochs", interrupted)
    out = tmp_path / "stop.yaml"
    result = run("-n", "100", "-f", "json", "--save", str(out))
    assert result.exit_code == 130
    assert "Traceback" not in result.output
    assert "interrupted after epoch 4" in result.stderr
    summary = json.loads(result.stdout)
    assert summary["status"] == "interrupted" and summary["epochs"] == 4
    monkeypatch.setattr(used, "epochs", real)
    four = Trainer(load_spec())
    list(four.run(4))
    assert summary["parameters"] == four.parameters()
    assert loads_spec(out.read_text()).training.epochs_done == 4


def test_sigint_in_a_real_process() -> None:
    cmd = [sys.executable, "-m", "backprop_cli", "train", "-n", "100000000", "-f", "jsonl"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    proc.stdout.readline()
    proc.send_signal(signal.SIGINT)
    rest, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert "Traceback" not in err
    summary = _strict(rest.splitlines()[-1])
    assert summary["type"] == "summary" and summary["status"] == "interrupted"


DIVERGES = """
inputs: 1
layers:
  - {name: h, activation: relu, weights: [[0.5], [0.3]], bias: 0.1}
  - {name: o, activation: linear, weights: [[0.4, 0.2]], bias: 0.0}
training: {learning_rate: 100000}
samples:
  - {inputs: [1.0], targets: [2.0]}
  - {inputs: [2.0], targets: [-1.0]}
"""


@pytest.mark.numpy_kernel
@pytest.mark.parametrize("kernel", ["python", "numpy"])
def test_divergence_exits_1_and_keeps_the_last_finite_parameters(
    kernel: str, tmp_path: Path
) -> None:
    path = tmp_path / "lr.yaml"
    path.write_text(DIVERGES)
    result = run(str(path), "-n", "1000", "-f", "json", "--kernel", kernel)
    assert result.exit_code == 1
    summary = json.loads(result.stdout)
    assert summary["status"] == "diverged"
    bad = summary["epochs"] + 1
    # w1 passes ±1e6 before the loss overflows: the bound stops it (what is saved must load)
    assert f"after epoch {bad}, past ±1e+06" in result.stderr
    assert "learning rate smaller than 100000" in result.stderr
    assert all(math.isfinite(v) for v in summary["parameters"].values())
    again = Trainer(loads_spec(DIVERGES), kernel=kernel)
    list(again.run(summary["epochs"]))
    assert again.parameters() == summary["parameters"]


def test_plot_without_matplotlib_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "matplotlib" else real(name, *a),
    )
    result = run("-n", "5", "--plot", "curve.png")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "pip install 'backprop-cli[plot]'" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.skipif(importlib.util.find_spec("matplotlib") is None, reason="needs matplotlib")
def test_plot_writes_an_svg(tmp_path: Path) -> None:
    out = tmp_path / "curve.svg"
    assert run("-n", "50", "--plot", str(out), "-q").exit_code == 0
    assert out.read_text().lstrip().startswith("<?xml")


# --- rounding, memory ------------------------------------------------------------------------


def test_round_shows_drift_from_the_exact_run() -> None:
    doc = json.loads(run("-n", "3", "--round", "4", "-f", "json").stdout)
    assert all(round(v, 4) == v for v in doc["parameters"].values())
    exact = Trainer(load_spec())
    list(exact.run(3))
    assert close(doc["drift"]["E_total"], exact.loss)
    for pid, value in exact.parameters().items():
        assert close(doc["drift"]["parameters"][pid], doc["parameters"][pid] - value)
    assert doc["drift"]["parameters"]["w8"] != 0


def test_round_writes_each_drift_with_its_sign_as_step_does() -> None:
    """The drift column: +0.00002509 where it was 0.00002509 (step --round writes the sign)."""
    out = run("-n", "3", "--round", "4").stdout
    doc = json.loads(run("-n", "3", "--round", "4", "-f", "json").stdout)
    exact = Trainer(load_spec())
    list(exact.run(3))
    cells = {}
    for line in out[out.index("Parameters") :].splitlines()[3:]:
        if not line.strip():
            break
        cells[line.split()[0]] = line.split()[-1]
    assert set(cells) == set(exact.parameters())
    for pid, value in exact.parameters().items():
        moved = doc["parameters"][pid] - value
        cell = cells[pid]
        assert cell == "0" if abs(moved) < 1e-15 else cell[0] == "+-"[moved < 0], (pid, cell)
        assert abs(float(cell) - moved) <= 5e-10, (pid, cell, moved)
    assert cells["w2"] == "+0.00002509" and cells["w8"] == "+0.000102797"
    assert cells["w4"] == "-0.000094242" and cells["b1"] == "0"
    assert "(exact run: 0.275943289, drift -0.000043289)" in out


def test_curve_memory_is_bounded() -> None:
    curve = Curve(cap=64)
    for e in range(100_000):
        curve.add(e, 1.0 / (e + 1))
    points = curve.all()
    assert len(points) <= 65
    assert points[0][0] == 0 and points[-1][0] == 99_999


# --- large configs ---------------------------------------------------------------------------


def test_large_configs_read_the_same_with_libyaml(monkeypatch: pytest.MonkeyPatch) -> None:
    from backprop_cli.specs import source

    rows = "".join(
        f"  - {{inputs: [{k * 1e-3!r}, 1e-3], targets: ['{k}', 0.5]}}\n" for k in range(3000)
    )
    text = "name: big\ninputs: 2\nsamples:\n" + rows
    assert source._compose_fast(text) is not None  # libyaml reads it
    fast = source.parse(text, "big.yaml")
    monkeypatch.setattr(source, "_FAST_FROM", 10**9)
    slow = source.parse(text, "big.yaml")
    assert fast.value == slow.value and fast.marks == slow.marks and fast.texts == slow.texts
    assert fast.value["samples"][7]["inputs"][1] == 0.001  # a plain 1e-3 is a number
    assert fast.value["samples"][7]["targets"][0] == "7"  # a quoted one stays text


def test_large_configs_keep_the_nesting_limit() -> None:
    from backprop_cli.specs import source

    text = "name: deep\n# " + "x" * source._FAST_FROM + "\ninputs: " + "[" * 70 + "]" * 70 + "\n"
    assert source._compose_fast(text) is None  # too deep: PyYAML's parser words the error
    with pytest.raises(SpecError, match="nested more than 64 levels deep"):
        source.parse(text, "deep.yaml")


def test_numpy_is_chosen_by_the_measured_size_rule() -> None:
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
    from crossover import network  # the networks the rule was measured on

    from backprop_cli.kernels.trainer import numpy_pays

    assert not numpy_pays(load_spec())  # the worked example
    assert not numpy_pays(network(16, 1, "online", False))  # 272 multiply-adds a call
    assert numpy_pays(network(32, 1, "online", False))  # 1,056 a call, 33 per neuron
    assert not numpy_pays(network(4, 256, "batch", False))  # 5,120 a call but 5 per neuron
    assert numpy_pays(network(16, 16, "batch", False))
    assert not numpy_pays(network(16, 16, "online", False))


def test_the_curve_kept_a_chunk_at_a_time_is_the_curve_kept_epoch_by_epoch() -> None:
    import random

    rng = random.Random(7)
    for cap in (1, 2, 3, 5, 16, 1024):
        for n in (0, 1, 7, 100, 5000):
            losses = [rng.random() for _ in range(n)]
            one, chunked = Curve(cap), Curve(cap)
            for curve in (one, chunked):
                curve.add(3, 9.0)
            for k, x in enumerate(losses):
                one.add(4 + k, x)
            done = 0
            while done < n:
                size = rng.randint(1, 700)
                chunked.extend(4 + done, losses[done : done + size])
                done += size
            assert chunked.all() == one.all() and chunked.stride == one.stride, (cap, n)


def test_json_with_indent_is_json_dumps_text_from_the_c_encoder() -> None:
    import random

    from backprop_cli.render import jsonfmt

    rng = random.Random(3)

    def value(depth: int = 0) -> Any:
        k = rng.random()
        if depth > 3 or k < 0.4:
            return rng.choice([rng.random() * 10.0 ** rng.randint(-30, 30), -0.0, 0, -5, True])
        if k < 0.55:
            return rng.choice([None, 'é"\\x\n', "", 2**70, False])
        if k < 0.8:
            return [value(depth + 1) for _ in range(rng.randint(0, 5))]
        return {f'k{i}"é': value(depth + 1) for i in range(rng.randint(0, 5))}

    for _ in range(2000):
        v = value()
        assert jsonfmt.dumps(v) == json.dumps(v, indent=2, ensure_ascii=False), v
    summary = {"parameters": {"w1": 0.5, "b1": -1e-300}, "outputs": [[0.25, 1.0], []]}
    assert jsonfmt.dumps(summary) == json.dumps(summary, indent=2)
    with pytest.raises(ValueError):
        jsonfmt.dumps({"parameters": {"w1": math.nan}})


def test_no_epoch_says_its_error_once() -> None:
    """`-n 0` runs no epoch: one E_total line (it printed 'after epoch 0' twice)."""
    out = run("-n", "0").stdout
    assert out.count("E_total after epoch 0: 0.298371109") == 1
    assert run("-n", "2").stdout.count("E_total after epoch") == 2
