"""The web pages as HTML text, in-process (the browser tests are tests/test_html_browser.py):
self-contained, small, every step and table present without JavaScript, MathML well-formed."""

from __future__ import annotations

import base64
import hashlib
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from backprop_cli import load_spec, step
from backprop_cli.engine.matrices import build as build_matrices
from backprop_cli.kernels import Curve, Trainer
from backprop_cli.render.html import (
    Tab,
    anchors,
    diagram_keys,
    loss_svg,
    render_html,
    render_matrix_tab,
    render_train_html,
)
from backprop_cli.render.mathml import mathml
from backprop_cli.render.numbers import Numbers

from .clihelp import run

ROOT = Path(__file__).resolve().parents[1]
MAZUR = ROOT / "configs" / "mazur.yaml"
DEEP = ROOT / "configs" / "deep-softmax.yaml"
MINIBATCH = ROOT / "tests" / "html_configs" / "minibatch4.yaml"
EXAMPLE = ROOT / "docs" / "examples" / "mazur.html"


@pytest.fixture(scope="module")
def mazur_page() -> str:
    result = run("step", "--format", "html")
    assert result.exit_code == 0, result.stderr
    return result.stdout


def _csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def test_self_contained(mazur_page: str) -> None:
    page = mazur_page
    assert not re.search(r"https?:", page), re.search(r".{40}https?:.{40}", page)
    for loader in ("<link", " src=", "url(", "@import", "<iframe", "<img", "<object"):
        assert loader not in page
    csp = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', page)
    assert csp is not None
    policy = csp.group(1)
    assert "default-src 'none'" in policy and "unsafe-inline" not in policy
    # The policy allows exactly the page's own style and script, by their hashes.
    style = re.search(r"<style>(.*?)</style>", page, re.S)
    script = re.search(r"<script>(.*?)</script>", page, re.S)
    assert style is not None and script is not None
    assert f"style-src {_csp_hash(style.group(1))};" in policy
    assert f"script-src {_csp_hash(script.group(1))};" in policy
    assert page.count("<script") == 1 and page.count("<style") == 1
    assert ' style="' not in page  # an inline style attribute would be blocked


def test_size(mazur_page: str) -> None:
    size = len(mazur_page.encode())
    assert 50_000 < size < 300_000, size


def test_every_step_and_its_value_is_in_the_html(mazur_page: str) -> None:
    """With JavaScript off the tables are all there: each step's row, value and chain."""
    trace = step(load_spec(MAZUR))
    shown = Numbers.of(trace.steps)
    for s, a in zip(trace.steps, anchors(trace), strict=True):
        row = mazur_page.split(f'<tr class="step" id="{a}"', 1)[1].split("</tr>", 1)[0]
        assert f">{shown.value(s)}</a></td>" in row
        assert f'id="why:{a}"' in mazur_page
    assert ">0.082167041</a></td></tr>" in mazur_page
    assert mazur_page.count('<tr class="step"') == len(trace.steps) == 66
    assert "Forward pass" in mazur_page and "Backward pass" in mazur_page


def test_chain_of_dw5_lists_its_three_factors(mazur_page: str) -> None:
    chain = mazur_page.split('id="why:dE_total/dw5"', 1)[1].split("</div>", 1)[0]
    factors = re.findall(
        r'<li><a href="#why:([^"]+)"[^>]*><code>([^<]+)</code></a> = '
        r"<strong>([^<]+)</strong>",
        chain,
    )
    assert factors == [
        ("dE_total/dout_o1", "dE_total/dout_o1", "0.74136507"),
        ("dout_o1/dnet_o1", "dout_o1/dnet_o1", "0.186815602"),
        ("dnet_o1/dw5", "dnet_o1/dw5", "0.593269992"),
    ]
    assert "0.74136507 * 0.186815602 * 0.593269992 = <strong>0.082167041</strong>" in chain
    given = mazur_page.split('id="why:w5+"', 1)[1].split("</div>", 1)[0]
    assert "<dt>parameters</dt><dd><code>w5</code> = 0.4</dd>" in given
    assert "<dt>hyper-parameters</dt><dd><code>η</code> = 0.5</dd>" in given


def test_rows_know_their_diagram_parts_and_inputs(mazur_page: str) -> None:
    row = re.search(r'<tr class="step" id="dE_total/dw5"[^>]*>', mazur_page)
    assert row is not None
    attrs = dict(re.findall(r'([\w-]+)="([^"]*)"', row.group(0)))
    assert attrs["data-lit"] == "w5"
    assert attrs["data-way"] == "backward"
    trace = step(load_spec(MAZUR))
    ids = [trace.steps[int(i)].id for i in attrs["data-src"].split()]
    assert ids == ["dE_total/dout_o1", "dout_o1/dnet_o1", "dnet_o1/dw5"]
    assert 'data-param="w5" data-open="w5+" tabindex="0" role="button"' in mazur_page
    assert '<g id="node-h1" data-open="out_h1" tabindex="0" role="button">' in mazur_page


def test_mathml_is_well_formed_everywhere() -> None:
    for config in (MAZUR, DEEP, MINIBATCH):
        trace = step(load_spec(config))
        tabs = [Tab("Matrices", render_matrix_tab(trace, build_matrices(trace, "out-in")))]
        page = render_html(trace, tabs=tabs)
        maths = re.findall(r"<math[ >].*?</math>", page, re.S)
        assert len(maths) > len(trace.steps)
        for m in maths:
            ET.fromstring(m)  # raises on a broken tree


@pytest.mark.parametrize(
    ("tex", "expected"),
    [
        ("w_5", "<msub><mi>w</mi><mn>5</mn></msub>"),
        (
            r"\frac{\partial E_{total}}{\partial w_5}",
            "<mfrac><mrow><mi>∂</mi><msub><mi>E</mi><mi>total</mi></msub></mrow>"
            "<mrow><mi>∂</mi><msub><mi>w</mi><mn>5</mn></msub></mrow></mfrac>",
        ),
        (
            "(-0.5)",
            '<mrow><mo stretchy="false">(</mo><mn>−0.5</mn><mo stretchy="false">)</mo></mrow>',
        ),
        ("a - 2", "<mrow><mi>a</mi><mo>−</mo><mn>2</mn></mrow>"),
        (r"w_5^{+}", "<msubsup><mi>w</mi><mn>5</mn><mo>+</mo></msubsup>"),
        (
            r"\hat{m}_{w5}",
            '<msub><mover accent="true"><mi>m</mi><mo>^</mo></mover>'
            "<mrow><mi>w</mi><mn>5</mn></mrow></msub>",
        ),
        (r"\sqrt{x}", "<msqrt><mi>x</mi></msqrt>"),
        (r"\text{ if }", "<mtext> if </mtext>"),
        (
            r"\ln\left(x\right)",
            '<mrow><mi mathvariant="normal">ln</mi><mo>(</mo><mi>x</mi><mo>)</mo></mrow>',
        ),
        (
            r"\begin{bmatrix} 1 & -2 \\ x & \end{bmatrix}",
            "<mrow><mo>[</mo><mtable><mtr><mtd><mn>1</mn></mtd><mtd><mn>−2</mn></mtd></mtr>"
            "<mtr><mtd><mi>x</mi></mtd><mtd></mtd></mtr></mtable><mo>]</mo></mrow>",
        ),
        (r"W^\top", "<msup><mi>W</mi><mi>⊤</mi></msup>"),
        (r"\operatorname{softmax}", "<mi>softmax</mi>"),
        (r"\eta \quad \alpha", '<mrow><mi>η</mi><mspace width="1em"></mspace><mi>α</mi></mrow>'),
    ],
)
def test_mathml_of_latex(tex: str, expected: str) -> None:
    assert mathml(tex) == f"<math>{expected}</math>"


def test_mathml_continuation_pieces_and_labels() -> None:
    assert mathml("+ w_2", infix=True) == (
        '<math><mrow><mo form="infix">+</mo><msub><mi>w</mi><mn>2</mn></msub></mrow></math>'
    )
    assert mathml("- 0.5", infix=True).startswith('<math><mrow><mo form="infix">−</mo><mn>0.5')
    assert mathml("x", display=True, label='a "b"') == (
        '<math display="block" alttext="a &quot;b&quot;"><mi>x</mi></math>'
    )


@pytest.mark.parametrize(
    "tex", [r"\foo", r"\frac{1}", r"\begin{foo} x \end{foo}", "{x", r"\text x", r"\left["]
)
def test_mathml_refuses_what_it_cannot_write(tex: str) -> None:
    with pytest.raises(ValueError, match="cannot write"):
        mathml(tex)


@pytest.mark.parametrize(
    ("name", "keys"),
    [
        ("dE_total/dw5", ["w5"]),
        ("delta_o1", ["o1"]),
        ("dnet_o1/dout_h1", ["o1", "h1"]),
        ("w5+", ["w5"]),
        ("net_h1+", ["h1"]),
        ("v_w5", ["w5"]),
        ("dE_total/dw5[2]", ["w5"]),
        ("E_total", []),
        ("i1", ["i1"]),
        ("η", []),
    ],
)
def test_diagram_keys(name: str, keys: list[str]) -> None:
    known = {"i1", "i2", "h1", "h2", "o1", "o2", *(f"w{k}" for k in range(1, 9)), "b1", "b2"}
    assert diagram_keys(name, known) == keys


def test_anchors_name_each_sample_as_explain_does() -> None:
    trace = step(load_spec(MINIBATCH))
    a = anchors(trace)
    assert len(set(a)) == len(a) == len(trace.steps)
    assert [x for x in a if x.startswith(("dE_total/dw5", "w5+"))] == [
        "dE_total/dw5",
        "dE_total/dw5[2]",
        "w5+",
        "dE_total/dw5[3]",
        "dE_total/dw5[4]",
        "w5+[3]",
    ]


def test_train_report() -> None:
    spec = load_spec(MAZUR)
    trainer = Trainer(spec)
    curve = Curve()
    curve.add(0, trainer.loss)
    for rec in trainer.run(1000):
        curve.add(rec.epoch, rec.E_total)
    page = render_train_html(spec, trainer.summary(1000, "completed"), curve.all())
    assert not re.search(r"https?:", page)
    assert "E_total, log scale" in page
    assert "<dt>E_total after epoch 0</dt><dd>0.298371109</dd>" in page
    assert 'data-e="0 1 2 3 ' in page and " 1000" in page
    assert "<td><strong>0.5</strong></td>" not in page  # w7 moved
    assert "<code>w5</code></th><td>0.4</td>" in page
    assert page.count("<tr><td>1</td>") == 2  # both outputs of the one sample


def test_loss_svg_cases() -> None:
    assert "Too few epochs" in loss_svg([(0, 0.3)])
    flat = loss_svg([(0, 0.3), (1, 0.29), (2, 0.28)])
    assert "log scale" not in flat and "epoch 2: E_total = 0.28" in flat
    steep = loss_svg([(0, 1.0), (5, 1e-4), (10, 1e-6)])
    assert "log scale" in steep and ">1e-6</text>" in steep and ">1</text>" in steep


# --- the command line ---------------------------------------------------------------------------


def test_step_html_writes_a_file_with_both_views(tmp_path: Path) -> None:
    out = tmp_path / "page.html"
    result = run("step", str(DEEP), "-f", "html", "-o", str(out), "--only", "w*")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert f"wrote {out}" in result.stderr
    assert "the web page shows the whole computation" in result.stderr
    page = out.read_text(encoding="utf-8")
    assert 'role="tablist"' in page and ">Matrices</button>" in page and "<mtable>" in page
    again = run("step", str(DEEP), "-f", "html", "-o", str(out))
    assert again.exit_code == 2 and "--output" in again.stderr  # no overwrite without --force
    forced = run("step", str(DEEP), "-f", "html", "-o", str(out), "--force")
    assert forced.exit_code == 0


def test_step_output_is_for_documents(tmp_path: Path) -> None:
    result = run("step", "-o", str(tmp_path / "x.txt"))
    assert result.exit_code == 2
    assert "--output: for the documents" in result.stderr
    md = tmp_path / "x.md"
    assert run("step", "-f", "markdown", "-o", str(md)).exit_code == 0
    assert "0.082167041" in md.read_text(encoding="utf-8")


def test_train_html(tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    result = run("train", "-n", "200", "-f", "html", "-o", str(out))
    assert result.exit_code == 0, result.stderr
    page = out.read_text(encoding="utf-8")
    assert '<svg id="curve"' in page and "Parameters, old → new" in page
    stdout = run("train", "-n", "5", "-f", "html")
    assert stdout.exit_code == 0 and stdout.stdout.startswith("<!DOCTYPE html>")
    wrong = run("train", "-n", "5", "-o", str(tmp_path / "r.json"))
    assert wrong.exit_code == 2 and "--output: for --format html" in wrong.stderr


def test_example_page_is_up_to_date() -> None:
    """docs/examples/mazur.html is what `backprop step -f html` writes (regenerate it with
    `backprop step -f html -o docs/examples/mazur.html --force`)."""
    result = run("step", "--format", "html")
    assert result.exit_code == 0
    assert EXAMPLE.read_text(encoding="utf-8") == result.stdout
