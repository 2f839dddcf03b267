"""stdout and stderr as the process got them: closed, full, or unable to encode our symbols."""

from __future__ import annotations

import codecs
import sys

from backprop_cli.render.ascii import spell

ERRORS = "backprop-ascii"


def _spell(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    return spell(exc.object[exc.start : exc.end]), exc.end


codecs.register_error(ERRORS, _spell)


def spell_what_cannot_be_encoded() -> None:
    """Let stdout and stderr write what their encoding lacks in ASCII spellings."""
    for stream in (sys.stdout, sys.stderr):
        encoding = getattr(stream, "encoding", None) or "utf-8"
        try:
            "·→✓".encode(encoding)
        except (UnicodeEncodeError, LookupError):
            reconfigure = getattr(stream, "reconfigure", None)
            if reconfigure is not None:
                reconfigure(errors=ERRORS)
