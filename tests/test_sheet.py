"""`init --sheet`: a problem sheet without its solution, and the answers file `check` reads."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest
import yaml

from backprop_cli import load_spec, step
from backprop_cli.render.sheet import answer_keys

from .runcli import cli

KEY = re.compile(r'^("?)(?P<key>[^"#\s][^"#]*?)\1:(?P<pad>\s+)# = (?P<formula>.*)$')


def _fill(answers: Path, config: Path, out: Path, change: dict[str, float] | None = None) -> int:
    """The answers file with every blank filled with the exact value (repr: 17 digits)."""
    trace = step(load_spec(config))
    values = {k: s.value for k, s in zip(answer_keys(trace), trace.steps, strict=True) if k}
    values.update(change or {})
    lines, filled = [], 0
    for line in answers.read_text().splitlines():
        m = KEY.match(line)
        if m:
            key = m["key"]
            line = f"{line[: m.end('key') + len(m.group(1))]}: {values[key]!r}{m['pad']}# = "
            line += m["formula"]
            filled += 1
        lines.append(line)
    out.write_text("\n".join(lines) + "\n")
    return filled


def _init(tmp_path: Path, *args: str) -> tuple[Path, Path, Path]:
    result = cli("init", "ex1.yaml", *args, "--sheet", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    names = (tmp_path / "ex1.yaml", tmp_path / "ex1-sheet.md", tmp_path / "ex1-answers.yaml")
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert re.fullmatch(
        r"wrote ex1\.yaml \([-\d]+, seed \d+\); next: backprop step ex1\.yaml", lines[0]
    )
    assert re.fullmatch(r"wrote ex1-sheet\.md \(the problem: \d+ blanks\)", lines[1])
    assert lines[2] == ("wrote ex1-answers.yaml (then: backprop check ex1-answers.yaml ex1.yaml)")
    return names


def test_the_sheet_has_every_formula_and_no_value(tmp_path: Path) -> None:
    config, sheet, _ = _init(tmp_path, "-l", "2,2,2", "--seed", "7")
    md = sheet.read_text()
    trace = step(load_spec(config))
    # the given numbers are there, as the config has them
    assert "w_1 = -0.67" in md and "i_2 = 0.64" in md and "target_{o1} = 0.25" in md
    assert (
        "net_{h1} = w_1 \\cdot i_1 + w_2 \\cdot i_2 + b_1 \\cdot 1 = \\underline{\\qquad\\qquad}"
        in md
    )
    assert "backprop check ex1-answers.yaml ex1.yaml" in md
    # no computed value after the given ones: no net input, no updated weight, no Result
    worked = md.split("## Forward pass")[1]
    for s in trace.steps:
        shown = f"{s.value:.9f}".rstrip("0").rstrip(".")
        assert shown not in worked, s.id
    assert "## Result" not in md and "parameters after the update" not in md
    assert md.count("\\underline{\\qquad\\qquad}") == len(trace.steps) == 66
    assert md.count("`dE_total/dw5`") == 1


def test_the_answers_file_is_every_id_blank_in_the_sheets_order(tmp_path: Path) -> None:
    config, _, answers = _init(tmp_path, "-l", "2,2,2", "--seed", "7")
    text = answers.read_text()
    assert text.startswith("# Answers to ex1-sheet.md: write each value after its id")
    assert "#   backprop check ex1-answers.yaml ex1.yaml\n" in text
    doc = yaml.safe_load(text)
    trace = step(load_spec(config))
    assert list(doc) == [s.id for s in trace.steps]
    assert all(v is None for v in doc.values())
    assert "net_h1:            # = w1 * i1 + w2 * i2 + b1 * 1\n" in text
    assert "\n# Backward pass · Output layer o\ndE_total/dout_o1:" in text


def test_blank_answers_are_not_graded(tmp_path: Path) -> None:
    config, _, answers = _init(tmp_path, "-l", "2,2,2", "--seed", "7")
    result = cli("check", str(answers), str(config), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == (
        f"error: {answers}:6:1: no answers yet: every value is blank; write each number after "
        "its id\n"
    )
    # one filled in by hand: w1·i1 + w2·i2 + b1 from the config's numbers
    net_h1 = -0.67 * 0.07 + 0.11 * 0.64 + -0.53
    answers.write_text(answers.read_text().replace("net_h1:  ", f"net_h1: {net_h1:.4f}", 1))
    result = cli("check", str(answers), str(config), cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(rf"net_h1 +{net_h1:.4f} +{net_h1:.4f} +±5e-05 +✓", result.stdout)
    assert net_h1 == pytest.approx(-0.5065, abs=5e-5)
    assert "1 ✓ · 0 ≈ rounding · 0 ✗" in result.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["-l", "2,2,2", "--seed", "7"],
        ["-l", "3,4,4,2", "--loss", "cross_entropy", "--samples", "2", "--seed", "3"],
        ["-l", "2,3,1", "--activation", "tanh", "--samples", "3", "--seed", "11"],
    ],
)
def test_the_right_values_filled_in_grade_all_right(tmp_path: Path, args: list[str]) -> None:
    config, _, answers = _init(tmp_path, *args)
    filled = tmp_path / "filled.yaml"
    n = _fill(answers, config, filled)
    trace = step(load_spec(config))
    assert n == len(trace.steps)  # every step has its id in the file
    # net_h1 of sample 1 from the config's own numbers, not the engine's
    spec = load_spec(config)
    h = spec.layers[0]
    x = spec.samples[0].inputs
    first = "net_h1[1]" if len(spec.samples) > 1 else "net_h1"
    expect = sum(w * v for w, v in zip(h.weights[0], x, strict=True)) + h.bias[0]
    got = yaml.safe_load(filled.read_text())[first]
    assert math.isclose(got, expect, rel_tol=1e-12)
    result = cli("check", str(filled), str(config), cwd=tmp_path)
    assert result.returncode == 0, result.stdout
    assert f"{n} ✓ · 0 ≈ rounding · 0 ✗" in result.stdout
    # and one slip is caught
    key = next(k for k in yaml.safe_load(filled.read_text()) if k.startswith("w1+"))
    _fill(answers, config, filled, {key: 0.5})
    result = cli("check", str(filled), str(config), cwd=tmp_path)
    assert result.returncode == 1
    assert f"{n - 1} ✓ · 0 ≈ rounding · 1 ✗" in result.stdout


def test_nothing_is_overwritten_without_force(tmp_path: Path) -> None:
    (tmp_path / "ex1-answers.yaml").write_text("w1+: 0.1\n")  # a student's work
    result = cli("init", "ex1.yaml", "-l", "2,2,2", "--sheet", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == "error: ex1-answers.yaml: already exists; add --force to overwrite it\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ex1-answers.yaml"]
    assert (tmp_path / "ex1-answers.yaml").read_text() == "w1+: 0.1\n"
    result = cli("init", "ex1.yaml", "-l", "2,2,2", "--sheet", "--force", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert yaml.safe_load((tmp_path / "ex1-answers.yaml").read_text())["w1+"] is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-", "-l", "2,2,2"], "--sheet writes the sheet and the answers file beside CONFIG: "),
        (["n.yaml", "--samples", "d.csv"], "--sheet: for an exercise worked by hand, not a "),
    ],
)
def test_sheet_needs_a_file_and_a_hand_exercise(
    tmp_path: Path, args: list[str], message: str
) -> None:
    (tmp_path / "d.csv").write_text("x1,x2,y\n0.1,0.2,1\n0.3,0.4,0\n")
    result = cli("init", *args, "--sheet", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("error: " + message)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.csv"]
