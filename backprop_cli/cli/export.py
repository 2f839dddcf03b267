"""`backprop export`: the step, or the training, as a standalone NumPy or PyTorch script."""

from typing import Annotated

import typer

from backprop_cli.cli.common import ConfigArg, app, check_output, emit, fail, load, write_output
from backprop_cli.cli.options import (
    OUTPUT,
    ExportEpochsOpt,
    ForceOpt,
    QuietOpt,
    ScriptFileOpt,
    Target,
)


@app.command("export")
def export(
    config: ConfigArg = None,
    to: Annotated[
        Target,
        typer.Option(
            "--to",
            help="numpy: plain NumPy arrays; pytorch: float64 nn.Linear layers, the loss as a "
            "torch.nn module and a torch.optim optimizer.",
        ),
    ] = ...,  # type: ignore[assignment]
    output: ScriptFileOpt = None,
    epochs: ExportEpochsOpt = None,
    force: ForceOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Write a standalone, commented script that recomputes the step (or the training) in NumPy
    or PyTorch, printing each quantity with the id the trace gives it (net_h1, dE_total/dw5, w5+).

    [bold]Examples[/]

      backprop export --to numpy -o step.py      [dim]# then: python step.py[/]
      backprop export configs/deep-softmax.yaml --to pytorch  [dim]# on stdout[/]
      backprop export --to numpy -n 10000 | python -   [dim]# 10,000 epochs[/]
    """
    from backprop_cli.export import ExportError, script

    to_stdout = output is None or str(output) == "-"
    if not to_stdout and output is not None:
        check_output(output, force, OUTPUT)
    spec = load(config)
    source = "" if config is None or str(config) == "-" else str(config)  # no file: none named
    try:
        text = script(spec, str(to.value), epochs, source)
    except ExportError as exc:
        fail(f"--to {to.value}: {exc}")
    if to_stdout or output is None:
        emit(text)
        return
    write_output(output, text, f"; run it with: python {output}", force, OUTPUT)
