"""The step (or the training) as a PyTorch script."""

from __future__ import annotations

from ..spec import Spec


def torch_script(spec: Spec, epochs: int | None, source: str) -> str:
    raise NotImplementedError
