"""docs/api.md's session is real: its examples run and print what the page says."""

from __future__ import annotations

import doctest
import re
from pathlib import Path
from typing import Any

from backprop_cli import load_spec, step

DOC = Path(__file__).parents[1] / "docs" / "api.md"


def test_api_doc_examples_run() -> None:
    # Each ```python block with >>> is a doctest; they share names, like cells of one notebook.
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text("utf-8"), re.S)
    globs: dict[str, Any] = {}
    parser, runner = doctest.DocTestParser(), doctest.DocTestRunner()
    attempted = 0
    for i, block in enumerate(b for b in blocks if ">>>" in b):
        test = parser.get_doctest(block, globs, f"api.md block {i + 1}", str(DOC), 0)
        result = runner.run(test, clear_globs=False)
        assert result.failed == 0, block
        attempted += result.attempted
        globs.update(test.globs)
    assert attempted > 10


def test_trace_displays_in_jupyter_and_rich() -> None:
    # The engine knows no screen: the renderer gives the trace its display.
    from backprop_cli.render.table import render_trace

    bundle = render_trace(step(load_spec()))._repr_mimebundle_([], [])
    assert "dE_total/dw5" in bundle["text/plain"] and "0.082167041" in bundle["text/plain"]
    assert bundle["text/html"].startswith("<pre")
