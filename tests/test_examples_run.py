"""Every example of every `--help`, and the README's commands that write files, run as written
from a checkout of the repository: one after another in a fresh copy, as a user types them."""

from __future__ import annotations

import importlib.util
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.main import get_command

from backprop_cli.cli import app

from .test_cli_habits import help_text, shown_examples
from .test_docs import README, shown_matches

ROOT = Path(__file__).resolve().parents[1]
COMMANDS = ["", *sorted(get_command(app).commands)]  # type: ignore[attr-defined]
# Examples that show a failed check (exit 1, README "Exit codes"): a student's slips, a log's.
VERDICTS = {"check"}


@pytest.fixture
def checkout(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A copy of the repository, and an environment whose `backprop` and `python` are ours."""
    copy = tmp_path / "repo"
    shutil.copytree(
        ROOT, copy, ignore=shutil.ignore_patterns(".git", "__pycache__", "*.egg-info", ".*_cache")
    )
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, line in [
        ("backprop", f'exec "{sys.executable}" -m backprop_cli "$@"'),
        ("python", f'exec "{sys.executable}" "$@"'),
    ]:
        (bin_dir / name).write_text(f"#!/bin/sh\n{line}\n")
        (bin_dir / name).chmod(0o755)
    env = {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
        "PYTHONPATH": str(copy),
        "COLUMNS": "80",
        "NO_COLOR": "1",
        "HOME": str(tmp_path),
    }
    return copy, env


def shell(line: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    # pipefail: a backprop that fails before a `| jq` fails the line
    return subprocess.run(
        ["bash", "-o", "pipefail", "-c", line],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def missing_tool(line: str) -> str | None:
    """The program or Python package an example needs that this machine lacks."""
    words = list(shlex.shlex(line, posix=True, punctuation_chars=True))
    for k, word in enumerate(words):
        first = k == 0 or words[k - 1] in ("|", "&&")
        if first and word not in ("backprop", "python") and shutil.which(word) is None:
            return word
    if "backprop import" in line and importlib.util.find_spec("onnx") is None:
        return "onnx"
    return None


@pytest.mark.parametrize("command", COMMANDS, ids=[c or "backprop" for c in COMMANDS])
def test_help_examples_run_in_order_from_a_checkout(
    command: str, checkout: tuple[Path, dict[str, str]]
) -> None:
    copy, env = checkout
    examples = shown_examples(help_text(*filter(None, [command])))
    assert examples
    skipped = []
    for line in examples:
        lacking = missing_tool(line)
        if lacking or (skipped and command == "import"):  # its step reads what import wrote
            skipped.append(f"{line} (needs {lacking or 'the import before it'})")
            continue
        result = shell(line, copy, env)
        expected = 1 if command in VERDICTS else 0
        assert result.returncode == expected, (line, result.returncode, result.stderr)
        assert "error:" not in result.stderr and "Traceback" not in result.stderr, (line, result)
    if skipped:
        pytest.skip("; ".join(skipped))


def test_the_readme_commands_that_write_files_run_in_order(
    checkout: tuple[Path, dict[str, str]],
) -> None:
    copy, env = checkout
    writers = [
        (m.group(1), m.group(2))
        for m in re.finditer(r"```console\n\$ (backprop [^\n]*)\n(.*?)```", README, re.S)
        if re.search(r"backprop init |(^| )(-o|--output|--save) ", m.group(1))
    ]
    assert len(writers) >= 3
    for line, block in writers:
        result = shell(line + " 2>&1", copy, env)
        assert result.returncode == 0, (line, result.stdout)
        real = [x.rstrip() for x in result.stdout.splitlines()]
        assert shown_matches(block.rstrip("\n").splitlines(), real), (line, result.stdout)
