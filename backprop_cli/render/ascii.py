"""ASCII spellings of the symbols the tool prints, for a stream that cannot encode them
(PYTHONIOENCODING=ascii, a C locale). The stream spells what reaches it (cli/streams.py); a
layout that aligns text (the matrix view, the step tables) spells its text first, so that its
columns are measured as they are printed (η is three cells as `eta`)."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions, RenderableType, RenderResult

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


def same(text: str) -> str:
    return text


class SpelledFirst:
    """A layout built from its texts with `spell` applied first where the console cannot
    encode the symbols (so that rich measures `+/-`, not `±`), else as it is."""

    def __init__(self, build: Callable[[Callable[[str], str]], RenderableType]) -> None:
        self.build = build

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield self.build(spell if options.ascii_only else same)
