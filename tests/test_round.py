"""`--round N`: every intermediate rounded to N decimals, and the drift from the exact run."""

from __future__ import annotations

import json
from typing import Any

from backprop_cli import load_spec, step
from backprop_cli.tutor.rounding import drift

from .tutor_support import run


def test_rounded_run_uses_rounded_intermediates() -> None:
    rounded = step(load_spec(), round_to=4)
    out_h1 = rounded.find("out_h1")
    net_o1 = rounded.find("net_o1")
    assert out_h1 is not None and net_o1 is not None
    assert out_h1.value == 0.5933
    assert net_o1.terms["out_h1"] == 0.5933  # the rounded value is the one used
    assert net_o1.value == round(0.4 * 0.5933 + 0.45 * 0.5969 + 0.6, 4)


def test_drift_rows() -> None:
    spec = load_spec()
    rows = {d.id: d for d in drift(step(spec, round_to=4), step(spec))}
    assert list(rows) == ["E_total", "E_total+"] + [f"w{n}+" for n in range(1, 9)]
    assert rows["E_total+"].rounded == 0.291
    assert rows["E_total+"].exact == 0.29102777369359933
    assert rows["w3+"].rounded == 0.2497
    assert abs(rows["w3+"].drift - (0.2497 - 0.24975114363236958)) < 1e-15


def test_step_round_table_and_json() -> None:
    result: Any = run("step", "--round", "4")
    assert result.exit_code == 0, result.stderr
    assert "Drift from rounding every intermediate to 4 decimals" in result.stdout
    assert "-0.000051144" in result.stdout
    result = run("step", "--round", "3", "--format", "json")
    doc = json.loads(result.stdout)
    assert doc["rounding"]["decimals"] == 3
    first = doc["rounding"]["drift"][0]
    assert first["id"] == "E_total" and first["rounded"] == 0.299
    assert next(s for s in doc["steps"] if s["id"] == "out_h1")["value"] == 0.593
    result = run("step")
    assert "Drift" not in result.stdout
