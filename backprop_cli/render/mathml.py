"""The LaTeX that render/mathtex.py writes, as MathML Core (which browsers render natively).

mathtex.py decides how the post's formulas are typeset (fractions, sub- and superscripts,
brackets around negative numbers, one fraction for (x/y)/n); this module only spells its small
subset of LaTeX as MathML, so the web page shows exactly what the Markdown and LaTeX documents
show. A command outside the subset raises ValueError, so a new formula cannot go out garbled.
"""

from __future__ import annotations

import re
from xml.sax.saxutils import escape

# Greek letters and symbols the catalogue and mathtex.py write (ops/ hyper-parameters' latex).
_LETTERS = {
    "alpha": "α",
    "beta": "β",
    "gamma": "γ",
    "delta": "δ",
    "epsilon": "ε",
    "eta": "η",
    "lambda": "λ",
    "mu": "μ",
    "sigma": "σ",
    "Delta": "Δ",
    "Sigma": "Σ",
    "partial": "∂",
    "infty": "∞",
}
_OPERATORS = {
    "cdot": "·",
    "times": "×",
    "to": "→",
    "le": "≤",
    "ge": "≥",
    "approx": "≈",
    "neq": "≠",
    "sum": "∑",
    "odot": "⊙",
}
# Matrix environments (the matrix view's): their brackets, left and right.
_FENCES = {"bmatrix": ("[", "]"), "pmatrix": ("(", ")"), "matrix": ("", ""), "cases": ("{", "")}
_FUNCTIONS = ("ln", "log", "exp", "tanh", "max", "min")  # upright names, as LaTeX sets them
_TOKEN = re.compile(
    r"\\(?P<cmd>[A-Za-z]+|[,;! _\\])|(?P<num>\d+(?:\.\d+)?)|(?P<word>[A-Za-z]+)|(?P<space>\s+)"
    r"|(?P<char>.)",
    re.S,
)


def _tokens(tex: str) -> list[tuple[str, str]]:
    return [(m.lastgroup or "", m.group(m.lastgroup or "")) for m in _TOKEN.finditer(tex)]


class _Reader:
    def __init__(self, tex: str) -> None:
        self.tex = tex
        self.toks = _tokens(tex)
        self.i = 0

    def peek(self) -> tuple[str, str]:
        while self.i < len(self.toks) and self.toks[self.i][0] == "space":
            self.i += 1
        return self.toks[self.i] if self.i < len(self.toks) else ("", "")

    def take(self) -> tuple[str, str]:
        tok = self.peek()
        self.i += 1
        return tok

    def fail(self, what: str) -> ValueError:
        return ValueError(f"cannot write {self.tex!r} as MathML: {what}")

    def group(self) -> str:
        """`{...}` as an mrow, or a single token (`_1`, `^2`)."""
        kind, text = self.peek()
        if (kind, text) == ("char", "{"):
            self.take()
            inner = self.sequence("}")
            self.take()
            return _row(inner)
        if kind == "word" and len(text) > 1:  # `_ab` scripts one letter only in LaTeX
            self.toks[self.i] = ("word", text[1:])
            return f"<mi>{text[0]}</mi>"
        atom = self.atom()
        if atom is None:
            raise self.fail("a script or argument is missing")
        return atom

    def text_arg(self) -> str:
        """The raw text of a `\\text{...}` argument, spaces kept."""
        self.peek()
        if self.toks[self.i] != ("char", "{"):
            raise self.fail("\\text needs {...}")
        depth, out = 0, list[str]()
        while True:
            self.i += 1
            if self.i >= len(self.toks):
                raise self.fail("unclosed \\text")
            kind, text = self.toks[self.i]
            if (kind, text) == ("char", "}") and depth == 0:
                self.i += 1
                return "".join(out)
            depth += {"{": 1, "}": -1}.get(text, 0) if kind == "char" else 0
            out.append(text if kind != "cmd" or not text.isalpha() else "\\" + text)

    def sequence(self, until: str = "", cell: bool = False) -> list[str]:
        """Atoms up to `until` (or the end); in a matrix `cell`, up to &, \\\\ or \\end."""
        items: list[str] = []
        while True:
            kind, text = self.peek()
            if cell and (kind, text) in (("char", "&"), ("cmd", "\\"), ("cmd", "end")):
                return _signs(items)
            if not kind or (kind == "char" and text == until):
                if until and not kind:
                    raise self.fail(f"missing {until!r}")
                return _signs(items)
            atom = self.atom()
            if atom is None:
                raise self.fail(f"unexpected {text!r}")
            items.append(self.scripts(atom))

    def scripts(self, base: str) -> str:
        low = high = None
        while self.peek() in (("char", "_"), ("char", "^")):
            mark = self.take()[1]
            arg = self.group()
            if mark == "_":
                low = arg
            else:
                high = arg
        if low is not None and high is not None:
            return f"<msubsup>{base}{low}{high}</msubsup>"
        if low is not None:
            return f"<msub>{base}{low}</msub>"
        if high is not None:
            return f"<msup>{base}{high}</msup>"
        return base

    def atom(self) -> str | None:
        kind, text = self.peek()
        if kind == "num":
            self.take()
            return f"<mn>{text}</mn>"
        if kind == "word":
            self.take()
            return f"<mi>{escape(text)}</mi>"
        if kind == "cmd":
            self.take()
            return self.command(text)
        if kind == "char":
            if text in "}_^":
                return None
            self.take()
            if text == "{":
                inner = self.sequence("}")
                self.take()
                return _row(inner)
            if text == "-":
                return "<mo>\u2212</mo>"
            if text in "()|":
                return f'<mo stretchy="false">{text}</mo>'
            if text.isalpha():  # a Greek letter written as itself
                return f"<mi>{escape(text)}</mi>"
            return f"<mo>{escape(text)}</mo>"
        return None

    def environment(self, env: str) -> str:
        """`\\begin{bmatrix} a & b \\\\ c & d \\end{bmatrix}` as an mtable in its brackets."""
        if env not in _FENCES:
            raise self.fail(f"unknown environment {env}")
        rows: list[list[str]] = [[]]
        while True:
            rows[-1].append(_cell(self.sequence(cell=True)))
            kind, text = self.take()
            if (kind, text) == ("cmd", "\\"):
                rows.append([])
            elif (kind, text) == ("cmd", "end"):
                if self.text_arg() != env:
                    raise self.fail(f"\\begin{{{env}}} ends with another \\end")
                break
            elif (kind, text) != ("char", "&"):
                raise self.fail(f"unclosed {env}")
        body = "".join(f"<mtr>{''.join(r)}</mtr>" for r in rows if r != ["<mtd></mtd>"])
        left, right = _FENCES[env]
        align = ' columnalign="left"' if env == "cases" else ""
        table = f"<mtable{align}>{body}</mtable>"
        fence = "".join(f"<mo>{f}</mo>" if f else "" for f in (left,))
        close = f"<mo>{right}</mo>" if right else ""
        return f"<mrow>{fence}{table}{close}</mrow>"

    def command(self, name: str) -> str:
        if name in _LETTERS:
            return f"<mi>{_LETTERS[name]}</mi>"
        if name in _OPERATORS:
            return f"<mo>{_OPERATORS[name]}</mo>"
        if name in _FUNCTIONS:
            return f'<mi mathvariant="normal">{name}</mi>'
        if name == "frac":
            top, bottom = self.group(), self.group()
            return f"<mfrac>{top}{bottom}</mfrac>"
        if name == "sqrt":
            return f"<msqrt>{self.group()}</msqrt>"
        if name == "hat":
            return f'<mover accent="true">{self.group()}<mo>^</mo></mover>'
        if name == "top":
            return "<mi>⊤</mi>"
        if name == "operatorname":
            return f"<mi>{escape(self.text_arg())}</mi>"
        if name == "_":
            return "<mi>_</mi>"
        if name == "begin":
            return self.environment(self.text_arg())
        if name == "text":
            return f"<mtext>{escape(self.text_arg())}</mtext>"
        if name in ("left", "right"):
            kind, text = self.take()
            if kind != "char" or text not in "()|":
                raise self.fail(f"\\{name}{text}")
            return f"<mo>{text}</mo>"
        if name == "quad":
            return '<mspace width="1em"></mspace>'
        if name in (",", ";", " ", "!"):
            return '<mspace width="0.2em"></mspace>' if name != "!" else ""
        raise self.fail(f"unknown command \\{name}")


_MINUS = "<mo>\u2212</mo>"


def _signs(items: list[str]) -> list[str]:
    """A minus that starts a sequence or follows an operator or `(`, before a number, is the
    number's sign: `(−0.019)` set tight, not spaced as a subtraction."""
    out: list[str] = []
    for item in items:
        if (
            out
            and out[-1] == _MINUS
            and item.startswith("<mn>")
            and (len(out) == 1 or (out[-2].startswith("<mo") and not out[-2].endswith(")</mo>")))
        ):
            out[-1] = "<mn>\u2212" + item[len("<mn>") :]
            continue
        out.append(item)
    return out


def _cell(items: list[str]) -> str:
    return f"<mtd>{_row(items) if items else ''}</mtd>"


def _row(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"<mrow>{''.join(items)}</mrow>"


def mathml_row(tex: str, *, infix: bool = False) -> str:
    """LaTeX math (mathtex.py's subset) as the MathML inside a <math> element; infix: the
    piece continues a line (`+ w_2 i_2`), so a leading sign is spaced as a binary operator."""
    lead = ""
    text = tex.lstrip()
    if infix and text[:1] in ("+", "-", "="):
        sign = "\u2212" if text[0] == "-" else text[0]
        lead, tex = f'<mo form="infix">{sign}</mo>', text[1:]
    items = _Reader(tex).sequence()
    if lead:
        items.insert(0, lead)
    return _row(items) if items else "<mrow></mrow>"


def mathml(tex: str, *, display: bool = False, label: str = "", infix: bool = False) -> str:
    """A whole <math> element; label: plain text for readers that do not speak MathML."""
    attrs = ' display="block"' if display else ""
    if label:
        attrs += f' alttext="{escape(label, {chr(34): "&quot;"})}"'
    return f"<math{attrs}>{mathml_row(tex, infix=infix)}</math>"
