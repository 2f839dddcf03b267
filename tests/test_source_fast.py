"""libyaml's reader with its short-cuts (plain decimals resolved and built in one loop) makes
the very Document PyYAML's own parser makes: values, positions and written texts."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backprop_cli.specs import source

yaml = pytest.importorskip("yaml")
if getattr(yaml, "CSafeLoader", None) is None:
    pytest.skip("PyYAML without libyaml", allow_module_level=True)

SCALARS = st.one_of(
    st.floats(-1e6, 1e6, allow_nan=False).map(repr),
    st.sampled_from(
        [
            "0.5",
            "-1.25",
            "+0.5",
            "1.",
            "1e-3",
            "1.5e+3",
            "0",
            "7",
            "017",
            "1_000.5",
            "'0.5'",
            ".inf",
            "-.5",
            "0.5 # note",
            "null",
            "yes",
            "x",
            "1:20",
            "0x1F",
            "3.25",
            "&a 0.5",
        ]
    ),
)


def read(text: str, slow: bool) -> object:
    """What parse() makes of the text (a Document's parts, or the error): with libyaml and the
    short-cuts, or (slow) without either."""
    saved = source._FAST_FROM, source._Builder.decimals
    if slow:  # PyYAML's parser, and each item built on its own
        source._FAST_FROM = 10**9
        source._Builder.decimals = lambda self, items, path: None  # type: ignore[method-assign]
    try:
        doc = source.parse(text, "net.yaml")
    except source.SourceError as exc:
        return str(exc)
    finally:
        source._FAST_FROM, source._Builder.decimals = saved  # type: ignore[method-assign]
    # repr: -0.0 and 0.0 differ; list(marks): the order too
    return repr(doc.value), list(doc.marks.items()), doc.texts, doc.keys


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(SCALARS, min_size=1, max_size=6), min_size=1, max_size=4), st.booleans())
def test_the_same_document_either_way(rows: list[list[str]], flow: bool) -> None:
    if flow:
        body = "\n".join(f"  - [{', '.join(r)}]" for r in rows if "#" not in "".join(r))
        body = body or "  - [0.5]"
    else:
        body = "\n".join("  -\n" + "\n".join(f"    - {x}" for x in r) for r in rows)
    text = f"weights:\n{body}\nagain: [*a]\n" if "&a" in body else f"weights:\n{body}\n"
    assert read(text, slow=False) == read(text, slow=True)


def test_a_row_of_decimals_takes_the_short_way() -> None:
    doc = source.parse("w:\n  - [0.25, -1.5, +0.125]\n  - [1.0, 2.0, 3.0]\n", "net.yaml")
    assert doc.value == {"w": [[0.25, -1.5, 0.125], [1.0, 2.0, 3.0]]}
    assert doc.marks[("w", 0, 2)] == (2, 18) and doc.texts[("w", 0, 2)] == "+0.125"
    loader = source._fast_loader()("x: 0.25\n")
    try:
        node = loader.get_single_node()
    finally:
        loader.dispose()
    assert node.value[0][1].tag == "tag:yaml.org,2002:float"
