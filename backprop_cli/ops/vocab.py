"""The small vocabulary every operation of the catalogue is written in, and its three readers.

An activation, loss or optimizer stage is one Python function of a vocabulary `m` and its operands,
using only + − × ÷, ** and comparisons of its operands, and the names below. Evaluated with

  FLOATS  on Python floats: the recording engine and the loop kernel;
  ARRAYS  on numpy arrays, elementwise: the numpy kernel (numpy is imported on first use);
  SOURCE  on `Expr`, which builds Python source text: the compiled straight-line kernel,
          and NUMPY_SOURCE, the same text on numpy arrays: the scripts `backprop export` writes,

the same definition gives the same floats wherever it runs (numpy's sums aside), so there is one
place to change. `where` takes its branches as thunks: plain floats evaluate only the branch
taken (math.exp raises where numpy gives inf), arrays evaluate both and pick elementwise.
"""

from __future__ import annotations

import linecache
import math
import zlib
from collections.abc import Callable
from typing import Any


class Floats:
    """Python floats, as a person with a calculator (or engine.py) computes them."""

    exp = staticmethod(math.exp)
    log = staticmethod(math.log)
    log1p = staticmethod(math.log1p)
    tanh = staticmethod(math.tanh)
    sqrt = staticmethod(math.sqrt)

    @staticmethod
    def where(cond: Any, then: Callable[[], Any], other: Callable[[], Any]) -> Any:
        return then() if cond else other()

    @staticmethod
    def both(a: Any, b: Any) -> Any:
        return a and b

    def abs(self, x: Any) -> Any:
        return abs(x)

    def max0(self, x: Any) -> Any:
        return max(x, 0.0)

    def max2(self, a: Any, b: Any) -> Any:
        return max(a, b)

    def softplus(self, x: Any) -> Any:
        """ln(1 + e^x), without overflow."""
        return self.max0(x) + self.log1p(self.exp(-self.abs(x)))

    def logistic(self, x: Any) -> Any:
        """1/(1 + e^-x) in two forms, so that e^x never overflows: e^x/(1 + e^x) below 0."""
        return self.where(x >= 0, lambda: 1.0 / (1.0 + self.exp(-x)), lambda: self._below(x))

    def _below(self, x: Any) -> Any:
        z = self.exp(x)
        return z / (1.0 + z)


class Arrays(Floats):
    """numpy arrays, elementwise; both branches of a `where` are computed."""

    def __init__(self) -> None:
        import numpy

        self.np = numpy
        self.exp, self.log, self.log1p = numpy.exp, numpy.log, numpy.log1p  # type: ignore[assignment]
        self.tanh, self.sqrt = numpy.tanh, numpy.sqrt  # type: ignore[assignment]

    def where(self, cond: Any, then: Callable[[], Any], other: Callable[[], Any]) -> Any:  # type: ignore[override]
        with self.np.errstate(all="ignore"):
            return self.np.where(cond, then(), other())

    def both(self, a: Any, b: Any) -> Any:  # type: ignore[override]
        return self.np.logical_and(a, b)

    def abs(self, x: Any) -> Any:
        return self.np.abs(x)

    def max0(self, x: Any) -> Any:
        return self.np.maximum(x, 0.0)

    def max2(self, a: Any, b: Any) -> Any:
        return self.np.maximum(a, b)

    def logistic(self, x: Any) -> Any:
        """The same two forms from one exponential: z = e^-|x| is e^-x where x ≥ 0 and e^x
        below, so the floats are those of Floats.logistic, bit for bit, at half the cost."""
        np = self.np
        z = np.abs(x)
        if not isinstance(z, np.ndarray):  # a single number
            return super().logistic(x)
        np.negative(z, out=z)
        np.exp(z, out=z)
        denominator = 1.0 + z
        # The numerator: 1 where x ≥ 0, else e^x; as max(z, 1 or 0), since z ≤ 1 (and nan stays
        # nan): a third faster than a masked division or np.where.
        np.maximum(z, x >= 0, out=z)
        return np.divide(z, denominator, out=z)


class Expr:
    """An expression as Python source text; operators build bigger ones, fully bracketed."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __str__(self) -> str:
        return self.text

    def _bin(self, op: str, other: Any, swap: bool = False) -> Expr:
        a, b = self.text, lit(other)
        return Expr(f"({b} {op} {a})" if swap else f"({a} {op} {b})")

    def __add__(self, o: Any) -> Expr:
        return self._bin("+", o)

    def __radd__(self, o: Any) -> Expr:
        return self._bin("+", o, True)

    def __sub__(self, o: Any) -> Expr:
        return self._bin("-", o)

    def __rsub__(self, o: Any) -> Expr:
        return self._bin("-", o, True)

    def __mul__(self, o: Any) -> Expr:
        return self._bin("*", o)

    def __rmul__(self, o: Any) -> Expr:
        return self._bin("*", o, True)

    def __truediv__(self, o: Any) -> Expr:
        return self._bin("/", o)

    def __rtruediv__(self, o: Any) -> Expr:
        return self._bin("/", o, True)

    def __pow__(self, o: Any) -> Expr:
        return self._bin("**", o)

    def __rpow__(self, o: Any) -> Expr:
        return self._bin("**", o, True)

    def __neg__(self) -> Expr:
        return Expr(f"(-{self.text})")

    def __gt__(self, o: Any) -> Expr:
        return self._bin(">", o)

    def __ge__(self, o: Any) -> Expr:
        return self._bin(">=", o)

    def __lt__(self, o: Any) -> Expr:
        return self._bin("<", o)

    def __le__(self, o: Any) -> Expr:
        return self._bin("<=", o)

    def __ne__(self, o: Any) -> Expr:  # type: ignore[override]
        return self._bin("!=", o)

    def __eq__(self, o: Any) -> Expr:  # type: ignore[override]
        return self._bin("==", o)

    __hash__ = None  # type: ignore[assignment]


def lit(x: Any) -> str:
    """Source text of an operand: an expression's text, or a number written exactly."""
    if isinstance(x, Expr):
        return x.text
    if isinstance(x, bool):
        return repr(x)
    if isinstance(x, int | float):
        return repr(float(x)) if math.isfinite(x) else f"float({str(float(x))!r})"
    raise TypeError(f"not an operand: {x!r}")


class Source(Floats):
    """Python source text, for the compiled kernel; names exp, log, log1p, tanh, sqrt, abs, max
    must be in the namespace the text runs in (see NAMESPACE)."""

    @staticmethod
    def _call(name: str, *args: Any) -> Expr:
        return Expr(f"{name}({', '.join(lit(a) for a in args)})")

    def exp(self, x: Any) -> Expr:  # type: ignore[override]
        return self._call("exp", x)

    def log(self, x: Any) -> Expr:  # type: ignore[override]
        return self._call("log", x)

    def log1p(self, x: Any) -> Expr:  # type: ignore[override]
        return self._call("log1p", x)

    def tanh(self, x: Any) -> Expr:  # type: ignore[override]
        return self._call("tanh", x)

    def sqrt(self, x: Any) -> Expr:  # type: ignore[override]
        return self._call("sqrt", x)

    def where(self, cond: Any, then: Callable[[], Any], other: Callable[[], Any]) -> Expr:  # type: ignore[override]
        return Expr(f"({lit(then())} if {lit(cond)} else {lit(other())})")

    def both(self, a: Any, b: Any) -> Expr:  # type: ignore[override]
        return Expr(f"({lit(a)} and {lit(b)})")

    def abs(self, x: Any) -> Expr:
        return self._call("abs", x)

    def max0(self, x: Any) -> Expr:
        return self._call("max", x, 0.0)

    def max2(self, a: Any, b: Any) -> Expr:
        return self._call("max", a, b)


class NumpySource(Source):
    """Python source text on numpy arrays, for a script `backprop export` writes: the same
    definitions as SOURCE, with numpy's elementwise functions (the script imports numpy as np)."""

    @staticmethod
    def _call(name: str, *args: Any) -> Expr:
        return Expr(f"np.{name}({', '.join(lit(a) for a in args)})")

    def where(self, cond: Any, then: Callable[[], Any], other: Callable[[], Any]) -> Expr:  # type: ignore[override]
        return self._call("where", Expr(lit(cond)), Expr(lit(then())), Expr(lit(other())))

    def both(self, a: Any, b: Any) -> Expr:  # type: ignore[override]
        return self._call("logical_and", a, b)

    def max0(self, x: Any) -> Expr:
        return self._call("maximum", x, 0.0)

    def max2(self, a: Any, b: Any) -> Expr:
        return self._call("maximum", a, b)


FLOATS = Floats()
SOURCE = Source()
NUMPY_SOURCE = NumpySource()
NAMESPACE: dict[str, Any] = {
    "exp": math.exp,
    "log": math.log,
    "log1p": math.log1p,
    "tanh": math.tanh,
    "sqrt": math.sqrt,
}
_arrays: Arrays | None = None


def arrays() -> Arrays:
    """The numpy reader (numpy imported on first use)."""
    global _arrays
    if _arrays is None:
        _arrays = Arrays()
    return _arrays


def compile_function(name: str, params: list[str], lines: list[str]) -> Callable[..., Any]:
    """A Python function from source lines (written with SOURCE), run in NAMESPACE."""
    body = "\n".join(f"    {line}" for line in lines)
    text = f"def {name}({', '.join(params)}):\n{body}\n"
    namespace = dict(NAMESPACE)
    # Registered with linecache, so that tracebacks, pdb and inspect show the generated source.
    filename = f"<backprop {name} {zlib.crc32(text.encode()):08x}>"
    linecache.cache[filename] = (len(text), None, text.splitlines(keepends=True), filename)
    exec(compile(text, filename, "exec"), namespace)
    fn: Callable[..., Any] = namespace[name]
    return fn
