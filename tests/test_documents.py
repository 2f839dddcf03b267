"""Worked-example documents: `backprop step --format markdown` and `--format latex`."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from backprop_cli import load_spec, step
from backprop_cli.ops import ACTIVATIONS, LOSSES
from backprop_cli.ops.activations import softmax_formula
from backprop_cli.render import number
from backprop_cli.render.latex import escape as tex_escape
from backprop_cli.render.latex import render_latex
from backprop_cli.render.markdown import render_markdown
from backprop_cli.render.mathtex import parse, render, symbol
from backprop_cli.specs.validate import loads_spec
from backprop_cli.tutor.exercise import Options, make_exercise

from .runcli import ROOT, cli

GOLDEN = ROOT / "tests" / "golden" / "mazur.md"


def blocks(markdown: str) -> list[str]:
    """The contents of every $$ display block."""
    return re.findall(r"^\$\$\n(.*?)\n\$\$$", markdown, flags=re.M | re.S)


def assert_balanced(md: str) -> None:
    """Every $$ stands on a line of its own; blocks close, hold one line, and have blank lines
    around them (the form GitHub renders)."""
    lines = md.split("\n")
    opened = None
    for n, line in enumerate(lines):
        if "$$" in line and line != "$$":
            raise AssertionError(f"line {n + 1}: $$ inside a line: {line!r}")
        if line != "$$":
            continue
        if opened is None:
            assert n == 0 or lines[n - 1] == "", f"line {n + 1}: no blank line before $$"
            opened = n
        else:
            assert n == opened + 2, f"line {n + 1}: a block of {n - opened - 1} lines"
            assert n + 1 == len(lines) or lines[n + 1] == "", f"line {n + 1}: no blank line after"
            opened = None
    assert opened is None, "a $$ block is not closed"


# --- the symbols, as the post writes them ---------------------------------------------------------


@pytest.mark.parametrize(
    ("sym", "tex"),
    [
        ("net_h1", "net_{h1}"),
        ("out_o1", "out_{o1}"),
        ("w5", "w_5"),
        ("w12", "w_{12}"),
        ("w5+", "w_5^{+}"),
        ("i1", "i_1"),
        ("b1", "b_1"),
        ("b_h1", "b_{h1}"),
        ("delta_o1", r"\delta_{o1}"),
        ("η", r"\eta"),
        ("E_total", "E_{total}"),
        ("E_total+", "E_{total}^{+}"),
        ("target_o2", "target_{o2}"),
        ("dE_total/dw5", r"\frac{\partial E_{total}}{\partial w_5}"),
        ("dout_o1/dnet_o1", r"\frac{\partial out_{o1}}{\partial net_{o1}}"),
        ("dE_o1/dout_h1", r"\frac{\partial E_{o1}}{\partial out_{h1}}"),
        ("dE_total/dw5[2]", r"\frac{\partial E_{total}^{(2)}}{\partial w_5}"),
        ("net_h1_3", "net_{h1,3}"),
    ],
)
def test_symbols(sym: str, tex: str) -> None:
    assert symbol(sym) == tex


def test_templates_become_latex() -> None:
    assert render("1/(1 + e^(-{net_h1}))") == r"\frac{1}{1 + e^{-net_{h1}}}"
    assert render("½({target_o1} - {out_o1})^2") == r"\frac{1}{2}(target_{o1} - out_{o1})^{2}"
    assert render("{w5} - {η} * {dE_total/dw5}") == (
        r"w_5 - \eta \cdot \frac{\partial E_{total}}{\partial w_5}"
    )
    values = {"w7": 0.5, "η": 0.5, "dE_total/dw7": -0.0226}
    # A negative number after an operator is bracketed; a squared negative too.
    assert render("{w7} - {η} * {dE_total/dw7}", values.__getitem__, str) == (
        r"0.5 - 0.5 \cdot (-0.0226)"
    )
    assert render("{x}^2", {"x": -0.5}.__getitem__, str) == "(-0.5)^{2}"
    assert render("e^(-{x})", {"x": -0.5}.__getitem__, str) == "e^{-(-0.5)}"


def test_every_formula_of_every_function_parses() -> None:
    for act in ACTIVATIONS.values():
        if not act.elementwise:  # a layer's formula, written per neuron by softmax_formula
            parse(softmax_formula("o1", ("o1", "o2")))
            continue
        for template in (act.formula, act.derivative_formula):
            parse(template.replace("α", "{α}"))
    for loss in LOSSES.values():
        for template in (loss.formula, loss.derivative_formula):
            parse(template)


# --- Markdown ----------------------------------------------------------------------


def test_markdown_golden() -> None:
    """The worked example at the default precision, byte for byte (regenerate on purpose only)."""
    result = cli("step", "--format", "markdown")
    assert result.returncode == 0, result.stderr
    assert result.stdout == GOLDEN.read_text(encoding="utf-8")


def test_markdown_has_every_step_with_the_engines_value() -> None:
    trace = step(load_spec())
    md = render_markdown(trace)
    assert_balanced(md)
    results = [b.rsplit(" = ", 1) for b in blocks(md) if b.split(" = ", 1)[0]]
    by_lhs: dict[str, list[str]] = {}
    for lhs_and_more, value in results:
        by_lhs.setdefault(lhs_and_more.split(" = ", 1)[0], []).append(value)
    updated = {p.id for p in trace.parameters if p.id + "+" in trace.ids()}
    for s in trace.steps:
        lhs = symbol(s.id)
        assert lhs in by_lhs, f"{s.id} missing"
        assert number(s.value, 9) in by_lhs[lhs], f"{s.id}: {by_lhs[lhs]}"
    assert updated == {f"w{i}" for i in range(1, 9)}


def test_markdown_numbers_are_the_posts() -> None:
    md = render_markdown(step(load_spec()))
    assert "net_{h1} = w_1 \\cdot i_1 + w_2 \\cdot i_2 + b_1 \\cdot 1" in md
    assert "0.15 \\cdot 0.05 + 0.2 \\cdot 0.1 + 0.35 \\cdot 1 = 0.3775" in md
    assert "= 0.74136507 \\cdot 0.186815602 \\cdot 0.593269992 = 0.082167041" in md
    assert "w_5^{+} = w_5 - \\eta \\cdot" in md
    assert "0.4 - 0.5 \\cdot 0.082167041 = 0.35891648" in md
    assert "0.055399425 + (-0.019049118) = 0.036350306" in md
    # After the update the formulas name the updated weights, as the post writes them.
    assert "net_{o1}^{+} = w_5^{+} \\cdot out_{h1}^{+}" in md
    assert "E_{total}^{+} = 0.291027774" in md


def test_substituted_numbers_are_the_engines_terms() -> None:
    trace = step(load_spec())
    md = render_markdown(trace, precision=6)
    for s in trace.steps:
        for x in s.terms.values():
            assert number(x, 6) in md, (s.id, x)


def test_precision_only_phase_sample_are_honoured() -> None:
    result = cli("step", "-f", "markdown", "--precision", "4", "--only", "dE_total/dw5")
    assert result.returncode == 0
    assert blocks(result.stdout) == [
        r"\frac{\partial E_{total}}{\partial w_5} = \frac{\partial E_{total}}{\partial out_{o1}}"
        r" \cdot \frac{\partial out_{o1}}{\partial net_{o1}} \cdot "
        r"\frac{\partial net_{o1}}{\partial w_5} = 0.7414 \cdot 0.1868 \cdot 0.5933 = 0.0822"
    ]
    assert "## The network" not in result.stdout and "## Result" not in result.stdout
    updates = cli("step", "-f", "markdown", "--phase", "update").stdout
    lhs = [b.split(" = ", 1)[0] for b in blocks(updates)]
    assert lhs == [f"w_{i}^{{+}}" for i in (5, 6, 7, 8, 1, 2, 3, 4)]
    assert "## Update" in updates and "## Forward pass" not in updates


def test_several_samples_get_their_own_sections(tmp_path: Path) -> None:
    text = make_exercise(Options((2, 2, 2), seed=4, samples=2))
    spec = loads_spec(text)
    md = render_markdown(step(spec))
    assert_balanced(md)
    assert "## Forward pass · sample 1" in md and "## Forward pass · sample 2" in md
    only2 = render_markdown(step(spec), step(spec).select(None, None, 1), summary=False)
    assert "sample 1" not in only2 and "## Backward pass · sample 2" in only2


def test_text_is_escaped() -> None:
    assert tex_escape("50% of #1 & a_b {x} ~ η → Réseau") == (
        r"50\% of \#1 \& a\_b \{x\} \textasciitilde{} $\eta$ $\to$ R\'{e}seau"
    )


# --- LaTeX -------------------------------------------------------------------------


def test_latex_is_a_standalone_document() -> None:
    tex = render_latex(step(load_spec()))
    assert tex.startswith("\\documentclass")
    assert "\\usepackage{amsmath}" in tex and tex.rstrip().endswith("\\end{document}")
    assert tex.count("\\[") == tex.count("\\]")
    assert tex.count("\\begin{align*}") == tex.count("\\end{align*}")
    assert "= 0.082167041" in tex


PDFLATEX = shutil.which("pdflatex")


def _compile(tex: str, tmp_path: Path) -> str:
    (tmp_path / "doc.tex").write_text(tex, encoding="utf-8")
    run = subprocess.run(
        [PDFLATEX or "pdflatex", "-interaction=nonstopmode", "-halt-on-error", "doc.tex"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-2000:]
    assert (tmp_path / "doc.pdf").stat().st_size > 1000
    return (tmp_path / "doc.log").read_text(encoding="latin-1")


@pytest.mark.skipif(PDFLATEX is None, reason="pdflatex is not installed")
def test_latex_compiles_worked_example(tmp_path: Path) -> None:
    result = cli("step", "--format", "latex")
    assert result.returncode == 0
    log = _compile(result.stdout, tmp_path)
    assert "Overfull \\hbox" not in log  # nothing runs off the page


@pytest.mark.skipif(PDFLATEX is None, reason="pdflatex is not installed")
def test_latex_compiles_exercise(tmp_path: Path) -> None:
    """A bigger network: softmax, cross-entropy, two samples, a name that needs escaping."""
    text = make_exercise(Options((3, 4, 4, 2), loss="cross_entropy", seed=3, samples=2))
    text = text.replace("name: Exercise", "name: 'Réseau #1 & 50% η_x'  # Exercise")
    spec = loads_spec(text)
    log = _compile(render_latex(step(spec)), tmp_path)
    assert "Overfull \\hbox" not in log
