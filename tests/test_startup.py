"""Start-up: a command loads its own module and renderer only, and --help still lists them all."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from hypothesis import given, settings
from hypothesis import strategies as st

from backprop_cli.cli import COMMANDS, app

from .clihelp import run

ROOT = Path(__file__).resolve().parent.parent
OTHER_COMMANDS = {f"backprop_cli.cli.{m}" for m in COMMANDS.values()} - {"backprop_cli.cli.step"}


def imported(*args: str) -> set[str]:
    """The modules `backprop ARGS` has loaded when it exits."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1", "COLUMNS": "80"}
    code = (
        "import atexit, sys; from backprop_cli.cli import main\n"
        "atexit.register(lambda: print(sorted(sys.modules), file=sys.stderr))\n"
        "main(sys.argv[1:])"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
    return set(ast.literal_eval(done.stderr.splitlines()[-1]))


def test_step_imports_its_own_command_and_renderer_only() -> None:
    loaded = imported("step")
    assert {
        "backprop_cli.cli.step",
        "backprop_cli.engine.passes",
        "backprop_cli.render.table",
    } <= loaded
    unused = {
        *OTHER_COMMANDS,
        "secrets",
        "importlib.resources",
        "backprop_cli.render.jsonfmt",
        "backprop_cli.render.markdown",
        "backprop_cli.render.latex",
        "backprop_cli.render.drift",
        "backprop_cli.tutor.rounding",
    }
    assert loaded & unused == set()


def test_step_as_json_lays_out_no_table() -> None:
    loaded = imported("step", "--format", "json")
    assert "backprop_cli.render.jsonfmt" in loaded
    assert {"backprop_cli.render.table", *OTHER_COMMANDS} & loaded == set()


def test_version_builds_no_command() -> None:
    loaded = imported("--version")
    assert {f"backprop_cli.cli.{m}" for m in COMMANDS.values()} & loaded == set()
    assert "backprop_cli.engine.passes" not in loaded


def test_the_root_lists_every_command_without_building_one() -> None:
    group: typer.core.TyperGroup = typer.main.get_command(app)  # type: ignore[assignment]
    commands = group.commands
    assert list(commands) == list(COMMANDS) == group.list_commands(typer.Context(group))
    assert len(commands) == len(COMMANDS) and "step" in commands and "stpe" not in commands
    assert group.get_command(typer.Context(group), "stpe") is None
    with pytest.raises(KeyError):
        commands["stpe"]
    step = commands["step"]
    flags = {flag for param in step.params for flag in param.opts}
    assert step.name == "step" and {"--only", "--format"} <= flags
    assert commands["step"] is step  # built once


def test_a_command_can_be_added_and_removed_by_hand() -> None:
    group: typer.core.TyperGroup = typer.main.get_command(app)  # type: ignore[assignment]
    extra = typer.core.TyperCommand("extra", callback=lambda: None)
    group.add_command(extra)
    assert list(group.commands)[-1] == "extra" and group.commands["extra"] is extra
    del group.commands["extra"]
    del group.commands["draw"]
    assert "extra" not in group.commands and "draw" not in group.commands
    assert list(group.commands) == [c for c in COMMANDS if c != "draw"]


def test_each_run_sees_its_own_width() -> None:
    # the consoles are made in each run, so one run's COLUMNS never sticks to the next
    narrow = run("step", "--only", "w5+", env={"COLUMNS": "40"}).stdout
    wide = run("step", "--only", "w5+", env={"COLUMNS": "120"}).stdout
    assert max(len(line) for line in narrow.splitlines()) <= 40
    assert "w5+   w5 - η * dE_total/dw5   0.4 - 0.5 * 0.082167041   0.35891648" in wide


@pytest.mark.parametrize("module", sorted(set(COMMANDS.values()) | {"root"}))
def test_commands_annotations_need_no_evaluation(module: str) -> None:
    """typer reads each parameter's type from the signature; an annotation left as a string
    (`from __future__ import annotations`) is compiled and evaluated on every run (twice)."""
    import importlib
    import inspect

    loaded = importlib.import_module(f"backprop_cli.cli.{module}")
    commands = [
        f
        for f in vars(loaded).values()
        if inspect.isfunction(f)
        and f.__module__ == loaded.__name__
        and "typer" in str([p.annotation for p in inspect.signature(f).parameters.values()])
    ]
    assert commands or module == "root"
    for command in commands:
        assert not [a for a in command.__annotations__.values() if isinstance(a, str)]


@settings(max_examples=400, deadline=None)
@given(
    st.text(alphabet="ab _-.,1table jsonout-in\n", max_size=30),
    st.sampled_from(["table", "json", "out-in", "x1", "a_b"]),
    st.integers(min_value=0, max_value=30),
    st.booleans(),
)
def test_whole_word_check_agrees_with_the_regex(text: str, word: str, at: int, put: bool) -> None:
    """tidy_help's word test (no regex compiled on each run) finds what \\bword\\b finds."""
    import re

    from backprop_cli.cli.common import _has_word

    if put:
        text = text[:at] + word + text[at:]
    assert _has_word(text, word) == bool(re.search(rf"\b{re.escape(word)}\b", text))


def test_help_examples_are_laid_out_only_when_help_is_shown(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Laying the examples out needs the terminal's width (a Console): a run that shows no
    help must not pay for it; --help, of a command or of the root, does."""
    from backprop_cli.cli import common

    asked: list[int] = []
    monkeypatch.setattr(common, "_help_width", lambda: asked.append(1) or 38)
    assert run("step", "--only", "w5+").exit_code == 0 and not asked
    shown = run("step", "--help")
    assert shown.exit_code == 0 and asked
    assert "  --layout in-out" in shown.stdout  # the long example, continued at 38 columns
    asked.clear()
    assert run("--help").exit_code == 0 and asked
