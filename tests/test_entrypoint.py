"""The installed `backprop` console script and `python -m backprop_cli`, as real processes."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "COLUMNS": "100", "NO_COLOR": "1"}


def backprop() -> str:
    exe = shutil.which("backprop")
    assert exe, "the `backprop` entry point is not installed: pip install -e '.[test]'"
    return exe


def test_installed_entry_point_runs_the_worked_example() -> None:
    done = subprocess.run(
        [backprop(), "step", "--format", "json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    doc = json.loads(done.stdout)
    dw5 = [s["value"] for s in doc["steps"] if s["id"] == "dE_total/dw5"]
    assert dw5 == [0.08216704056423077]


def test_python_dash_m() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "backprop_cli", "--version"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0
    assert done.stdout.startswith("backprop ")


def test_bad_config_exits_2_without_traceback(tmp_path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.yaml"
    bad.write_text("inputs: 2\nlayers: [{weights: [[1, 2]], activation: sigmod}]\nsamples: []\n")
    done = subprocess.run(
        [backprop(), "step", str(bad)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1
    assert "Traceback" not in done.stderr
    assert "did you mean 'sigmoid'?" in done.stderr


@pytest.mark.skipif(shutil.which("jq") is None, reason="jq is not installed")
def test_the_jq_pipeline_from_the_issue() -> None:
    pipeline = (
        f"{backprop()} step configs/mazur.yaml --format json"
        " | jq '.steps[] | select(.id==\"dE_total/dw5\") | .value'"
    )
    done = subprocess.run(pipeline, shell=True, capture_output=True, text=True, check=False)
    assert done.stdout == "0.08216704056423077\n"
