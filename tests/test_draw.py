"""`backprop draw`: an SVG of the network with every weight labelled, labels never overlapping."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from backprop_cli import load_spec, step
from backprop_cli.render import number
from backprop_cli.render.svg import NEGATIVE, POSITIVE, layout, render_svg
from backprop_cli.specs.model import Spec
from backprop_cli.specs.validate import loads_spec
from backprop_cli.tutor.exercise import Options, make_exercise

from .runcli import cli

NS = "{http://www.w3.org/2000/svg}"


def texts(svg: str) -> list[str]:
    root = ET.fromstring(svg)
    return [t.text or "" for t in root.iter(f"{NS}text")]


def lines(svg: str) -> dict[str, ET.Element]:
    root = ET.fromstring(svg)
    return {e.attrib["data-param"]: e for e in root.iter(f"{NS}line") if "data-param" in e.attrib}


SPECS = {
    "mazur": load_spec(),
    "3-4-4-2": loads_spec(make_exercise(Options((3, 4, 4, 2), seed=3, loss="cross_entropy"))),
    "2-3-2 per-neuron bias": loads_spec(
        make_exercise(Options((2, 3, 2), seed=5)).replace(
            "bias: ", "bias: [0.1, 0.2, 0.3]  # was ", 1
        )
    ),
}


@pytest.mark.parametrize("name", SPECS)
def test_every_weight_is_labelled_with_its_value(name: str) -> None:
    spec = SPECS[name]
    svg = render_svg(spec, step(spec))
    labels = texts(svg)
    for p in spec.parameters():
        if p.kind == "weight" or not spec.layers[p.layer].bias_shared:
            assert f"{p.id} = {number(p.value, 4)}" in labels, p.id
        else:  # a shared bias: a node named b1 with its value under it
            assert p.id in labels and number(p.value, 4) in labels
    for neuron in (*spec.inputs, *(n for layer in spec.layers for n in layer.neurons)):
        assert neuron in labels


def test_the_worked_example_reads_as_the_post_draws_it() -> None:
    labels = texts(render_svg(load_spec()))
    for expected in ("w1 = 0.15", "w5 = 0.4", "w8 = 0.55", "b1", "0.35", "b2", "0.6", "0.05"):
        assert expected in labels
    assert "target 0.01" in labels and "target 0.99" in labels


@pytest.mark.parametrize("name", SPECS)
def test_labels_overlap_neither_each_other_nor_a_neuron(name: str) -> None:
    spec: Spec = SPECS[name]
    lay = layout(spec, step(spec))
    boxes = [e.box for e in lay.edges if e.box is not None]
    assert len(boxes) == sum(1 for e in lay.edges if e.label)
    for a, b in itertools.combinations(boxes, 2):
        assert not a.overlaps(b, margin=0.0)
    for box in boxes:
        for n in lay.nodes:
            assert not box.hits_circle(n.x, n.y, n.r)


def test_after_step_colours_edges_by_the_sign_of_the_gradient() -> None:
    spec = load_spec()
    trace = step(spec)
    plain = render_svg(spec, trace)
    coloured = render_svg(spec, trace, gradients=True)
    assert 'id="legend"' not in plain and 'id="legend"' in coloured
    edges = lines(coloured)
    # dE_total/dw5 = 0.0821670406 > 0, dE_total/dw7 = -0.0226025 < 0 (the post's figures)
    assert edges["w5"].attrib["stroke"] == POSITIVE
    assert edges["w7"].attrib["stroke"] == NEGATIVE
    assert float(edges["w5"].attrib["data-gradient"]) == trace.find("dE_total/dw5").value  # type: ignore[union-attr]
    # The biggest gradient draws the thickest line; the hidden layer's are far thinner.
    width = {p: float(e.attrib["stroke-width"]) for p, e in edges.items()}
    assert max(width, key=width.__getitem__) == "w6"
    assert width["w1"] < width["w5"]
    assert {e.attrib["stroke"] for e in lines(plain).values()} == {"#555555"}


def test_cli_writes_stdout_or_file(tmp_path: Path) -> None:
    r = cli("draw")
    assert r.returncode == 0 and r.stdout.startswith("<?xml")
    ET.fromstring(r.stdout)
    out = tmp_path / "net.svg"
    r = cli("draw", "--after-step", "-o", str(out))
    assert r.returncode == 0 and r.stdout == ""
    assert 'id="legend"' in out.read_text()
    r = cli("draw", str(tmp_path / "missing.yaml"))
    assert r.returncode == 2 and r.stdout == "" and r.stderr.startswith("error:")
