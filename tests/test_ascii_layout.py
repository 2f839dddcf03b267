"""On a stream that cannot encode the symbols (PYTHONIOENCODING=ascii), text is spelled in ASCII
before it is laid out: a matrix's brackets are `[` and `]`, not `?`, and columns stay aligned
though `½` is `1/2` and `η` is `eta`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]


def ascii_run(*args: str, columns: int = 100, codes: tuple[int, ...] = (0,)) -> str:
    """stdout of `python -m backprop_cli ARGS` on an ASCII stream; its exit code one of codes."""
    env = {
        "PYTHONIOENCODING": "ascii",
        "NO_COLOR": "1",
        "COLUMNS": str(columns),
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(ROOT),
    }
    done = subprocess.run(
        [sys.executable, "-m", "backprop_cli", *args],
        capture_output=True,
        text=True,
        encoding="ascii",
        env=env,
        check=False,
        cwd=ROOT,
    )
    assert done.returncode in codes, done.stderr
    return done.stdout


def brackets(line: str) -> list[int]:
    return [k for k, c in enumerate(line) if c in "[]"]


def test_matrix_brackets_are_ascii_and_aligned() -> None:
    lines = ascii_run("step", "--view", "matrix").splitlines()
    assert not any("?" in line for line in lines)
    for first in ("[E_o1] = 1/2(", "[out_o1] = 1/(1 + e^(-", "[delta_h1] = "):
        at = next(k for k, line in enumerate(lines) if line.startswith(first))
        top, below = lines[at], lines[at + 1]
        # the second row's brackets stand under the first row's
        assert set(brackets(below)) <= set(brackets(top)), (top, below)
        assert len(brackets(below)) >= 4


def test_a_step_table_with_eta_keeps_its_columns() -> None:
    lines = ascii_run("step", "--only", "w5+", "--only", "w6+").splitlines()
    table = [line for line in lines if line.startswith(("id ", "w5+ ", "w6+ "))]
    assert len(table) == 3 and "eta * dE_total/dw5" in table[1]
    dividers = {tuple(k for k, c in enumerate(line) if c == "|") for line in table}
    assert len(dividers) == 1, table  # the same columns in the header and every row
