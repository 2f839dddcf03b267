"""The readers reviewed again (issue 20, Deliver 2, 4, 5): numbers out of a float's range, long
numbers, digits that are not ASCII, strings where a number belongs, fields missing from
messages, size caps per kind, loose log headers, a 0 that claims no digits, and check's
progress on a far epoch. Each bad input is one line `error: FILE:LINE:COL: FIELD: message`."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from backprop_cli.specs.validate import load_spec
from backprop_cli.tutor.logcheck import check_log, parse_log

from .clihelp import assert_input_error, run

ROOT = Path(__file__).resolve().parent.parent
MAZUR = str(ROOT / "configs" / "mazur.yaml")
NET = (ROOT / "configs" / "mazur.yaml").read_text()
FROM_FILE = (
    NET[: NET.index("samples:")]
    + "samples: {{{fmt}: {file}, inputs: [x1, x2], targets: [t1, t2]}}\n"
)


def error_of(tmp_path: Path, name: str, text: str, *args: str) -> str:
    """The one error line of `backprop check NAME` (or of ARGS when given), checked for form."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    os.chdir(tmp_path)
    match = assert_input_error(run(*(args or ("check", name))))
    return match.group(0)


# --- 1. a log's value out of range ----------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("1e309", "log.csv:2:3: E_total: 1e309 is beyond the range of a float"),
        ("1e400", "log.csv:2:3: E_total: 1e400 is beyond the range of a float"),
        (
            "1e99999999999999999999",
            "log.csv:2:3: E_total: 1e99999999999999999999 is beyond the range of a float",
        ),
        ("1e-400", "log.csv:2:3: E_total: 1e-400 is below the smallest float"),
        ("0." + "0" * 400 + "1", "log.csv:2:3: E_total: 0.000000000000000000... (403 characters)"),
    ],
)
def test_log_value_out_of_range(tmp_path: Path, value: str, message: str) -> None:
    line = error_of(tmp_path, "log.csv", f"epoch,E_total\n1,{value}\n")
    assert line.startswith(f"error: {message}")


def test_jsonl_log_value_below_the_smallest_float(tmp_path: Path) -> None:
    line = error_of(tmp_path, "log.jsonl", '{"epoch": 1, "E_total": 1e-400}\n')
    assert line.startswith("error: log.jsonl:1:25: E_total: 1e-400 is below the smallest float")


# --- 2. a long number quoted short, at its column ------------------------------------------


def test_long_integer_in_a_config(tmp_path: Path) -> None:
    text = NET.replace("bias: 0.35  ", "bias: 1" + "0" * 5000, 1)
    line = error_of(tmp_path, "big.yaml", text, "step", "big.yaml")
    assert line == (
        "error: big.yaml:11:11: layers[0].bias: 10000000000000000000... is too large "
        "(|x| must be at most 1e+06)"
    )


def test_long_integer_in_answers(tmp_path: Path) -> None:
    line = error_of(tmp_path, "a.yaml", "net_h1: 1" + "0" * 5000 + "\n")
    assert line == (
        "error: a.yaml:1:9: net_h1: 10000000000000000000... (5,001 characters) is beyond the "
        "range of a float"
    )
    assert len(line) < 120


# --- 3. numbers that are not numbers ---------------------------------------------------------


@pytest.mark.parametrize("cell", ["١٢", "１"])
def test_unicode_digits_in_a_csv_sample(tmp_path: Path, cell: str) -> None:
    (tmp_path / "d.csv").write_text(f"x1,x2,t1,t2\n{cell},0.1,0.01,0.99\n", encoding="utf-8")
    text = FROM_FILE.format(fmt="csv", file="d.csv")
    line = error_of(tmp_path, "net.yaml", text, "step", "net.yaml")
    assert line == f"error: d.csv:2:1: row 1, column x1: expected a number, got the text '{cell}'"


def test_unicode_digits_in_a_log_and_in_yaml(tmp_path: Path) -> None:
    line = error_of(tmp_path, "log.csv", "epoch,E_total\n1,٠.٢٩\n")
    assert line == "error: log.csv:2:3: E_total: expected a number written in digits, got '٠.٢٩'"
    line = error_of(tmp_path, "a.yaml", "net_h1: ٠.٣٧٧٥\n")
    assert line == "error: a.yaml:1:9: net_h1: expected a number, got the text '٠.٣٧٧٥'"


def test_strings_where_a_number_belongs(tmp_path: Path) -> None:
    (tmp_path / "d.jsonl").write_text('{"x1": "0.1", "x2": 0.1, "t1": 0.01, "t2": 0.99}\n')
    text = FROM_FILE.format(fmt="jsonl", file="d.jsonl")
    line = error_of(tmp_path, "net.yaml", text, "step", "net.yaml")
    assert line == (
        "error: d.jsonl:1:2: row 1, column x1: expected a number, got the string '0.1': a "
        "string, not a number (remove the quotes)"
    )
    line = error_of(tmp_path, "a.json", '{"net_h1": "0.3775"}\n')
    assert line == (
        "error: a.json:1:12: net_h1: expected a number, got the string '0.3775': a string, not "
        "a number (remove the quotes)"
    )
    line = error_of(tmp_path, "a.yaml", 'net_h1: "0.3775"\n')
    assert line == (
        "error: a.yaml:1:9: net_h1: expected a number, got '0.3775': a string, not a number "
        "(remove the quotes)"
    )


@pytest.mark.parametrize(
    ("written", "message"),
    [
        ("1_0", "1_0 reads as 10 in YAML 1.1 (it drops the _); write 10, or quote it for text"),
        ("0x1", "0x1 reads as 1 in YAML 1.1 (hexadecimal); write 1 in decimal digits"),
        ("0b10", "0b10 reads as 2 in YAML 1.1 (binary); write 2 in decimal digits"),
        ("1:30", "1:30 reads as 90 in YAML 1.1 (base 60"),
    ],
)
def test_yaml11_integers_refused_alike(tmp_path: Path, written: str, message: str) -> None:
    text = NET.replace("learning_rate: 0.5", f"learning_rate: {written}")
    line = error_of(tmp_path, "c.yaml", text, "step", "c.yaml")
    assert line.startswith(f"error: c.yaml:18:18: training.learning_rate: {message}")


# --- 4. the field and the kind named ----------------------------------------------------------


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("1e400", "row 1, column x1: 1e400 is beyond the range of a float"),
        ("NaN", "row 1, column x1: NaN is not a number (JSON has no NaN or Infinity)"),
        ("1e-400", "row 1, column x1: 1e-400 is below the smallest float"),
    ],
)
def test_jsonl_sample_refusals_name_the_column(tmp_path: Path, row: str, message: str) -> None:
    (tmp_path / "d.jsonl").write_text(f'{{"x1": {row}, "x2": 0.1, "t1": 0.01, "t2": 0.99}}\n')
    text = FROM_FILE.format(fmt="jsonl", file="d.jsonl")
    line = error_of(tmp_path, "net.yaml", text, "step", "net.yaml")
    assert line.startswith(f"error: d.jsonl:1:8: {message}")


def test_json_answer_refusal_names_the_id(tmp_path: Path) -> None:
    line = error_of(tmp_path, "a.json", '{"net_h1": 1e400}\n')
    assert line == "error: a.json:1:12: net_h1: 1e400 is beyond the range of a float"


def test_tiny_answer_is_below_the_smallest_float(tmp_path: Path) -> None:
    line = error_of(tmp_path, "a.yaml", "net_h1: 1e-400\n")
    assert line == (
        "error: a.yaml:1:9: net_h1: 1e-400 is below the smallest float (about 5e-324): it "
        "would read as 0 (write 0 if you mean 0)"
    )


def test_size_caps_name_the_kind(tmp_path: Path) -> None:
    os.chdir(tmp_path)
    with open("sparse.csv", "wb") as f:  # a sparse 1 GB file: nothing written, all NUL
        f.truncate(2**30)
    line = assert_input_error(run("check", "sparse.csv")).group(0)
    assert line == "error: sparse.csv: looks like a binary file, not CSV text"
    line = assert_input_error(run("check", "/dev/zero")).group(0)
    assert line == "error: /dev/zero: looks like a binary file, not YAML text"
    with open("log.csv", "w") as f:  # a log past 256 MB: refused from its size
        f.write("epoch,E_total\n")
        f.truncate(257 * 2**20)
    with open("log.csv", "r+") as f:
        f.seek(14)
        f.write("\n" * 8192)  # text where the kind is sniffed
    line = assert_input_error(run("check", "log.csv")).group(0)
    assert line == "error: log.csv: larger than 256 MB, the most a log may be"
    with open("a.yaml", "w") as f:
        f.write("# answers\n" * 820)
        f.truncate(65 * 2**20)
    with open("a.yaml", "r+") as f:
        f.seek(8200)
        f.write("\n" * 8192)
    line = assert_input_error(run("check", "a.yaml")).group(0)
    assert line.startswith("error: a.yaml: larger than 64 MB, the most an answers file may be")


# --- 5. log headers ---------------------------------------------------------------------------


def test_log_header_column_twice(tmp_path: Path) -> None:
    line = error_of(tmp_path, "log.csv", "epoch,E_total,epoch\n1,0.29,1\n")
    assert line == "error: log.csv:1:15: header: column 'epoch' is given twice (columns 1 and 3)"


def test_log_header_out_of_order(tmp_path: Path) -> None:
    line = error_of(tmp_path, "log.csv", "E_total,epoch\n0.29,1\n")
    assert line == (
        "error: log.csv:1:1: header: the columns are in the wrong order: expected a header "
        "epoch,E_total; got 'E_total,epoch'"
    )


def test_epoch_with_leading_zero_is_a_plain_integer(tmp_path: Path) -> None:
    rows = list(parse_log("epoch,E_total\n01,0.29\n", "log.csv"))
    assert rows[0].epoch == 1


# --- 6. verdicts --------------------------------------------------------------------------------


def test_a_log_zero_claims_no_digits() -> None:
    spec = load_spec(Path(MAZUR))
    for zero in ("0e5", "0", "0.00"):
        report = check_log(spec, lambda z=zero: parse_log(f"epoch,E_total\n1,{z}\n", "log.csv"))
        assert not report.passed, zero
        assert report.difference is not None and report.difference.ours == pytest.approx(
            0.29102777369359933, rel=1e-12
        )


def test_one_rule_for_long_answers(tmp_path: Path) -> None:
    os.chdir(tmp_path)
    for digits in (30, 5000):
        Path("a.yaml").write_text(f"net_h1: 0.3775{'0' * digits}1\n")
        result = run("check", "a.yaml")
        assert result.exit_code == 0, result.stderr
        assert "judged as a program's output" in result.stdout
        Path("a.yaml").write_text(f"net_h1: 0.3776{'0' * digits}1\n")
        assert run("check", "a.yaml").exit_code == 1


def test_written_number_units() -> None:
    from backprop_cli.specs import datatext

    w = datatext.written_number
    assert w("0.40") == (0.4, 0.01, 2)
    assert w("3.51e-5").unit == pytest.approx(1e-7, rel=1e-12)
    assert w("0e5").digits == 0
    assert w("1e-320").value == 1e-320
    assert w("1.5e-323").unit > 0  # finer than a float: the smallest float, never 0


# --- 7. progress ---------------------------------------------------------------------------


def test_log_check_reports_progress_and_prints_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    spec = load_spec(Path(MAZUR))
    seen: list[tuple[str, int, int]] = []
    report = check_log(
        spec,
        lambda: parse_log("epoch,E_total\n2000,0.0009\n", "log.csv"),
        progress=lambda run, done, total: seen.append((run, done, total)),
    )
    assert not report.passed
    assert ("config", 512, 2000) in seen and ("config", 1536, 2000) in seen
    assert {r for r, _, _ in seen} > {"config", "epoch_offset"}
    assert capsys.readouterr() == ("", "")
