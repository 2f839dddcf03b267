"""`backprop schema`: the JSON Schema of a format this tool reads or writes."""

from typing import Annotated

import typer

from backprop_cli.cli.common import app, emit
from backprop_cli.cli.options import Kind, QuietOpt


@app.command()
def schema(
    kind: Annotated[
        Kind,
        typer.Argument(
            help="config: the YAML spec; trace: `step --format json`; "
            "train: each line of `train --format jsonl`.",
            show_default=False,
        ),
    ],
    quiet: QuietOpt = False,
) -> None:
    """Print a JSON Schema (draft 2020-12) of the config, the step trace or the train records.

    [bold]Examples[/]

      backprop schema config > config.schema.json   [dim]# for an editor's YAML support[/]
      backprop schema trace | jq '.["$defs"].step.properties | keys'
    """
    from importlib import resources

    emit(
        resources.files("backprop_cli.specs.schemas")
        .joinpath(f"{kind.value}.json")
        .read_text("utf-8")
    )
