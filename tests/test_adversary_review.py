"""What an adversarial tester found on an older snapshot and was still so here (issue 20): errors
lost at COLUMNS=0, ONNX tensors of an unexpected type, size or value, and `-` read as a file
name where only a named file is read."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from .clihelp import assert_input_error, run

ROOT = Path(__file__).resolve().parent.parent

# --- the terminal's width ----------------------------------------------------------------------

WIDTHS = ["0", "-3", "abc", "1", "00", "100000"]
BAD_CONFIG = "inputs: zero\n"


def _errors(tmp: Path) -> dict[str, tuple[list[str], str]]:
    """Each kind of error message: the arguments, and the line it prints at 100 columns."""
    bad = tmp / "bad.yaml"
    return {
        "no_such_file": (["step", "nofile.yaml"], "error: nofile.yaml: no such file"),
        "bad_choice": (
            ["step", "--phase", "x"],
            "error: --phase: 'x' is not one of forward, loss, backward, update, after",
        ),
        "no_step_matches": (
            ["step", "--only", "nope"],
            "error: --only nope: no step matches; closest: net_o2, net_o1, net_h2, net_h1",
        ),
        "unknown_command": (["nope"], "error: no such command 'nope'; see backprop --help"),
        "unknown_option": (
            ["step", "--epochs"],
            "error: no such option: --epochs (Possible options: --phase); see backprop step --help",
        ),
        "bad_config": (
            ["step", str(bad)],
            f"error: {bad}:1:9: inputs: expected a non-empty list of names, got the text 'zero'",
        ),
    }


KINDS = sorted(_errors(Path("unused")))


@pytest.mark.parametrize("columns", WIDTHS)
@pytest.mark.parametrize("kind", KINDS)
def test_every_error_shows_at_any_width(kind: str, columns: str, tmp_path: Path) -> None:
    # before: at COLUMNS=0 (and 00) rich printed nothing at all, so stderr was empty
    (tmp_path / "bad.yaml").write_text(BAD_CONFIG, "utf-8")
    args, line = _errors(tmp_path)[kind]
    result = run(*args, env={"COLUMNS": columns})
    assert result.exit_code == 2
    assert result.stderr == line + "\n"


@pytest.mark.parametrize("columns", ["0", "1", "5"])
def test_help_under_20_columns_is_the_20_column_help(columns: str) -> None:
    # before: empty at 0; at 1 and 5 a column of box corners and "Usa / ge:"
    narrow = run("step", "--help", env={"COLUMNS": columns})
    assert narrow.exit_code == 0
    assert narrow.stdout == run("step", "--help", env={"COLUMNS": "20"}).stdout
    assert " Usage: backprop\n" in narrow.stdout


def test_a_note_shows_at_0_columns(tmp_path: Path) -> None:
    result = run("init", str(tmp_path / "net.yaml"), "-l", "2,2,2", env={"COLUMNS": "0"})
    assert result.exit_code == 0
    assert result.stderr.startswith(f"wrote {tmp_path / 'net.yaml'}")


def _real(args: list[str], shell: str = "", columns: str = "0") -> subprocess.CompletedProcess[str]:
    env = {"NO_COLOR": "1", "COLUMNS": columns, "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "backprop_cli", *args]
    line = " ".join(f"'{a}'" for a in command) + " " + shell
    return subprocess.run(
        ["sh", "-c", line], capture_output=True, text=True, env=env, timeout=60, check=False
    )


def test_the_program_itself_shows_its_errors_at_0_columns() -> None:
    proc = _real(["step", "nofile.yaml"])
    assert (proc.returncode, proc.stderr) == (2, "error: nofile.yaml: no such file\n")
    proc = _real(["step"], shell=">&-")
    assert (proc.returncode, proc.stderr) == (
        74,
        "error: standard output is closed (to discard the output, use >/dev/null)\n",
    )


# --- `-` where only a named file is read --------------------------------------------------------

ONLY_A_FILE = "not standard input; give its name (a file named - by its full path)"


@pytest.mark.parametrize("stdin", ["<&-", "</dev/null"])
def test_check_of_stdin_says_answers_come_from_a_file(stdin: str) -> None:
    # before: "error: -: no such file", with stdin closed or not
    proc = _real(["check", "-"], shell=stdin, columns="100")
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr == (
        "error: -: check reads the answers from a file (its extension gives the format), "
        f"{ONLY_A_FILE}\n"
    )


def test_import_of_stdin_says_the_model_comes_from_a_file() -> None:
    result = run("import", "-")
    assert_input_error(result)
    assert result.stderr == f"error: -: import reads the model from a file, {ONLY_A_FILE}\n"


@pytest.mark.parametrize("command", ["init", "import"])
def test_samples_from_stdin_say_the_config_names_a_file(command: str, tmp_path: Path) -> None:
    first = str(tmp_path / "net.yaml") if command == "init" else str(tmp_path / "m.onnx")
    result = run(command, first, "--samples", "-")
    assert_input_error(result)
    assert result.stderr == (
        "error: --samples -: the config names its data file, so it is read from a file, "
        f"{ONLY_A_FILE}\n"
    )


# --- ONNX tensors ------------------------------------------------------------------------------

onnx = pytest.importorskip("onnx")
np = pytest.importorskip("numpy")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402


def _model(tensors: list[Any], n_in: Any = None, n_out: Any = None, bias: bool = False) -> Any:
    """x (a batch of 2 values) · W (2×2) [+ b] = y, as an exporter writes MatMul + Add."""
    nodes = [helper.make_node("MatMul", ["x", "W"], ["h" if bias else "y"])]
    if bias:
        nodes.append(helper.make_node("Add", ["h", "b"], ["y"]))
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, n_in])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, n_out])],
        tensors,
    )
    return helper.make_model(graph)


def _tensor(data_type: int, dims: list[int], name: str = "W", **fields: Any) -> Any:
    t = TensorProto()
    t.name, t.data_type = name, data_type
    t.dims.extend(dims)
    for field, values in fields.items():
        if field == "raw_data":
            t.raw_data = values
        else:
            getattr(t, field).extend(values)
    return t


W = numpy_helper.from_array(np.array([[1.0, 2.0], [3.0, 4.0]], dtype=np.float32), "W")
NODE = "node 1 (MatMul): the weights 'W'"
BAD_TENSORS: dict[str, tuple[Any, str]] = {
    "undefined_type": (  # before: ValueError: Enum DataType has no name defined for value 999
        _model([_tensor(999, [2, 2], float_data=[1, 2, 3, 4])]),
        f"{NODE} are of type 999, which ONNX does not define",
    ),
    "raw_data_of_3_bytes": (  # before: "hold 0 values"
        _model([_tensor(TensorProto.FLOAT, [2, 2], raw_data=b"abc")]),
        f"{NODE} hold 3 bytes, not a whole number of FLOAT values (4 bytes each)",
    ),
    "huge_dims_4_values": (
        _model([_tensor(TensorProto.FLOAT, [100000, 100000], float_data=[1, 2, 3, 4])]),
        f"{NODE} have shape 100000×100000; each dimension must be 1 to 10000",
    ),
    "negative_dim": (
        _model([_tensor(TensorProto.FLOAT, [-1, 4], float_data=[1] * 8)]),
        f"{NODE} have shape -1×4; each dimension must be 1 to 10000",
    ),
    "nan": (  # before: named the config's field, layers[0].weights[0][1]
        _model([numpy_helper.from_array(np.array([[1.0, np.nan], [3.0, 4.0]]), "W")]),
        f"{NODE} hold NaN at [0][1]; every value must be a finite number",
    ),
    "1e30": (
        _model([numpy_helper.from_array(np.array([[1.0, 2.0], [1e30, 4.0]]), "W")]),
        f"{NODE} hold 1e+30 at [1][0]; |x| must be at most 1e+06",
    ),
    "infinite_bias": (
        _model([W, numpy_helper.from_array(np.array([0.5, -np.inf]), "b")], bias=True),
        "node 2 (Add): the bias 'b' hold -infinity at [1]; every value must be a finite number",
    ),
    "declared_input_wider": (  # before: imported as a network of 2 inputs, silently
        _model([W], n_in=3),
        "the graph's input 'x' is declared 3 wide, but the first layer takes 2 inputs",
    ),
    "declared_output_wider": (
        _model([W], n_out=5),
        "the graph's output 'y' is declared 5 wide, but the last layer has 2 neurons",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_TENSORS))
def test_an_unexpected_tensor_is_one_line(case: str, tmp_path: Path) -> None:
    built, message = BAD_TENSORS[case]
    path = tmp_path / "m.onnx"
    path.write_bytes(built.SerializeToString())
    out = tmp_path / "net.yaml"
    result = run("import", str(path), "-o", str(out))
    assert_input_error(result)
    assert result.stderr == f"error: {path}: {message}\n"
    assert not out.exists()


@pytest.mark.parametrize("kind", ["FLOAT16", "BFLOAT16"])
def test_half_precision_weights_are_read_exactly(kind: str, tmp_path: Path) -> None:
    # Every float16 and bfloat16 is a float64: the config holds the very numbers of the model.
    values = [1.0, -2.5, 0.1, 1 / 3]
    data_type = getattr(TensorProto, kind)
    tensor = helper.make_tensor("W", data_type, [2, 2], values)
    exact = numpy_helper.to_array(tensor).astype(np.float64)  # the values as stored
    assert exact[1][0] != 0.1  # rounded to half precision: what the file holds, not 0.1
    path = tmp_path / "m.onnx"
    path.write_bytes(_model([tensor], n_in=2, n_out=2).SerializeToString())
    result = run("import", str(path), "-o", str(tmp_path / "net.yaml"))
    assert result.exit_code == 0, result.stderr
    from backprop_cli.specs.validate import load_spec

    spec = load_spec(str(tmp_path / "net.yaml"))
    weights = spec.layers[0].weights  # a row per neuron: W's columns
    assert [[float(w) for w in row] for row in weights] == exact.T.tolist()
