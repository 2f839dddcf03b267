"""Command-line habits (issue 8, item 6): completion, `-` for stdin, one-line usage errors, help."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.main import get_command

from backprop_cli import load_spec, loads_spec, step
from backprop_cli.cli import app
from backprop_cli.ops import ACTIVATIONS

from .clihelp import run

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = ["step", "train", "explain", "check", "gradcheck", "init", "draw", "schema", "import"]
CONFIG_COMMANDS = ["step", "train", "explain", "check", "gradcheck", "draw"]


def backprop(
    *args: str, stdin: str | None = None, cwd: Path = ROOT, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`backprop ARGS` as a separate process, as a shell runs it."""
    return subprocess.run(
        [sys.executable, "-m", "backprop_cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd,
        env={
            "NO_COLOR": "1",
            "COLUMNS": "80",
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "PYTHONPATH": str(ROOT),
            **(env or {}),
        },
        check=False,
    )


# --- shell completion ---------------------------------------------------------------------------


def test_show_completion_prints_a_bash_script() -> None:
    result = backprop("--show-completion", "bash")
    assert result.returncode == 0, result.stderr
    assert "_BACKPROP_COMPLETE=complete_bash" in result.stdout
    assert result.stdout.rstrip().endswith("complete -o default -F _backprop_completion backprop")


def test_completion_completes_commands_and_choices() -> None:
    words = {"_BACKPROP_COMPLETE": "complete_bash"}
    result = backprop(env={**words, "COMP_WORDS": "backprop st", "COMP_CWORD": "1"})
    assert result.stdout.split() == ["step"]
    result = backprop(env={**words, "COMP_WORDS": "backprop step --phase ", "COMP_CWORD": "3"})
    assert result.stdout.split() == ["forward", "loss", "backward", "update", "after"]


def test_install_completion_writes_the_script(tmp_path: Path) -> None:
    result = backprop("--install-completion", "bash", env={"HOME": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    script = tmp_path / ".bash_completions" / "backprop.sh"
    assert "_BACKPROP_COMPLETE=complete_bash" in script.read_text()
    assert f"source '{script}'" in (tmp_path / ".bashrc").read_text()


# --- `-` reads the config from stdin ------------------------------------------------------------


def test_init_to_stdout_pipes_into_step(tmp_path: Path) -> None:
    made = backprop("init", "-", "-l", "2,2,2", "--seed", "7")
    assert made.returncode == 0 and made.stdout.startswith("#"), made.stderr
    piped = subprocess.run(
        f"{sys.executable} -m backprop_cli init - -l 2,2,2 --seed 7 "
        f"| {sys.executable} -m backprop_cli step - --format json",
        shell=True,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PYTHONPATH": str(ROOT), "PATH": os.environ.get("PATH", "/usr/bin:/bin")},
        check=False,
    )
    assert piped.returncode == 0, piped.stderr
    trace = json.loads(piped.stdout)
    # the same numbers as the file init writes
    config = tmp_path / "ex.yaml"
    config.write_text(made.stdout)
    assert trace == json.loads(backprop("step", str(config), "--format", "json").stdout)
    spec = load_spec(config)
    (w1, w2), _ = spec.layers[0].weights
    assert spec.layers[0].bias is not None
    i1, i2 = spec.samples[0].inputs
    assert trace["steps"][0]["id"] == "net_h1"
    assert trace["steps"][0]["value"] == w1 * i1 + w2 * i2 + spec.layers[0].bias[0]


@pytest.mark.parametrize("command", ["train", "gradcheck", "draw"])
def test_every_config_command_reads_stdin(command: str) -> None:
    text = (ROOT / "configs" / "mazur.yaml").read_text()
    assert backprop(command, "-", stdin=text).stdout == backprop(command).stdout


def test_explain_and_check_read_the_config_from_stdin() -> None:
    text = (ROOT / "configs" / "mazur.yaml").read_text().replace("0.40, 0.45", "0.30, 0.45")
    result = backprop("explain", "w5+", "-", "--depth", "0", stdin=text)
    w5 = step(loads_spec(text)).find("w5+")
    assert w5 is not None and result.returncode == 0
    assert f"= {w5.value:.9f}".rstrip("0") in result.stdout
    answers = ROOT / "configs" / "answers-example.yaml"
    assert backprop("check", str(answers), "-", stdin=text).returncode == 1


def test_a_bad_config_on_stdin_is_named_stdin() -> None:
    text = (ROOT / "configs" / "mazur.yaml").read_text().replace("sigmoid", "sigmod", 1)
    result = backprop("step", "-", stdin=text)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == (
        "error: <stdin>:7:17: layers[0].activation: unknown value 'sigmod' (did you mean "
        f"'sigmoid'?); one of {', '.join(ACTIVATIONS)}\n"
    )
    binary = backprop("step", "-", stdin="\x00\x01")
    assert binary.stderr == "error: <stdin>: looks like binary data, not YAML text\n"


# --- usage errors: one line ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (
            ["step", "--phase", "backwards"],
            "error: --phase: 'backwards' is not one of forward, loss, backward, update, after "
            "(did you mean 'backward'?)",
        ),
        (["step", "--precision", "40"], "error: --precision: 40 is not in the range 0<=x<=17"),
        (["train", "-n", "-3"], "error: --epochs: -3 is not in the range x>=0"),
        (["explain"], "error: missing argument 'ID'; see backprop explain --help"),
        (
            ["step", "--onyl", "w5+"],
            "error: no such option: --onyl (Possible options: --only, --round); "
            "see backprop step --help",
        ),
        (["nocommand"], "error: no such command 'nocommand'; see backprop --help"),
    ],
)
def test_usage_errors_are_one_line(args: list[str], line: str) -> None:
    result = run(*args)
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit)
    assert result.stdout == ""
    assert result.stderr == line + "\n"


def test_usage_error_in_a_real_process_is_one_line() -> None:
    result = backprop("step", "--phase", "backwards")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: --phase: ")


# --- help ---------------------------------------------------------------------------------------


def help_text(*args: str, columns: int = 80) -> str:
    result = run(*args, "--help", env={"COLUMNS": str(columns)})
    assert result.exit_code == 0, result.stderr
    return result.stdout


def description(text: str) -> list[str]:
    """The paragraphs between the Usage line and the first panel."""
    body = text.split("╭", 1)[0].split("\n", 2)[2]
    return [p.strip() for p in re.split(r"\n\s*\n", body) if p.strip()]


@pytest.mark.parametrize("command", ["", *COMMANDS])
def test_help_has_no_hard_line_breaks_mid_sentence(command: str) -> None:
    for paragraph in description(help_text(*filter(None, [command]), columns=1000)):
        lines = paragraph.splitlines()
        if lines[0].startswith("backprop "):
            continue  # examples: one command a line
        assert len(lines) == 1, paragraph


@pytest.mark.parametrize("command", ["", *COMMANDS])
@pytest.mark.parametrize("columns", [80, 100])
def test_examples_and_choices_are_never_broken(command: str, columns: int) -> None:
    text = help_text(*filter(None, [command]), columns=columns)
    examples = [p for p in description(text) if p.startswith("backprop ")]
    assert examples, "no examples"
    for line in examples[0].splitlines():
        # each example is a whole command line: a wrapped one would start with something else
        assert line.strip().startswith("backprop "), line
    group: Any = get_command(app)
    params = group.params if not command else group.commands[command].params
    for param in params:
        for choice in getattr(param.type, "choices", None) or ():
            name = str(getattr(choice, "value", choice))
            assert re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", text), (param.name, name)
    assert not re.search(r"\|\S*\s*│\s*$", text, re.M)  # no choice list cut at a line's end


def written_examples(command: str) -> list[str]:
    """The example commands as the source writes them, one a line, without their comments."""
    group: Any = get_command(app)
    doc = app.info.help if not command else group.commands[command].callback.__doc__
    assert isinstance(doc, str)
    lines = [line.strip() for line in doc.splitlines()]
    return [
        re.sub(r"\s{2,}(\[dim\])?#.*$", "", line) for line in lines if line.startswith("backprop ")
    ]


def shown_examples(text: str) -> list[str]:
    """The example commands of a help page, continued lines joined (after a trailing `\\`,
    `|` or `&&`); any other line must be a comment, never a piece of a command."""
    body = text.split("Examples", 1)[1].split("╭", 1)[0]
    commands: list[str] = []
    going = False
    for raw in body.splitlines():
        line = re.sub(r"\s{2,}#.*$", "", raw.strip())  # a comment beside the command
        if not line:
            going = False
            continue
        if going:
            commands[-1] += " " + line.removesuffix(" \\")
        elif line.startswith("backprop "):
            commands.append(line.removesuffix(" \\"))
        else:
            assert line.startswith("#"), f"a piece of a command: {raw!r}"
        going = raw.rstrip().endswith(("\\", "|", "&&"))
    return commands


@pytest.mark.parametrize("command", ["", *sorted(get_command(app).commands)])  # type: ignore[attr-defined]
@pytest.mark.parametrize("columns", [40, 80])
def test_help_examples_are_whole_commands_at_40_and_80_columns(command: str, columns: int) -> None:
    """Rich wraps a help paragraph at spaces, which cut `cmd | jq '...'` into pieces at 40
    columns; each example now fits, is continued as the shell reads it, or keeps its line."""
    text = help_text(*filter(None, [command]), columns=columns)
    written = written_examples(command)
    assert written and shown_examples(text) == written
    widest = max(len(line) for line in text.splitlines())
    assert widest <= columns
    if columns == 80:  # wide enough: each example on one line, as written
        assert all(f" {w}" in text.splitlines() or f" {w} " in text for w in written)


def test_top_level_help_has_examples() -> None:
    text = help_text()
    assert "Examples" in text
    assert "backprop init - -l 2,3,2 | backprop step -" in text


def test_argument_names_are_written_one_way() -> None:
    for command in CONFIG_COMMANDS:
        usage = help_text(command).splitlines()[1]
        assert usage.rstrip().endswith("[CONFIG]"), usage
    assert "backprop init [OPTIONS] {CONFIG}" in help_text("init")
    made = run("init", "-", "-l", "2,2,2", "--seed", "7").stdout
    assert made.startswith("# An exercise made by: backprop init CONFIG --layers 2,2,2 --seed 7\n")
    assert "backprop check [OPTIONS] {ANSWERS} [CONFIG]" in help_text("check")
    for command in COMMANDS:
        assert not re.search(r"\bconfig\s+<path>|\bPATH\b", help_text(command)), command


def test_examples_in_help_name_files_a_checkout_has(tmp_path: Path) -> None:
    # a file an example reads is one of the repository's (tests/test_examples_run.py runs them)
    named = set()
    for command in ["", *COMMANDS]:
        named |= set(re.findall(r"(?:configs|docs)/[\w./-]+", help_text(*filter(None, [command]))))
    assert "configs/answers-example.yaml" in named and "docs/interop/model.onnx" in named
    assert all((ROOT / path).is_file() for path in named), named
    # the first examples of step and explain run as written from any folder
    result = backprop("step", "--only", "dE_total/dw*", cwd=tmp_path)
    assert result.returncode == 0 and re.search(r"dE_total/dw5 .* 0\.082167041", result.stdout)
    result = backprop("explain", "E_total+", "--format", "json", cwd=tmp_path)
    after = step(load_spec()).find("E_total+")
    assert after is not None and after.value == pytest.approx(0.291027774, abs=5e-10)
    assert json.loads(result.stdout)["value"] == after.value
