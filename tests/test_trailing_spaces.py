"""No line of any output ends in spaces, in a pipe or in colour: tables, the matrix view,
explain, check, train and gradcheck diff against the README and against each other."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from rich.segment import Segment
from rich.style import Style

from backprop_cli.render.rows import trimmed

from .clihelp import run

ROOT = Path(__file__).parents[1]
ANSWERS = str(ROOT / "configs" / "answers-example.yaml")
SGR = re.compile(r"\x1b\[[0-9;]*m")

OUTPUTS = [
    ["step"],
    ["step", "--view", "both"],
    ["step", "--round", "4"],
    ["explain", "dE_total/dw1"],
    ["explain", "delta_h", "--view", "matrix"],
    ["check", ANSWERS],
    ["check", str(ROOT / "configs" / "losses.csv")],
    ["gradcheck"],
    ["train", "-n", "20", "--every", "5"],
]


@pytest.mark.parametrize("colour", [False, True])
@pytest.mark.parametrize("args", OUTPUTS, ids=" ".join)
def test_no_line_ends_in_spaces(args: list[str], colour: bool) -> None:
    env = {"COLUMNS": "80"}
    if colour:
        env.update({"NO_COLOR": "", "FORCE_COLOR": "1", "TERM": "xterm-256color"})
    result = run(*args, env=env)
    assert result.exit_code in (0, 1), result.stderr
    assert ("\x1b[" in result.stdout) is colour
    lines = SGR.sub("", result.stdout).splitlines()
    assert len(lines) >= 5
    padded = [line for line in lines if line != line.rstrip()]
    assert not padded, padded[:5]


def test_trimmed_holds_spaces_until_the_line_goes_on() -> None:
    bold = Style(bold=True)
    segments = [
        Segment("w1", bold),
        Segment("   "),  # between two cells: kept
        Segment("0.15  ", bold),
        Segment("  "),  # padding at the end of the line: dropped
        Segment("\n"),
        Segment("a  \nb   \n   c  "),  # many rows in one segment
        Segment(" "),
        Segment("\n"),
    ]
    out = list(trimmed(segments))
    assert "".join(s.text for s in out) == "w1   0.15\na\nb\n   c\n"
    assert Segment("0.15", bold) in out  # a style stays with its text


def help_commands() -> list[list[str]]:
    from backprop_cli.cli import COMMANDS

    return [[], *([name] for name in COMMANDS)]


@pytest.mark.parametrize("colour", [False, True])
@pytest.mark.parametrize("command", help_commands(), ids=lambda c: " ".join(c) or "backprop")
def test_no_line_of_help_ends_in_spaces(command: list[str], colour: bool) -> None:
    """typer's help pads every line to the width (16 of 48 lines of `backprop --help`)."""
    env = {"COLUMNS": "80"}
    if colour:
        env.update({"NO_COLOR": "", "FORCE_COLOR": "1", "TERM": "xterm-256color"})
    result = run(*command, "--help", env=env)
    assert result.exit_code == 0, result.stderr
    assert ("\x1b[" in result.stdout) is colour
    shown = SGR.sub("", result.stdout)
    lines = shown.splitlines()
    assert len(lines) >= 10 and f"Usage: {' '.join(['backprop', *command])} [OPTIONS]" in shown
    assert "--help" in shown and "Show this message" in shown
    padded = [line for line in lines if line != line.rstrip()]
    assert not padded, padded[:5]
