"""ASCII spellings of the symbols the tool prints, for a stream that cannot encode them
(PYTHONIOENCODING=ascii, a C locale). The stream spells what reaches it (cli/streams.py); a
layout that aligns text (the matrix view, the step tables) spells its text first, so that its
columns are measured as they are printed (η is three cells as `eta`)."""

from __future__ import annotations

import unicodedata

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
    "⊙": "(.)",
    # a matrix's brackets, one cell each, as the layout measured them
    "⎡": "[",
    "⎢": "[",
    "⎣": "[",
    "⎤": "]",
    "⎥": "]",
    "⎦": "]",
}


def spell(text: str) -> str:
    """The text in ASCII: each symbol by its spelling, an accented letter without its accent
    (é → e), anything else as `?`."""
    if text.isascii():
        return text
    out = []
    for char in text:
        if char.isascii():
            out.append(char)
            continue
        spelled = SPELLINGS.get(char)
        if spelled is None:
            spelled = unicodedata.normalize("NFKD", char).encode("ascii", "ignore").decode() or "?"
        out.append(spelled)
    return "".join(out)
