"""Run the command line as a user does: a subprocess, colour off, a fixed width."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """`backprop ARGS` from this worktree; returns the finished process (never raises on exit)."""
    return subprocess.run(
        [sys.executable, "-m", "backprop_cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={"NO_COLOR": "1", "COLUMNS": "100", "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
        check=False,
    )
