"""`step` refuses, before computing, a trace too large to hold: every number of it is recorded
(about 700 bytes a step), so a big samples file would otherwise run out of memory."""

from __future__ import annotations

from pathlib import Path

from .clihelp import run

NET = """\
inputs: 100
layers:
  - {{name: h, size: 100, init: {{seed: 1}}}}
  - {{name: o, size: 10, init: {{seed: 2}}}}
training: {{mode: batch}}
samples: {{csv: data.csv, inputs: [{inputs}], targets: [{targets}]}}
"""


def config(tmp_path: Path, rows: int) -> Path:
    xs = [f"x{i}" for i in range(1, 101)]
    ys = [f"y{i}" for i in range(1, 11)]
    lines = [",".join(xs + ys)] + [",".join(["0.5"] * 110)] * rows
    (tmp_path / "data.csv").write_text("\n".join(lines) + "\n")
    path = tmp_path / "net.yaml"
    path.write_text(NET.format(inputs=", ".join(xs), targets=", ".join(ys)))
    return path


def test_a_step_past_the_bound_is_refused_before_it_is_computed(tmp_path: Path) -> None:
    # 100-100-10: 2 · 11,000 weights + 4 · 110 neurons = 22,440 steps a sample at least.
    for form in ("table", "json", "html"):
        result = run("step", str(config(tmp_path, 134)), "-f", form)
        assert result.exit_code == 2
        assert result.stderr == (
            "error: this step has at least 3,006,960 steps (134 samples); a step is recorded "
            "up to 3,000,000 (about 2 GB of memory): take fewer samples, or `backprop train`, "
            "which trains on any number\n"
        )
        assert result.stdout == ""


def test_a_step_within_the_bound_is_made(tmp_path: Path) -> None:
    result = run("step", str(config(tmp_path, 2)), "-f", "json", "--only", "E_batch")
    assert result.exit_code == 0, result.stderr
    assert '"id": "E_batch"' in result.stdout
