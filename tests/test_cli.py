"""The command line as a user drives it: exit codes, stdout for data only, filters, JSON."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from backprop_cli.cli import app
from backprop_cli.render import number

from .test_engine import FIGURES

runner = CliRunner()
ENV = {"COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb"}


def run(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args), env=ENV)


def test_step_without_config_shows_every_figure_of_the_post() -> None:
    result = run("step")
    assert result.exit_code == 0, result.output
    for step_id, published, exact in FIGURES:
        # shown at 9 decimals; the post sometimes prints 8 (0.29950229 for 0.299502287)
        shown = number(exact, 9)
        assert shown in result.stdout, step_id
        assert abs(float(shown) - float(published)) <= 10.0 ** -len(published.split(".")[1])
    assert "E_total: 0.298371109 → 0.291027774" in result.stdout
    assert result.stderr == ""


def test_table_lines_fit_in_100_columns() -> None:
    result = run("step")
    assert max(len(line) for line in result.stdout.splitlines()) <= 100


def test_golden_output_for_the_output_layer_gradients() -> None:
    result = run("step", "--only", "dE_total/dw[5-8]", "--precision", "6")
    assert result.exit_code == 0
    golden = """\
A step by step backpropagation example

Backward pass · output layer o
id             formula                                    with numbers                         value
────────────────────────────────────────────────────────────────────────────────────────────────────
dE_total/dw5   dE_total/dout_o1 * dout_o1/dnet_o1         0.741365 * 0.186816 * 0.59327     0.082167
               * dnet_o1/dw5
dE_total/dw6   dE_total/dout_o1 * dout_o1/dnet_o1         0.741365 * 0.186816 * 0.596884    0.082668
               * dnet_o1/dw6
dE_total/dw7   dE_total/dout_o2 * dout_o2/dnet_o2         -0.217072 * 0.17551 * 0.59327    -0.022603
               * dnet_o2/dw7
dE_total/dw8   dE_total/dout_o2 * dout_o2/dnet_o2         -0.217072 * 0.17551 * 0.596884    -0.02274
               * dnet_o2/dw8
"""
    assert [line.rstrip() for line in result.stdout.splitlines()] == [*golden.splitlines(), ""]


def test_json_trace_is_strict_and_full_precision() -> None:
    result = run("step", "configs/mazur.yaml", "--format", "json")
    assert result.exit_code == 0
    doc = json.loads(result.stdout, parse_constant=_reject)
    assert doc["schema_version"] == 1
    values = {s["id"]: s["value"] for s in doc["steps"]}
    assert values["dE_total/dw5"] == 0.08216704056423077
    assert doc["updated"]["w5"] == 0.35891647971788465
    assert doc["loss_before"] == 0.2983711087600027
    assert doc["loss_after"] == 0.29102777369359933
    assert doc["network"]["layers"][0]["weights"] == [[0.15, 0.2], [0.25, 0.3]]
    w1 = doc["parameters"][0]
    assert w1 == {"id": "w1", "kind": "weight", "layer": 0, "neuron": 0, "input": 0, "value": 0.15}
    b1 = next(p for p in doc["parameters"] if p["id"] == "b1")
    assert b1["neuron"] is None and b1["input"] is None and b1["kind"] == "bias"
    step = next(s for s in doc["steps"] if s["id"] == "net_h1")
    assert step == {
        "id": "net_h1",
        "phase": "forward",
        "layer": 0,
        "sample": 0,
        "update": 0,
        "formula": "w1 * i1 + w2 * i2 + b1 * 1",
        "substituted": "0.15 * 0.05 + 0.2 * 0.1 + 0.35 * 1",
        "value": 0.3775,
        "inputs": ["w1", "i1", "w2", "i2", "b1"],
    }


def test_filters_apply_to_json_too() -> None:
    result = run("step", "--format", "json", "--phase", "update")
    doc = json.loads(result.stdout)
    assert {s["phase"] for s in doc["steps"]} == {"update"}
    assert [s["id"] for s in doc["steps"]] == [f"w{i}+" for i in (5, 6, 7, 8, 1, 2, 3, 4)]


def test_sequential_update_order_flag() -> None:
    result = run("step", "--update-order", "sequential", "--only", "E_total+")
    assert result.exit_code == 0
    assert "0.291027924" in result.stdout


def test_sample_filter(tmp_path: Path) -> None:
    config = tmp_path / "two.yaml"
    text = Path("configs/mazur.yaml").read_text()
    config.write_text(
        text.replace("samples:\n", "samples:\n  - inputs: [0.2, 0.7]\n    targets: [0.5, 0.1]\n")
    )
    result = run("step", str(config), "--sample", "2", "--format", "json")
    doc = json.loads(result.stdout)
    assert {s["sample"] for s in doc["steps"]} == {1}
    too_far = run("step", str(config), "--sample", "3")
    assert too_far.exit_code == 2
    assert too_far.stdout == ""
    assert "2 sample(s)" in too_far.stderr


def test_unknown_only_pattern_exits_2_with_closest_ids() -> None:
    result = run("step", "--only", "dE_total/dw55")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "closest: dE_total/dw5" in result.stderr


def test_bad_config_is_one_line_on_stderr(tmp_path: Path) -> None:
    bad = tmp_path / "net.yaml"
    bad.write_text(
        Path("configs/mazur.yaml")
        .read_text()
        .replace("[[0.40, 0.45], [0.50, 0.55]]", "[[0.40, 0.45], [0.50, 0.55], [1, 2]]")
    )
    result = run("step", str(bad))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.strip() == (
        f"error: {bad}:14:14: layers[1].weights: expected 2 rows (one per neuron of layer 'o'), "
        "got 3"
    )
    assert "Traceback" not in result.stderr


def test_missing_file_exits_2() -> None:
    result = run("step", "no-such.yaml")
    assert result.exit_code == 2
    assert result.stderr.strip() == "error: no-such.yaml: no such file"


def test_help_has_an_example() -> None:
    result = run("step", "--help")
    assert result.exit_code == 0
    assert "backprop step --only 'dE_total/dw*'" in result.stdout


def test_bundled_example_matches_configs_copy() -> None:
    bundled = Path("backprop_cli/configs/mazur.yaml").read_text()
    assert bundled == Path("configs/mazur.yaml").read_text()


def test_every_shipped_config_steps() -> None:
    for config in sorted(Path("configs").glob("*.yaml")):
        if "answers" in config.name:
            continue
        result = run("step", str(config), "--format", "json")
        assert result.exit_code == 0, (config, result.stderr)
        assert json.loads(result.stdout)["loss_after"] is not None


def test_command_line_choices_match_the_library() -> None:
    # The command line reads these from a module that imports nothing, not from the engine.
    from backprop_cli import kernels
    from backprop_cli.cli import gradcheck as gradcheck_cli
    from backprop_cli.cli import options
    from backprop_cli.engine import trace
    from backprop_cli.specs import model as spec
    from backprop_cli.tutor import gradcheck

    assert tuple(o.value for o in options.UpdateOrder) == spec.UPDATE_ORDERS
    assert tuple(p.value for p in options.Phase) == trace.PHASES
    assert tuple(k.value for k in options.Kernel) == kernels.KERNELS
    assert (gradcheck_cli.EPS, gradcheck_cli.TOL) == (gradcheck.EPS, gradcheck.TOL)


def test_start_up_loads_no_engine() -> None:
    import subprocess
    import sys

    code = (
        "import sys; from backprop_cli.cli import app; "
        "print(sorted(m for m in sys.modules if m.startswith(('backprop_cli.', 'yaml'))))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = done.stdout
    for heavy in (
        "backprop_cli.engine.passes",
        "backprop_cli.specs.model",
        "'yaml'",
        "backprop_cli.render.svg",
    ):
        assert heavy not in loaded


def _reject(name: str) -> None:
    raise AssertionError(f"non-strict JSON constant {name}")
