"""Pipes and terminals: colour only where wanted, 80 columns, --quiet, --version, a closed pipe."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from rich.cells import cell_len

from backprop_cli import __version__
from backprop_cli.specs.errors import ExitCode

from .clihelp import run

ROOT = Path(__file__).parents[1]
GOLDEN = Path(__file__).parent / "golden"
SGR = re.compile(r"\x1b\[([0-9;]*)m")
# A network whose output overflows a 64 KB pipe buffer (about 160 KB of JSON, 78 KB of tables).
BIG = """
inputs: 5
layers:
  - {name: a, size: 10, init: {seed: 1}}
  - {name: o, size: 3, init: {seed: 3}}
samples:
  - {inputs: [1, 2, 3, 4, 5], targets: [0, 1, 0]}
"""


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without colour settings, plus extra."""
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "COLUMNS")}
    env.update({"TERM": "xterm-256color", "PYTHONPATH": str(ROOT)}, **extra)
    return env


def backprop(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "backprop_cli", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )


def colour_codes(text: str) -> list[str]:
    """SGR sequences that set a foreground or background colour (bold and dim are not colour)."""
    out = []
    for params in SGR.findall(text):
        codes = [int(p) for p in params.split(";") if p]
        if any(30 <= c <= 49 or 90 <= c <= 107 for c in codes):
            out.append(params)
    return out


def on_a_terminal(*args: str, env: dict[str, str]) -> str:
    """Run with stdout on a pseudo-terminal 100 columns wide; return what it showed."""
    pty = pytest.importorskip("pty")
    import fcntl
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 100, 0, 0))
    proc = subprocess.Popen(
        [sys.executable, "-m", "backprop_cli", *args], stdout=slave, env=env, cwd=ROOT
    )
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    assert proc.wait(timeout=120) == 0
    return b"".join(chunks).decode("utf-8")


# --- colour ------------------------------------------------------------------------------------


def test_pipe_gets_plain_text() -> None:
    result = backprop("step", env=clean_env())
    assert result.returncode == 0
    assert "\x1b" not in result.stdout


def test_force_color_colours_a_pipe() -> None:
    result = backprop("step", env=clean_env(FORCE_COLOR="1"))
    assert result.returncode == 0
    assert colour_codes(result.stdout)


def test_terminal_is_coloured() -> None:
    assert colour_codes(on_a_terminal("step", env=clean_env()))


def test_no_color_on_a_terminal() -> None:
    shown = on_a_terminal("step", env=clean_env(NO_COLOR="1"))
    assert "dE_total/dw5" in shown
    assert colour_codes(shown) == []


def test_no_color_error_line() -> None:
    result = backprop("step", "missing.yaml", env=clean_env(NO_COLOR="1", FORCE_COLOR="1"))
    assert result.returncode == ExitCode.USAGE
    assert colour_codes(result.stderr) == []
    assert SGR.sub("", result.stderr) == "error: missing.yaml: no such file\n"


# --- width -------------------------------------------------------------------------------------


def test_golden_gradients_at_80_columns() -> None:
    result = run("step", "--only", "dE_total/dw*", env={"COLUMNS": "80"})
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    # Compared without trailing spaces (table cells are padded to the width).
    shown = "\n".join(line.rstrip() for line in lines) + "\n"
    assert shown == (GOLDEN / "step_only_dw_80.txt").read_text("utf-8")


@pytest.mark.parametrize(
    "config", [None, *sorted(str(p) for p in (ROOT / "tests" / "valid_configs").glob("*.yaml"))]
)
def test_every_table_fits_80_columns(config: str | None) -> None:
    result = run("step", *([config] if config else []), env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.stderr
    # Terminal columns, not code points: the circumflex of m̂ (U+0302) takes no column.
    assert max(cell_len(line) for line in result.stdout.splitlines()) <= 80


# --- options -----------------------------------------------------------------------------------


def test_version() -> None:
    result = run("--version")
    assert result.exit_code == 0
    assert result.stdout == f"backprop {__version__}\n"
    pyproject = (ROOT / "pyproject.toml").read_text("utf-8")
    assert f'version = "{__version__}"' in pyproject


def test_quiet_silences_notes_not_data() -> None:
    # Sequential order with minibatches does not apply: a note says so, unless --quiet.
    config = str(ROOT / "tests" / "valid_configs" / "three_layers.yaml")
    loud = run("step", config, "--update-order", "sequential", "--format", "json")
    hushed = run("--quiet", "step", config, "--update-order", "sequential", "--format", "json")
    assert loud.exit_code == hushed.exit_code == 0
    assert loud.stderr.startswith("note: the sequential update order applies")
    assert hushed.stderr == ""
    assert loud.stdout == hushed.stdout


def test_quiet_keeps_errors() -> None:
    result = run("-q", "step", "missing.yaml")
    assert result.exit_code == 2
    assert result.stderr == "error: missing.yaml: no such file\n"


# --- pipes -------------------------------------------------------------------------------------


@pytest.mark.parametrize("reader", ["head -c 100", "head -n 3"])
@pytest.mark.parametrize("fmt", ["json", "table"])
def test_closed_pipe_ends_quietly(tmp_path: Path, reader: str, fmt: str) -> None:
    config = tmp_path / "big.yaml"
    config.write_text(BIG)
    command = f"{sys.executable} -m backprop_cli step {config} --format {fmt} | {reader}"
    result = subprocess.run(
        ["bash", "-o", "pipefail", "-c", command],
        capture_output=True,
        env=clean_env(),
        cwd=ROOT,
        timeout=120,
    )
    assert result.stderr == b""
    assert result.returncode == 0
    assert len(result.stdout) <= 100 or result.stdout.count(b"\n") == 3


# --- the entry point ---------------------------------------------------------------------------


def test_main_runs_the_app(capsys: pytest.CaptureFixture[str]) -> None:
    from backprop_cli.cli import main

    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == ExitCode.OK
    assert capsys.readouterr().out == f"backprop {__version__}\n"


def test_ctrl_c_exits_130(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from backprop_cli.cli import common

    def interrupted(**_: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(common, "app", interrupted)
    with pytest.raises(SystemExit) as exit_:
        common.main(["step"])
    assert exit_.value.code == ExitCode.INTERRUPTED == 130
    assert capsys.readouterr().err == "interrupted\n"
