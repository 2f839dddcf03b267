"""Writing results: a spec back to YAML, and files replaced atomically."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import yaml

from .spec import Spec


def dump_spec(spec: Spec, header: str = "") -> str:
    """The spec as YAML in the config format, every float at full precision (repr round-trips)."""
    body = yaml.safe_dump(
        spec.to_dict(), sort_keys=False, default_flow_style=None, allow_unicode=True, width=100
    )
    comment = "".join(f"# {line}\n" for line in header.splitlines())
    return comment + body


def write_atomic(path: Path, text: str) -> None:
    """Write text to path through a temporary file in the same folder and one rename, so a
    reader never sees half a file and a failure leaves the old file as it was."""
    folder = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
