"""A trace of many samples: JSON written piece by piece, tables one at a time, the same text."""

from __future__ import annotations

import io
import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from backprop_cli import load_spec, loads_spec
from backprop_cli.engine.passes import step as run_step
from backprop_cli.engine.trace import Step
from backprop_cli.render import jsonfmt, table
from backprop_cli.render.numbers import is_residue

from .clihelp import run

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = [
    ROOT / "configs/mazur.yaml",
    ROOT / "configs/deep-softmax.yaml",
    *sorted((ROOT / "tests/valid_configs").glob("*.yaml")),
]


def _many(samples: int) -> str:
    import importlib.util

    spec = importlib.util.spec_from_file_location("many", ROOT / "benchmarks/many_samples.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return str(module.network(samples))


def _value(rng: random.Random, depth: int = 0) -> Any:
    r = rng.random()
    if depth < 3 and r < 0.2:
        keys = ["a", "é", '"q\n', "", "→·✓"]
        return {rng.choice(keys): _value(rng, depth + 1) for _ in range(rng.randint(0, 3))}
    if depth < 3 and r < 0.4:
        return [_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    return rng.choice([None, True, False, 0, -7, 2**70, 1.5, -0.0, 1e-300, 0.1 + 0.2, "", "\t\\"])


def test_pieces_write_what_dumps_writes() -> None:
    rng = random.Random(1)
    for _ in range(2000):
        data = _value(rng)
        assert "".join(jsonfmt.pieces(data)) == jsonfmt.dumps(data)
        if isinstance(data, dict):  # the same with every list given as an iterator
            lazy = {k: iter(v) if isinstance(v, list) else v for k, v in data.items()}
            assert "".join(jsonfmt.pieces(lazy)) == jsonfmt.dumps(data)


def test_pieces_refuse_what_dumps_refuses() -> None:
    for bad in ({"x": float("nan")}, {"x": iter([float("inf")])}):
        with pytest.raises(ValueError):
            "".join(jsonfmt.pieces(bad))


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_a_streamed_trace_is_the_document_byte_for_byte(path: Path) -> None:
    trace = run_step(load_spec(path))
    whole = jsonfmt.dumps(trace.to_dict())
    assert "".join(jsonfmt.pieces(trace.document(trace.steps))) == whole
    result = run("step", str(path), "-f", "json")
    assert result.exit_code == 0 and result.stdout == whole + "\n"


def test_the_steps_are_read_as_the_document_is_written(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jsonfmt, "PIECE", 1000)
    trace = run_step(loads_spec(_many(40)))
    drawn = 0

    def steps() -> Iterator[Step]:
        nonlocal drawn
        for s in trace.steps:
            drawn += 1
            yield s

    pieces = jsonfmt.pieces(trace.document(steps()))
    for _ in range(5):
        next(pieces)
    assert 0 < drawn < len(trace.steps) // 10  # not the whole list first
    rest = "".join(pieces)
    assert drawn == len(trace.steps) and rest.endswith("}")


def test_step_json_is_never_one_dumps_of_the_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    whole = jsonfmt.dumps(run_step(loads_spec(_many(30))).to_dict())

    def refuse(*args: Any, **kwargs: Any) -> str:
        raise AssertionError("the whole document went through jsonfmt.dumps")

    # json's C encoder may write a step or a list of numbers, never the document.
    largest = [0]
    c_dumps = json.dumps

    def piece(*args: Any, **kwargs: Any) -> str:
        text = c_dumps(*args, **kwargs)
        largest[0] = max(largest[0], len(text))
        return text

    monkeypatch.setattr(jsonfmt, "dumps", refuse)
    monkeypatch.setattr(json, "dumps", piece)
    result = run("step", "-", "-f", "json", input=_many(30))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == whole + "\n"
    assert 0 < largest[0] < len(whole) / 100


def _printed(parts: list[Any], width: int) -> str:
    out = io.StringIO()
    console = Console(file=out, width=width, force_terminal=False, soft_wrap=False)
    for part in parts:
        console.print(part)
    return out.getvalue()


@pytest.mark.parametrize("width", [20, 80, 200])
@pytest.mark.parametrize("path", [*CONFIGS, None], ids=lambda p: p.name if p else "many")
def test_tables_one_at_a_time_are_the_tables_at_once(path: Path | None, width: int) -> None:
    spec = load_spec(path) if path else loads_spec(_many(5))
    trace = run_step(spec)
    for steps, summary in ((None, True), (trace.select(["w*"]), False)):
        at_once = _printed([table.render_trace(trace, steps, summary=summary)], width)
        parts = list(table.trace_parts(trace, steps, summary=summary))
        assert _printed(parts, width) == at_once


def test_tables_are_laid_out_only_when_asked_for(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[str] = []
    real = table.step_table

    def counted(title: str, *args: Any) -> table.StepTable:
        made.append(title)
        return real(title, *args)

    monkeypatch.setattr(table, "step_table", counted)
    trace = run_step(loads_spec(_many(50)))
    parts = table.trace_parts(trace)
    for _ in range(6):
        next(parts)
    assert len(made) == 2  # title, blank, then table, blank per group
    assert sum(1 for _ in parts) > 100


def test_a_sum_over_many_samples_is_no_recursion_error() -> None:
    terms = {f"x{k}": 1.0 for k in range(5000)}
    template = " + ".join(f"{{x{k}}}" for k in range(5000))
    step = Step("s", "update", None, None, 0, template, terms, 1e-20, tuple(terms))
    assert is_residue(step) is False


def test_a_big_trace_says_on_stderr_how_to_get_it_faster(monkeypatch: pytest.MonkeyPatch) -> None:
    from backprop_cli.cli import step as step_cli

    monkeypatch.setattr(step_cli, "BIG_TABLE", 100)
    monkeypatch.setattr(step_cli, "BIG_DOCUMENT", 100)
    for args in ((), ("-f", "json")):
        result = run("step", "-", *args, input=_many(10))
        assert result.exit_code == 0
        assert "note:" in result.stderr and "--only" in result.stderr
        assert "note:" not in result.stdout
