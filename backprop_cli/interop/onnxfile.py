"""A feed-forward network from an ONNX file: Gemm (or MatMul + Add) layers, each followed by at
most one activation the catalogue knows by its ONNX operator type (`Activation.onnx`), its
hyper-parameter read from the attribute `Hyper.onnx` names.

The first node that does not fit is the error, one line naming it and its operator type:
`model.onnx: node 3 '/2/Conv' (Conv): not supported; ...`.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

from backprop_cli.interop.network import Layer, config, layer_name, need, output_for, validated
from backprop_cli.ops import ACTIVATIONS, LOSSES, Activation
from backprop_cli.ops.activations import LINEAR
from backprop_cli.specs.model import MAX_PARAMETERS, Spec
from backprop_cli.specs.source import SourceError, stat_input

LINEAR_OPS = ("Gemm", "MatMul")  # a layer's weights; MatMul takes its bias from an Add after it


def supported() -> str:
    """The operators read, in words."""
    acts = ", ".join(a.onnx for a in ACTIVATIONS.values() if a.onnx)
    return f"Gemm, MatMul + Add, and the activations {acts}"


# An ONNX file is read whole only up to this size: the largest network backprop takes (250,000
# weights) is 2 MB in float64, and what protobuf makes of 64 MB stays under 0.2 GB.
MAX_MODEL_BYTES = 64 * 2**20


def read_onnx(path: str) -> tuple[int, list[Layer]]:
    """(number of inputs, layers) of the network in an ONNX file."""
    # The file first: a missing one is the thing to fix, whether or not onnx is installed.
    raw = _model_bytes(path)
    onnx = need("onnx", "onnx", "backprop import")
    from onnx import numpy_helper

    try:
        model = onnx.load_model_from_string(raw)  # no external data: nothing else is read
    except Exception as exc:  # protobuf's DecodeError and friends: not an ONNX file
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise SourceError(path, 0, 0, "", f"not an ONNX model ({first})") from None
    layers = _Graph(path, model.graph, numpy_helper, onnx.helper).layers()
    return len(layers[0].weights[0]), layers


def _model_bytes(path: str) -> bytes:
    """The bytes of a model file: a regular file within MAX_MODEL_BYTES (checked before a byte is
    read, so /dev/zero or a 600 MB file is refused at once)."""

    from backprop_cli.specs.fileio import file_kind
    from backprop_cli.specs.source import os_reason, read_bounded

    st = stat_input(path)
    if not stat.S_ISREG(st.st_mode):
        raise SourceError(path, 0, 0, "", f"is {file_kind(st.st_mode)}, not an ONNX model file")
    too_large = SourceError(
        path,
        0,
        0,
        "",
        f"larger than {MAX_MODEL_BYTES // 2**20} MB, the most an ONNX model may be here (the "
        f"largest network backprop takes, {MAX_PARAMETERS:,} weights, is 2 MB in float64)",
    )
    if st.st_size > MAX_MODEL_BYTES:
        raise too_large
    try:
        with open(path, "rb") as f:
            raw = read_bounded(f, MAX_MODEL_BYTES)
    except OSError as exc:
        raise SourceError(path, 0, 0, "", f"cannot read: {os_reason(exc)}") from None
    if len(raw) > MAX_MODEL_BYTES:  # it grew while read
        raise too_large
    return raw


# Tensor types that hold real numbers (their names as TensorProto spells them).
_REAL = (
    "FLOAT", "DOUBLE", "FLOAT16", "BFLOAT16", "INT8", "INT16", "INT32", "INT64",
    "UINT8", "UINT16", "UINT32", "UINT64",
)  # fmt: skip


class _Graph:
    def __init__(self, path: str, graph: Any, numpy_helper: Any, helper: Any) -> None:
        self.path, self.graph, self.helper = path, graph, helper
        self.numpy_helper = numpy_helper
        # TensorProtos by name, read into arrays only when a layer uses them, after their checks
        self.tensors: dict[str, Any] = {t.name: t for t in graph.initializer}
        self.weights = 0  # weights read so far: the network's limit holds before reading more
        for i, node in enumerate(graph.node):  # weights given as Constant nodes
            if node.op_type == "Constant":
                self.tensors[self.output(i, node)] = self.constant_value(i, node)

    def output(self, i: int, node: Any) -> str:
        if not node.output or not node.output[0]:
            raise self.fail(i, node, "has no output")
        return str(node.output[0])

    def constant_value(self, i: int, node: Any) -> Any:
        """A Constant node's value as a TensorProto."""
        from onnx import TensorProto

        helper = self.helper
        for a in node.attribute:
            if a.name == "value" and a.type == a.TENSOR:
                return a.t
            if a.name in ("value_float", "value_floats", "value_int", "value_ints"):
                value = helper.get_attribute_value(a)
                dtype = TensorProto.FLOAT if "float" in a.name else TensorProto.INT64
                values = list(value) if isinstance(value, list) else [value]
                dims = [len(values)] if isinstance(value, list) else []
                return helper.make_tensor(node.output[0], dtype, dims, values)
            if a.name in ("value_string", "value_strings"):
                raise self.fail(i, node, "holds text, not numbers")
            if a.name == "sparse_value":
                raise self.fail(i, node, "a sparse tensor is not supported; store it dense")
        raise self.fail(i, node, "a Constant without a value")

    def fail(self, i: int, node: Any, message: str) -> SourceError:
        label = f"node {i + 1} {node.name!r} ({node.op_type})" if node.name else None
        label = label or f"node {i + 1} ({node.op_type})"
        return SourceError(self.path, 0, 0, label, message)

    def attributes(self, node: Any) -> dict[str, Any]:
        return {a.name: self.helper.get_attribute_value(a) for a in node.attribute}

    def constant(self, name: str) -> Any:
        """The TensorProto of a constant (an initializer or a Constant node), or None."""
        return self.tensors.get(name)

    def array(self, i: int, node: Any, tensor: Any, what: str, most: int) -> Any:
        """A tensor as a NumPy array, once its type, its declared shape (at most `most` values,
        each dimension at least 1) and the values it stores agree: nothing is allocated for a
        shape the file does not hold."""
        from onnx import TensorProto

        from backprop_cli.specs.model import MAX_SIZE

        name = f"{what} {tensor.name!r}" if tensor.name else f"the {what}"
        try:
            kind = TensorProto.DataType.Name(tensor.data_type) if tensor.data_type else "UNDEFINED"
        except ValueError:  # a number ONNX gives no type
            raise self.fail(
                i, node, f"{name} are of type {tensor.data_type}, which ONNX does not define"
            ) from None
        if kind.startswith("COMPLEX"):
            raise self.fail(
                i, node, f"{name} are complex numbers ({kind}); only real numbers can be imported"
            )
        if kind == "STRING":
            raise self.fail(i, node, f"{name} are text (a STRING tensor), not numbers")
        if kind not in _REAL:
            raise self.fail(i, node, f"{name} are of type {kind}; expected real numbers")
        if tensor.data_location == TensorProto.EXTERNAL:
            raise self.fail(
                i, node, f"{name} are kept in an external file; save the model with them inside"
            )
        dims = list(tensor.dims)
        shape = "×".join(map(str, dims)) or "a scalar"
        if any(d < 1 for d in dims) or any(d > MAX_SIZE for d in dims):
            raise self.fail(
                i, node, f"{name} have shape {shape}; each dimension must be 1 to {MAX_SIZE}"
            )
        count = 1
        for d in dims:
            count *= d
        if count > most:
            raise self.fail(
                i, node, f"{name} ({shape}) bring the network past {MAX_PARAMETERS:,} weights"
            )
        size = int(self.helper.tensor_dtype_to_np_dtype(tensor.data_type).itemsize)
        if tensor.HasField("raw_data") and len(tensor.raw_data) % size:
            raise self.fail(
                i,
                node,
                f"{name} hold {len(tensor.raw_data)} bytes, not a whole number of {kind} values "
                f"({size} bytes each)",
            )
        stored = _stored(tensor, self.helper)
        if stored != count:
            raise self.fail(i, node, f"{name} declare shape {shape} but hold {stored} values")
        values = self.numpy_helper.to_array(tensor).astype("float64")  # float16: exactly
        self.check_values(i, node, name, values)
        return values

    def check_values(self, i: int, node: Any, name: str, values: Any) -> None:
        """Each value finite and within MAX_MAGNITUDE, the first that is not named by its index
        in the tensor as the model stores it (the config is not written yet)."""
        import numpy as np

        from backprop_cli.specs.model import MAX_MAGNITUDE

        bad = ~(np.abs(values) <= MAX_MAGNITUDE)  # NaN too
        if not bad.any():
            return
        at = tuple(int(k) for k in np.argwhere(bad)[0])
        x = float(values[at])
        where = " at " + "".join(f"[{k}]" for k in at) if at else ""  # a scalar has no index
        if np.isfinite(x):
            why = f"{x:g}{where}; |x| must be at most {MAX_MAGNITUDE:g}"
        else:
            shown = "NaN" if np.isnan(x) else "infinity" if x > 0 else "-infinity"
            why = f"{shown}{where}; every value must be a finite number"
        raise self.fail(i, node, f"{name} hold {why}")

    def layers(self) -> list[Layer]:
        inputs = [v for v in self.graph.input if v.name not in self.tensors]
        if len(inputs) != 1:
            names = ", ".join(v.name for v in inputs) or "none"
            raise SourceError(self.path, 0, 0, "", f"expected one input, got {names}")
        current = inputs[0].name
        layers: list[Layer] = []
        activated = False  # the last layer has its activation already
        pending: Layer | None = None  # a MatMul waiting for the Add of its bias
        for i, node in enumerate(self.graph.node):
            if node.op_type == "Constant":
                continue  # read above
            out = self.output(i, node)
            if current not in node.input:
                raise self.fail(
                    i,
                    node,
                    f"does not take the previous layer's output ({current}) as input; "
                    f"only a chain of layers is supported: {supported()}",
                )
            others = [x for x in node.input if x != current]
            if node.op_type in LINEAR_OPS:
                layer = self.linear(i, node, current)
                layers.append(layer)
                activated = False
                pending = layer if node.op_type == "MatMul" else None
            elif node.op_type == "Add" and pending is not None and len(others) == 1:
                bias = self.constant(others[0])
                if bias is None:
                    raise self.fail(i, node, "the bias must be a constant (an initializer)")
                self.set_bias(i, node, pending, bias)
                pending = None
            else:
                act = next((a for a in ACTIVATIONS.values() if a.onnx == node.op_type), None)
                if act is None or not layers or (activated and act is not LINEAR):
                    why = (
                        "a second activation after one layer"
                        if act is not None and layers
                        else "an activation before any layer"
                        if act is not None
                        else "not supported"
                    )
                    raise self.fail(i, node, f"{why}; backprop imports {supported()}")
                pending = None
                if not activated:
                    self.activate(i, node, layers[-1], act)
                    activated = True
            current = out
        if not layers:
            raise SourceError(
                self.path, 0, 0, "", f"no layers found; backprop imports {supported()}"
            )
        outputs = [v.name for v in self.graph.output]
        if outputs != [current]:
            raise SourceError(
                self.path,
                0,
                0,
                "",
                f"the graph's output ({', '.join(outputs)}) is not the last layer's ({current})",
            )
        n_in = len(layers[0].weights[0])
        self.check_declared(inputs[0], "input", f"the first layer takes {n_in} inputs", n_in)
        n_out = layers[-1].size
        self.check_declared(
            self.graph.output[0], "output", f"the last layer has {n_out} neurons", n_out
        )
        return layers

    def check_declared(self, value: Any, what: str, has: str, n: int) -> None:
        """The graph's input or output, where it declares its last dimension, as wide as the
        layers make it: a model whose weights disagree with its own interface is no model."""
        kind = value.type.WhichOneof("value") if value.HasField("type") else None
        shape = value.type.tensor_type.shape if kind == "tensor_type" else None
        dims = list(shape.dim) if shape is not None else []
        if dims and dims[-1].HasField("dim_value") and dims[-1].dim_value != n:
            raise SourceError(
                self.path,
                0,
                0,
                "",
                f"the graph's {what} {value.name!r} is declared {dims[-1].dim_value} wide, "
                f"but {has}",
            )

    def linear(self, i: int, node: Any, current: str) -> Layer:
        attrs = self.attributes(node)
        if node.input[0] != current or len(node.input) < 2:
            raise self.fail(i, node, f"expected {current} as its first input, then the weights")
        tensor = self.constant(node.input[1])
        if tensor is None or len(tensor.dims) != 2:
            raise self.fail(i, node, "the weights must be a constant matrix (an initializer)")
        w = self.array(i, node, tensor, "the weights", MAX_PARAMETERS - self.weights)
        self.weights += w.size
        if node.op_type == "Gemm":
            for key in ("alpha", "beta"):
                if _float32(attrs.get(key, 1.0)) != 1.0:
                    raise self.fail(
                        i, node, f"{key} = {_float32(attrs[key]):g}; only 1 is supported"
                    )
            if attrs.get("transA", 0):
                raise self.fail(i, node, "transA = 1 (the input transposed) is not supported")
            rows = w if attrs.get("transB", 0) else w.T
        else:
            rows = w.T  # x·W: W has one column per neuron
        layer = Layer([[float(x) for x in row] for row in rows], None, layer_name(node.input[1]))
        if node.op_type == "Gemm" and len(node.input) > 2 and node.input[2]:
            bias = self.constant(node.input[2])
            if bias is None:
                raise self.fail(i, node, "the bias must be a constant (an initializer)")
            self.set_bias(i, node, layer, bias)
        return layer

    def set_bias(self, i: int, node: Any, layer: Layer, tensor: Any) -> None:
        from backprop_cli.specs.model import MAX_SIZE

        bias = self.array(i, node, tensor, "the bias", MAX_SIZE)
        values = [float(x) for x in bias.reshape(-1)]
        if len(values) == 1 and layer.size > 1:
            layer.bias, layer.shared_bias = values, True
        elif len(values) == layer.size:
            layer.bias = values
        else:
            raise self.fail(
                i, node, f"a bias of {len(values)} values for a layer of {layer.size} neurons"
            )

    def activate(self, i: int, node: Any, layer: Layer, act: Activation) -> None:
        attrs = self.attributes(node)
        if not act.elementwise and attrs.get("axis", -1) not in (-1, 1):
            raise self.fail(i, node, f"axis = {attrs['axis']}; only the last axis is supported")
        layer.activation = act
        for h in act.hyper:
            if h.onnx:
                layer.alpha = _float32(attrs.get(h.onnx, h.default))


def _stored(tensor: Any, helper: Any) -> int:
    """How many values a TensorProto holds, counted without reading them."""
    if tensor.HasField("raw_data"):
        return len(tensor.raw_data) // int(
            helper.tensor_dtype_to_np_dtype(tensor.data_type).itemsize
        )
    return len(getattr(tensor, helper.tensor_dtype_to_field(tensor.data_type)))


def _float32(x: float) -> float:
    """An ONNX attribute is a float32: the shortest decimal that is that float32 (0.1, not
    0.10000000149011612), which is what the model's author wrote."""
    import numpy as np

    return float(str(np.float32(x)))


def import_onnx(
    model: str,
    config_file: str,
    *,
    samples: str | None = None,
    inputs: list[str] | None = None,
    targets: list[str] | None = None,
    loss: str = "half_sse",
    learning_rate: float = 0.5,
) -> tuple[Spec, str]:
    """The Spec of an ONNX model and its config's YAML text, written for `config_file` (a
    data file is named relative to its folder). Without a data file, one placeholder sample.

    With a loss that applies its output activation itself (cross-entropy on logits, as PyTorch's
    CrossEntropyLoss), a model ending in a linear layer gets that activation."""
    from backprop_cli.specs.fileio import dump_spec
    from backprop_cli.specs.samplesfile import format_of, pick_columns

    n_in, layers = read_onnx(model)
    if loss not in LOSSES:
        raise SourceError(model, 0, 0, "", f"unknown loss {loss!r}; one of {', '.join(LOSSES)}")
    applied = output_for(loss, layers)
    if applied is not None:
        layers[-1].activation = ACTIVATIONS[applied]
    n_out = layers[-1].size
    folder = os.path.dirname(os.path.abspath(config_file))
    data: dict[str, Any] | list[dict[str, Any]]
    if samples is not None:
        cols_in, cols_out = pick_columns(samples, inputs, targets, n_in, n_out)
        rel = os.path.relpath(os.path.abspath(samples), folder)
        data = {format_of(samples): rel, "inputs": list(cols_in), "targets": list(cols_out)}
    else:
        data = [
            {"inputs": [0.5] * n_in, "targets": placeholder_targets(layers[-1].activation, n_out)}
        ]
    name = os.path.splitext(os.path.basename(model))[0]
    training = {"learning_rate": learning_rate, "mode": "batch"}
    try:
        spec = validated(config(name, n_in, layers, loss, training, data), config_file)
    except SourceError as exc:
        if not exc.field.startswith("layers"):
            raise
        # a weight or bias read from the model (a NaN): the model is at fault, not the config
        raise SourceError(model, 0, 0, exc.field, exc.message) from None
    head = f"Imported from {os.path.basename(model)} by backprop import"
    if applied is not None:
        head += f"\nThe output layer gets {applied}: {loss} applies it to the model's logits."
    if samples is None:
        head += "\nThe sample is a placeholder: put yours in its place (or use --samples)."
    return spec, dump_spec(spec, head, Path(folder))


def placeholder_targets(act: Activation, n: int) -> list[float]:
    """Targets any loss accepts for this output activation: one-hot where the outputs are a
    distribution, else the middle of the activation's range."""
    if not act.elementwise:
        return [1.0] + [0.0] * (n - 1)
    lo, hi = act.targets(0.0)
    return [0.5 * (lo + hi)] * n
