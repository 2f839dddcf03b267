"""Small things a user expects (issue 21, point 6): each as the user would have it."""

from __future__ import annotations

import itertools
import math
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from backprop_cli import load_spec, step
from backprop_cli.specs.validate import loads_spec

from .runcli import ROOT, cli

# --- init --samples data.csv: a real data set trains its biases --------------------------------


def test_init_for_a_data_set_trains_the_biases(tmp_path: Path) -> None:
    (tmp_path / "d.csv").write_text("x1,x2,y\n0.1,0.2,1\n0.3,0.4,0\n")
    result = cli("init", "net.yaml", "--samples", "d.csv", "--seed", "1", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    text = (tmp_path / "net.yaml").read_text()
    assert (
        "  update_biases: true       # b1, b2 train too; false holds them fixed, as in the post\n"
        in text
    )
    spec = load_spec(tmp_path / "net.yaml")
    assert spec.training.update_biases is True
    ids = step(spec).ids()
    assert "b1+" in ids and "b2+" in ids


def test_init_for_a_hand_exercise_holds_them_as_the_post(tmp_path: Path) -> None:
    result = cli("init", "-", "-l", "2,2,2", "--seed", "1", cwd=tmp_path)
    assert (
        "  update_biases: false      # as in the post; true updates b1, b2 too\n" in result.stdout
    )
    assert loads_spec(result.stdout).training.update_biases is False


# --- outputs that are written into: /dev/null, /dev/stdout, a device ---------------------------


def test_export_to_dev_null_just_writes_there() -> None:
    result = cli("export", "--to", "numpy", "-o", "/dev/null")
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert result.stderr == "wrote /dev/null\n"  # no "run it with: python /dev/null"


def test_dev_stdout_is_this_commands_output(tmp_path: Path) -> None:
    script = cli("export", "--to", "numpy").stdout
    result = cli("export", "--to", "numpy", "-o", "/dev/stdout")
    assert result.returncode == 0, result.stderr
    assert result.stdout == script
    # a file the shell opened for it: appended to, not replaced (no --force needed)
    log = tmp_path / "log.txt"
    log.write_text("before\n")
    line = (
        f"{sys.executable} -m backprop_cli draw -o /dev/stdout >> {log} && "
        f"{sys.executable} -m backprop_cli draw -o /dev/fd/1 >> {log}"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(["bash", "-c", line], capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    svg = cli("draw").stdout
    assert log.read_text() == "before\n" + svg + svg


def test_a_character_device_is_written_into_not_replaced(tmp_path: Path) -> None:
    device = tmp_path / "null"
    try:
        os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # what /dev/null is
    except OSError:
        pytest.skip("cannot make a device file here")
    before = os.lstat(device)
    for args in (["draw", "-o", str(device)], ["train", "-n", "1", "--save", str(device)]):
        result = cli(*args)
        assert result.returncode == 0, result.stderr
        after = os.lstat(device)
        assert stat.S_ISCHR(after.st_mode) and after.st_ino == before.st_ino


def test_a_closed_descriptor_and_a_named_pipe_are_refused(tmp_path: Path) -> None:
    result = cli("draw", "-o", "/dev/fd/9")
    assert result.returncode == 2
    assert result.stderr == "error: --output /dev/fd/9: file descriptor 9 is not open\n"
    os.mkfifo(tmp_path / "pipe")  # nothing reads it: writing would wait forever
    result = cli("draw", "-o", str(tmp_path / "pipe"))
    assert result.returncode == 2
    assert result.stderr == (
        f"error: --output {tmp_path / 'pipe'}: is a pipe (FIFO); an output can be a regular "
        "file, a device such as /dev/null, or /dev/stdout\n"
    )


# --- import: the file first, then the onnx package ---------------------------------------------


def _without_onnx(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    site = tmp_path / "site"
    site.mkdir(exist_ok=True)
    (site / "sitecustomize.py").write_text("import sys\nsys.modules['onnx'] = None\n")
    env = {"NO_COLOR": "1", "PATH": "/usr/bin:/bin", "PYTHONPATH": f"{site}{os.pathsep}{ROOT}"}
    return subprocess.run(
        [sys.executable, "-m", "backprop_cli", *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
    )


def test_import_of_a_missing_file_says_so_without_onnx(tmp_path: Path) -> None:
    result = _without_onnx(tmp_path, "import", "missing.onnx")
    assert result.returncode == 2
    assert result.stderr == "error: missing.onnx: no such file\n"
    result = _without_onnx(tmp_path, "import", ".")
    assert result.stderr == "error: .: is a directory, not an ONNX model file\n"
    (tmp_path / "model.onnx").write_bytes(b"\x08\x07")
    result = _without_onnx(tmp_path, "import", "model.onnx")
    assert result.returncode == 2
    assert result.stderr == (
        "error: backprop import needs the onnx package: pip install 'backprop-cli[onnx]'\n"
    )


# --- bias names: b_o beside b_h1, b1 and b2 as in the post -------------------------------------

MIXED = """\
inputs: [i1, i2]
layers:
  - {name: h, activation: sigmoid, weights: [[0.15, 0.2], [0.25, 0.3]], bias: [0.35, 0.4]}
  - {name: o, activation: sigmoid, weights: [[0.4, 0.45], [0.5, 0.55]], bias: 0.6}
training: {learning_rate: 0.5}
samples:
  - {inputs: [0.05, 0.1], targets: [0.01, 0.99]}
"""


def test_a_shared_bias_beside_per_neuron_ones_is_named_by_its_layer() -> None:
    spec = loads_spec(MIXED)
    ids = [p.id for p in spec.parameters()]
    assert ids[8:] == ["b_h1", "b_h2", "b_o"]
    trace = step(spec)
    # its gradient: delta_o1 + delta_o2, each from the outputs (sigmoid, half_sse)
    deltas = []
    for o in ("o1", "o2"):
        out, target = trace.find(f"out_{o}"), 0.01 if o == "o1" else 0.99
        assert out is not None
        deltas.append((out.value - target) * out.value * (1 - out.value))
    grad = trace.find("dE_total/db_o")
    assert grad is not None and grad.value == pytest.approx(sum(deltas), rel=1e-12)
    assert trace.updated["b_o"] == pytest.approx(0.6 - 0.5 * sum(deltas), rel=1e-12)


def test_the_picture_names_the_shared_bias_as_the_trace_does(tmp_path: Path) -> None:
    (tmp_path / "mixed.yaml").write_text(MIXED)
    svg = cli("draw", "mixed.yaml", cwd=tmp_path).stdout
    assert "<title>b_o</title>" in svg or ">b_o<" in svg
    assert ">b2<" not in svg


def test_the_worked_example_keeps_b1_and_b2() -> None:
    assert [p.id for p in load_spec().parameters()][8:] == ["b1", "b2"]
    all_shared = MIXED.replace("bias: [0.35, 0.4]", "bias: 0.35")
    assert [p.id for p in loads_spec(all_shared).parameters()][8:] == ["b1", "b2"]


def test_a_layer_name_taken_by_a_neuron_keeps_the_number() -> None:
    # neuron o of layer h has the bias b_o: the shared bias of layer o stays b2
    text = MIXED.replace("{name: h,", "{name: h, neurons: [o, p],").replace(
        "{name: o,", "{name: o, neurons: [y1, y2],"
    )
    assert [p.id for p in loads_spec(text).parameters()][8:] == ["b_o", "b_p", "b2"]


# --- the progress bar's estimate ---------------------------------------------------------------


def test_the_time_left_is_steady_when_the_speed_wavers() -> None:
    from backprop_cli.cli.train import _Eta

    # 600 epochs in 5 minutes: 20 s at 3 epochs a second, then 20 s at 1, and so on
    now = [0.0]
    eta = _Eta(600, clock=lambda: now[0])
    done, t, shown = 0, 0.0, []
    eta.seconds(0)  # the first chunk: the clock starts here
    while done < 600:
        t += 1.0
        done = min(600, done + (3 if int(t // 20) % 2 == 0 else 1))
        now[0] = t
        left = eta.seconds(done)
        assert left is not None
        shown.append((t, left))
    finish = shown[-1][0]
    later = [(t, left) for t, left in shown if t >= 60]
    for t, left in later:
        assert abs(t + left - finish) / finish < 0.2  # within a minute of the truth
    for (_, a), (_, b) in itertools.pairwise(later):
        assert b <= a + 2.0  # never jumps up by more than two seconds
    assert eta.text(600) == "0:00:00"


def test_the_time_left_is_unknown_before_any_progress() -> None:
    from backprop_cli.cli.train import _Eta

    now = [5.0]
    eta = _Eta(100, clock=lambda: now[0])
    assert eta.text(3) == "-:--:--"  # the first chunk only starts the clock
    now[0] = 15.0
    assert eta.text(3) == "-:--:--"  # nothing since
    assert eta.seconds(13) == pytest.approx(87 * 10 / 10)
    assert eta.text(13) == "0:01:27"


# --- draw --sample ------------------------------------------------------------------------------

THREE = """\
inputs: [i1, i2]
layers:
  - {name: h, activation: sigmoid, weights: [[0.15, 0.2], [0.25, 0.3]], bias: 0.35}
  - {name: o, activation: sigmoid, weights: [[0.4, 0.45], [0.5, 0.55]], bias: 0.6}
training: {learning_rate: 0.5, mode: batch}
samples:
  - {inputs: [0.05, 0.1], targets: [0.01, 0.99]}
  - {inputs: [0.9, 0.2], targets: [0.7, 0.1]}
  - {inputs: [0.3, 0.6], targets: [0.2, 0.8]}
"""


def test_draw_shows_the_sample_asked_for(tmp_path: Path) -> None:
    (tmp_path / "three.yaml").write_text(THREE)
    svg = cli("draw", "three.yaml", "--after-step", "--sample", "2", cwd=tmp_path).stdout
    assert "inputs (sample 2 of 3)" in svg
    assert ">0.9<" in svg and ">target 0.7<" in svg  # sample 2's inputs and targets
    assert "∂E_total/∂w (sample 2) &gt; 0: its share of the step lowers the weight" in svg
    # net_h1 of sample 2 in its tooltip: 0.15·0.9 + 0.2·0.2 + 0.35
    assert "net = 0.525" in svg

    # its own gradient of w5: (out_o1 - 0.7)·out_o1(1 - out_o1)·out_h1, from the config
    def logistic(x: float) -> float:
        return 1 / (1 + math.exp(-x))

    h1, h2 = logistic(0.525), logistic(0.25 * 0.9 + 0.3 * 0.2 + 0.35)
    o1 = logistic(0.4 * h1 + 0.45 * h2 + 0.6)
    g = (o1 - 0.7) * o1 * (1 - o1) * h1
    trace = step(loads_spec(THREE))
    mine = [s for s in trace.steps if s.id == "dE_total/dw5" and s.sample == 1]
    assert mine[0].value == pytest.approx(g, rel=1e-12)
    top = cli("draw", "three.yaml", "--after-step", "--sample", "3", cwd=tmp_path).stdout
    assert "inputs (sample 3 of 3)" in top and top != svg


def test_draw_without_sample_is_as_before(tmp_path: Path) -> None:
    (tmp_path / "three.yaml").write_text(THREE)
    svg = cli("draw", "three.yaml", "--after-step", cwd=tmp_path).stdout
    assert "inputs (sample 1 of 3)" in svg
    assert "∂E_batch/∂w (first update) &gt; 0: the step lowers the weight" in svg


def test_draw_sample_beyond_the_samples_exits_2(tmp_path: Path) -> None:
    (tmp_path / "three.yaml").write_text(THREE)
    result = cli("draw", "three.yaml", "--sample", "4", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == "error: --sample 4: the spec has 3 sample(s)\n"
