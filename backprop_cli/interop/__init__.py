"""Networks from elsewhere: PyTorch models in Python (`from_torch`, `capture_torch_step`) and
ONNX files (`read_onnx`, behind `backprop import`). torch and onnx are optional extras, imported
only when used: `pip install 'backprop-cli[torch]'` or `'backprop-cli[onnx]'`."""

from __future__ import annotations

from backprop_cli.interop.network import MissingExtra
from backprop_cli.interop.pytorch import (
    TorchError,
    capture_torch_step,
    from_torch,
    to_json,
    write_json,
)

__all__ = [
    "MissingExtra",
    "TorchError",
    "capture_torch_step",
    "from_torch",
    "to_json",
    "write_json",
]
