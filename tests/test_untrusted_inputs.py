"""Configs and models written to break the reader: each ends in one line naming the file (and its
line, column and field where it has them), exit 2, with no traceback, and each read is bounded
before its memory is spent (issue 20)."""

from __future__ import annotations

import os
import subprocess
import sys
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from backprop_cli.specs import source
from backprop_cli.specs.source import SourceError
from backprop_cli.specs.validate import loads_spec

from .clihelp import assert_input_error, run

ROOT = Path(__file__).resolve().parent.parent
MAZUR = (ROOT / "configs" / "mazur.yaml").read_text("utf-8")


def backprop(*args: str, shell: str = "", memory: int = 0) -> subprocess.CompletedProcess[str]:
    """The command in a fresh process (what start-up does with its streams is tested too),
    its address space limited to `memory` bytes if given."""

    def limit() -> None:
        if memory:
            import resource

            resource.setrlimit(resource.RLIMIT_AS, (memory, memory))

    env = {"NO_COLOR": "1", "COLUMNS": "100", "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "backprop_cli", *args]
    if shell:  # a redirection only a shell can make, such as <&-
        command = ["sh", "-c", " ".join(f"'{a}'" for a in command) + " " + shell]
    return subprocess.run(
        command, capture_output=True, text=True, env=env, timeout=30, check=False, preexec_fn=limit
    )


# --- stdin and the size cap --------------------------------------------------------------------


def test_a_closed_stdin_is_one_line() -> None:
    proc = backprop("step", "-", shell="<&-")
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr == (
        "error: <stdin>: standard input is closed; pipe a config in, or give its file name\n"
    )


@pytest.mark.parametrize("value", ["inf", "nan", "1e30", "100000", "1025", "0", "-1", "64MB"])
def test_a_size_cap_out_of_range_is_one_line_naming_the_variable(
    value: str, tmp_path: Path
) -> None:
    path = tmp_path / "net.yaml"
    path.write_text(MAZUR, "utf-8")
    for args in (["step", str(path)], ["step", "-"]):
        result = run(*args, env={"BACKPROP_MAX_CONFIG_MB": value}, input=MAZUR)
        assert_input_error(result)
        assert result.stderr == (
            "error: BACKPROP_MAX_CONFIG_MB: expected a number of megabytes above 0 and at most "
            f"1024, got '{value}'\n"
        )


def test_a_small_file_costs_its_size_not_the_cap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "net.yaml"
    path.write_text(MAZUR, "utf-8")
    monkeypatch.setenv("BACKPROP_MAX_CONFIG_MB", "1024")
    tracemalloc.start()
    try:
        assert source.read_text(path) == MAZUR
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 * 2**20  # not the 1 GB buffer a read of the cap allocates


def test_a_file_past_the_cap_is_refused_by_its_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "big.yaml"
    with open(path, "wb") as f:
        f.truncate(2 * 2**20)  # sparse: 2 MB of NULs on no disk
    monkeypatch.setenv("BACKPROP_MAX_CONFIG_MB", "1")
    read: list[int] = []
    real_open = open

    def spy(file: Any, *args: Any, **kwargs: Any) -> Any:
        read.append(1)
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr("builtins.open", spy)
    with pytest.raises(SourceError, match="larger than 1 MB, the most a config may be"):
        source.read_text(path)
    assert read == []  # its size said so: not a byte was read


# --- values counted while they are parsed ------------------------------------------------------


@pytest.mark.parametrize("libyaml", [True, False], ids=["libyaml", "pyyaml"])
def test_values_are_counted_while_parsing(libyaml: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(source, "_MAX_VALUES", 1000)
    if not libyaml:
        monkeypatch.setattr(source, "_FAST_FROM", 10**9)
    # 5,000 numbers, then text that is not YAML: the count stops the reading first
    text = "inputs: 2\nsamples:\n  - inputs: [" + "0.5, " * 4999 + "0.5]\n] ] ]\n"
    with pytest.raises(SourceError) as caught:
        source.parse(text, "net.yaml")
    # the root, inputs' 2, samples, its first sample and its inputs: 5 values before inputs[0]
    assert str(caught.value) == (
        f"net.yaml:3:{14 + 5 * 995}: samples[0].inputs[995]: more than 1,000 values in one file "
        "(the most a config may hold)"
    )


def test_values_in_block_lists_are_counted_at_their_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(source, "_MAX_VALUES", 50)
    text = "samples:\n" + "".join(f"  - {{inputs: [{k}], targets: [1]}}\n" for k in range(40))
    with pytest.raises(SourceError) as caught:
        source.parse(text + "{{{", "net.yaml")
    # the root and samples, then 5 values a sample: the 51st is samples[9].targets
    assert str(caught.value) == (
        "net.yaml:11:28: samples[9].targets: more than 50 values in one file "
        "(the most a config may hold)"
    )


def test_the_count_and_the_cap_are_stated_in_the_docs() -> None:
    errors = (ROOT / "docs" / "errors.md").read_text("utf-8")
    assert f"{source._MAX_VALUES:,} values" in errors
    assert f"at most {source.MAX_MB_ALLOWED}" in errors


# --- line numbers as an editor counts them -----------------------------------------------------


@pytest.mark.parametrize("sep", ["\u2028", "\u2029", "\x85"], ids=["LS", "PS", "NEL"])
def test_a_line_separator_in_a_comment_does_not_shift_line_numbers(sep: str) -> None:
    text = MAZUR.replace("Mazur).\n", f"Mazur).{sep}\n", 1)  # the comment of line 1 ends
    text = text.replace("activation: sigmoid", "activation: sigmod", 1)
    with pytest.raises(SourceError) as caught:
        loads_spec(text, "net.yaml")
    assert str(caught.value).startswith("net.yaml:7:17: layers[0].activation: unknown value")


def test_a_line_separator_before_a_syntax_error_is_named() -> None:
    text = "name: x\n# a note\u2028 that YAML reads as text\ninputs: 2\n"
    with pytest.raises(SourceError) as caught:
        source.parse(text, "net.yaml")
    assert str(caught.value) == (
        "net.yaml:2:11: invalid YAML: this line's indentation does not line up with the lines "
        "above (this line holds U+2028, which ends a line in YAML)"
    )


def test_a_yaml_1_1_surprise_after_a_line_separator_is_at_its_line() -> None:
    text = "# \u2028\u2028\u2028\nname: x\ninputs: 017\n"
    with pytest.raises(SourceError, match=r"^net\.yaml:3:9: inputs: 017 reads as 15"):
        source.parse(text, "net.yaml")


# --- ONNX models -------------------------------------------------------------------------------

onnx = pytest.importorskip("onnx")
np = pytest.importorskip("numpy")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402


def model(nodes: list[Any], tensors: list[Any], n_in: int = 2) -> Any:
    g = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.DOUBLE, [None, n_in])],
        [helper.make_tensor_value_info("y", TensorProto.DOUBLE, None)],
        tensors,
    )
    return helper.make_model(g)


def gemm(*outputs: str) -> Any:
    return helper.make_node("Gemm", ["x", "W"], list(outputs), transB=1)


def declared(dims: list[int], data_type: int = TensorProto.DOUBLE) -> Any:
    """A tensor with a shape and no data."""
    t = TensorProto()
    t.name, t.data_type = "W", data_type
    t.dims.extend(dims)
    return t


def weights(array: Any) -> Any:
    return numpy_helper.from_array(np.asarray(array), "W")


def _short() -> Any:
    t = weights(np.ones((1, 2)))
    t.dims[:] = [3, 2]
    return t


ONE = weights(np.ones((1, 2)))
BAD_MODELS: dict[str, tuple[Any, str]] = {
    "node_without_output": (model([gemm()], [ONE]), "node 1 (Gemm): has no output"),
    "constant_without_output": (
        model([helper.make_node("Constant", [], [], value=ONE), gemm("y")], []),
        "node 1 (Constant): has no output",
    ),
    "empty_constant": (
        model([helper.make_node("Constant", [], ["W"]), gemm("y")], []),
        "node 1 (Constant): a Constant without a value",
    ),
    "text_constant": (
        model([helper.make_node("Constant", [], ["W"], value_strings=["a"]), gemm("y")], []),
        "node 1 (Constant): holds text, not numbers",
    ),
    "no_neurons": (
        model([gemm("y")], [weights(np.ones((0, 2)))]),
        "node 1 (Gemm): the weights 'W' have shape 0×2; each dimension must be 1 to 10000",
    ),
    "string_weights": (
        model([gemm("y")], [helper.make_tensor("W", TensorProto.STRING, [1, 2], [b"a", b"b"])]),
        "node 1 (Gemm): the weights 'W' are text (a STRING tensor), not numbers",
    ),
    "complex_weights": (
        model([gemm("y")], [weights(np.array([[1 + 2j, 3]]))]),
        "node 1 (Gemm): the weights 'W' are complex numbers (COMPLEX128); only real numbers "
        "can be imported",
    ),
    "huge_dims_no_data": (
        model([gemm("y")], [declared([100000, 100000])], 100000),
        "node 1 (Gemm): the weights 'W' have shape 100000×100000; each dimension must be 1 to "
        "10000",
    ),
    "9000x9000_declared": (
        model([gemm("y")], [declared([9000, 9000])], 9000),
        "node 1 (Gemm): the weights 'W' (9000×9000) bring the network past 250,000 weights",
    ),
    "fewer_values_than_the_shape": (
        model([gemm("y")], [_short()]),
        "node 1 (Gemm): the weights 'W' declare shape 3×2 but hold 2 values",
    ),
    "complex_bias": (
        model(
            [helper.make_node("Gemm", ["x", "W", "b"], ["y"], transB=1)],
            [ONE, numpy_helper.from_array(np.array([1j]), "b")],
        ),
        "node 1 (Gemm): the bias 'b' are complex numbers (COMPLEX128); only real numbers can be "
        "imported",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_MODELS))
def test_a_malformed_model_is_one_line(case: str, tmp_path: Path) -> None:
    built, message = BAD_MODELS[case]
    path = tmp_path / "m.onnx"
    onnx.save(built, str(path))
    result = run("import", str(path))
    assert_input_error(result)
    assert result.stderr == f"error: {path}: {message}\n"


def test_layers_past_the_weight_limit_are_refused_before_they_are_read(tmp_path: Path) -> None:
    # two layers of 150,000 weights each (int8: a 0.3 MB file): the second is never converted
    nodes = [
        helper.make_node("Gemm", ["x", "W1"], ["h"], transB=1),
        helper.make_node("Gemm", ["h", "W2"], ["y"], transB=1),
    ]
    tensors = [
        numpy_helper.from_array(np.ones((300, 500), dtype=np.int8), "W1"),
        numpy_helper.from_array(np.ones((500, 300), dtype=np.int8), "W2"),
    ]
    path = tmp_path / "m.onnx"
    onnx.save(model(nodes, tensors, 500), str(path))
    result = run("import", str(path))
    assert_input_error(result)
    assert result.stderr == (
        f"error: {path}: node 2 (Gemm): the weights 'W2' (500×300) bring the network past "
        "250,000 weights\n"
    )


def test_weights_in_an_external_file_are_not_read(tmp_path: Path) -> None:
    (tmp_path / "secret.bin").write_bytes(np.ones(2).tobytes())
    t = declared([1, 2])
    t.data_location = TensorProto.EXTERNAL
    t.external_data.add(key="location", value="secret.bin")
    path = tmp_path / "m.onnx"
    path.write_bytes(model([gemm("y")], [t]).SerializeToString())
    result = run("import", str(path))
    assert_input_error(result)
    assert result.stderr == (
        f"error: {path}: node 1 (Gemm): the weights 'W' are kept in an external file; save the "
        "model with them inside\n"
    )


def test_a_nan_weight_names_the_model_not_the_config(tmp_path: Path) -> None:
    path = tmp_path / "m.onnx"
    onnx.save(model([gemm("y")], [weights([[float("nan"), 1.0]])]), str(path))
    result = run("import", str(path), "-o", str(tmp_path / "net.yaml"))
    assert_input_error(result)
    assert result.stderr == (
        f"error: {path}: node 1 (Gemm): the weights 'W' hold NaN at [0][0]; every value must be "
        "a finite number\n"
    )


def test_a_model_past_64_mb_is_refused_by_its_size(tmp_path: Path) -> None:
    path = tmp_path / "m.onnx"
    with open(path, "wb") as f:
        f.truncate(65 * 2**20)  # sparse
    result = run("import", str(path))
    assert_input_error(result)
    assert result.stderr == (
        f"error: {path}: larger than 64 MB, the most an ONNX model may be here (the largest "
        "network backprop takes, 250,000 weights, is 2 MB in float64)\n"
    )


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero")
def test_an_endless_device_is_no_model() -> None:
    proc = backprop("import", "/dev/zero", memory=2**30)  # before: read until memory ran out
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr == "error: /dev/zero: is a character device, not an ONNX model file\n"


def test_a_folder_is_no_model(tmp_path: Path) -> None:
    result = run("import", str(tmp_path))
    assert_input_error(result)
    assert result.stderr == f"error: {tmp_path}: is a directory, not an ONNX model file\n"


# --- gradcheck: a verdict that is true, and a bounded run ----------------------------------------

HUGE_LOSS = """\
inputs: 1
layers:
  - {activation: linear, weights: [[1000000]], bias: [0.5]}
samples:
  - {inputs: [1000000], targets: [0]}
"""


def test_a_gradient_the_central_difference_cannot_see_is_no_pass(tmp_path: Path) -> None:
    # E = 5e23: a step of 1e-6 in the bias moves E by 2e6, below its spacing (6.7e7): the central
    # difference is 0 against backprop's 1e12, with a round-off of 5.6e14
    config = tmp_path / "net.yaml"
    config.write_text(HUGE_LOSS, "utf-8")
    result = run("gradcheck", str(config))
    assert result.exit_code == 1
    rows = {line.split()[0]: line.split() for line in result.stdout.splitlines()[2:4]}
    assert rows["b_o1"][1:] == ["1e+12", "0", "1.0e+00", "unresolved‡"]
    assert rows["w1"][-1] == "pass†"  # 1e18 against 9.99989e17: within the round-off
    assert "1 of 2 parameters unresolved  (largest relative error 1.0e+00)" in result.stdout
    assert "‡ backprop's gradient is smaller than the round-off" in result.stdout
    doc = json_of(run("gradcheck", str(config), "-f", "json"))
    assert [(p["id"], p["passed"], p["verdict"]) for p in doc["parameters"]] == [
        ("w1", True, "within round-off"),
        ("b_o1", False, "unresolved"),
    ]


def test_a_round_off_zero_still_passes() -> None:
    from backprop_cli.tutor.gradcheck import PASS, UNRESOLVED, WITHIN_ROUNDOFF, verdict

    # a shared bias under softmax: 0 but for backprop's round-off, as the difference says
    assert verdict(-6.5e-17, 0.0, 1.2e-9, 1e-6, 1e-13) == WITHIN_ROUNDOFF
    assert verdict(1.0, 0.0, 1100.0, 1e-6, 1e-13) == UNRESOLVED
    assert verdict(0.5, 0.5 + 1e-9, 1e-9, 1e-6, 1e-13) == PASS


def json_of(result: Any) -> Any:
    import json

    assert result.exit_code in (0, 1), result.stderr
    return json.loads(result.stdout)


def _net(n_in: int, hidden: int, n_out: int = 2) -> str:
    """A network whose weights are drawn (init), one sample: a short text for a large network."""
    inputs = ", ".join(["0.5"] * n_in)
    return (
        f"inputs: {n_in}\nlayers:\n"
        f"  - {{size: {hidden}, init: {{scheme: xavier, seed: 3}}, bias: 0.1}}\n"
        f"  - {{size: {n_out}, init: {{scheme: xavier, seed: 4}}, bias: {[0.1] * n_out}}}\n"
        f"samples:\n  - {{inputs: [{inputs}], targets: {[0.5] * n_out}}}\n"
    )


def test_a_large_gradcheck_checks_a_seeded_sample_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from backprop_cli import loads_spec
    from backprop_cli.tutor import gradcheck as gc_module

    monkeypatch.setattr(gc_module, "WORK", 20_000)  # as if the network were 100 times larger
    config = tmp_path / "net.yaml"
    config.write_text(_net(20, 10), "utf-8")
    spec = loads_spec(config.read_text("utf-8"))
    total = len(spec.parameters())  # 200 + 1 + 20 + 2 = 223 (223² = 49,729 > 20,000)
    doc = json_of(run("gradcheck", str(config), "-f", "json"))
    ids = [p["id"] for p in doc["parameters"]]
    assert (doc["checked"], doc["total"], doc["sample_seed"]) == (len(ids), total, 0)
    # 20,000 / 223 = 89, in proportion, but at least 10 of each layer's weights and biases
    by_group: dict[tuple[int, str], int] = {}
    kinds = {p.id: (p.layer, p.kind) for p in spec.parameters()}
    for pid in ids:
        by_group[kinds[pid]] = by_group.get(kinds[pid], 0) + 1
    assert by_group == {(0, "weight"): 80, (0, "bias"): 1, (1, "weight"): 10, (1, "bias"): 2}
    assert ids == [p.id for p in spec.parameters() if p.id in set(ids)]  # the network's order
    again = json_of(run("gradcheck", str(config), "-f", "json"))
    assert [p["id"] for p in again["parameters"]] == ids  # seeded: the same sample
    other = json_of(run("gradcheck", str(config), "-f", "json", "--seed", "5"))
    assert [p["id"] for p in other["parameters"]] != ids and other["sample_seed"] == 5
    table = run("gradcheck", str(config))
    assert f"a random sample of {len(ids)} of the network's {total} parameters (seed 0; --all " in (
        " ".join(table.stdout.split())
    )
    every = json_of(run("gradcheck", str(config), "-f", "json", "--all"))
    assert (every["checked"], every["sample_seed"]) == (total, None)


def test_gradcheck_shows_progress_on_a_terminal_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from backprop_cli.cli import common

    clock = iter(range(0, 10**6, 1))  # a second passes at each look: the bar shows at once
    monkeypatch.setattr(common.time, "monotonic", lambda: float(next(clock)))
    terminal = {"FORCE_COLOR": "1", "TERM": "xterm"}
    on_terminal = run("gradcheck", env=terminal)
    assert on_terminal.exit_code == 0
    assert "gradcheck" in on_terminal.stderr and "11/11" in on_terminal.stderr  # 1 sample, 10
    assert run("gradcheck", "--quiet", env=terminal).stderr == ""
    assert run("gradcheck").stderr == ""  # not a terminal


# --- the web page: refused past its size, before the work ----------------------------------------


def test_a_page_too_large_is_refused_before_the_step_is_made(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from backprop_cli.cli import step as step_cli

    made: list[int] = []
    import backprop_cli.engine.passes as engine

    real = engine.step
    monkeypatch.setattr(engine, "step", lambda *a, **k: made.append(1) or real(*a, **k))
    monkeypatch.setattr(step_cli, "MAX_PAGE", 5)  # the worked example has 8 weights, 1 sample
    result = run("step", "-f", "html")
    assert_input_error(result)
    assert result.stderr == (
        "error: --format html: this step has at least 8 steps; a page is made for at most 5 "
        "(about 1 GB of memory); --format json streams any size, and --format table can show a "
        "part (--only, --phase)\n"
    )
    assert made == []
    monkeypatch.setattr(step_cli, "MAX_PAGE", 50)  # 8 weights pass; the trace's 66 steps do not
    result = run("step", "-f", "html")
    assert_input_error(result)
    assert result.stderr.startswith("error: --format html: this step has 66 steps; a page is ")


def test_the_largest_network_is_refused_a_page_at_once(tmp_path: Path) -> None:
    config = tmp_path / "net.yaml"
    config.write_text(_net(500, 499, 1), "utf-8")  # 249,999 weights, the most a network has
    result = run("step", str(config), "-f", "html", "-o", str(tmp_path / "page.html"))
    assert_input_error(result)
    assert result.stderr.startswith(
        "error: --format html: this step has at least 249,999 steps; a page is made for at most "
        "50,000"
    )
    assert not (tmp_path / "page.html").exists()
