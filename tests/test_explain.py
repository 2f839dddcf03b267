"""`backprop explain`: the chain rule behind a quantity, with the post's numbers."""

from __future__ import annotations

import io
import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from backprop_cli import load_spec, loads_spec, step
from backprop_cli.render.explain import render_explanation
from backprop_cli.tutor.explain import Node, UnknownId, explain, locate, parse_id

from .tutor_support import ONLINE_SPEC, RANDOM_SPEC, run, write

GOLDEN = Path(__file__).parent / "golden"


def plain(renderable: object, width: int = 100) -> str:
    console = Console(file=io.StringIO(), width=width, color_system=None)
    console.print(renderable)
    out = console.file.getvalue()  # type: ignore[attr-defined]
    return "\n".join(line.rstrip() for line in out.splitlines()) + "\n"


def ids(node: Node) -> list[str]:
    return [c.step.id for c in node.children if c.step is not None]


def test_dE_total_dw1_follows_the_posts_chain() -> None:
    ex = explain(step(load_spec()), "dE_total/dw1")
    root = ex.root
    assert root.value == 0.0004385677344743465
    assert root.step is not None
    assert root.step.formula == "dE_total/dout_h1 * dout_h1/dnet_h1 * dnet_h1/dw1"
    assert ids(root) == ["dE_total/dout_h1", "dout_h1/dnet_h1", "dnet_h1/dw1"]
    factors = [c.value for c in root.children]
    assert factors == [0.03635030639314466, 0.24130070857232525, 0.05]
    assert math.isclose(math.prod(factors), root.value, rel_tol=1e-12)
    # dE_total/dout_h1 = dE_o1/dout_h1 + dE_o2/dout_h1, each delta_o · w.
    total = root.children[0]
    assert ids(total) == ["dE_o1/dout_h1", "dE_o2/dout_h1"]
    assert [c.value for c in total.children] == [0.05539942465142278, -0.019049118258278118]
    e_o1 = total.children[0]
    assert ids(e_o1) == ["delta_o1", "dnet_o1/dout_h1"]
    assert e_o1.children[0].value == 0.13849856162855695
    assert [(g.symbol, g.value) for g in e_o1.children[1].leaves] == [("w5", 0.4)]


def test_given_values_are_the_leaves() -> None:
    ex = explain(step(load_spec()), "dE_total/dw1")
    given = {g.symbol: (g.kind, g.value) for g in ex.given}
    assert given["i1"] == ("input", 0.05)
    assert given["w5"] == ("parameter", 0.4)
    assert given["w7"] == ("parameter", 0.5)
    assert given["target_o1"] == ("target", 0.01)
    # The forward pass is taken as known under a gradient, as in the post.
    assert given["out_h1"] == ("step", 0.5932699921071872)
    assert "net_h1" not in given and "w1" not in given


def test_golden_explain_dE_total_dw1() -> None:
    text = plain(render_explanation(explain(step(load_spec()), "dE_total/dw1")))
    assert text == (GOLDEN / "explain_dE_total_dw1.txt").read_text()


def test_golden_through_the_command_line() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "backprop_cli", "explain", "dE_total/dw1"],
        capture_output=True,
        text=True,
        env={"COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb", "PATH": ""},
        cwd=Path(__file__).parent.parent,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    out = "\n".join(line.rstrip() for line in result.stdout.splitlines()) + "\n"
    assert out == (GOLDEN / "explain_dE_total_dw1.txt").read_text()
    assert result.stderr == ""


@pytest.mark.parametrize(
    ("step_id", "value"),
    [
        ("w5+", 0.35891647971788465),
        ("E_total+", 0.29102777369359933),
        ("net_h1", 0.3775),
        ("out_o1", 0.7513650695523157),
        ("E_total", 0.2983711087600027),
        ("delta_o1", 0.13849856162855695),
    ],
)
def test_root_is_the_trace_value(step_id: str, value: float) -> None:
    assert explain(step(load_spec()), step_id).root.value == value


def test_after_the_update_uses_the_updated_weights() -> None:
    ex = explain(step(load_spec()), "E_total+")
    given = {g.symbol: g for g in ex.given}
    # the forward pass after the update reads w5+, the value the update gave w5, not 0.4
    assert "w5" not in given
    assert given["w5+"].step is not None and given["w5+"].step.id == "w5+"
    assert given["w5+"].value == 0.35891647971788465
    assert given["b1"].kind == "parameter" and given["b1"].value == 0.35


@pytest.mark.parametrize(
    "spec_text", [None, RANDOM_SPEC, ONLINE_SPEC], ids=["worked", "random", "online"]
)
def test_every_id_of_the_trace_explains(spec_text: str | None) -> None:
    spec = load_spec() if spec_text is None else loads_spec(spec_text)
    trace = step(spec)
    for i, s in enumerate(trace.steps):
        key = s.id if s.sample is None or len(spec.samples) == 1 else f"{s.id}[{s.sample + 1}]"
        assert locate(trace, key) == i or trace.steps[locate(trace, key)].id == s.id
        ex = explain(trace, key)
        assert ex.root.step is not None and ex.root.step.id == s.id
        json.dumps(ex.to_dict(), allow_nan=False)
        if i % 5 == 0:  # rendering is the slow part; every fifth is plenty
            plain(render_explanation(ex))


def test_every_factor_is_the_value_its_parent_used() -> None:
    trace = step(loads_spec(RANDOM_SPEC))
    for s in trace.steps:
        ex = explain(trace, s.id)

        def walk(node: Node) -> None:
            assert node.step is not None
            for child in [*node.children, *node.leaves]:
                assert node.step.terms[child.symbol] == child.value, (node.step.id, child.symbol)
                if child.state == "expanded" and child.step is not None:
                    walk(child)

        walk(ex.root)


def test_depth_and_full() -> None:
    trace = step(load_spec())
    shallow = explain(trace, "dE_total/dw1", depth=0)
    assert [c.state for c in shallow.root.children] == ["depth"] * 3
    full = explain(trace, "dE_total/dw1", full=True)
    seen: list[str] = []

    def walk(node: Node) -> None:
        if node.step is not None and node.state == "expanded":
            seen.append(node.step.id)
        for c in node.children:
            walk(c)

    walk(full.root)
    assert "net_h1" in seen and "net_o1" in seen
    assert {g.kind for g in full.given} <= {"input", "target", "parameter", "hyper"}


def test_sequential_order_links_the_updated_weight() -> None:
    trace = step(load_spec(), update_order="sequential")
    ex = explain(trace, "dnet_o1/dout_h1")
    (child,) = ex.root.children
    assert child.step is not None and child.step.id == "w5+"
    assert child.value == 0.35891647971788465


def test_samples_by_suffix_and_option() -> None:
    trace = step(loads_spec(ONLINE_SPEC))
    second = explain(trace, "dE_total/dw5[2]")
    assert second.root.step is not None and second.root.step.sample == 1
    assert explain(trace, "dE_total/dw5", sample=1).root.value == second.root.value
    assert explain(trace, "dE_total/dw5").root.step.sample == 0  # type: ignore[union-attr]
    # In the second update, w2 is the value the first update gave it.
    ex = explain(trace, "w2+", sample=1)
    w2 = next(c for c in ex.root.children if c.symbol == "w2")
    assert w2.step is not None and w2.step.id == "w2+" and w2.step.update == 0
    assert parse_id("E_total+[3]") == ("E_total+", 2)
    assert parse_id("w5+") == ("w5+", None)


def test_unknown_id_lists_the_closest() -> None:
    trace = step(load_spec())
    with pytest.raises(UnknownId) as info:
        explain(trace, "dE/dw5")
    assert info.value.closest[0] == "dE_total/dw5"
    with pytest.raises(UnknownId) as info:
        explain(trace, "w5")
    assert "given" in str(info.value)
    assert info.value.closest[:2] == ["dE_total/dw5", "w5+"]


def test_command_exit_codes_and_json() -> None:
    result: Any = run("explain", "dE_total/dw9")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "closest: dE_total/dw8" in result.stderr
    result = run("explain", "w5+", "--format", "json")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert doc["value"] == 0.35891647971788465
    assert doc["tree"]["formula"] == "w5 - η * dE_total/dw5"
    assert [f["id"] for f in doc["tree"]["factors"]] == ["dE_total/dw5"]
    assert {g["symbol"] for g in doc["given"]} >= {"w5", "η", "out_h1"}
    result = run("explain", "delta_o1", "--sample", "2")
    assert result.exit_code == 2 and "1 sample" in result.stderr


def test_command_on_a_random_config(tmp_path: Path) -> None:
    random_config = write(tmp_path, RANDOM_SPEC)
    result: Any = run("explain", "dE_batch/dw1", str(random_config), "--depth", "1")
    assert result.exit_code == 0, result.stderr
    trace = step(load_spec(random_config))
    batch = trace.find("dE_batch/dw1")
    assert batch is not None
    per_sample = [trace.find("dE_total/dw1", k) for k in range(3)]
    assert math.isclose(batch.value, sum(s.value for s in per_sample if s) / 3, rel_tol=1e-12)
    assert "dE_total/dw1[3]" in result.stdout
    # the suggested command names this config, quoted for the shell (id[1] is a glob)
    assert f"(backprop explain 'dE_total/dout_h1[1]' {random_config})" in " ".join(
        line.strip(" │") for line in result.stdout.splitlines()
    )


THREE_ONLINE = """\
name: Mazur's network, three samples, online
inputs: [i1, i2]
layers:
  - {name: h, activation: sigmoid, weights: [[0.15, 0.2], [0.25, 0.3]], bias: 0.35}
  - {name: o, activation: sigmoid, weights: [[0.4, 0.45], [0.5, 0.55]], bias: 0.6}
loss: half_sse
training: {learning_rate: 0.5, mode: online}
samples:
  - {inputs: [0.05, 0.1], targets: [0.01, 0.99]}
  - {inputs: [0.3, 0.7], targets: [0.2, 0.8]}
  - {inputs: [0.9, 0.1], targets: [0.5, 0.5]}
"""


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (
            ["delta_h1", "--sample", "2"],
            "Showing sample 2 of 3; for sample 3, explain delta_h1[3] (or --sample 3)",
        ),
        (
            ["delta_h1[3]"],
            "Showing sample 3 of 3; for sample 1, explain delta_h1[1] (or --sample 1)",
        ),
        (["delta_h1"], "Showing sample 1 of 3; for sample 2, explain delta_h1[2] (or --sample 2)"),
    ],
)
def test_explain_says_plainly_which_sample_it_shows(
    args: list[str], line: str, tmp_path: Path
) -> None:
    """Not 'Sample 2 of 3; delta_h1[3] explains sample 3': which one is shown, how to see the
    next, and the way it names works."""
    path = write(tmp_path, THREE_ONLINE)
    result = run("explain", args[0], str(path), *args[1:], "--depth", "0")
    assert result.exit_code == 0, result.stderr  # type: ignore[attr-defined]
    out = result.stdout  # type: ignore[attr-defined]
    assert out.splitlines()[0] == line
    shown = int(line.split()[2])
    other = run("explain", f"delta_h1[{shown}]", str(path), "--depth", "0").stdout  # type: ignore[attr-defined]
    assert other == out  # the id the line names explains the same sample
