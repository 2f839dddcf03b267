"""Shared helpers for the command-line tests."""

from __future__ import annotations

import re

from typer.testing import CliRunner, Result

from backprop_cli.cli import app

# Fixed width, colour off: golden text does not depend on the terminal running the tests.
ENV = {"COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb"}
ERROR_LINE = re.compile(r"error: (?P<file>[^:\n]+)(:(?P<line>\d+):(?P<col>\d+))?: (?P<rest>.+)")


def run(*args: str, env: dict[str, str] | None = None, input: str | None = None) -> Result:
    """`backprop ARGS` in-process, stdout and stderr captured apart; `input` is stdin."""
    return CliRunner().invoke(app, list(args), env={**ENV, **(env or {})}, input=input)


def assert_input_error(result: Result) -> re.Match[str]:
    """Exit 2, nothing on stdout, exactly one `error: ...` line on stderr, no traceback."""
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr)
    assert isinstance(result.exception, SystemExit), result.exception
    assert result.stdout == ""
    assert result.stderr.endswith("\n") and result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.stderr
    match = ERROR_LINE.fullmatch(result.stderr.rstrip("\n"))
    assert match, result.stderr
    return match
