"""Writing files safely: readers never see half a file, and a failed write leaves nothing behind."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

import yaml

from .spec import Spec


def write_atomic(path: Path, text: str) -> None:
    """Write text to path through a temporary file in the same folder and os.replace."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        # mkstemp makes the file private (0600); give it the mode any new file would get
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def dump_spec(spec: Spec, header: str = "") -> str:
    """The spec as YAML in the config format, every float at full precision (repr round-trips)."""
    body = yaml.safe_dump(
        spec.to_dict(), sort_keys=False, default_flow_style=None, allow_unicode=True, width=100
    )
    return "".join(f"# {line}\n" for line in header.splitlines()) + body
