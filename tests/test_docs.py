"""The README covers every command and every exit code; every command's help shows examples."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer

from backprop_cli.cli import app
from backprop_cli.errors import ExitCode

from .clihelp import run

ROOT = Path(__file__).parents[1]
README = (ROOT / "README.md").read_text("utf-8")
COMMANDS = sorted(typer.main.get_command(app).commands)  # type: ignore[attr-defined]


def section(title: str) -> str:
    """The README text under `## title`, up to the next heading of that level."""
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", README, re.M | re.S)
    assert match, f"README.md has no '## {title}' section"
    return match.group(1)


def test_there_are_commands() -> None:
    assert "step" in COMMANDS and "schema" in COMMANDS


@pytest.mark.parametrize("command", COMMANDS)
def test_readme_shows_every_command(command: str) -> None:
    assert re.search(rf"`backprop {command}\b", README), f"README.md never shows backprop {command}"


@pytest.mark.parametrize("command", COMMANDS)
def test_help_has_examples(command: str) -> None:
    result = run(command, "--help")
    assert result.exit_code == 0
    assert "Examples" in result.stdout and f"backprop {command}" in result.stdout


def test_readme_documents_every_exit_code() -> None:
    rows = {
        int(m.group(1)): m.group(2).strip()
        for m in re.finditer(r"^\|\s*`?(\d+)`?\s*\|(.+)\|\s*$", section("Exit codes"), re.M)
    }
    assert set(rows) == {int(code) for code in ExitCode}
    assert all(rows.values())


def test_readme_error_example_is_real(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The error shown in the README is what the tool prints for that mistake.
    shown = re.search(r"^\$ backprop step net\.yaml\n(error: .+)$", README, re.M)
    assert shown
    text = (ROOT / "configs" / "mazur.yaml").read_text("utf-8")
    (tmp_path / "net.yaml").write_text(text.replace("activation: sigmoid", "activation: sigmod", 1))
    monkeypatch.chdir(tmp_path)
    result = run("step", "net.yaml")
    assert result.stderr.rstrip("\n") == shown.group(1)


def test_errors_doc_shows_real_messages(monkeypatch: pytest.MonkeyPatch) -> None:
    # Every error line in docs/errors.md's console blocks is one the tests check elsewhere, or
    # comes from a command shown right above it.
    import shlex

    from .test_bad_configs import EXPECTED

    expected_lines = set(EXPECTED.values())
    doc = (ROOT / "docs" / "errors.md").read_text("utf-8")
    monkeypatch.chdir(ROOT)
    shown = 0
    for block in re.findall(r"```console\n(.*?)```", doc, re.S):
        command = None
        for line in block.splitlines():
            if line.startswith("$ backprop "):
                command = shlex.split(line[len("$ backprop ") :])
            elif line.startswith("error: "):
                shown += 1
                if command is None:
                    assert line in expected_lines, line
                else:
                    assert run(*command).stderr == line + "\n"
                    command = None
    assert shown >= 40
