"""Tables built with rich measure their text as it is printed: on a stream that cannot encode the
symbols (PYTHONIOENCODING=ascii), `check`'s `±` (spelled `+/-`), the parameter table's `→` (`->`)
and the narrow step layout's `η` (`eta`) are spelled before layout, so every column stays under
its header and nothing is cut."""

from __future__ import annotations

from pathlib import Path

import pytest

from .test_ascii_layout import ascii_run as _ascii_run

ROOT = Path(__file__).parents[1]


def ascii_run(*args: str, columns: int = 100) -> str:
    return _ascii_run(*args, columns=columns, codes=(0, 1))  # check with a wrong answer: 1


def test_check_allowed_column_stays_under_its_header() -> None:
    lines = ascii_run("check", "configs/answers-example.yaml").splitlines()
    head = next(k for k, line in enumerate(lines) if line.lstrip().startswith("id "))
    header = lines[head]
    rows = [line for line in lines[head + 2 :] if "+/-" in line]
    assert rows, lines
    end = header.index("allowed") + len("allowed")
    for row in rows:
        # `allowed` is right-justified: each +/-x ends where the header's word ends
        k = row.index("+/-")
        word = row[k:].split(" ", 1)[0]
        assert k + len(word) == end, (header, row)
        assert "?" not in row


@pytest.mark.parametrize("command", ["step", "train"])
def test_parameter_table_arrow_keeps_the_columns(command: str) -> None:
    args = [command] if command == "step" else [command, "--epochs", "2"]
    lines = ascii_run(*args).splitlines()
    head = next(
        k for k, line in enumerate(lines) if line.lstrip().startswith("id ") and "new" in line
    )
    rows = lines[head + 2 :]
    rows = rows[: rows.index("")] if "" in rows else rows
    table = [lines[head], *rows]
    assert len(table) >= 9, lines[head:]
    dividers = {tuple(k for k, c in enumerate(line) if c == "|") for line in table}
    assert len(dividers) == 1, table  # the same columns in the header and every row


@pytest.mark.parametrize("columns", [20, 24, 28, 40])
def test_narrow_step_layout_measures_eta_as_printed(columns: int) -> None:
    out = ascii_run("step", "--only", "w*+", "--only", "b*+", columns=columns)
    lines = out.splitlines()
    assert any("eta" in line for line in lines), out
    for line in lines:
        assert len(line) <= columns, (columns, line)
        assert "..." not in line and "?" not in line, line
