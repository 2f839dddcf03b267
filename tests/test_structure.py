"""The structure holds: the catalogue imports nothing else of the project, no two modules import
each other (directly or in a loop), and no operation name is compared with a string outside the
catalogue."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from backprop_cli.ops import ACTIVATIONS, LOSSES, OPTIMIZERS, UnknownOperation

PACKAGE = Path(__file__).resolve().parents[1] / "backprop_cli"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> set[str]:
    """Modules of the package that this file imports, anywhere in it (function bodies too)."""
    here = module_name(path)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("backprop_cli")}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not target.startswith("backprop_cli"):
                continue
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                found.add(
                    sub
                    if (PACKAGE.parent / (sub.replace(".", "/") + ".py")).exists()
                    or (PACKAGE.parent / sub.replace(".", "/")).is_dir()
                    else target
                )
    return found - {here}


def graph() -> dict[str, set[str]]:
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    edges = {}
    for name, path in modules.items():
        # A package's __init__ is the package itself: importing a submodule passes through it,
        # so edges into a package's own __init__ from inside it are not loops of the code.
        edges[name] = {m for m in imports(path) if m in modules and not name.startswith(m + ".")}
    return edges


def test_no_import_cycles() -> None:
    edges = graph()
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(n: str) -> None:
        state[n] = 1
        stack.append(n)
        for m in sorted(edges[n]):
            if state.get(m) == 1:
                cycle = [*stack[stack.index(m) :], m]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if m not in state:
                visit(m)
        stack.pop()
        state[n] = 2

    for n in sorted(edges):
        if n not in state:
            visit(n)
    assert len(edges) > 30


def test_the_catalogue_imports_nothing_else_of_the_project() -> None:
    # records.py (the record decorator) sits in the catalogue's layer and imports nothing of ours
    assert not {m for m in imports(PACKAGE / "records.py") if m.startswith("backprop_cli")}
    for path in (PACKAGE / "ops").glob("*.py"):
        outside = {
            m
            for m in imports(path)
            if not m.startswith(("backprop_cli.ops", "backprop_cli.records"))
        }
        assert not outside, f"{path.name} imports {outside}"


def test_the_engine_and_kernels_know_no_screen_and_no_command_line() -> None:
    edges = graph()
    for name, targets in edges.items():
        if name.startswith(("backprop_cli.engine", "backprop_cli.trace", "backprop_cli.kernels")):
            bad = {t for t in targets if t.startswith(("backprop_cli.render", "backprop_cli.cli"))}
            assert not bad, f"{name} imports {bad}"
        if name.startswith("backprop_cli.kernels"):
            assert "backprop_cli.engine" not in targets, name
        if name == "backprop_cli.engine":
            assert not any(t.startswith("backprop_cli.kernels") for t in targets)


NAMES = "|".join(sorted({*ACTIVATIONS, *LOSSES, *OPTIMIZERS}))
COMPARED = re.compile(
    rf"""(==|!=|\bin\b|\bis\b)\s*\(?\s*(['"])({NAMES})\2|(['"])({NAMES})\4\s*(==|!=|\bin\b)"""
)


def test_no_operation_name_is_compared_with_a_string_outside_the_catalogue() -> None:
    found = []
    for path in PACKAGE.rglob("*.py"):
        if path.parent.name == "ops":
            continue
        for i, line in enumerate(path.read_text().splitlines(), 1):
            if COMPARED.search(line):
                found.append(f"{path.relative_to(PACKAGE)}:{i}: {line.strip()}")
    assert not found, "\n".join(found)
    # The pattern itself finds what it must.
    assert COMPARED.search('if act == "sigmoid":') and COMPARED.search('x in ("relu", "tanh")')


@pytest.mark.parametrize(
    ("table", "kind"), [(ACTIVATIONS, "activation"), (LOSSES, "loss"), (OPTIMIZERS, "optimizer")]
)
def test_an_unknown_name_raises_at_once(table: object, kind: str) -> None:
    with pytest.raises(UnknownOperation, match=f"unknown {kind} 'nope'"):
        table["nope"]  # type: ignore[index]
