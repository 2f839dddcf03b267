"""The parts of the JSON Schemas that come from the catalogue: names of activations, losses and
optimizers, each optimizer's hyper-parameters with their bounds, which activations take α.

`python -m backprop_cli.schemas.build` rewrites the shipped schemas and their copies in
docs/schemas/; a test checks that the committed files are what this writes.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

from ..ops import ACTIVATIONS, LOSSES, OPTIMIZERS, Hyper
from ..spec import MAX_MAGNITUDE

HERE = Path(__file__).resolve().parent
DOCS = HERE.parents[1] / "docs" / "schemas"
KINDS = ("config", "trace", "train")


def _number(h: Hyper) -> dict[str, Any]:
    # Whole bounds written as integers, as a person writes them.
    out: dict[str, Any] = {"type": "number"}
    out.update({k: int(v) if v == int(v) else v for k, v in h.bounds.items()})
    if not math.isfinite(h.maximum):
        out["maximum"] = MAX_MAGNITUDE
    return out


def _optimizer() -> list[dict[str, Any]]:
    default = OPTIMIZERS.names()[0]
    shapes: list[dict[str, Any]] = [{"enum": list(OPTIMIZERS)}]
    for rule in OPTIMIZERS.values():
        properties: dict[str, Any] = {"name": {"const": rule.name}}
        properties.update({h.key: _number(h) for h in rule.hyper})
        properties["state"] = {"$ref": "#/$defs/optimizer_state"}
        shape: dict[str, Any] = {
            "type": "object",
            "properties": properties,
            "additionalProperties": False,
        }
        if rule.name != default:  # the name may be left out only for the default
            shape["required"] = ["name"]
        shapes.append(shape)
    return shapes


def patch(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema with its catalogue-derived parts written afresh (other keys untouched)."""
    defs = schema.get("$defs", {})
    config = defs.get("config", schema)
    if "loss" in config.get("properties", {}):
        config["properties"]["loss"]["enum"] = list(LOSSES)
    layer = defs.get("layer")
    if layer is not None:
        props = layer["properties"]
        props["activation"]["enum"] = list(ACTIVATIONS)
        last_only = [a.name for a in ACTIVATIONS.values() if not a.hidden]
        props["activation"]["description"] = f"{', '.join(last_only)}: last layer only."
        takes = [a for a in ACTIVATIONS.values() if a.alpha is not None]
        alphas = {a.name: a.alpha for a in takes if a.alpha is not None}
        first = next(iter(alphas.values()))
        alpha: dict[str, Any] = {"type": "number", **_number(first)}
        if len({h.default for h in alphas.values()}) == 1:
            alpha["default"] = first.default
        alpha["description"] = (
            "; ".join(f"{name}: {h.meaning} (default {h.default:g})" for name, h in alphas.items())
            + ". Only for "
            + " and ".join(alphas)
            + "."
        )
        props["alpha"] = alpha
        names = list(alphas)
        which = {"const": names[0]} if len(names) == 1 else {"enum": names}
        layer["dependentSchemas"]["alpha"]["properties"]["activation"] = which
    if "optimizer" in defs:
        defs["optimizer"]["anyOf"] = _optimizer()
    return schema


def text(kind: str) -> str:
    """The schema of `kind` as it should be committed."""
    schema = json.loads((HERE / f"{kind}.json").read_text("utf-8"))
    return json.dumps(patch(schema), indent=2, ensure_ascii=False) + "\n"


def main() -> None:
    for kind in KINDS:
        new = text(kind)
        for folder in (HERE, DOCS):
            (folder / f"{kind}.json").write_text(new, "utf-8")
    sys.stdout.write("schemas written: " + ", ".join(KINDS) + "\n")


if __name__ == "__main__":
    main()
