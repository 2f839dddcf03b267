"""Random damage to valid configs never escapes as a traceback: the answer is exit 0 or exit 2."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .clihelp import assert_input_error, run

ROOT = Path(__file__).parents[1]
BASES = [
    ROOT / "configs" / "mazur.yaml",
    *sorted((ROOT / "tests" / "valid_configs").glob("*.yaml")),
]
TEXTS = [p.read_text("utf-8") for p in BASES]

# What a value can turn into: wrong types, non-finite and huge numbers, empty things.
REPLACEMENTS: list[Any] = [
    "text", "0.5", "", True, False, None, math.nan, math.inf, -math.inf, 1e300, -1e300,
    10**40, 0, -1, 1, 2.5, 1e-320, [], {}, [1, 2, 3], {"a": 1}, "softmax", "sigmoid",
]  # fmt: skip


def paths(node: Any, here: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path into a plain YAML value, the root included."""
    out = [here]
    if isinstance(node, dict):
        for k, v in node.items():
            out += paths(v, (*here, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += paths(v, (*here, i))
    return out


def parent_and_key(root: Any, path: tuple[Any, ...]) -> tuple[Any, Any]:
    node = root
    for part in path[:-1]:
        node = node[part]
    return node, path[-1]


@st.composite
def damaged(draw: st.DrawFn) -> bytes:
    """A valid config with one to three random injuries."""
    text = draw(st.sampled_from(TEXTS))
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["delete", "rename", "retype", "resize", "dup_line", "bytes"]))
        if kind in ("dup_line", "bytes"):
            raw = text.encode("utf-8")
            if kind == "dup_line":
                lines = text.splitlines(keepends=True)
                i = draw(st.integers(0, len(lines) - 1))
                text = "".join([*lines[: i + 1], lines[i], *lines[i + 1 :]])
                continue
            at = draw(st.integers(0, len(raw)))
            junk = draw(st.binary(min_size=1, max_size=4))
            cut = draw(st.integers(0, 2))
            return raw[:at] + junk + raw[at + cut :]
        data = yaml.safe_load(text)
        choices = [p for p in paths(data) if p]
        path = draw(st.sampled_from(choices))
        parent, key = parent_and_key(data, path)
        if kind == "delete":
            del parent[key]
        elif kind == "rename" and isinstance(parent, dict):
            parent[draw(st.sampled_from(["", "x", "nam", "layer", "weight", "1", key + "s"]))] = (
                parent.pop(key)
            )
        elif kind == "retype":
            parent[key] = draw(st.sampled_from(REPLACEMENTS))
        else:
            lists = [p for p in paths(data) if isinstance(_get(data, p), list) and _get(data, p)]
            target = _get(data, draw(st.sampled_from(lists)))
            if draw(st.booleans()):
                target.append(target[-1])
            else:
                target.pop()
        text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    return text.encode("utf-8")


def _get(root: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        root = root[part]
    return root


def _strict(token: str) -> float:
    raise ValueError(f"non-standard JSON constant {token}")


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(raw=damaged(), as_json=st.booleans())
def test_damaged_config_exits_0_or_2(workdir: Path, raw: bytes, as_json: bool) -> None:
    path = workdir / "net.yaml"
    path.write_bytes(raw)
    args = ["step", str(path), "--format", "json" if as_json else "table"]
    result = run(*args)
    if result.exit_code == 0:
        assert result.exception is None
        assert result.stderr == ""
        if as_json:
            json.loads(result.stdout, parse_constant=_strict)
    else:
        assert_input_error(result)
