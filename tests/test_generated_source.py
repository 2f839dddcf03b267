"""Generated kernel code is registered with linecache: a traceback, pdb or inspect shows its
source lines, not `<backprop fwd>` with nothing under it."""

from __future__ import annotations

import inspect
import traceback

from backprop_cli.ops.vocab import compile_function


def test_a_generated_function_shows_its_source() -> None:
    fn = compile_function("halve", ["x"], ["y = x / 2.0", "return 1.0 / (y - 1.0)"])
    assert fn(4.0) == 1.0
    assert inspect.getsource(fn) == "def halve(x):\n    y = x / 2.0\n    return 1.0 / (y - 1.0)\n"
    try:
        fn(2.0)
    except ZeroDivisionError as exc:
        last = traceback.extract_tb(exc.__traceback__)[-1]
    assert last.name == "halve" and last.lineno == 3
    assert last.line == "return 1.0 / (y - 1.0)"


def test_two_functions_of_one_name_keep_their_own_source() -> None:
    a = compile_function("f", ["x"], ["return x + 1.0"])
    b = compile_function("f", ["x"], ["return x * 3.0"])
    assert "x + 1.0" in inspect.getsource(a) and "x * 3.0" in inspect.getsource(b)
