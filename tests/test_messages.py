"""Messages quote what was typed and nothing leaks from one format into another."""

from __future__ import annotations

from pathlib import Path

from .clihelp import run

TWO_SAMPLES = """
inputs: 1
layers:
  - {name: o, activation: sigmoid, weights: [[0.5]], bias: 0.1}
training: {learning_rate: 0.5, mode: online}
samples:
  - {inputs: [1.0], targets: [0.2]}
  - {inputs: [0.5], targets: [0.7]}
"""


def test_no_backslash_from_markup_escaping() -> None:
    result = run("explain", "w5+[0]x")
    assert result.exit_code == 2
    assert "\\[" not in result.stderr and "'w5+[0]x'" in result.stderr


def test_sample_zero_says_samples_count_from_1(tmp_path: Path) -> None:
    path = tmp_path / "two.yaml"
    path.write_text(TWO_SAMPLES)
    result = run("explain", "w1+[0]", str(path))
    assert result.exit_code == 2
    assert result.stderr == "error: w1+[0]: samples count from 1; w1+[1] is the first\n"


def test_a_multi_line_name_stays_one_heading(tmp_path: Path) -> None:
    path = tmp_path / "ml.yaml"
    path.write_text(
        'name: "Net\\n# Injected\\n\\n- item"\n' + TWO_SAMPLES.replace("inputs: 1", "inputs: 1", 1)
    )
    markdown = run("step", str(path), "-f", "markdown").stdout
    assert markdown.startswith("# Net \\# Injected - item\n\n## ")
    latex = run("step", str(path), "-f", "latex").stdout
    assert "{\\LARGE\\bfseries Net \\# Injected - item\\par}" in latex


def test_a_number_for_a_name_is_quoted_as_typed(tmp_path: Path) -> None:
    path = tmp_path / "n.yaml"
    for typed in ("2024", "0x10", "1e-400"):
        path.write_text(f"name: {typed}\n" + TWO_SAMPLES)
        result = run("step", str(path))
        assert result.exit_code == 2
        assert result.stderr == (
            f"error: {path}:1:7: name: expected text, got the number {typed}; "
            f"quote it for a name: '{typed}'\n"
        )


def test_a_huge_line_is_not_quoted_whole(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("x" * 5_000_000 + "\n")
    result = run("step", str(path))
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: {path}:1:1: expected a network spec (a mapping of keys), got the text "
        f"'{'x' * 40}'... (5,000,000 characters)\n"
    )


def test_one_quantity_answered_twice_is_flagged(tmp_path: Path) -> None:
    answers = tmp_path / "a.yaml"
    answers.write_text("dE_total/dw5: 0.0822\ndE_total/dw5[1]: 0.0822\n")
    result = run("check", str(answers))
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: {answers}:2:18: dE_total/dw5[1]: the same quantity as 'dE_total/dw5' on "
        "line 1; answer it once\n"
    )
