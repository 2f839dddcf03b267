"""The matrix view (`--view matrix`): every entry is the scalar step with its id, bit for bit, on
the conformance grid's SAMPLE (every 7th case: every pair of activations, loss and optimizer, and
every setting; all 1,890 cases with BACKPROP_FULL_GRID=1, which .ci/run does not set); the matrix
equations hold (numpy, 1e-12); the worked example's figures; the layer-level ids that `check`
reads."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

from backprop_cli import step
from backprop_cli.engine.matrices import (
    Constant,
    Equation,
    MatrixView,
    Operand,
    build,
    locate,
    scalar_ids,
)
from backprop_cli.engine.trace import Trace
from backprop_cli.specs.validate import load_spec, loads_spec

from .test_conformance import CASES, SAMPLE, config

ROOT = Path(__file__).resolve().parent.parent
MAZUR = ROOT / "configs" / "mazur.yaml"
DEEP = ROOT / "configs" / "deep-softmax.yaml"
THREE = ROOT / "tests" / "valid_configs" / "three_layers.yaml"


def same(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


class Expected:
    """The value the scalar trace has for an entry: the step with its id, sample and update, or
    the parameter, input or target that the steps of that update read."""

    def __init__(self, trace: Trace) -> None:
        self.trace, self.spec = trace, trace.spec
        self.steps = {}
        self.updates: dict[str, list[tuple[int, float]]] = {}
        for s in trace.steps:
            self.steps.setdefault((s.id, s.sample, s.update), s.value)
            if s.phase == "update" and s.id.endswith("+") and s.update is not None:
                self.updates.setdefault(s.id[:-1], []).append((s.update, s.value))
        self.params = {p.id: p.value for p in self.spec.parameters()}

    def __call__(self, eid: str, sample: int | None, update: int | None) -> float | None:
        spec = self.spec
        if (eid, sample, update) in self.steps:
            return self.steps[eid, sample, update]
        if eid in spec.inputs:
            assert sample is not None
            return spec.samples[sample].inputs[spec.inputs.index(eid)]
        if eid.startswith("target_"):
            assert sample is not None
            return spec.samples[sample].targets[spec.outputs.index(eid[7:])]
        if eid.endswith("+") and eid[:-1] in self.params:
            return self.trace.updated[eid[:-1]]
        if eid in self.params:
            value = self.params[eid]
            for u, v in self.updates.get(eid, []):  # the latest update before this one
                if update is None or u < update:
                    value = v
            return value
        return None


def check_entries(trace: Trace, view: MatrixView) -> int:
    expected = Expected(trace)
    checked = 0
    for sec in view:
        for m in sec.matrices.values():
            for row in m.rows:
                for e in row:
                    want = expected(e.id, e.sample, sec.update)
                    assert want is not None, (m.id, e.label)
                    assert same(e.value, want), (m.id, e.label, e.value, want)
                    checked += 1
    return checked


@pytest.mark.parametrize("case", SAMPLE, ids=lambda c: "-".join(map(str, c)))
def test_every_entry_is_its_scalar_step_bit_for_bit(case: tuple[str, str, str, str, int]) -> None:
    spec = loads_spec(config(*case))
    trace = step(spec)
    view = build(trace)
    assert check_entries(trace, view) > 40
    # every gradient and update step of the trace is an entry of some matrix
    shown = {
        (e.id, e.sample) for sec in view for m in sec.matrices.values() for r in m.rows for e in r
    }
    for s in trace.steps:
        if s.id.startswith(("delta_", "net_", "out_", "E_o")) or s.phase == "update":
            if s.id.startswith("dE_total/d") and s.phase == "update":
                continue
            assert (s.id, s.sample) in shown, s.id


@pytest.mark.parametrize("case", CASES[::7], ids=lambda c: "-".join(map(str, c)))
def test_the_other_layout_has_the_same_entries(case: tuple[str, str, str, str, int]) -> None:
    trace = step(loads_spec(config(*case)))
    view, other = build(trace), build(trace, "in-out")
    for a, b in zip(view, other, strict=True):
        assert list(a.matrices) == list(b.matrices)
        for mid, m in a.matrices.items():
            assert b.matrices[mid].laid("in-out").values() == m.laid("in-out").values()
            assert m.laid("out-in").ids() == m.ids()
            if m.turns:  # a parameter or a one-sample vector: transposed
                assert m.laid("in-out").ids() == [list(c) for c in zip(*m.ids(), strict=True)]


def evaluate(view: MatrixView, eq: Equation) -> object | None:
    """A product equation computed with numpy from its operands: · before + and -."""
    np = pytest.importorskip("numpy")
    terms: list[object] = []
    ops: list[str] = []
    current = None
    scale = 1.0
    for p in eq.pieces:
        if isinstance(p, Operand):
            if p.id not in eq.operands:
                return None
            m = np.array(eq.operands[p.id].laid(view.layout).values())
            m = m.T if p.transposed else m
            current = m if current is None else current @ m
        elif isinstance(p, Constant):
            scale = 1.0 / p.value
        elif p.strip() in ("+", "-"):
            terms.append(current)
            ops.append(p.strip())
            current = None
        elif p.strip() in ("·", "(", ")/"):
            continue
        else:
            return None  # Σ, a function, a fused right-hand side: not a product
    values = [*terms, current]
    out = values[0]
    for op, t in zip(ops, values[1:], strict=True):
        out = out + t if op == "+" else out - t
    return out * scale


@pytest.mark.parametrize("case", SAMPLE, ids=lambda c: "-".join(map(str, c)))
@pytest.mark.parametrize("layout", ["out-in", "in-out"])
def test_the_matrix_equations_hold(case: tuple[str, str, str, str, int], layout: str) -> None:
    np = pytest.importorskip("numpy")
    if case[4] % 4 == 3:
        pytest.skip("saturated: sums cancel to round-off")
    trace = step(loads_spec(config(*case)))
    view = build(trace, layout)
    checked = 0
    for sec in view:
        for eq in sec.equations:
            if eq.elementwise or eq.result is None:
                continue
            got = evaluate(view, eq)
            if got is None:
                continue
            want = np.array(eq.result.laid(layout).values())
            assert got.shape == want.shape, (eq.text, view.shapes(eq))
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15, err_msg=eq.text)
            checked += 1
    assert checked >= 4


def test_the_worked_example() -> None:
    trace = step(load_spec(MAZUR))
    view = build(trace)
    w = view.matrix("W_o")
    assert w.values() == [[0.4, 0.45], [0.5, 0.55]]
    assert w.ids() == [["w5", "w6"], ["w7", "w8"]]
    delta = view.matrix("delta_o")
    assert [round(v[0], 9) for v in delta.values()] == [0.138498562, -0.038098237]
    grad = view.matrix("dE_total/dW_o")
    assert grad.values()[0][0] == 0.08216704056423077
    assert grad.ids()[0][0] == "dE_total/dw5"
    assert round(view.matrix("W_o+").values()[0][0], 8) == 0.35891648
    texts = [eq.text for sec in view for eq in sec.equations]
    assert "dE_total/dW_o = delta_o · out_hᵀ" in texts
    assert "dE_total/dout_h = W_oᵀ · delta_o" in texts
    shapes = {eq.lhs: view.shapes(eq) for sec in view for eq in sec.equations}
    assert shapes["net_h"] == "(2×1) = (2×2)·(2×1) + (2×1)"
    assert shapes["dE_total/dW_o"] == "(2×2) = (2×1)·(1×2)"
    io = build(trace, "in-out")
    assert io.matrix("W_o").laid("in-out").values() == [[0.4, 0.5], [0.45, 0.55]]
    shapes = {eq.lhs: io.shapes(eq) for sec in io for eq in sec.equations}
    assert shapes["net_h"] == "(1×2) = (1×2)·(2×2) + (1×2)"
    assert [eq.text for sec in io for eq in sec.equations if eq.lhs == "dE_total/dW_o"] == [
        "dE_total/dW_o = out_hᵀ · delta_o"
    ]


def test_a_batch_has_one_row_per_sample() -> None:
    trace = step(load_spec(THREE))  # minibatches of 2, summed; a last batch of one sample
    view = build(trace)
    first = [s for s in view if s.update == 0]
    x = first[0].matrices["X"]
    assert x.shape == (2, 3) and x.samples
    assert [e.label for e in x.rows[1]] == ["i1[2]", "i2[2]", "i3[2]"]
    eqs = {eq.lhs: eq for s in first for eq in s.equations}
    assert eqs["net_a"].text == "net_a = X · W_aᵀ + b_aᵀ"
    assert eqs["dE_batch/dW_o"].text == "dE_batch/dW_o = delta_oᵀ · out_b"
    assert "sum over the 2 samples" in eqs["dE_batch/dW_o"].note
    assert view.shapes(eqs["dE_batch/dW_o"]) == "(3×2) = (3×2)·(2×2)"
    # softmax: one Jacobian per sample of the batch
    assert {"dout_o/dnet_o[1]", "dout_o/dnet_o[2]"} <= {k for s in first for k in s.matrices}
    second = [s for s in view if s.update == 1]
    assert second[0].matrices["x"].shape == (3, 1)


@pytest.mark.parametrize("order", ["simultaneous", "sequential"])
@pytest.mark.parametrize("path", [MAZUR, DEEP, THREE], ids=["mazur", "deep", "three"])
def test_entries_in_either_update_order(path: Path, order: str) -> None:
    trace = step(load_spec(path), update_order=order)
    view = build(trace)
    assert check_entries(trace, view) > 40
    for u in (0, 1):
        hidden = [
            e.text
            for s in view
            if s.update == u
            for e in s.equations
            if e.lhs.startswith("dE_total/dout_")
        ]
        # sequential: the layer below reads W+; a batch updates all layers together at the end
        plus = order == "sequential" and not (path == THREE and u == 0)
        assert any("+ᵀ" in t for t in hidden) == plus or not hidden, hidden


def test_the_mean_is_written_out() -> None:
    spec = loads_spec(config("sigmoid", "sigmoid", "mse", "sgd", 2))  # minibatch, mean
    view = build(step(spec))
    eq = next(e for s in view for e in s.equations if e.lhs == "dE_batch/dW_o")
    assert eq.text == "dE_batch/dW_o = (delta_oᵀ · out_h)/N"
    assert view.shapes(eq) == "(2×3) = ((2×2)·(2×3))/N"  # N = 2: minibatches of 2


def test_softmax_shows_its_jacobian() -> None:
    trace = step(load_spec(DEEP))
    view = build(trace)
    jac = view.matrix("dout_o/dnet_o")
    assert jac.shape == (3, 3)
    assert jac.ids()[0][1] == "dout_o1/dnet_o2"
    delta = next(e for s in view for e in s.equations if e.lhs == "delta_o")
    assert delta.text == "delta_o = dout_o/dnet_oᵀ · dE_total/dout_o = out_o - target_o"


def test_scalar_ids_name_every_layer_level_id() -> None:
    spec = load_spec(MAZUR)
    ids = scalar_ids(spec)
    assert ids["W_o"] == [["w5", "w6"], ["w7", "w8"]]
    assert ids["delta_h"] == [["delta_h1"], ["delta_h2"]]
    assert ids["dE_total/dW_o"][0][0] == "dE_total/dw5"
    assert ids["W_o+"][1][1] == "w8+"
    assert "dE_total/db_o" not in ids  # the post holds its biases fixed
    assert locate(spec)["w7"] == ("W_o", 1, 0)
    adam = loads_spec(config("tanh", "sigmoid", "mse", "adam", 1))
    ids = scalar_ids(adam)
    assert ids["m_W_o"][0][0] == "m_w7"
    # a shared bias is one number; beside layer h's per-neuron biases it is named b_o
    assert ids["m̂_b_o"] == [["m̂_b_o"]]
    assert ids["g_W_h"][0][0] == "g_w1"  # weight decay's stage


# --- the command line ---------------------------------------------------------------------------


def lines_of(*args: str, columns: int = 80) -> list[str]:
    from .clihelp import run

    result = run("step", *args, env={"COLUMNS": str(columns)})
    assert result.exit_code == 0, result.stderr
    return result.stdout.splitlines()


def test_step_view_matrix_shows_the_done_when_figures() -> None:
    out = "\n".join(lines_of("--view", "matrix"))
    assert "W_o (2×2) = ⎡w5  w6⎤ = ⎡0.4  0.45⎤" in out
    assert "⎣w7  w8⎦   ⎣0.5  0.55⎦" in out
    assert "⎡delta_o1⎤ = ⎡ 0.74136507 ⎤ * ⎡0.186815602⎤ = ⎡ 0.138498562⎤" in out
    assert "dE_total/dW_o = delta_o · out_hᵀ   (2×2) = (2×1)·(1×2)" in out
    assert "  = ⎡ 0.082167041   0.082667628⎤" in out
    assert "  = ⎡0.35891648  0.408666186⎤" in out
    assert "PyTorch's nn.Linear.weight" in out and "--layout in-out" in out
    assert out.rstrip().endswith("E_total: 0.298371109 → 0.291027774  (-0.007343335)")


# Mazur's network in one batch of three samples: ids with their sample, the mean's notes.
BATCH = (
    MAZUR.read_text(encoding="utf-8").replace(
        "update_biases: false", "update_biases: true\n  mode: batch"
    )
    + """  - inputs: [0.3, 0.7]
    targets: [0.2, 0.8]
  - inputs: [0.9, 0.1]
    targets: [0.5, 0.5]
"""
)


def words_of(lines: list[str]) -> list[str]:
    """The words of the lines, brackets off (a matrix's edges move as its columns split)."""
    out = []
    for line in lines:
        out += [w.strip("[]") for w in re.sub("[⎡⎤⎣⎦⎢⎥]", " ", line).split()]
    return out


@pytest.mark.parametrize("columns", [80, 40, 30, 20])
@pytest.mark.parametrize(
    "path", [MAZUR, DEEP, THREE, "batch"], ids=["mazur", "deep", "three", "batch"]
)
def test_matrices_fit_the_width_and_never_split_or_cut(
    columns: int, path: Path | str, tmp_path: Path
) -> None:
    from rich.cells import cell_len

    from backprop_cli.render.numbers import Numbers

    if path == "batch":
        path = tmp_path / "batch.yaml"
        path.write_text(BATCH, encoding="utf-8")
    out = lines_of(str(path), "--view", "matrix", columns=columns)
    assert not [line for line in out if "…" in line]  # nothing cut: notes, formulas, ids
    # a line passes the width only as one entry wider than it (an id goes past it whole)
    too_wide = [line for line in out if cell_len(line) > columns and len(words_of([line])) > 1]
    assert not too_wide, too_wide
    # every word the wide view has (ids with their sample, notes, formulas) is here whole
    lost = set(words_of(lines_of(str(path), "--view", "matrix", columns=250))) - set(words_of(out))
    assert not lost, sorted(lost)
    trace = step(load_spec(path))
    shown = Numbers.of(trace.steps)
    words = set(words_of(out))
    for sec in build(trace):
        for m in sec.matrices.values():
            for row in m.rows:
                for e in row:
                    assert shown.term(e.id, e.value) in words, (m.id, e.label)
                    assert (e.label if m.samples else e.id).strip("[]") in words, (m.id, e.label)


def test_a_wide_matrix_is_shown_a_few_columns_at_a_time() -> None:
    from .clihelp import run

    weights = [[round(0.01 * (i + 3 * j), 2) + 0.123456789 for i in range(8)] for j in range(2)]
    cfg = f"""name: wide
inputs: 8
layers:
  - {{activation: sigmoid, weights: {weights}, bias: 0.1}}
loss: mse
samples:
  - {{inputs: [1, 2, 3, 4, 5, 6, 7, 8], targets: [0.5, 0.5]}}
"""
    result = run("step", "-", "--view", "matrix", "--only", "W_o", input=cfg, env={"COLUMNS": "40"})
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "(columns 1–" in out and "–8)" in out
    assert "0.123456789" in out and all(len(line) <= 40 for line in out.splitlines())


def test_both_views_and_every_format() -> None:
    both = "\n".join(lines_of("--view", "both"))
    assert "net_h1   w1 * i1 + w2 * i2 + b1 * 1" in both  # the scalar tables first
    assert "net_h = W_h · x + b_h" in both
    md = "\n".join(lines_of("--view", "matrix", "-f", "markdown"))
    assert r"W_o = \begin{bmatrix} w_5 & w_6 \\ w_7 & w_8 \end{bmatrix}" in md
    assert r"\begin{bmatrix} 0.4 & 0.45 \\ 0.5 & 0.55 \end{bmatrix}" in md
    tex = "\n".join(lines_of("--view", "both", "-f", "latex"))
    assert tex.startswith(r"\documentclass") and tex.count(r"\end{document}") == 1
    assert r"\begin{bmatrix}" in tex and r"w_5^{+} = w_5 - \eta" in tex  # both views
    md2 = "\n".join(lines_of("--view", "both", "-f", "markdown", "--layout", "in-out"))
    assert r"W_o = \begin{bmatrix} w_5 & w_7 \\ w_6 & w_8 \end{bmatrix}" in md2


def test_json_gains_a_matrices_section_that_the_schema_accepts() -> None:
    import json

    from .test_schemas import errors

    doc = json.loads("\n".join(lines_of("--view", "matrix", "-f", "json")))
    plain = json.loads("\n".join(lines_of("-f", "json")))
    assert {k: v for k, v in doc.items() if k != "matrices"} == plain  # nothing else changes
    grad = next(m for m in doc["matrices"] if m["id"] == "dE_total/dW_o")
    assert grad["values"][0][0] == 0.08216704056423077
    assert grad["ids"][0] == ["dE_total/dw5", "dE_total/dw6"]
    assert grad["equation"] == "dE_total/dW_o = delta_o · out_hᵀ"
    assert grad["shapes"] == "(2×2) = (2×1)·(1×2)"
    assert errors("trace", doc) == []
    batch = json.loads("\n".join(lines_of(str(THREE), "--view", "matrix", "-f", "json")))
    assert errors("trace", batch) == []
    x = next(m for m in batch["matrices"] if m["id"] == "X")
    assert x["shape"] == [2, 3] and x["ids"][1][0] == "i1[2]" and x["sample"] is None
    only = json.loads("\n".join(lines_of("--view", "matrix", "-f", "json", "--only", "W_*")))
    assert {m["id"] for m in only["matrices"]} == {"W_h", "W_o", "W_h+", "W_o+"}


def test_only_and_phase_pick_matrices() -> None:
    from .clihelp import assert_input_error, run

    out = "\n".join(lines_of("--view", "matrix", "--phase", "update"))
    assert "W_o+ = W_o - η * dE_total/dW_o" in out and "net_h" not in out
    assert "E_total:" not in out  # a filtered view has no summary
    bad = run("step", "--view", "matrix", "--only", "delta_x")
    assert_input_error(bad)
    assert "no matrix matches; closest: delta_o, delta_h" in bad.stderr


def test_explain_a_matrix() -> None:
    import json

    from .clihelp import run

    result = run("explain", "delta_h", env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.stderr
    assert "delta_h = dE_total/dout_h * dout_h/dnet_h   (2×1), elementwise" in result.stdout
    assert "dE_total/dout_h = W_oᵀ · delta_o   (2×1) = (2×2)·(2×1)" in result.stdout
    result = run("explain", "w5", "--view", "matrix")  # a scalar id: the matrix it stands in
    assert "W_o (2×2) = ⎡w5  w6⎤ = ⎡0.4  0.45⎤" in result.stdout
    result = run("explain", "m_W_o", str(ROOT / "configs" / "mazur.yaml"), "--view", "matrix")
    assert result.exit_code == 2 and "no matrix 'm_W_o'" in result.stderr
    result = run("explain", "dE_total/dW_o", "--view", "matrix", "-f", "json")
    doc = json.loads(result.stdout)
    assert doc["values"][0][0] == 0.08216704056423077 and doc["equation"].endswith("out_hᵀ")
    assert [o["id"] for o in doc["operands"]] == ["delta_o", "out_h"]
    io = run("explain", "net_h", "--view", "matrix", "--layout", "in-out", env={"COLUMNS": "80"})
    assert "net_h = x · W_h + b_h   (1×2) = (1×2)·(2×2) + (1×2)" in io.stdout
    assert "x (1×2) = [i1  i2] = [0.05  0.1]" in io.stdout


def test_explain_an_optimizer_stage_shows_the_slot_before_the_update() -> None:
    from .clihelp import run

    cfg = config("sigmoid", "sigmoid", "mse", "adam", 1)  # online; weight decay set
    result = run("explain", "m_W_o", "-", "--view", "matrix", input=cfg, env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.stderr
    assert "m_W_o = β1 * m_W_o + (1 - β1) * g_W_o   (2×3), elementwise" in result.stdout
    assert "m_W_o (2×3) before this update:" in result.stdout


def test_a_batch_softmax_delta_shows_its_short_form_with_numbers() -> None:
    out = "\n".join(lines_of(str(THREE), "--view", "matrix", "--only", "delta_o"))
    assert "delta_o = row s: dE_total/dout_o · dout_o/dnet_o[s] = out_o - target_o" in out
    assert "  = ⎡0.221713979  0.347252533  0.431033488⎤ - ⎡1  0  0⎤" in out
    md = "\n".join(lines_of(str(THREE), "--view", "matrix", "--only", "delta_o", "-f", "markdown"))
    assert r"\frac{\partial out_o}{\partial net_o}^{(s)} = out_o - target_o" in md


def test_view_both_only_a_matrix_id_shows_that_matrix() -> None:
    from .clihelp import run

    # No scalar step is called W_o: --view both shows the matrix instead of "no step matches".
    result = run("step", "--view", "both", "--only", "W_o", env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.stderr
    assert "W_o (2×2) = ⎡w5  w6⎤ = ⎡0.4  0.45⎤" in result.stdout
    assert run("step", "--view", "both", "--only", "W_x").exit_code == 2


def test_explain_a_matrix_suggests_commands_with_the_config_and_layout() -> None:
    from .clihelp import run

    config = str(Path(__file__).resolve().parent / "valid_configs" / "three_layers.yaml")
    result = run("explain", "dE_total/dW_o", config, "--layout", "in-out", env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.stderr
    assert f"(backprop explain delta_o {config} --view matrix --layout in-out)" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["step", "--layout", "in-out"],
            "--layout: for the matrix view (--view matrix or both, or --format html), "
            "not --view scalar",
        ),
        (
            ["step", "-f", "json", "--layout", "out-in"],
            "--layout: for the matrix view (--view matrix or both, or --format html), "
            "not --view scalar",
        ),
        (
            ["explain", "dE_total/dw5", "--layout", "in-out"],
            "--layout: for the matrix view (--view matrix, or a matrix id such as W_o), "
            "not the scalar dE_total/dw5",
        ),
    ],
)
def test_a_layout_without_the_matrix_view_is_refused(args: list[str], message: str) -> None:
    """As --output is for a format without a file: one line, exit 2, nothing on stdout."""
    from .clihelp import assert_input_error, run

    result = run(*args)
    assert_input_error(result)
    assert result.stderr == f"error: {message}\n"


def test_a_layout_applies_to_the_matrix_view_and_the_page() -> None:
    from .clihelp import run

    laid = run("step", "--view", "matrix", "--layout", "in-out", "--only", "W_o")
    assert laid.exit_code == 0 and "W_o (2×2) = ⎡w5  w7⎤" in laid.stdout
    assert "W_o (2×2) = ⎡w5  w6⎤" in run("step", "--view", "matrix", "--only", "W_o").stdout
    explained = run("explain", "W_o", "--layout", "in-out")
    assert explained.exit_code == 0 and "W_o (2×2) = ⎡w5  w7⎤" in explained.stdout
    page = run("step", "-f", "html", "--layout", "in-out")
    assert page.exit_code == 0 and page.stderr == ""
    assert page.stdout != run("step", "-f", "html").stdout  # its Matrices tab is laid in × out
