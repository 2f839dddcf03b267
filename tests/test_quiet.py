"""`-q`/`--quiet` is global, as the README says: taken before the command and after it, by every
command, with the same data on stdout and no notes on stderr."""

from __future__ import annotations

from pathlib import Path

import pytest

from backprop_cli.cli import COMMANDS

from .clihelp import run

ROOT = Path(__file__).parents[1]
CONFIGS = ROOT / "configs"
ANSWERS = str(CONFIGS / "answers-example.yaml")

# Each command with arguments that run it on the worked example (no file written but to tmp).
ARGS = {
    "check": [ANSWERS],
    "draw": [],
    "explain": ["dE_total/dw1"],
    "export": ["--to", "numpy"],
    "gradcheck": [],
    "import": ["{missing}"],
    "init": ["-", "--layers", "2,2,2", "--seed", "1"],
    "schema": ["trace"],
    "step": ["--only", "w5+"],
    "train": ["-n", "3"],
}


def test_every_command_is_tried() -> None:
    assert set(ARGS) == set(COMMANDS)


@pytest.mark.parametrize("command", sorted(ARGS))
@pytest.mark.parametrize("flag", ["-q", "--quiet"])
def test_quiet_after_the_command(command: str, flag: str, tmp_path: Path) -> None:
    args = [a.replace("{missing}", str(tmp_path / "missing.onnx")) for a in ARGS[command]]
    before = run(flag, command, *args)
    after = run(command, *args, flag)
    assert "no such option" not in after.stderr, after.stderr
    assert after.exit_code == before.exit_code, after.stderr
    assert after.stdout == before.stdout
    assert after.stderr == before.stderr
    if after.exit_code != 2:  # an error still shows; a note does not
        assert after.stderr == ""
