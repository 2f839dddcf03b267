"""Formula templates and symbols as LaTeX math, the way the post typesets them.

One place for the translation that the Markdown and LaTeX documents share: `symbol("dE_total/dw5")`
is `\\frac{\\partial E_{total}}{\\partial w_5}`, `symbol("w5+")` is `w_5^{+}`, `delta_o1` is
`\\delta_{o1}`, `η` is `\\eta`. A template (`{w1} * {i1} + {b1} * 1`, `1/(1 + e^(-{net_h1}))`) is
parsed into a small expression tree so that `/` becomes `\\frac`, `^(...)` a superscript and `*`
`\\cdot`, and rendered either in symbols or with each symbol replaced by a number.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from backprop_cli.engine.trace import Step
from backprop_cli.ops.functions import FORMULA_FUNCTIONS


class Shown(Protocol):
    """How numbers are written (render/numbers.py's Numbers; a protocol, so that module may
    read this one's parser without an import loop)."""

    def __call__(self, x: float) -> str: ...
    def term(self, symbol: str, x: float) -> str: ...
    def value(self, step: Step) -> str: ...


def _greek() -> dict[str, str]:
    from backprop_cli.ops import SYMBOLS  # the catalogue's symbols, with their LaTeX

    return {**{s: latex for s, (latex, _) in SYMBOLS.items() if latex != s}, "Σ": r"\Sigma"}


GREEK = _greek()
_FUNCTIONS = FORMULA_FUNCTIONS
_PREFIXES = ("net", "out", "target", "E")  # quantities written prefix_{neuron}
_INDEXED = re.compile(r"([A-Za-z]+)(\d+)")  # w5, i1, b1 -> w_5, i_1, b_1


# --- symbols -------------------------------------------------------------------------------------


HAT = "\u0302"  # the combining circumflex of m̂ and v̂


def sub(text: str) -> str:
    """A subscript: `_1`, or `_{h1}` when longer than one character; `_` inside reads as `,`."""
    text = text.replace("_", ",")
    return f"_{text}" if len(text) == 1 else f"_{{{text}}}"


def name(text: str) -> str:
    """A bare name: `i1` -> `i_1`, `b_h1` -> `b_{h1}`, `x` -> `x`, `m̂_w5` -> `\\hat{m}_{w5}`."""
    if text in GREEK:
        return GREEK[text]
    m = _INDEXED.fullmatch(text)
    if m:
        return m.group(1) + sub(m.group(2))
    head, sep, rest = text.partition("_")
    if head.endswith(HAT):  # adam's bias-corrected moments: ASCII out, as LaTeX writes a hat
        head = rf"\hat{{{head[:-1]}}}"
    return head + sub(rest) if sep and rest else text


def _quantity(text: str, sup: str) -> str:
    if text.startswith("delta_"):
        base = r"\delta" + sub(text[len("delta_") :])
    elif text == "E":
        base = "E"
    else:
        head, sep, rest = text.partition("_")
        base = head + sub(rest) if sep and head in _PREFIXES else name(text)
    return f"{base}^{{{sup}}}" if sup else base


def symbol(sym: str) -> str:
    """The LaTeX for one symbol or step id of the trace."""
    if sym in GREEK:
        return GREEK[sym]
    sup = ""
    m = re.fullmatch(r"(.*)\[(\d+)\]", sym)  # dE_total/dw5[2]: the gradient of sample 2
    if m:
        sym, sup = m.group(1), f"({m.group(2)})"
    if sym.endswith("+"):  # the value after the update
        sym, sup = sym[:-1], "+" + sup
    if sym.startswith("d") and "/d" in sym:
        top, bottom = sym[1:].split("/d", 1)
        return rf"\frac{{\partial {_quantity(top, sup)}}}{{\partial {_quantity(bottom, '')}}}"
    return _quantity(sym, sup)


def tex_number(text: str) -> str:
    """A number as `number()` writes it, in LaTeX: `1.5e-10` -> `1.5 \\times 10^{-10}`."""
    if text in ("nan", "inf", "-inf"):
        return {"nan": r"\text{NaN}", "inf": r"\infty", "-inf": r"-\infty"}[text]
    mantissa, e, exponent = text.partition("e")
    if not e:
        return text
    return rf"{mantissa} \times 10^{{{int(exponent)}}}"


# --- templates -----------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"\s*(?:(?P<slot>\{[^{}]+\})|(?P<num>\d+(?:\.\d+)?)|(?P<word>[A-Za-zα-ωΑ-Ω][A-Za-z0-9]*)"
    r"|(?P<op>[-+*/^(),>=½]))"
)


@dataclass(frozen=True, slots=True)
class Node:
    """An expression tree node (kind: num slot word neg half bin pow call paren if cmp)."""

    kind: str
    text: str = ""
    args: tuple[Node, ...] = ()


class _Parser:
    def __init__(self, template: str) -> None:
        self.tokens: list[tuple[str, str]] = []
        pos = 0
        template = template.rstrip()
        while pos < len(template):
            m = _TOKEN.match(template, pos)
            if not m or m.end() == pos:
                raise ValueError(f"cannot read formula {template!r} at {pos}")
            kind = m.lastgroup or ""
            self.tokens.append((kind, m.group(kind)))
            pos = m.end()
        self.i = 0

    def peek(self) -> str:
        return self.tokens[self.i][1] if self.i < len(self.tokens) else ""

    def take(self) -> tuple[str, str]:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def expect(self, text: str) -> None:
        if self.peek() != text:
            raise ValueError(f"expected {text!r}, got {self.peek()!r}")
        self.i += 1

    def parse(self) -> Node:
        node = self.ternary()
        if self.i != len(self.tokens):
            raise ValueError(f"unexpected {self.peek()!r}")
        return node

    def ternary(self) -> Node:
        node = self.compare()
        if self.peek() == "if":
            self.take()
            cond = self.compare()
            self.expect("else")
            return Node("if", args=(node, cond, self.compare()))
        return node

    def compare(self) -> Node:
        node = self.sum()
        if self.peek() == ">":
            self.take()
            return Node("cmp", ">", (node, self.sum()))
        return node

    def sum(self) -> Node:
        node = self.product()
        while self.peek() in ("+", "-"):
            op = self.take()[1]
            node = Node("bin", op, (node, self.product()))
        return node

    def product(self) -> Node:
        node = self.unary()
        while self.peek() in ("*", "/"):
            op = self.take()[1]
            node = Node("bin", op, (node, self.unary()))
        return node

    def unary(self) -> Node:
        if self.peek() == "-":
            self.take()
            return Node("neg", args=(self.unary(),))
        if self.peek() == "½":
            self.take()
            return Node("half", args=(self.unary(),))
        return self.power()

    def power(self) -> Node:
        node = self.primary()
        if self.peek() == "^":
            self.take()
            return Node("pow", args=(node, self.unary()))
        return node

    def primary(self) -> Node:
        kind, text = self.take()
        if kind == "num":
            return Node("num", text)
        if kind == "slot":
            return Node("slot", text[1:-1])
        if kind == "word":
            if text in _FUNCTIONS and self.peek() == "(":
                self.take()
                args = [self.ternary()]
                while self.peek() == ",":
                    self.take()
                    args.append(self.ternary())
                self.expect(")")
                return Node("call", text, tuple(args))
            return Node("word", text)
        if text == "(":
            inner = self.ternary()
            self.expect(")")
            return Node("paren", args=(inner,))
        raise ValueError(f"unexpected {text!r}")


def parse(template: str) -> Node:
    """The expression tree of one side of a template (no top-level `=`)."""
    return _Parser(template).parse()


Values = Callable[[str], float] | None


def _is_sum(n: Node) -> bool:
    return n.kind == "bin" and n.text in "+-"


class _Writer:
    """Renders a tree; with `values`, each slot becomes its number written by `fmt`."""

    def __init__(
        self,
        values: Values,
        fmt: Callable[[float], str],
        term: Callable[[str, float], str] | None = None,
    ) -> None:
        self.values, self.fmt = values, fmt
        self.term = term or (lambda _sym, x: fmt(x))

    def slot(self, sym: str, lead: bool, base: bool = False) -> str:
        if self.values is None:
            return symbol(sym)
        x = self.values(sym)
        text = tex_number(self.term(sym, x))
        negative = text.startswith("-")
        return f"({text})" if negative and (base or not lead) else text

    def write(self, n: Node, lead: bool = True) -> str:
        k, a = n.kind, n.args
        if k == "num":
            return n.text
        if k == "slot":
            return self.slot(n.text, lead)
        if k == "word":
            return GREEK.get(n.text, n.text)
        if k == "neg":
            return "-" + self.write(a[0], lead=False)
        if k == "half":
            return r"\frac{1}{2}" + self.write(a[0], lead=False)
        if k == "bin":
            left, right = self.write(a[0], lead), self.write(a[1], lead=False)
            if n.text == "/":
                top, bottom = a
                if top.kind == "bin" and top.text == "/":  # (x/y)/n: one fraction, x/(y·n)
                    y = top.args[1]
                    if y.kind == "paren" and not _is_sum(y.args[0]):
                        y = y.args[0]  # a product needs no parentheses inside another product
                    top, bottom = top.args[0], Node("bin", "*", (y, bottom))
                return rf"\frac{{{self.inner(top)}}}{{{self.inner(bottom)}}}"
            op = r" \cdot " if n.text == "*" else f" {n.text} "
            return left + op + right
        if k == "pow":
            base = self.slot(a[0].text, lead, base=True) if a[0].kind == "slot" else None
            if base is None:
                base = self.write(a[0], lead)
            if "^" in base and not base.startswith("("):
                base = f"{{{base}}}"
            return f"{base}^{{{self.inner(a[1])}}}"
        if k == "call":
            args = ", ".join(self.write(x) for x in a)
            f = _FUNCTIONS[n.text]
            command, enclosed = f.latex, f.enclosed
            if enclosed == "brace":
                return rf"{command}{{{args}}}"
            if enclosed == "bars":
                return rf"{command}\left|{args}\right|"
            return self.paren(command, args)
        if k == "paren":
            return self.paren("", self.write(a[0]))
        if k == "if":
            then, cond, other = (self.write(x) for x in a)
            return rf"{then} \text{{ if }} {cond} \text{{ else }} {other}"
        if k == "cmp":
            return f"{self.write(a[0], lead)} {n.text} {self.write(a[1])}"
        raise ValueError(k)

    def inner(self, n: Node) -> str:
        """A group's content without its outer parentheses (a \\frac or a superscript)."""
        return self.write(n.args[0] if n.kind == "paren" else n)

    @staticmethod
    def paren(head: str, body: str) -> str:
        if r"\frac" in body:
            return rf"{head}\left({body}\right)"
        return f"{head}({body})"


def render(
    template: str,
    values: Values = None,
    fmt: Callable[[float], str] = repr,
) -> str:
    """A template as LaTeX: in symbols, or with `values(symbol)` written by fmt."""
    w = _Writer(values, fmt)
    return " = ".join(w.write(parse(side)) for side in template.split(" = "))


def terms(
    template: str,
    values: Values = None,
    fmt: Callable[[float], str] = repr,
    term: Callable[[str, float], str] | None = None,
) -> list[str]:
    """Like render, cut where a long line may break: before each top-level + or - of a sum;
    `term(symbol, x)`, if given, writes each number instead of fmt."""
    w = _Writer(values, fmt, term)
    pieces: list[str] = []
    for s, side in enumerate(template.split(" = ")):
        node = parse(side)
        chain: list[tuple[str, Node]] = []
        while _is_sum(node):
            chain.append((node.text, node.args[1]))
            node = node.args[0]
        first = w.write(node)
        pieces.append(("= " if s else "") + first)
        for op, right in reversed(chain):
            pieces.append(f"{op} {w.write(right, lead=False)}")
    return pieces


# --- one step ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Equation:
    """One step as LaTeX: lhs = formula = numbers = value (each part a list of break points)."""

    lhs: str
    formula: list[str]
    numbers: list[str]
    value: str


def equation(step: Step, shown: Shown) -> Equation:
    """The step's display math, its numbers written by `shown`."""
    value = tex_number(shown.value(step))
    formula = terms(step.template)
    numbers = terms(step.template, step.terms.__getitem__, shown, shown.term)
    if "".join(numbers) == value:  # dnet_o1/dw5 = out_h1 = 0.593269992: no separate number line
        numbers = []
    return Equation(symbol(step.id), formula, numbers, value)


def width(tex: str) -> int:
    """A rough width of rendered math in characters (fractions count their wider part)."""
    while True:
        m = re.search(
            r"\\frac\{([^{}]*(?:\{[^{}]*\}[^{}]*)*)\}\{([^{}]*(?:\{[^{}]*\}[^{}]*)*)\}", tex
        )
        if not m:
            break
        a, b = m.group(1), m.group(2)
        tex = tex[: m.start()] + (a if width(a) >= width(b) else b) + tex[m.end() :]
    tex = re.sub(r"\\(cdot|times)", "xx", tex)
    tex = re.sub(r"\\quad", "xxx", tex)
    tex = re.sub(r"\\(left|right)", "", tex)
    tex = re.sub(r"\\[A-Za-z]+", "x", tex)
    return len(re.sub(r"[{}_^ ]", "", tex)) + tex.count(" ") // 2
