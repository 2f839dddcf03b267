"""Numbers on screen: never split across lines, readable at any magnitude, residue shown as 0,
hyper-parameters as written, trailing zeros kept for --round (issue 8, items 2, 3 and 7)."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from pathlib import Path

import pytest
from rich.cells import cell_len

from backprop_cli import load_spec, step
from backprop_cli.engine.trace import Step
from backprop_cli.render import Numbers, number
from backprop_cli.render.numbers import is_residue
from backprop_cli.render.wrap import wrap

from .clihelp import run

ROOT = Path(__file__).parents[1]
CONFIGS = [
    str(ROOT / "configs" / "mazur.yaml"),
    str(ROOT / "configs" / "deep-softmax.yaml"),
    *sorted(str(p) for p in (ROOT / "tests" / "valid_configs").glob("*.yaml")),
]
# A number not part of an id (w1, net_h1, β2): not after a letter, digit, `_` or `.`.
NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?:e[+-]\d+)?(?![\w.])(…)?")

RESIDUE = """
name: residue
inputs: [i1, i2]
layers:
  - name: o
    activation: linear
    weights: [[-0.4, 0.3]]
    bias: 0.1
loss: half_sse
samples:
  - inputs: [1.0, 1.0]
    targets: [0.5]
"""

DIVERGING = """
name: diverging
inputs: [i1]
layers:
  - name: o
    activation: linear
    weights: [[2.0]]
    bias: 0.0
loss: half_sse
training:
  learning_rate: 5
samples:
  - inputs: [3.0]
    targets: [1.0]
"""


def renderings(config: str) -> set[str]:
    """Every number the tables may show for this config: values, terms, parameters, losses."""
    trace = step(load_spec(config))
    shown = Numbers.of(trace.steps)
    out = {"0", "1", "2", "½"}
    for s in trace.steps:
        out.add(shown.value(s))
        out.update(shown.term(k, x) for k, x in s.terms.items())
        out.update(NUMBER_IN_TEMPLATE.findall(s.template))
    for p in trace.parameters:
        new = trace.updated.get(p.id, p.value)
        out.update({shown(p.value), shown(new), shown(new - p.value)})
    change = trace.loss_after - trace.loss_before
    out.update({shown(trace.loss_before), shown(trace.loss_after), shown(change)})
    spec = trace.spec
    out.add(shown.term("η", spec.training.learning_rate))
    out.update(str(k) for k in range(1, len(spec.samples) + 10))  # sample, update, t
    return out


NUMBER_IN_TEMPLATE = re.compile(r"(?<![\w.{])\d+(?:\.\d+)?(?![\w.}])")


@pytest.mark.parametrize("columns", [20, 40, 80, 120])
@pytest.mark.parametrize("config", CONFIGS, ids=[Path(c).stem for c in CONFIGS])
def test_no_number_is_split_or_cut(config: str, columns: int) -> None:
    result = run("step", config, env={"COLUMNS": str(columns)})
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert max(cell_len(line) for line in lines) <= columns
    allowed = renderings(config)
    seen = 0
    for line in lines:
        for m in NUMBER.finditer(line):
            token = m.group(0).rstrip("…")
            # a leading minus may be the formula's own: e^(-0.3775)
            assert token in allowed or token.lstrip("-") in allowed, (token, line)
            seen += 1
    assert seen > 50
    # An ellipsis would be allowed (it says a piece was cut), but these configs need none.
    assert "…" not in result.stdout


def test_deep_softmax_keeps_e_to_the_net_input_whole_at_80_columns() -> None:
    # The example: e^0.139755448 was split into e^0.13975544 / 8.
    out = run("step", CONFIGS[1], env={"COLUMNS": "80"}).stdout
    assert out.count("e^0.139755448") == 4  # out_o1 twice, out_o2 and out_o3 once
    assert "e^0.13975544\n" not in out.replace(" ", "")


def test_wrap_breaks_between_terms_before_factors() -> None:
    text = "0.15 * 0.05 + 0.2 * 0.1 + 0.35 * 1"
    assert wrap(text, 26) == ["0.15 * 0.05 + 0.2 * 0.1", "+ 0.35 * 1"]
    assert wrap(text, 12) == ["0.15 * 0.05", "+ 0.2 * 0.1", "+ 0.35 * 1"]
    assert wrap(text, 6) == ["0.15", "* 0.05", "+ 0.2", "* 0.1", "+ 0.35", "* 1"]
    # Outside brackets before inside them.
    assert wrap("0.999 * 0 + (1 - 0.999) * (0.082667628)^2", 30) == [
        "0.999 * 0 + (1 - 0.999)",
        "* (0.082667628)^2",
    ]
    # A denominator may start a line; a piece wider than the line is cut with an ellipsis.
    assert wrap("e^0.139755448/(e^0.139755448 + e^0.055902179)", 16) == [
        "e^0.139755448/",
        "(e^0.139755448",
        "+ e^0.055902179)",
    ]
    # Last of all, an operator ends a line and its operand starts the next.
    assert wrap("0.1 + e^(-(-1.501022743))", 19) == ["0.1 +", "e^(-(-1.501022743))"]
    assert wrap("0.123456789 * 2", 8) == ["0.12345…", "* 2"]


@pytest.mark.parametrize("columns", ["0", "1", "19"])
def test_narrow_terminals_get_the_20_column_layout(columns: str) -> None:
    # A subprocess: rich reads COLUMNS when the console is made, as for a user.
    def backprop(*args: str, width: str) -> subprocess.CompletedProcess[str]:
        env = {"NO_COLOR": "1", "COLUMNS": width, "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}
        return subprocess.run(
            [sys.executable, "-m", "backprop_cli", *args],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )

    result = backprop("step", width=columns)
    assert result.returncode == 0, result.stderr
    assert result.stdout == backprop("step", width="20").stdout
    lines = [line.rstrip() for line in result.stdout.splitlines()]
    assert max(cell_len(line) for line in lines) <= 20
    assert lines[lines.index("out_h1") :][:5] == [
        "out_h1",
        "= 1/(1",
        "  + e^(-net_h1))",
        "= 1/(1",
        "  + e^(-0.3775))",
    ]
    assert "= 0.593269992" in lines
    assert "w1 0.15 →" in lines
    trained = backprop("train", "-n", "10", width=columns)
    assert trained.returncode == 0, trained.stderr
    assert "w1 0.15 →" in trained.stdout.splitlines()  # "→" ends the line: no space after it


# --- magnitudes --------------------------------------------------------------------------------


def test_number_rules() -> None:
    assert number(0.3775) == "0.3775"
    assert number(-2.5e12) == "-2.5e+12"
    assert number(1.2345678912345e300) == "1.23456789e+300"
    assert number(999_999_999.0) == "999999999"
    assert number(123456.5, 2) == "123456.5"
    assert number(1234567.0, 2) == "1.2e+6"
    assert number(6e-10) == "6e-10"
    assert number(1e-9) == "0.000000001"
    assert number(-0.00004, 4) == "-4e-5"
    assert number(0.291, 4, zeros=True) == "0.2910"
    assert number(-1e-12, 4, zeros=True) == "-1.000e-12"
    assert number(-0.00000000001, 9) == "-1e-11"
    assert number(math.inf) == "inf" and number(math.nan) == "nan"


def test_a_diverging_run_is_shown_in_scientific_notation(tmp_path: Path) -> None:
    path = tmp_path / "diverging.yaml"
    path.write_text(DIVERGING)
    result = run("train", str(path), "-n", "300", env={"COLUMNS": "80"})
    assert result.exit_code == 1
    out = result.stdout
    assert not re.search(r"\d{12}", out), out  # no 300-digit integers
    # Training stops before w1 passes ±1e6 (what a saved config may hold), E_total at 1.7e11.
    assert "E_total after epoch 3: 1.7301609e+11" in out
    assert re.search(r"w1 +2 +→ +-176473 +-176475", out)
    assert "1.73016e+11 |" in out  # the curve's axis
    assert "w1 would be 8647202.0 after epoch 4" in result.stderr
    data = run("train", str(path), "-n", "300", "--format", "json")
    assert json.loads(data.stdout)["E_total"] == pytest.approx(173016090012.5, rel=1e-12)


def test_residue_of_an_exact_cancellation_is_shown_as_0(tmp_path: Path) -> None:
    path = tmp_path / "residue.yaml"
    path.write_text(RESIDUE)
    out = run("step", str(path), env={"COLUMNS": "100"}).stdout
    rows = {line.split()[0]: line.rstrip() for line in out.splitlines() if line.strip()}
    assert rows["net_o1"].endswith("-0.4 * 1 + 0.3 * 1 + 0.1 * 1       0")
    assert rows["out_o1"].split()[-2:] == ["0", "0"]  # used as a term: 0 there too
    assert "½(0.5 - 0)^2" in out and "e-17" not in out
    md = run("step", str(path), "-f", "markdown").stdout
    assert "e-17" not in md and "10^{-17}" not in md
    trace = json.loads(run("step", str(path), "-f", "json").stdout)
    net = next(s for s in trace["steps"] if s["id"] == "net_o1")
    assert net["value"] == -0.4 + 0.3 + 0.1 == -2.7755575615628914e-17


def _step(template: str, value: float, **terms: float) -> Step:
    return Step("x", "forward", 0, 0, None, template, terms, value, ())


def test_residue_rule() -> None:
    assert is_residue(_step("{a} * 1 + {b} * 1 + {c} * 1", -0.4 + 0.3 + 0.1, a=-0.4, b=0.3, c=0.1))
    assert is_residue(_step("({a} - {b})/{c}", (0.1 + 0.2 - 0.3) / 2, a=0.1 + 0.2, b=0.3, c=2.0))
    # A small value that is no cancellation stays: products scale the size with them.
    assert not is_residue(_step("{a} * {b}", 1000.0 * 1e-19, a=1000.0, b=1e-19))
    assert not is_residue(_step("{a} - {b}", 2**-40, a=1.0, b=1.0 - 2**-40))
    for config in CONFIGS:  # none of the example configs has a cancellation
        assert Numbers.of(step(load_spec(config)).steps).residue == frozenset()


# --- hyper-parameters and brackets -----------------------------------------------------------


def test_hyper_parameters_keep_their_digits_at_precision_0() -> None:
    out = run("step", "--precision", "0", "--only", "w5+", env={"COLUMNS": "100"}).stdout
    assert "η = 0.5" in out
    assert "- 0.5 * " in out
    md = run("step", "--precision", "0", "--only", "w5+", "-f", "markdown").stdout
    assert r"- 0.5 \cdot" in md


def test_no_doubled_brackets() -> None:
    out = run("step", CONFIGS[1], env={"COLUMNS": "120"}).stdout
    assert "tanh(-0.1)" in out and "tanh(-0.25)" in out
    assert "max(0, -0.152491533)" in out
    assert "((" not in out
    assert "0.1 * 1 + (-0.2) * 0.5" in out  # a negative term keeps its brackets
    batch = run("step", CONFIGS[2], "--precision", "2", env={"COLUMNS": "120"}).stdout
    assert "(-0.2 + 0.73)/2" in batch  # leading a bracket: none needed
    assert "((" not in batch


# --- --round keeps trailing zeros -----------------------------------------------------------


def test_step_round_summary_keeps_trailing_zeros() -> None:
    out = run("step", "--round", "4", env={"COLUMNS": "100"}).stdout
    assert "E_total: 0.2984 → 0.2910  (-0.0074)" in out
    assert re.search(r"^b1 +0\.35 +→ +0\.3500 *$", out, re.M)
    assert re.search(r"E_total\+ +0\.2910 +0\.291027774", out)


def test_train_round_shows_outputs_to_its_decimals() -> None:
    out = run("train", "--round", "4", "-n", "100", env={"COLUMNS": "100"}).stdout
    assert "E_total after epoch 100: 0.0200 " in out
    assert re.search(r"1 +o1 +0\.1758 +0\.01 *$", out, re.M)
    assert re.search(r"1 +o2 +0\.8777 +0\.99 *$", out, re.M)


def test_explain_and_check_write_numbers_the_same_way() -> None:
    out = run("explain", "out_g1", CONFIGS[1], "--depth", "0").stdout
    assert "out_g1 = tanh(-0.1) = -0.099667995" in out
    low = run("explain", "w5+", "--depth", "0", "--precision", "0").stdout
    assert "- 0.5 * " in low and "η = 0.5" in low


@pytest.mark.parametrize("columns", [20, 40, 80, 120])
def test_train_summary_splits_no_number(columns: int) -> None:
    result = run("train", "-n", "200", env={"COLUMNS": str(columns)})
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert max(cell_len(line) for line in lines) <= columns
    summary = json.loads(run("train", "-n", "200", "--format", "json").stdout)
    spec = load_spec(None)
    values = [summary["E_total_before"], summary["E_total"], *summary["outputs"][0]]
    for p in spec.parameters():
        new = summary["parameters"][p.id]
        values += [p.value, new, new - p.value]
    values += spec.samples[0].targets
    allowed = {number(v) for v in values} | {number(v, 6) for v in values} | {"0.5"}
    for line in lines:
        for m in NUMBER.finditer(line):
            assert "." not in m.group(0) or m.group(0) in allowed, (m.group(0), line)
            assert not m.group(1), line  # nothing cut
    # The curve is as wide as the terminal allows: no row of it wraps onto a line of its own.
    curve = lines[lines.index("Loss curve") + 1 :]
    row = re.compile(r"( *[\d.e+-]* \|[ *]*| +\+-+| +epoch \d+( +epoch \d+)?| +\(E_total.*)")
    assert all(row.fullmatch(line.rstrip()) for line in curve), curve
    axis = next(line for line in curve if line.lstrip().startswith("+--"))
    assert axis.count("-") == min(60, columns - len("0.008319 |"))


@pytest.mark.parametrize("columns", [20, 40])
def test_drift_table_cuts_no_number_when_narrow(columns: int) -> None:
    out = run("step", "--round", "4", env={"COLUMNS": str(columns)}).stdout
    assert "…" not in out
    flat = " ".join(out.split())
    assert "w1+ 0.1498, exact 0.149780716 (drift +0.000019284)" in flat
    assert "E_total: 0.2984 → 0.2910 (-0.0074)" in flat
