"""Options declared once (issue 10, item 4): every command takes a shared option from
cli/options.py, and -q works before or after the command."""

from __future__ import annotations

import ast
import importlib.util
import inspect
import re
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.main import get_command

from backprop_cli.cli import app

from .clihelp import run

ROOT = Path(__file__).resolve().parent.parent
CLI = ROOT / "backprop_cli" / "cli"
SEQUENTIAL = str(ROOT / "tests" / "valid_configs" / "three_layers.yaml")

# For each command that writes notes: arguments that make it write one, and how the note begins.
NOTES: dict[str, tuple[Callable[[Path], list[str]], str]] = {
    "step": (lambda _: [SEQUENTIAL, "--update-order", "sequential", "-f", "json"], "note: "),
    "train": (lambda d: ["-n", "2", "-f", "json", "--save", str(d / "run.yaml")], "saved "),
    "init": (lambda d: [str(d / "ex.yaml"), "--layers", "2,2", "--seed", "1"], "wrote "),
    "draw": (lambda d: ["-o", str(d / "net.svg")], "wrote "),
    "export": (lambda d: ["--to", "numpy", "-o", str(d / "step.py")], "wrote "),
}
# backprop import reads an ONNX file only with the onnx package (the `onnx` extra) installed.
HAVE_ONNX = importlib.util.find_spec("onnx") is not None
if HAVE_ONNX:
    NOTES["import"] = (
        lambda d: [str(ROOT / "docs" / "interop" / "model.onnx"), "-o", str(d / "net.yaml")],
        "wrote ",
    )


@pytest.mark.parametrize("flag", ["-q", "--quiet"])
@pytest.mark.parametrize("place", ["before", "after"])
@pytest.mark.parametrize("command", sorted(NOTES))
def test_quiet_before_or_after_the_command(
    command: str, place: str, flag: str, tmp_path: Path
) -> None:
    make_args, note = NOTES[command]
    (tmp_path / "hushed").mkdir()
    (tmp_path / "loud").mkdir()
    args = make_args(tmp_path / "hushed")
    hushed = run(flag, command, *args) if place == "before" else run(command, *args, flag)
    # Then the same without -q, in the same process: the quiet must not outlast its run.
    loud = run(command, *make_args(tmp_path / "loud"))
    assert hushed.exit_code == loud.exit_code == 0, (hushed.stderr, loud.stderr)
    assert hushed.stderr == ""
    assert loud.stderr.startswith(note), loud.stderr
    assert hushed.stdout == loud.stdout


def test_every_command_that_writes_notes_takes_quiet() -> None:
    group = get_command(app)
    notes = re.compile(r"\b(info|write_output)\(")
    writers = set()
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        source = inspect.getsource(sys.modules[command.callback.__module__])
        if notes.search(source):
            writers.add(name)
            flags = {opt for param in command.params for opt in param.opts}
            assert {"-q", "--quiet"} <= flags, name
    assert writers == set(NOTES) | ({"import"} if not HAVE_ONNX else set())


# For each command that writes a file through -o: the arguments besides -o FILE.
WRITERS: dict[str, list[str]] = {
    "step": ["-f", "html"],
    "train": ["-n", "1", "-f", "html"],
    "draw": [],
    "export": ["--to", "numpy"],
    "import": [str(ROOT / "docs" / "interop" / "model.onnx")],
}


def test_every_command_names_its_output_file_option_the_same_way(tmp_path: Path) -> None:
    group = get_command(app)
    takes = {
        name
        for name, command in group.commands.items()  # type: ignore[attr-defined]
        if any("-o" in param.opts for param in command.params)
    }
    assert takes == set(WRITERS)
    there = tmp_path / "there.out"
    there.write_text("mine")
    for name, args in WRITERS.items():
        if name == "import" and not HAVE_ONNX:
            continue
        for flag in ("-o", "--output"):
            result = run(name, *args, flag, str(there))
            assert result.exit_code == 2, (name, result.stderr)
            assert result.stderr == (
                f"error: --output {there}: already exists; add --force to overwrite it\n"
            ), name
    assert there.read_text() == "mine"


def declarations(folder: Path) -> dict[str, list[str]]:
    """Each flag of a typer.Option in folder/*.py, with where it is declared (file:line)."""
    found: dict[str, list[str]] = {}

    def note(call: ast.Call, where: str, param: str | None) -> None:
        flags = [
            a.value
            for a in call.args
            if isinstance(a, ast.Constant) and isinstance(a.value, str) and a.value[:1] == "-"
        ]
        if not flags and param:  # typer names it after the parameter
            flags = ["--" + param.strip("_").replace("_", "-")]
        for flag in flags:
            found.setdefault(flag, []).append(f"{where}:{call.lineno}")

    def options(node: ast.AST) -> list[ast.Call]:
        return [
            n
            for n in ast.walk(node)
            if isinstance(n, ast.Call) and ast.unparse(n.func) in ("typer.Option", "Option")
        ]

    for path in sorted(folder.glob("*.py")):
        tree = ast.parse(path.read_text("utf-8"))
        in_params: set[int] = set()
        for fn in ast.walk(tree):
            if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
                for arg in fn.args.args + fn.args.kwonlyargs:
                    for call in options(arg.annotation) if arg.annotation else []:
                        note(call, path.name, arg.arg)
                        in_params.add(id(call))
        for call in options(tree):
            if id(call) not in in_params:
                note(call, path.name, None)
    return found


def copies(found: dict[str, list[str]]) -> dict[str, list[str]]:
    """Flags declared more than once, not all in options.py.

    options.py may hold several options of one name (--format has three sets of choices);
    anywhere else a flag is declared once, and never beside a shared one.
    """
    return {
        flag: places
        for flag, places in found.items()
        if len(places) > 1 and not all(p.startswith("options.py:") for p in places)
    }


def test_each_option_is_declared_once() -> None:
    found = declarations(CLI)
    assert "--precision" in found and "--quiet" in found  # the scan sees both ways of declaring
    assert not copies(found)


def test_the_scan_finds_a_copied_option(tmp_path: Path) -> None:
    # A command that declares its own --precision beside the shared one is caught.
    (tmp_path / "options.py").write_text(
        'PrecisionOpt = Annotated[int, typer.Option("--precision", min=0)]\n'
    )
    (tmp_path / "cmd.py").write_text(
        "def cmd(precision: Annotated[int, typer.Option(min=0, max=17)] = 9) -> None: ...\n"
    )
    assert copies(declarations(tmp_path)) == {"--precision": ["cmd.py:1", "options.py:1"]}


def test_choices_are_enums_of_options_py_only() -> None:
    for path in sorted(CLI.glob("*.py")):
        if path.name == "options.py":
            continue
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.ClassDef):
                bases = {ast.unparse(b) for b in node.bases}
                assert "Enum" not in bases, f"{path.name}: class {node.name}"
            if isinstance(node, ast.Call):
                assert ast.unparse(node.func) != "Enum", f"{path.name}:{node.lineno}"
