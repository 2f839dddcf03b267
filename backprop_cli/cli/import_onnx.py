"""`backprop import MODEL.onnx`: a config from an ONNX file's weights, layers and activations."""

from pathlib import Path
from typing import Annotated

import typer

from backprop_cli.cli.common import app, check_output, emit, fail, named_file, write_output
from backprop_cli.cli.options import (
    OUTPUT,
    ConfigFileOpt,
    DataFileOpt,
    ForceOpt,
    InputsOpt,
    LearningRateOpt,
    LossOpt,
    QuietOpt,
    TargetsOpt,
    columns,
    note_columns,
)


@app.command("import")
def import_command(
    model: Annotated[
        Path, typer.Argument(metavar="MODEL", help="An ONNX file (.onnx).", show_default=False)
    ],
    output: ConfigFileOpt = None,
    samples: DataFileOpt = None,
    inputs: InputsOpt = None,
    targets: TargetsOpt = None,
    loss: LossOpt = "half_sse",
    learning_rate: LearningRateOpt = 0.5,
    force: ForceOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Turn an ONNX feed-forward network into a config: weights, layer names, activations.

    Reads Gemm (or MatMul + Add) layers and the activations Sigmoid, Tanh, Relu, LeakyRelu,
    Softplus, Elu, Softmax and Identity. Needs the onnx package:
    pip install 'backprop-cli\\[onnx]'.

    [bold]Examples[/]

      backprop import docs/interop/model.onnx -o net.yaml  [dim]# a placeholder sample[/]
      backprop step net.yaml --only 'w1+'                   [dim]# one weight's update[/]
      backprop import docs/interop/model.onnx --samples docs/interop/data.csv
      backprop import docs/interop/model.onnx --loss mse | backprop step -
    """
    from backprop_cli.interop.network import MissingExtra
    from backprop_cli.interop.onnxfile import import_onnx
    from backprop_cli.specs.source import SourceError

    named_file(model, "-", "import reads the model from a file")
    named_file(samples, "--samples -", "the config names its data file, so it is read from a file")
    if output is not None:
        check_output(output, force, OUTPUT)
    try:
        spec, text = import_onnx(
            str(model),
            str(output) if output is not None else "imported.yaml",  # stdout: paths from here
            samples=None if samples is None else str(samples),
            inputs=columns(inputs),
            targets=columns(targets),
            loss=loss,
            learning_rate=learning_rate,
        )
    except (SourceError, MissingExtra) as exc:
        fail(str(exc))
    if samples is not None and spec.samples_from is not None:
        picked = (spec.samples_from.inputs, spec.samples_from.targets)
        note_columns(str(samples), picked, columns(inputs), columns(targets))
    if output is None:
        emit(text)
        return
    write_output(output, text, f"; next: backprop step {output}", force, OUTPUT)
