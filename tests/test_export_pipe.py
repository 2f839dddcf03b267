"""An exported script piped into `head` ends quietly when the pipe closes, as `cat` does: no
BrokenPipeError traceback (it printed one for 2 runs in 20 of `python step.py | head`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from .clihelp import run


@pytest.mark.parametrize("to", ["numpy", "pytorch"])
def test_a_closed_pipe_ends_the_script_quietly(to: str, tmp_path: Path) -> None:
    pytest.importorskip("numpy" if to == "numpy" else "torch")
    script = tmp_path / "step.py"
    assert run("export", "--to", to, "-o", str(script)).exit_code == 0
    proc = subprocess.Popen(
        [sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader is gone before the first line is written
    err = proc.stderr.read().decode()
    proc.wait(timeout=120)
    assert err == ""
    assert proc.returncode == -13  # SIGPIPE, as cat ends
