"""Every package the tests import is declared in pyproject.toml, so `pip install -e '.[test]'`
on a fresh machine brings it (a package installed by hand once hid a missing one)."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")  # Python 3.11+; CI runs 3.11

ROOT = Path(__file__).resolve().parents[1]
# Import names that differ from the distribution's name.
IMPORT_NAME = {"pyyaml": "yaml", "pytest-cov": "pytest_cov", "types-pyyaml": "yaml-stubs"}


def declared() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        reqs += extra
    names = {re.split(r"[<>=!~\[; ]", r, maxsplit=1)[0].lower() for r in reqs}
    return {IMPORT_NAME.get(n, n.replace("-", "_")) for n in names}


def imported(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def test_tests_import_only_declared_packages() -> None:
    benchmarks = {p.stem for p in (ROOT / "benchmarks").glob("*.py")}  # scripts of this repo
    allowed = declared() | set(sys.stdlib_module_names) | {"backprop_cli", "tests"} | benchmarks
    for path in sorted((ROOT / "tests").glob("*.py")):
        # Optional extras are imported inside importorskip or try blocks; those are fine here too.
        missing = imported(path) - allowed
        assert not missing, f"{path.name} imports {sorted(missing)}, not in pyproject.toml"


def test_click_is_not_imported_directly() -> None:
    # typer 0.28 ships its own copy of click; `click` itself is not installed beside it.
    assert declared() >= {"typer", "rich", "yaml", "pytest", "hypothesis"}
    assert "click" not in imported(ROOT / "tests" / "clihelp.py")
