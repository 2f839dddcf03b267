"""What is written from the catalogue: the parts of the JSON Schemas that name activations,
losses and optimizers (each optimizer's hyper-parameters with their bounds, which activations take
α), and docs/operations.md, the reference table of every entry.

`python -m backprop_cli.specs.schemas.build` rewrites the shipped schemas, their copies in
docs/schemas/ and docs/operations.md; a test checks that the committed files are what this writes.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

from backprop_cli.ops import ACTIVATIONS, LOSSES, OPTIMIZERS, Hyper
from backprop_cli.specs.model import MAX_MAGNITUDE

HERE = Path(__file__).resolve().parent
DOCS = HERE.parents[2] / "docs" / "schemas"
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


def _loss(old: dict[str, Any]) -> dict[str, Any]:
    """A name; or, for a loss with hyper-parameters, a mapping with its name and them."""
    names = {"enum": list(LOSSES), "default": old.get("default", LOSSES.names()[0])}
    shapes: list[dict[str, Any]] = [
        {
            "type": "object",
            "properties": {"name": {"const": x.name}, **{h.key: _number(h) for h in x.hyper}},
            "required": ["name"],
            "additionalProperties": False,
        }
        for x in LOSSES.values()
        if x.hyper
    ]
    return {"anyOf": [names, *shapes]} if shapes else names


def patch(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema with its catalogue-derived parts written afresh (other keys untouched)."""
    defs = schema.get("$defs", {})
    config = defs.get("config", schema)
    if "loss" in config.get("properties", {}):
        config["properties"]["loss"] = _loss(config["properties"]["loss"])
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


def _hyper(hs: tuple[Hyper, ...]) -> str:
    return ", ".join(f"`{h.key}` {h.symbol} ({h.default:g}): {h.meaning}" for h in hs) or "–"


def _code(text: str) -> str:
    return "`" + text.replace("{", "").replace("}", "").replace("|", "\\|") + "`"


def operations() -> str:
    """docs/operations.md: every activation, loss and optimizer the catalogue holds."""
    out = [
        "# Operations",
        "",
        "Every activation, loss and optimizer `backprop` knows, as its catalogue",
        "(`backprop_cli/ops/`) defines it. Written by",
        "`python -m backprop_cli.specs.schemas.build`; do not edit by hand.",
        "",
        "## Activations",
        "",
        "| name | out | dout/dnet | hyper-parameters | PyTorch, ONNX |",
        "|---|---|---|---|---|",
    ]
    for a in ACTIVATIONS.values():
        where = "" if a.hidden else " (last layer only)"
        out.append(
            f"| `{a.name}`: {a.prose}{where} | {_code(a.formula)} | "
            f"{_code(a.derivative_formula)} | {_hyper(a.hyper)} | "
            f"`nn.{a.torch[0] if a.torch else '–'}`, `{a.onnx}` |"
        )
    out += [
        "",
        "## Losses",
        "",
        "`loss: NAME`, or `loss: {name: NAME, key: value}` for one with hyper-parameters.",
        "E_o is one output's term, n the number of outputs.",
        "",
        "| name | E_o | dE_total/dout_o | outputs | hyper-parameters | PyTorch |",
        "|---|---|---|---|---|---|",
    ]
    for x in LOSSES.values():
        outputs = ", ".join(x.outputs) if x.outputs else "any"
        pairs = [(x.torch, None), *((f.torch, a) for a, f in x.fused.items())]
        torch = ", ".join(
            f"`nn.{t.module}`" + (f" (on the nets, with {a})" if t.on_nets else "")
            for t, a in pairs
            if t is not None
        )
        out.append(
            f"| `{x.name}`: {x.prose} | {_code(x.formula)} | {_code(x.derivative_formula)} | "
            f"{outputs} | {_hyper(x.hyper)} | {torch or 'none'} |"
        )
    out += [
        "",
        "## Optimizers",
        "",
        "`training.optimizer: {name: NAME, key: value}` (or just the name). Each stage is a step",
        "of `backprop step`'s update tables; g is dE/dθ, η the learning rate, t the update count.",
        "",
        "| name | stages | hyper-parameters | PyTorch |",
        "|---|---|---|---|",
    ]
    for rule in OPTIMIZERS.values():
        stages = []
        for i, stage in enumerate(rule.stages):
            step_id, body, _ = rule.shown(stage, i == len(rule.stages) - 1)
            line = (step_id + " = " + body).replace("{p}", "θ").replace("{g}", "g")
            when = " (only where its hyper-parameter is not 0)" if stage.when is not None else ""
            stages.append(_code(line) + when)
        out.append(
            f"| `{rule.name}`: {rule.prose} | {'; '.join(stages)} | {_hyper(rule.hyper)} | "
            f"`torch.optim.{rule.torch[0]}` |"
        )
    return "\n".join(out) + "\n"


def main() -> None:
    for kind in KINDS:
        new = text(kind)
        for folder in (HERE, DOCS):
            (folder / f"{kind}.json").write_text(new, "utf-8")
    (DOCS.parent / "operations.md").write_text(operations(), "utf-8")
    sys.stdout.write("written: schemas " + ", ".join(KINDS) + " and docs/operations.md\n")


if __name__ == "__main__":
    main()
