"""The structure holds: the folders are the parts of docs/house.json, every "never" of the house is
an import-linter contract (`lint-imports` in .ci/run checks them against the code), and no
operation name is compared with a string outside the catalogue."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

from backprop_cli.ops import ACTIVATIONS, LOSSES, OPTIMIZERS, UnknownOperation

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "backprop_cli"
HOUSE = json.loads((ROOT / "docs" / "house.json").read_text("utf-8"))
CONTRACTS = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["tool"]["importlinter"][
    "contracts"
]


def modules(part: str) -> set[str]:
    """The dotted names of a part's folders and files, as the contracts write them."""
    return {
        "backprop_cli." + p.removeprefix("backprop_cli/").rstrip("/").removesuffix(".py")
        for p in HOUSE["parts"][part]["is"]
    }


def test_the_package_root_holds_its_entry_points_and_the_parts() -> None:
    assert sorted(p.name for p in PACKAGE.glob("*.py")) == ["__init__.py", "__main__.py"]
    folders = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    named = {p.split("/")[1] for part in HOUSE["parts"].values() for p in part["is"]}
    assert folders - {"configs"} == named - {"__main__.py"}  # configs/: the bundled example


def test_every_never_of_the_house_is_a_contract() -> None:
    for source, target, why in HOUSE["never"]:
        held = [
            c
            for c in CONTRACTS
            if (
                c["type"] == "forbidden"
                and modules(source) & set(c["source_modules"])
                and modules(target) <= set(c["forbidden_modules"])
            )
            or (
                c["type"] == "independence"
                and modules(source) | modules(target) <= set(c["modules"])
            )
        ]
        assert held, f"no contract holds: never {source} -> {target} ({why})"


def test_the_layers_contract_follows_the_house_arrows() -> None:
    # Each arrow of the house runs down the layers (or across none): the two pictures agree.
    layers = next(c for c in CONTRACTS if c["type"] == "layers")["layers"]
    floor = {m.strip(): i for i, layer in enumerate(layers) for m in layer.split("|")}
    for source, target in HOUSE["arrows"]:
        for s in modules(source) - {"backprop_cli.__main__"}:
            for t in modules(target):
                assert floor[s] < floor[t], f"{source} -> {target} runs up the layers"


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
