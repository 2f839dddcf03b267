"""stdout and stderr as the process got them: closed, full, or unable to encode our symbols."""

from __future__ import annotations

import codecs
import sys

# ASCII spellings of the symbols the tool prints, for a stream that cannot encode them
# (PYTHONIOENCODING=ascii, a C locale): readable, never a UnicodeEncodeError.
SPELLINGS = {
    "·": "*",
    "−": "-",
    "→": "->",
    "←": "<-",
    "✓": "ok",
    "✗": "x",
    "≈": "~",
    "≤": "<=",
    "≥": ">=",
    "≠": "!=",
    "±": "+/-",
    "∓": "-/+",
    "×": "x",
    "÷": "/",
    "√": "sqrt",
    "∂": "d",
    "Σ": "sum",
    "η": "eta",
    "β": "beta",
    "θ": "theta",
    "α": "alpha",
    "μ": "mu",
    "ε": "eps",
    "δ": "delta",
    "Δ": "Delta",
    "λ": "lambda",
    "\u0302": "^",  # the hat of adam's m̂ and v̂
    "ω": "omega",
    "½": "1/2",
    "²": "^2",
    "ᵀ": "^T",
    "⚠": "!",
    "—": "--",
    "–": "-",
    "•": "*",
    "…": "...",
    "“": '"',
    "”": '"',
    "‘": "'",
    "’": "'",
    "†": "+",
    "∝": "~",
}
ERRORS = "backprop-ascii"


def _spell(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    out = []
    for char in exc.object[exc.start : exc.end]:
        spelled = SPELLINGS.get(char)
        if spelled is None:  # é → e; anything else → ?
            import unicodedata

            base = unicodedata.normalize("NFKD", char).encode("ascii", "ignore").decode()
            spelled = base or "?"
        out.append(spelled)
    return "".join(out), exc.end


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
