"""docs/interop.md is real: its walk-through, replayed in a copy of docs/interop/, prints what the
page shows (at 80 columns), and its Python session runs as written."""

from __future__ import annotations

import doctest
import importlib.util
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .test_docs import shown_matches

ROOT = Path(__file__).parents[1]
DOC = (ROOT / "docs" / "interop.md").read_text("utf-8")
ENV = {"COLUMNS": "80", "NO_COLOR": "1", "PATH": "/usr/bin:/bin"}
HAVE = {m: importlib.util.find_spec(m) is not None for m in ("torch", "onnx")}


def commands() -> list[tuple[str, list[str]]]:
    """(command, lines shown after it) for every `$ ...` line of the console blocks."""
    out: list[tuple[str, list[str]]] = []
    for block in re.findall(r"```console\n(.*?)```", DOC, re.S):
        for line in block.rstrip("\n").splitlines():
            if line.startswith("$ "):
                out.append((line[2:], []))
            else:
                out[-1][1].append(line)
    return out


def test_the_walk_through_prints_what_the_page_shows(tmp_path: Path) -> None:
    if not HAVE["onnx"]:
        pytest.skip("needs onnx: pip install 'backprop-cli[onnx]'")
    folder = tmp_path / "interop"
    shutil.copytree(ROOT / "docs" / "interop", folder)
    (folder / "net.yaml").unlink()  # `backprop import` writes it again
    ran = 0
    for command, shown in commands():
        if command.startswith("python "):
            if not HAVE["torch"]:
                continue  # the committed model.onnx and torch-step.json stand in
            (folder / "model.onnx").unlink()
            (folder / "torch-step.json").unlink()
        # the page's own words, each run by this interpreter (only at the start: a path such as
        # .../bin/python would match a "python " further on)
        line = re.sub(r"^backprop ", f"{shlex.quote(sys.executable)} -m backprop_cli ", command)
        line = re.sub(r"^python ", f"{shlex.quote(sys.executable)} ", line)
        result = subprocess.run(
            ["bash", "-c", line + " 2>&1"],
            capture_output=True,
            text=True,
            cwd=folder,
            env={
                "COLUMNS": "80",
                "NO_COLOR": "1",
                "PATH": "/usr/bin:/bin",
                "PYTHONPATH": str(ROOT),
            },
            timeout=300,
        )
        real = [x.rstrip() for x in result.stdout.rstrip("\n").splitlines()]
        assert shown_matches(shown, real), f"$ {command}\n" + "\n".join(real)
        ran += 1
    assert ran >= 4
    # what the walk-through made is what docs/interop/ keeps
    assert (folder / "net.yaml").read_text() == (ROOT / "docs/interop/net.yaml").read_text()


def test_the_python_session_runs_as_written() -> None:
    if not HAVE["torch"]:
        pytest.skip("needs torch: pip install 'backprop-cli[torch]'")
    block = re.search(r"```python\n(>>> .*?)```", DOC, re.S)
    assert block
    parser, runner = doctest.DocTestParser(), doctest.DocTestRunner(verbose=False)
    test = parser.get_doctest(block.group(1), {}, "interop.md", "docs/interop.md", 0)
    result = runner.run(test)
    assert result.failed == 0 and result.attempted >= 8
