"""The batch's loss before the update, E_batch, is a step (issue 21, "Every quantity of the step
is a step"): the mean (or sum) of its samples' E_total, the quantity whose gradient dE_batch/dw5
is. It stands in the trace, its JSON, the tables, the matrix view, explain, documents and both
exported scripts; an update of one sample has none (online output is unchanged).

The numbers are checked against a separate NumPy computation of the same network: forward pass,
half squared error, gradients by matrix calculus and plain gradient descent, to 1e-12 relative.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from backprop_cli import step
from backprop_cli.engine.matrices import build
from backprop_cli.export import script
from backprop_cli.specs.model import Spec
from backprop_cli.specs.validate import loads_spec

from .clihelp import run
from .test_export import parse

np = pytest.importorskip("numpy")

ROOT = Path(__file__).resolve().parents[1]
X = [[0.05, 0.1], [0.2, 0.3], [0.9, -0.4], [0.3, 0.6]]
T = [[0.01, 0.99], [0.5, 0.4], [0.2, 0.7], [0.8, 0.1]]


def config(mode: str, reduction: str = "mean", n: int = 4, batch_size: int = 2) -> str:
    samples = "\n".join(
        f"  - inputs: {x}\n    targets: {t}" for x, t in zip(X[:n], T[:n], strict=True)
    )
    size = f"\n  batch_size: {batch_size}" if mode == "minibatch" else ""
    return f"""name: batch loss
inputs: [i1, i2]
layers:
  - name: h
    weights: [[0.15, 0.20], [0.25, 0.30]]
    bias: [0.35, 0.3]
  - name: o
    weights: [[0.40, 0.45], [0.50, 0.55]]
    bias: [0.60, 0.2]
training:
  learning_rate: 0.5
  mode: {mode}
  reduction: {reduction}{size}
samples:
{samples}
"""


def independent(spec_text: str, batches: list[list[int]], reduction: str) -> list[float]:
    """Each update's batch loss from NumPy alone: sigmoid layers, ½Σ(t − out)², SGD."""
    W1 = np.array([[0.15, 0.20], [0.25, 0.30]])
    b1 = np.array([0.35, 0.3])
    W2 = np.array([[0.40, 0.45], [0.50, 0.55]])
    b2 = np.array([0.60, 0.2])
    out = []
    for batch in batches:
        x, t = np.array([X[s] for s in batch]), np.array([T[s] for s in batch])
        h = 1 / (1 + np.exp(-(x @ W1.T + b1)))
        o = 1 / (1 + np.exp(-(h @ W2.T + b2)))
        per_sample = (0.5 * (t - o) ** 2).sum(axis=1)
        k = len(batch) if reduction == "mean" else 1
        out.append(per_sample.sum() / k)
        d2 = (o - t) * o * (1 - o)
        d1 = (d2 @ W2) * h * (1 - h)
        W2, b2 = W2 - 0.5 * d2.T @ h / k, b2 - 0.5 * d2.sum(axis=0) / k
        W1, b1 = W1 - 0.5 * d1.T @ x / k, b1 - 0.5 * d1.sum(axis=0) / k
    return out


def rel(a: float, b: float) -> float:
    return abs(a - b) / abs(b)


@pytest.mark.parametrize(
    ("mode", "reduction", "n", "batches"),
    [
        ("batch", "mean", 2, [[0, 1]]),
        ("batch", "sum", 4, [[0, 1, 2, 3]]),
        ("minibatch", "mean", 4, [[0, 1], [2, 3]]),
        ("minibatch", "sum", 3, [[0, 1], [2]]),
    ],
)
def test_the_batch_loss_is_a_step_with_its_formula(
    mode: str, reduction: str, n: int, batches: list[list[int]]
) -> None:
    text = config(mode, reduction, n)
    trace = step(loads_spec(text))
    want = independent(text, batches, reduction)
    found = [s for s in trace.steps if s.id == "E_batch"]
    several = [u for u, b in enumerate(batches) if len(b) > 1]
    assert [s.update for s in found] == several  # a batch of one sample has no E_batch
    for s in found:
        batch = batches[s.update]  # type: ignore[index]
        assert rel(s.value, want[s.update]) <= 1e-12  # type: ignore[index]
        assert (s.phase, s.layer, s.sample) == ("loss", None, None)
        assert s.inputs == ("E_total",)
        body = " + ".join(f"E_total[{i + 1}]" for i in batch)
        assert s.formula == (f"({body})/N" if reduction == "mean" else body)
        # the terms are the samples' E_total of the same update
        for i in batch:
            e = next(
                x for x in trace.steps if (x.id, x.sample, x.update) == ("E_total", i, s.update)
            )
            assert s.terms[f"E_total[{i + 1}]"] == e.value
        # it stands after the batch's last backward step and before its gradient
        at = trace.steps.index(s)
        assert trace.steps[at - 1].phase == "backward"
        assert trace.steps[at + 1].id.startswith("dE_batch/d")


def test_online_has_no_batch_loss() -> None:
    trace = step(loads_spec(config("online", n=3)))
    assert not [s for s in trace.steps if s.id == "E_batch"]
    assert not [s for s in trace.steps if s.phase == "loss" and s.sample is None]


def test_the_table_json_and_schema_show_it(tmp_path: Path) -> None:
    path = tmp_path / "b.yaml"
    path.write_text(config("batch", n=2))
    table = run("step", str(path), "--only", "E_batch")
    assert table.exit_code == 0, table.stderr
    lines = [x.rstrip() for x in table.stdout.splitlines()]
    assert "Total error · batch · update 1" in lines
    row = next(x for x in lines if x.startswith("E_batch "))
    # 0.19723795252482706, as NumPy has it
    assert row.split("   ") == [
        "E_batch",
        "(E_total[1] + E_total[2])/N",
        "(0.31790383 + 0.076572075)/2",
        "0.197237953",
    ]
    doc = json.loads(run("step", str(path), "-f", "json").stdout)
    schema = json.loads((ROOT / "backprop_cli" / "specs" / "schemas" / "trace.json").read_text())
    assert not list(Draft202012Validator(schema).iter_errors(doc))
    (found,) = [s for s in doc["steps"] if s["id"] == "E_batch"]
    assert found["substituted"] == "(0.31790383037257847 + 0.07657207467707569)/2.0"
    assert rel(found["value"], independent("", [[0, 1]], "mean")[0]) <= 1e-12
    assert "E_batch" in schema["$defs"]["step"]["properties"]["id"]["description"]


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_the_matrix_view_shows_it(reduction: str) -> None:
    trace = step(loads_spec(config("minibatch", reduction, n=4)))
    view = build(trace)
    for u in (0, 1):
        m = view.matrix("E_batch", u)
        scalar = next(s for s in trace.steps if s.id == "E_batch" and s.update == u)
        assert m.values() == [[scalar.value]]  # the step's own value, bit for bit
        (sec,) = [s for s in view if "E_batch" in s.matrices and s.update == u]
        assert sec.phase == "loss" and sec.sample is None
        (eq,) = [e for e in sec.equations if e.lhs == "E_batch"]
        assert eq.text == (
            "E_batch = (Σ E_total)/N" if reduction == "mean" else "E_batch = Σ E_total"
        )
        assert eq.operands["E_total"].values() == [
            [s.value] for s in trace.steps if s.id == "E_total" and s.update == u
        ]
    shown = run("step", "-", "--view", "matrix", input=config("batch", reduction, n=2))
    assert shown.exit_code == 0, shown.stderr
    text = shown.stdout
    assert ("E_batch = (Σ E_total)/N" if reduction == "mean" else "E_batch = Σ E_total") in text
    assert f"the batch's loss: the {reduction} over the 2 samples" in text


def test_explain_and_documents_show_it() -> None:
    explained = run("explain", "E_batch", "-", input=config("batch", n=2))
    assert explained.exit_code == 0, explained.stderr
    lines = explained.stdout.splitlines()
    assert "E_batch = (E_total[1] + E_total[2])/N" in lines
    assert any(x.startswith("├── E_total[1] = E_o1 + E_o2 = ") for x in lines)
    assert "E_batch = (0.31790383 + 0.076572075)/2 = 0.197237953" in lines
    md = run("step", "-", "-f", "markdown", input=config("minibatch", "sum", n=4)).stdout
    assert "## Total error · batch · update 2" in md.splitlines()
    assert "The batch's loss, the sum of its samples' total errors" in md


def _printed(spec: Spec, text: str) -> dict[tuple[Any, Any, str], float]:
    done = subprocess.run(
        [sys.executable, "-c", text], capture_output=True, text=True, check=True, timeout=300
    )
    assert done.stderr == ""
    return parse(done.stdout)


@pytest.mark.parametrize("to", ["numpy", "pytorch"])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_both_scripts_print_it(to: str, reduction: str) -> None:
    if to == "pytorch":
        pytest.importorskip("torch")
    text = config("minibatch", reduction, n=3)
    spec = loads_spec(text)
    printed = _printed(spec, script(spec, to))
    want = independent(text, [[0, 1], [2]], reduction)
    assert [k for k in printed if k[2] == "E_batch"] == [(0, None, "E_batch")]
    assert rel(printed[(0, None, "E_batch")], want[0]) <= 1e-12
    ours = step(spec).find("E_batch")
    assert ours is not None
    assert rel(printed[(0, None, "E_batch")], ours.value) <= 1e-12
    # online: the script prints what it printed before, no E_batch
    online = loads_spec(config("online", n=2))
    assert not [k for k in _printed(online, script(online, to)) if k[2] == "E_batch"]
