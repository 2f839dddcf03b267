"""A newcomer's one-character typo anywhere in the worked example gets an answer that points at it.

Every non-blank character outside comments is deleted, swapped with the next one and replaced;
each variant either runs (and its JSON trace is strict) or fails with one line naming the line of
the typo (YAML syntax errors noticed a line late say "above").
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from backprop_cli import SpecError, loads_spec, step
from backprop_cli.render import jsonfmt

from .clihelp import assert_input_error, run

MAZUR = Path(__file__).parents[1] / "configs" / "mazur.yaml"
LINES = MAZUR.read_text("utf-8").splitlines(keepends=True)


def typos() -> Iterator[tuple[int, str]]:
    """(1-based line, whole text) for each single-character typo outside comments."""
    for k, line in enumerate(LINES):
        body = line.split("#", 1)[0].rstrip()
        for i, c in enumerate(body):
            if c == " ":
                continue
            variants = [
                body[:i] + body[i + 1 :],  # dropped
                body[:i] + ("x" if c != "x" else "y") + body[i + 1 :],  # wrong key
            ]
            if i + 1 < len(body):
                variants.append(body[:i] + body[i + 1] + c + body[i + 2 :])  # swapped
            for new in variants:
                yield k + 1, "".join(LINES[:k]) + new + "\n" + "".join(LINES[k + 1 :])


CASES = list(typos())


def test_there_are_many_typos() -> None:
    assert len(CASES) > 800


def test_every_typo_runs_or_points_at_its_line() -> None:
    ran = failed = 0
    for line, text in CASES:
        try:
            spec = loads_spec(text, "mazur.yaml")
        except SpecError as exc:
            failed += 1
            message = str(exc)
            assert "\n" not in message and len(message) < 200, message
            assert exc.col >= 1, message
            if exc.line != line:
                assert exc.line == line + 1 and "above" in exc.message, (line, text, message)
            continue
        ran += 1
        jsonfmt.dumps(step(spec).to_dict())  # strict JSON: no NaN or Infinity anywhere
    assert ran > 200 and failed > 500  # both outcomes are exercised


@pytest.mark.parametrize("index", range(0, len(CASES), 97))
def test_typo_through_the_command_line(index: int, tmp_path: Path) -> None:
    line, text = CASES[index]
    path = tmp_path / "mazur.yaml"
    path.write_text(text, encoding="utf-8")
    result = run("step", str(path), "--format", "json")
    if result.exit_code == 0:
        assert result.stderr == "" and result.stdout.startswith("{")
    else:
        match = assert_input_error(result)
        assert int(match["line"]) in (line, line + 1)
