"""The README covers every command and every exit code; every command's help shows examples."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer

from backprop_cli.cli import app
from backprop_cli.specs.errors import ExitCode

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


# --- the README's outputs are what a pipe gets (80 columns) -----------------------------------

PIPED = ("backprop", "tail", "head", "grep")  # what a README command may pipe into (not jq)
README_COMMANDS = [
    (m.group(1), m.group(2))
    for m in re.finditer(r"```console\n\$ (backprop [^\n]*)\n(.*?)```", README, re.S)
    if all(
        part.split()[0] in ("backprop", "tail", "head", "grep") for part in m.group(1).split("|")
    )
]


def shown_matches(shown: list[str], real: list[str]) -> bool:
    """Whether the README's lines are the real output exactly, blank lines at the end and
    spaces at the ends of lines too, a line `…` standing for lines left out (at the end: for
    all that follows)."""
    i, skipping = 0, False
    for line in shown:
        if line == "…":
            skipping = True
            continue
        while skipping and i < len(real) and real[i] != line:
            i += 1
        if i >= len(real) or real[i] != line:
            return False
        i, skipping = i + 1, False
    return skipping or i == len(real)


def test_shown_matches_counts_the_blank_lines_at_the_end() -> None:
    table = ["w5+   0.4 - 0.5 * 0.082167041   0.35891648", ""]
    assert shown_matches(table, table)
    assert not shown_matches(table[:1], table)  # the README leaves the last blank line out
    assert not shown_matches(table, table[:1])
    assert not shown_matches(["w5+  "], ["w5+"])  # nor may a line differ by its spaces
    assert shown_matches(["w5+   0.4 - 0.5 * 0.082167041   0.35891648", "…"], [*table, "b2"])


def test_readme_shows_command_outputs() -> None:
    assert len(README_COMMANDS) >= 7


@pytest.mark.parametrize(("command", "block"), README_COMMANDS, ids=[c for c, _ in README_COMMANDS])
def test_readme_output_is_real_at_80_columns(command: str, block: str, tmp_path: Path) -> None:
    import shlex
    import subprocess
    import sys

    if command.startswith("backprop step net.yaml"):
        pytest.skip("the error example is checked above, from a file it makes")
    line = command.replace("backprop ", f"{shlex.quote(sys.executable)} -m backprop_cli ", 1)
    line = line.replace("configs/", f"{ROOT}/configs/")
    result = subprocess.run(
        ["bash", "-c", line + " 2>&1"],
        capture_output=True,
        text=True,
        cwd=tmp_path,  # `init` writes its file here
        env={"COLUMNS": "80", "NO_COLOR": "1", "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
        timeout=120,
    )
    real = result.stdout.splitlines()
    shown = block.splitlines()  # the block's last line ends with the newline before ```
    assert all(len(x) <= 80 for x in shown if not x.startswith("error: "))  # errors: one line
    assert shown_matches(shown, real), "\n".join(real)


@pytest.mark.parametrize(
    "args",
    [
        ["--only", "delta_o1", "--only", "w5+"],
        ["--view", "matrix", "--only", "W_o", "--only", "delta_o"],
        ["--view", "matrix", "--layout", "in-out", "--only", "net_h"],
        ["--update-order", "sequential", "--only", "E_total+"],
        ["--view", "both", "--only", "W_o+"],
        ["--phase", "forward"],
        ["--view", "matrix", "--phase", "update"],
    ],
    ids=" ".join,
)
def test_a_picked_step_ends_with_one_blank_line_after_its_last_table(args: list[str]) -> None:
    """Every table and matrix section is followed by a blank line, the last one too (the README
    shows it); only the whole step goes on to its E_total line."""
    result = run("step", *args, env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.stderr
    assert result.stdout.endswith("\n\n") and not result.stdout.endswith("\n\n\n")
    assert result.stdout.rstrip("\n").splitlines()[-1].strip()
    whole = run("step", env={"COLUMNS": "80"}).stdout
    assert whole.endswith("\n\nE_total: 0.298371109 → 0.291027774  (-0.007343335)\n")
