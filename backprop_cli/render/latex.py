"""A worked example as a standalone LaTeX document (article, amsmath) that pdflatex compiles."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from backprop_cli.engine.trace import Step, Trace
from backprop_cli.render.document import (
    LINE,
    SEPARATOR,
    SEPARATOR_WIDTH,
    Block,
    Display,
    Eq,
    Grid,
    Heading,
    Prose,
    build,
    fits,
    one_line,
    pack,
)
from backprop_cli.render.mathtex import tex_number

if TYPE_CHECKING:
    from backprop_cli.tutor.rounding import Drift

_ESCAPES = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    # the default font (OT1) has ¡, ¿ and — in these places
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "|": r"\textbar{}",
    "η": r"$\eta$",
    "α": r"$\alpha$",
    "δ": r"$\delta$",
    "Σ": r"$\Sigma$",
    "·": r"$\cdot$",
    "→": r"$\to$",
    "≈": r"$\approx$",
    "≤": r"$\le$",
    "≥": r"$\ge$",
    "−": "-",
    "–": "--",
    "—": "---",
    "½": r"$\frac12$",
    "²": r"$^2$",
    "‘": "`",
    "’": "'",
    "“": "``",
    "”": "''",
    "⚠": "",
}
# Accents pdflatex writes without extra packages, for names such as "Réseau".
_ACCENTS = {
    "\u0301": "'",
    "\u0300": "`",
    "\u0302": "^",
    "\u0308": '"',
    "\u0303": "~",
    "\u0327": "c",
}

PREAMBLE = r"""\documentclass[11pt]{article}
\usepackage[a4paper,margin=2.5cm]{geometry}
\usepackage{amsmath}
\allowdisplaybreaks
\setlength{\parindent}{0pt}
\setlength{\parskip}{0.6em}
\begin{document}
"""


def escape(text: str) -> str:
    """Plain text as LaTeX that pdflatex accepts without extra packages (ASCII out)."""
    out: list[str] = []
    for ch in text:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ord(ch) < 128:
            out.append(ch)
        else:
            decomposed = unicodedata.normalize("NFD", ch)
            base, marks = decomposed[0], decomposed[1:]
            if ord(base) < 128 and marks and all(m in _ACCENTS for m in marks):
                for m in marks:
                    base = rf"\{_ACCENTS[m]}{{{base}}}"
                out.append(base)
            else:
                out.append("?")
    return "".join(out)


def _equation(block: Eq) -> str:
    e = block.eq
    if fits(e):
        return f"\\[\n{one_line(e)}\n\\]"
    # Too long for a line: the formula, then the numbers, each broken before a + where needed.
    last = f"= {e.value}"
    parts = [e.formula, [*e.numbers, last]] if e.numbers else [[*e.formula, last]]
    rows: list[str] = []
    for k, pieces in enumerate(parts):
        for n, line in enumerate(pack(pieces, LINE - 8)):
            text = " ".join(line)
            if n > 0:
                rows.append(("&" if text.startswith("= ") else r"&\quad ") + text)
            elif k == 0:
                rows.append(f"{e.lhs} &= {text}")
            else:
                rows.append(f"&= {text}")
    body = " \\\\\n".join(rows)
    return f"\\begin{{align*}}\n{body}\n\\end{{align*}}"


def _part(kind: str, text: str) -> str:
    """A piece of prose: text, inline math or code (an id, in typewriter type)."""
    if kind == "math":
        return f"${text}$"
    return rf"\texttt{{{escape(text)}}}" if kind == "code" else escape(text)


def _grid(grid: Grid) -> str:
    """A tabular: the symbols left, the numbers right-aligned, all in math."""
    n = len(grid.header)
    rows = [" & ".join(escape(h) for h in grid.header) + r" \\ \hline"]
    for first, *rest in grid.rows:
        cells = [first, *map(tex_number, rest)]  # in math: a true minus, 1.5 \times 10^{-5}
        rows.append(" & ".join(f"${c}$" for c in cells) + r" \\")
    body = "\n".join(rows)
    return f"\\begin{{tabular}}{{l{'r' * (n - 1)}}}\n{body}\n\\end{{tabular}}"


def render_latex(
    trace: Trace,
    steps: Iterable[Step] | None = None,
    *,
    precision: int = 9,
    summary: bool = True,
    decimals: int | None = None,
    drifts: Sequence[Drift] = (),
) -> str:
    """The trace (or the given steps) as a LaTeX document."""
    return write_latex(
        build(trace, steps, precision=precision, summary=summary, decimals=decimals, drifts=drifts)
    )


def write_latex(blocks: Iterable[Block]) -> str:
    """Document blocks (render/document.py) as a LaTeX document."""
    out: list[str] = [PREAMBLE.rstrip("\n")]
    for block in blocks:
        if isinstance(block, Heading):
            title = escape(" ".join(block.text.split()))  # one line: a blank line ends a group
            if block.level == 1:
                out.append(f"{{\\LARGE\\bfseries {title}\\par}}")
            else:
                out.append(f"\\{'sub' * (block.level - 2)}section*{{{title}}}")
        elif isinstance(block, Prose):
            out.append("".join(_part(k, t) for k, t in block.parts))
        elif isinstance(block, Display):
            for line in pack(block.items, LINE, SEPARATOR_WIDTH):
                out.append("\\[\n" + SEPARATOR.join(line) + "\n\\]")
        elif isinstance(block, Eq):
            out.append(_equation(block))
            if block.note:
                out.append(r"\emph{Note: " + escape(block.note) + "}")
        elif isinstance(block, Grid):
            out.append(_grid(block))
    out.append("\\end{document}")
    return "\n\n".join(out) + "\n"
