"""Inputs and surroundings that used to end in a traceback: each is one line and an exit code."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from .clihelp import assert_input_error, run

BACKPROP = [sys.executable, "-m", "backprop_cli"]
LONG = "n" * 256 + ".yaml"  # one name over the 255-byte limit of every common file system
TOO_LONG = "a name in the path is too long (at most 255 bytes per name)"


@pytest.mark.parametrize(
    "args, name",
    [
        (["step", LONG], LONG),
        (["train", "--save", LONG], f"--save {LONG}"),
        (["draw", "-o", LONG], f"--output {LONG}"),
        (["check", LONG], LONG),
        (["init", "-l", "2,2,1", LONG], LONG),
    ],
)
def test_a_name_over_255_bytes(args: list[str], name: str) -> None:
    result = run(*args)
    assert_input_error(result)
    assert result.stderr == f"error: {name}: {TOO_LONG}\n"


def test_a_symlink_loop_is_not_a_missing_file(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").symlink_to(tmp_path / "b.yaml")
    (tmp_path / "b.yaml").symlink_to(tmp_path / "a.yaml")
    result = run("step", str(tmp_path / "a.yaml"))
    assert_input_error(result)
    assert result.stderr.endswith(": too many levels of symbolic links (a symlink loop?)\n")


def test_an_answer_with_more_decimals_than_a_float_holds(tmp_path: Path) -> None:
    answers = tmp_path / "a.yaml"
    answers.write_text("out_h1: 0." + "0" * 323 + "1\n")
    result = run("check", str(answers))
    assert_input_error(result)
    assert result.stderr == (
        f"error: {answers}:1:9: out_h1: 0.000000000000000000... (326 characters) is below the "
        "smallest float (about 5e-324): it would read as 0 (write 0 if you mean 0)\n"
    )


def _shell(command: str, **env: str) -> subprocess.CompletedProcess[str]:
    """backprop in a real process, its streams arranged by the shell."""
    python = " ".join(BACKPROP)
    return subprocess.run(
        ["sh", "-c", command.replace("backprop", python, 1)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **env},
    )


@pytest.mark.parametrize("command", ["step", "train -n 3 -f jsonl", "step --help"])
def test_closed_stdout(command: str) -> None:
    proc = _shell(f"backprop {command} >&-")
    assert proc.returncode == 74
    assert proc.stderr == (
        "error: standard output is closed (to discard the output, use >/dev/null)\n"
    )


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full")
@pytest.mark.parametrize("command", ["step", "train -n 3", "step --help", "schema config"])
def test_a_full_stdout(command: str) -> None:
    proc = _shell(f"backprop {command} > /dev/full")
    assert proc.returncode == 74
    assert proc.stderr == "error: standard output: cannot write (No space left on device)\n"


@pytest.mark.parametrize(
    "command",
    [
        "step",
        "step -f markdown",
        "train -n 20",
        "check configs/answers-example.yaml",
        "explain dE_total/dw5",
        "gradcheck",
        "step nope.yaml",
    ],
)
def test_an_ascii_terminal_gets_ascii_spellings(command: str) -> None:
    root = Path(__file__).parents[1]
    proc = _shell(f"cd {root} && backprop {command}", PYTHONIOENCODING="ascii")
    assert "Traceback" not in proc.stderr and "Error" not in proc.stderr, proc.stderr
    assert proc.returncode in (0, 1, 2)
    assert proc.stdout.isascii() and proc.stderr.isascii()
    if command == "check configs/answers-example.yaml":
        assert " ok " in proc.stdout  # ✓ spelled out
    if command == "step":
        assert "Forward pass * hidden layer h" in proc.stdout  # the · of a heading
