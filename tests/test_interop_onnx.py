"""`backprop import MODEL.onnx`: a PyTorch model trained on a CSV, exported with torch.onnx.export,
imported and stepped, gives every updated parameter PyTorch's own step gives (float64, 1e-12);
graphs written with onnx.helper cover MatMul + Add and every activation's ONNX attributes; an
unsupported graph is one line naming its first unsupported node."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path
from typing import Any

import pytest

from backprop_cli import load_spec, step
from backprop_cli.interop import capture_torch_step
from backprop_cli.interop.onnxfile import import_onnx, read_onnx
from backprop_cli.ops import ACTIVATIONS
from backprop_cli.ops.activations import LINEAR
from backprop_cli.specs.validate import loads_spec

from .clihelp import assert_input_error, run

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

np = pytest.importorskip("numpy")

ROWS = [(0.05, 0.1, 0.01, 0.99), (0.9, -0.4, 1.0, 0.0), (-0.3, 0.7, 0.2, 0.8), (0.4, 0.4, 0.6, 0.4)]


def csv(folder: Path) -> Path:
    path = folder / "data.csv"
    path.write_text("x1,x2,y1,y2\n" + "".join(",".join(map(str, r)) + "\n" for r in ROWS))
    return path


def export(module: Any, path: Path) -> None:
    torch = pytest.importorskip("torch")
    x = torch.zeros(1, 2, dtype=torch.float64)
    # The TorchScript exporter: the default one needs onnxscript, not installed here; it warns
    # that it is the old one.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(module, (x,), str(path), dynamo=False, input_names=["x"])


def test_a_model_trained_on_a_csv_exported_imported_and_stepped_matches_pytorch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    torch = pytest.importorskip("torch")
    nn = torch.nn
    monkeypatch.chdir(tmp_path)
    csv(tmp_path)
    x = torch.tensor([r[:2] for r in ROWS], dtype=torch.float64)
    t = torch.tensor([r[2:] for r in ROWS], dtype=torch.float64)
    torch.manual_seed(1)
    model = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 2), nn.Sigmoid()).double()
    trainer = torch.optim.SGD(model.parameters(), lr=0.5)
    for _ in range(20):  # trained a little: the weights are no longer the initial ones
        trainer.zero_grad()
        nn.MSELoss()(model(x), t).backward()
        trainer.step()
    export(model, tmp_path / "model.onnx")
    (tmp_path / "nets").mkdir()

    result = run(
        "import", "model.onnx", "-o", "nets/net.yaml", "--samples", "data.csv", "--loss", "mse"
    )
    assert result.exit_code == 0, result.stderr
    assert result.stderr == (
        "note: data.csv: inputs x1, x2; targets y1, y2 (the last 2 columns; see --targets)\n"
        "wrote nets/net.yaml; next: backprop step nets/net.yaml\n"
    )
    spec = load_spec(tmp_path / "nets" / "net.yaml")
    assert [layer.activation for layer in spec.layers] == ["tanh", "sigmoid"]
    assert spec.samples_from is not None and spec.samples_from.path == "../data.csv"
    ours = step(spec).updated

    torch_values = capture_torch_step(
        model, nn.MSELoss(), torch.optim.SGD(model.parameters(), lr=0.5), x, t
    )
    assert len(ours) == 3 * 2 + 3 + 2 * 3 + 2
    for pid, value in ours.items():
        assert value == pytest.approx(torch_values[f"{pid}+"], rel=1e-12), pid
        assert value != torch_values[pid]  # it did move


def graph(nodes: list[Any], inits: dict[str, Any], n_in: int, out: str) -> Any:
    tensors = [
        numpy_helper.from_array(np.asarray(v, dtype=np.float64), k) for k, v in inits.items()
    ]
    g = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.DOUBLE, [None, n_in])],
        [helper.make_tensor_value_info(out, TensorProto.DOUBLE, None)],
        tensors,
    )
    return helper.make_model(g)


W1 = [[0.15, 0.25, -0.35], [0.2, -0.3, 0.1]]  # MatMul's layout: (inputs, neurons)
B1 = [0.35, -0.1, 0.2]
W2 = [[0.4, -0.45, 0.3], [-0.5, 0.55, -0.2]]  # Gemm with transB: (neurons, inputs)


def two_layers(op: str, attrs: dict[str, Any]) -> Any:
    nodes = [
        helper.make_node("MatMul", ["x", "fc1.weight"], ["m"]),
        helper.make_node("Add", ["m", "fc1.bias"], ["a"]),
        helper.make_node(op, ["a"], ["h"], name="act", **attrs),
        helper.make_node("Gemm", ["h", "fc2.weight", "fc2.bias"], ["y"], transB=1),
    ]
    return graph(
        nodes, {"fc1.weight": W1, "fc1.bias": B1, "fc2.weight": W2, "fc2.bias": [0.6]}, 2, "y"
    )


ONNX_ACTS = [a for a in ACTIVATIONS.values() if a.onnx and a.hidden]


@pytest.mark.parametrize("act", ONNX_ACTS, ids=lambda a: a.onnx)
def test_every_activation_reads_its_onnx_op_and_attributes(act: Any, tmp_path: Path) -> None:
    attrs = {h.onnx: 0.25 for h in act.hyper if h.onnx}  # exact in float32, as ONNX keeps it
    path = tmp_path / "m.onnx"
    onnx.save(two_layers(act.onnx, attrs), str(path))
    n_in, layers = read_onnx(str(path))
    assert n_in == 2 and [layer.name for layer in layers] == ["fc1", "fc2"]
    hidden, out = layers
    assert hidden.activation is act and out.activation is LINEAR
    assert hidden.weights == [
        list(r) for r in zip(*W1, strict=True)
    ]  # transposed: one row a neuron
    assert hidden.bias == B1 and not hidden.shared_bias
    assert out.weights == W2 and out.bias == [0.6] and out.shared_bias  # one value, two neurons
    if act.hyper:
        assert hidden.alpha == 0.25
    # The forward pass equals onnx's reference evaluator's.
    spec, text = import_onnx(str(path), str(tmp_path / "m.yaml"))
    x = np.array([[0.5, 0.5]])
    trace = step(spec)
    ours = [trace.find(f"out_{n}", 0).value for n in spec.layers[-1].neurons]  # type: ignore[union-attr]
    expected = reference(str(path), x)
    assert ours == pytest.approx(list(expected[0]), rel=1e-12)
    assert loads_spec(text).layers == spec.layers


def test_a_float32_attribute_reads_as_the_decimal_written(tmp_path: Path) -> None:
    path = tmp_path / "m.onnx"
    onnx.save(two_layers("LeakyRelu", {"alpha": 0.3}), str(path))
    assert read_onnx(str(path))[1][0].alpha == 0.3  # not 0.30000001192092896, its float32


def reference(path: str, x: Any) -> Any:
    """The model's outputs by onnx's own reference evaluator (numpy, float64 for every operator;
    onnxruntime has no float64 kernel for some)."""
    from onnx.reference import ReferenceEvaluator

    return ReferenceEvaluator(path).run(None, {"x": x})[0]


def test_softmax_output_and_cross_entropy_on_logits(tmp_path: Path) -> None:
    nodes = [
        helper.make_node("Gemm", ["x", "W", "b"], ["z"], transB=1),
        helper.make_node("Softmax", ["z"], ["y"], axis=-1),
    ]
    path = tmp_path / "s.onnx"
    onnx.save(graph(nodes, {"W": W2, "b": [0.1, -0.2]}, 3, "y"), str(path))
    spec, _ = import_onnx(str(path), "s.yaml", loss="cross_entropy")
    assert spec.layers[-1].activation == "softmax"
    assert spec.samples[0].targets == (1.0, 0.0)  # a one-hot placeholder
    logits = tmp_path / "logits.onnx"
    onnx.save(graph(nodes[:1], {"W": W2, "b": [0.1, -0.2]}, 3, "z"), str(logits))
    spec, text = import_onnx(str(logits), "l.yaml", loss="cross_entropy")
    assert spec.layers[-1].activation == "softmax"
    assert "cross_entropy applies it to the model's logits" in text


def test_import_to_stdout_steps_from_a_pipe(tmp_path: Path) -> None:
    path = tmp_path / "m.onnx"
    onnx.save(two_layers("Sigmoid", {}), str(path))
    result = run("import", str(path))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("# Imported from m.onnx by backprop import\n")
    spec = loads_spec(result.stdout)
    assert spec.samples[0].inputs == (0.5, 0.5)
    stepped = run("step", "-", "--only", "w1+", input=result.stdout)
    assert stepped.exit_code == 0 and "w1+" in stepped.stdout


BAD_GRAPHS: dict[str, tuple[list[Any], dict[str, Any], str]] = {
    "conv": (
        [
            helper.make_node("Gemm", ["x", "W"], ["z"], transB=1, name="fc"),
            helper.make_node("Mul", ["z", "z"], ["y"], name="square"),
        ],
        {"W": W2},
        "node 2 'square' (Mul): not supported; backprop imports Gemm, MatMul + Add, and the "
        "activations Sigmoid, Tanh, Relu, LeakyRelu, Identity, Softplus, Elu, Softmax",
    ),
    "two activations": (
        [
            helper.make_node("Gemm", ["x", "W"], ["z"], transB=1),
            helper.make_node("Tanh", ["z"], ["t"]),
            helper.make_node("Sigmoid", ["t"], ["y"]),
        ],
        {"W": W2},
        "node 3 (Sigmoid): a second activation after one layer; backprop imports Gemm",
    ),
    "activation first": (
        [helper.make_node("Relu", ["x"], ["r"]), helper.make_node("Gemm", ["r", "W"], ["y"])],
        {"W": W1},
        "node 1 (Relu): an activation before any layer",
    ),
    "gemm alpha": (
        [helper.make_node("Gemm", ["x", "W"], ["y"], transB=1, alpha=2.0)],
        {"W": W2},
        "node 1 (Gemm): alpha = 2; only 1 is supported",
    ),
    "transA": (
        [helper.make_node("Gemm", ["x", "W"], ["y"], transA=1)],
        {"W": W2},
        "node 1 (Gemm): transA = 1 (the input transposed) is not supported",
    ),
    "bias size": (
        [helper.make_node("Gemm", ["x", "W", "b"], ["y"], transB=1)],
        {"W": W2, "b": [1.0, 2.0, 3.0]},
        "node 1 (Gemm): a bias of 3 values for a layer of 2 neurons",
    ),
    "softmax axis": (
        [
            helper.make_node("Gemm", ["x", "W"], ["z"], transB=1),
            helper.make_node("Softmax", ["z"], ["y"], axis=0),
        ],
        {"W": W2},
        "node 2 (Softmax): axis = 0; only the last axis is supported",
    ),
    "a branch": (
        [
            helper.make_node("Gemm", ["x", "W"], ["z"], transB=1),
            helper.make_node("Gemm", ["x", "W"], ["y"], transB=1),
        ],
        {"W": W2},
        "node 2 (Gemm): does not take the previous layer's output (z) as input; only a chain",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_GRAPHS))
def test_an_unsupported_graph_is_one_line(case: str, tmp_path: Path) -> None:
    nodes, inits, message = BAD_GRAPHS[case]
    n_in = len(next(iter(inits.values()))[0])
    path = tmp_path / "bad.onnx"
    onnx.save(graph(nodes, inits, n_in, nodes[-1].output[0]), str(path))
    result = run("import", str(path))
    assert_input_error(result)
    assert result.stderr.startswith(f"error: {path}: {message}"), result.stderr


def test_a_file_that_is_not_onnx(tmp_path: Path) -> None:
    data = csv(tmp_path)
    result = run("import", str(data))
    assert_input_error(result)
    assert result.stderr.startswith(f"error: {data}: not an ONNX model (")
    assert_input_error(run("import", str(tmp_path / "nope.onnx")))


def test_columns_are_picked_by_name_and_checked(tmp_path: Path) -> None:
    path = tmp_path / "m.onnx"
    onnx.save(two_layers("Tanh", {}), str(path))
    data = csv(tmp_path)
    spec, _ = import_onnx(
        str(path), str(tmp_path / "n.yaml"), samples=str(data), targets=["y2", "y1"]
    )
    assert spec.samples_from is not None
    assert (spec.samples_from.inputs, spec.samples_from.targets) == (("x1", "x2"), ("y2", "y1"))
    result = run("import", str(path), "--samples", str(data), "--targets", "y2,y1")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == f"note: {data}: inputs x1, x2 (the columns --targets leaves)\n"
    named = ["--inputs", "x2,x1", "--targets", "y1,y2"]
    result = run("import", str(path), "--samples", str(data), *named)
    assert result.exit_code == 0 and result.stderr == ""  # both named: nothing to say
    assert "  inputs: [x2, x1]\n  targets: [y1, y2]\n" in result.stdout
    result = run("import", str(path), "--samples", str(data), "--inputs", "x1")
    assert_input_error(result)
    assert "the network has 2 inputs but the columns give 1 (x1)" in result.stderr
    result = run("import", str(path), "--samples", str(data), "--targets", "y3")
    assert "no column 'y3'; its columns are x1, x2, y1, y2" in result.stderr


def test_columns_taken_by_position_are_named_on_stderr(tmp_path: Path) -> None:
    """A file with an extra column the network does not take: its last columns are the
    targets, the others the inputs, and a note names them (as `init --samples` does)."""
    path = tmp_path / "m.onnx"
    onnx.save(two_layers("Tanh", {}), str(path))  # 2 inputs, 2 outputs
    data = tmp_path / "d.csv"
    data.write_text("id,x1,x2,y1\n1,0.1,0.2,0.3\n")
    result = run("import", str(path), "--samples", str(data))
    assert result.exit_code == 0, result.stderr
    assert result.stderr == (
        f"note: {data}: inputs id, x1; targets x2, y1 (the last 2 columns; see --targets)\n"
    )
    assert "  inputs: [id, x1]\n  targets: [x2, y1]\n" in result.stdout
    result = run("import", str(path), "--samples", str(data), "--inputs", "x1,x2")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == f"note: {data}: targets id, y1 (the columns --inputs leaves)\n"


def test_without_onnx_one_line_says_how_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "onnx", None)  # `import onnx` now raises ImportError
    (tmp_path / "m.onnx").write_bytes(b"\x08\x07")  # a file: a missing one is said first
    result = run("import", str(tmp_path / "m.onnx"))
    assert_input_error(result)
    assert result.stderr == (
        "error: backprop import needs the onnx package: pip install 'backprop-cli[onnx]'\n"
    )


@pytest.mark.parametrize(
    ("weights", "name"),
    [
        ("fc1.weight", "fc1"),
        ("encoder.layer1.weight", "encoder_layer1"),
        ("dense/kernel", "dense"),
        ("0.weight", None),  # nn.Sequential's numbers: not a name here (h, o instead)
        ("onnx::MatMul_12", None),  # the exporter's name for a constant
        ("W", None),
        ("o.weight", None),  # i and o name the inputs and the output layer's neurons
    ],
)
def test_layer_names_come_from_the_weights_names(weights: str, name: str | None) -> None:
    from backprop_cli.interop.network import layer_name

    assert layer_name(weights) == name
