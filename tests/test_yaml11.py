"""YAML 1.1 reads some plain numbers unlike a person: 017 is octal 15, 1:20 is 80 (base 60).
Such values are refused with what YAML made of them; numbers that read the same are kept."""

from __future__ import annotations

import pytest

from backprop_cli.specs.source import SourceError, parse


@pytest.mark.parametrize(
    "text, message",
    [
        ("017", "017 reads as 15 in YAML 1.1 (a leading 0 makes it octal); write 17 without the 0"),
        ("-010", "-010 reads as -8 in YAML 1.1 (a leading 0 makes it octal); write -10 without"),
        ("1:20", "1:20 reads as 80 in YAML 1.1 (base 60, as in a time of day)"),
        ("1:30.5", "1:30.5 reads as 90.5 in YAML 1.1 (base 60, as in a time of day)"),
    ],
)
def test_surprising_numbers_are_refused(text: str, message: str) -> None:
    with pytest.raises(SourceError) as info:
        parse(f"a:\n  b: {text}\n", "f.yaml")
    assert (info.value.line, info.value.col, info.value.field) == (2, 6, "a.b")
    assert info.value.message.startswith(message)


@pytest.mark.parametrize(
    "text, value", [("0", 0), ("00", 0), ("007", 7), ("17", 17), ("'017'", "017"), ("08", 8.0)]
)
def test_numbers_that_read_the_same_are_kept(text: str, value: object) -> None:
    assert parse(f"a: {text}\n", "f.yaml").value == {"a": value}
