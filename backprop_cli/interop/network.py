"""What the ONNX and PyTorch readers share: a network read from elsewhere, as plain layers, made
into a config and validated as any config is."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from backprop_cli.ops import LOSSES, Activation
from backprop_cli.ops.activations import LINEAR
from backprop_cli.specs.model import Spec
from backprop_cli.specs.source import Document
from backprop_cli.specs.validate import from_document

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


class MissingExtra(ImportError):
    """An optional package this needs is not installed; the message says how to install it."""


def need(module: str, extra: str, what: str) -> Any:
    """Import an optional package, or raise MissingExtra naming the extra that brings it."""
    from importlib import import_module

    try:
        return import_module(module)
    except ImportError:
        raise MissingExtra(
            f"{what} needs the {module} package: pip install 'backprop-cli[{extra}]'"
        ) from None


@dataclass(slots=True)
class Layer:
    """One fully connected layer: weights one row per neuron, one column per input."""

    weights: list[list[float]]
    bias: list[float] | None  # one per neuron; None: no bias
    name: str | None = None  # as the other tool names it, when that is a valid name here
    activation: Activation = LINEAR
    alpha: float | None = None  # the activation's hyper-parameter, when it has one
    shared_bias: bool = False  # one bias for the layer (an ONNX scalar bias)

    @property
    def size(self) -> int:
        return len(self.weights)


def layer_name(text: str) -> str | None:
    """A layer name from another tool's name for its weights (`fc1.weight` -> fc1), or None when
    it does not make one here: `0.weight` (names start with a letter), `onnx::MatMul_12` (an
    exporter's own name, not a weight's)."""
    match = re.fullmatch(r"(.+?)[._/:-](weight|kernel|W)", text)
    base = re.sub(r"[^A-Za-z0-9_]", "_", match.group(1).strip("._/:-")) if match else ""
    return base if _NAME.fullmatch(base) and base not in ("i", "o") else None


def output_for(loss: str, layers: list[Layer]) -> str | None:
    """With a loss that applies an output activation itself (cross-entropy on logits, as
    PyTorch's CrossEntropyLoss does), the activation the last, linear layer takes; else None."""
    last = layers[-1].activation
    rule = LOSSES[loss]
    if rule.outputs is None or last.name in rule.outputs or last is not LINEAR:
        return None
    return next((a for a, f in rule.fused.items() if f.torch is not None and f.torch.on_nets), None)


def config(
    name: str,
    n_inputs: int,
    layers: Sequence[Layer],
    loss: str | Mapping[str, Any],
    training: Mapping[str, Any],
    samples: list[dict[str, Any]] | dict[str, Any],
    inputs: Sequence[str] | None = None,
) -> dict[str, Any]:
    """The config, as YAML would give it, of these layers."""
    used = {n for n in (inputs or ())}
    out: list[dict[str, Any]] = []
    for layer in layers:
        d: dict[str, Any] = {}
        if layer.name is not None and layer.name not in used:
            d["name"] = layer.name
            used.add(layer.name)
        d["activation"] = layer.activation.name
        if layer.alpha is not None and layer.activation.alpha is not None:
            d["alpha"] = layer.alpha
        d["weights"] = layer.weights
        if layer.bias is not None:
            d["bias"] = layer.bias[0] if layer.shared_bias else list(layer.bias)
        out.append(d)
    # A name another tool gave may clash with the neuron names made from the defaults: then the
    # defaults everywhere (h1, h2, o), which never clash.
    names = [d.get("name") for d in out]
    if any(n is None for n in names) and any(n is not None for n in names):
        for d in out:
            d.pop("name", None)
    return {
        "name": name,
        "inputs": list(inputs) if inputs else n_inputs,
        "layers": out,
        "loss": loss,
        "training": dict(training),
        "samples": samples,
    }


def validated(data: dict[str, Any], file: str) -> Spec:
    """The config through the validator, as if read from `file` (errors name it, no position)."""
    return from_document(Document(file, data))
