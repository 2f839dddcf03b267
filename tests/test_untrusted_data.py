"""Data files written by an adversary (issue 20): samples (CSV, JSONL), answers and traces for
`check`, training logs. A number is a number, every read is bounded before its memory is spent,
and every refusal is one line `error: FILE:LINE:COL: FIELD: message`, exit 2."""

from __future__ import annotations

import json
import os
import time
import tracemalloc
from pathlib import Path

import pytest

from backprop_cli.specs import samplesfile
from backprop_cli.specs.model import SamplesFile
from backprop_cli.specs.source import SourceError
from backprop_cli.specs.validate import load_spec
from backprop_cli.tutor.logcheck import read_log

from .clihelp import assert_input_error, run

ROOT = Path(__file__).resolve().parent.parent
MAZUR = str(ROOT / "configs" / "mazur.yaml")
NET = """name: from a file
inputs: [a, b]
layers:
  - {{name: h, weights: [[0.15, 0.2], [0.25, 0.3]], bias: 0.35}}
  - {{name: o, weights: [[0.4, 0.45], [0.5, 0.55]], bias: 0.6}}
training: {{learning_rate: 0.5, mode: batch}}
samples: {{{fmt}: {name}, inputs: [x1, x2], targets: [t1, t2]}}
"""
ROW = '{"x1": 0.05, "x2": 0.1, "t1": 0.01, "t2": 0.99}\n'


def data(folder: Path, name: str, content: str | bytes) -> Path:
    """A config reading its samples from `name` (written as given) in `folder`."""
    raw = content.encode("utf-8", "surrogateescape") if isinstance(content, str) else content
    (folder / name).write_bytes(raw)
    fmt = "jsonl" if name.endswith(".jsonl") else "csv"
    config = folder / "net.yaml"
    config.write_text(NET.format(fmt=fmt, name=name), "utf-8")
    return config


def refused(*args: str) -> str:
    """The one error line of a command that must refuse its input (exit 2, nothing on stdout)."""
    result = run(*args)
    assert_input_error(result)
    return result.stderr.removeprefix("error: ").rstrip("\n")


def samples_error(config: Path) -> str:
    with pytest.raises(SourceError) as caught:
        load_spec(config)
    return str(caught.value)


# --- a number is a number ------------------------------------------------------------------

NOT_NUMBERS = {
    # json.loads accepts exactly these three spellings; every other is invalid JSON already
    "NaN": (
        '{"x1": NaN, "x2": 0.1, "t1": 0.01, "t2": 0.99}',
        "2:8: row 2, column x1: NaN is not a number",
    ),
    "Infinity": (
        '{"x1": 0.05, "x2": Infinity, "t1": 0, "t2": 1}',
        "2:20: row 2, column x2: Infinity is",
    ),
    "-Infinity": (
        '{"x1": 0.05, "x2": 0.1, "t1": -Infinity, "t2": 1}',
        "2:31: row 2, column t1: -Infinity",
    ),
    "a key twice": (
        '{"x1": 0.05, "x1": 0.3, "x2": 0.1, "t1": 0.01, "t2": 0.99}',
        "2:14: row 2: duplicate key 'x1' (first given at column 2)",
    ),
    "5,000 digits": (
        '{"x1": 1' + "0" * 5000 + ', "x2": 0.1, "t1": 0.01, "t2": 0.99}',
        "2:8: row 2, column x1: an integer of 5,001 digits is beyond the range of a float",
    ),
    "400 digits": (
        '{"x1": 1' + "0" * 400 + ', "x2": 0.1, "t1": 0.01, "t2": 0.99}',
        "2:8: row 2, column x1: an integer of 401 digits is beyond the range of a float",
    ),
    "1e999": (
        '{"x1": 1e999, "x2": 0.1, "t1": 0.01, "t2": 0.99}',
        "2:8: row 2, column x1: 1e999 is beyond the range of a float",
    ),
    "100,000 brackets": (
        '{"x1": ' + "[" * 100_000 + "]" * 100_000 + ', "x2": 0.1, "t1": 0.01, "t2": 0.99}',
        "2:71: row 2: nested more than 64 levels deep",
    ),
}


@pytest.mark.parametrize("case", sorted(NOT_NUMBERS))
def test_a_jsonl_samples_file_holds_numbers_only(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text, expected = NOT_NUMBERS[case]
    data(tmp_path, "d.jsonl", ROW + text + "\n")
    monkeypatch.chdir(tmp_path)
    message = refused("step", "net.yaml")  # the second row, on line 2
    assert message.startswith(f"d.jsonl:{expected}"), message
    assert len(message) < 120


def test_nan_in_jsonl_no_longer_reaches_step_gradcheck_or_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data(tmp_path, "d.jsonl", '{"x1": NaN, "x2": 0.1, "t1": 0.01, "t2": 0.99}\n')
    monkeypatch.chdir(tmp_path)
    for args in (("step",), ("step", "-f", "json"), ("gradcheck",), ("train", "-f", "json")):
        message = refused(*args, "net.yaml")
        assert (
            message
            == "d.jsonl:1:8: row 1, column x1: NaN is not a number (JSON has no NaN or Infinity)"
        )


ANSWERS = {
    "a key twice": (
        '{"net_h1": 0.3825, "net_h1": 0.3775}',
        "a.json:1:20: net_h1: duplicate key (first given at line 1, column 2)",
    ),
    "NaN": (
        '{"net_h1": NaN}',
        "a.json:1:12: net_h1: NaN is not a number (JSON has no NaN or Infinity)",
    ),
    "5,000 digits": (
        '{"net_h1": 1' + "0" * 5000 + "}",
        "a.json:1:12: net_h1: an integer of 5,001 digits is beyond the range of a float",
    ),
    "100,000 brackets": (
        '{"net_h1": ' + "[" * 100_000 + "]" * 100_000 + "}",
        "a.json:1:75: nested more than 64 levels deep",
    ),
    "a trace's step with its value twice": (
        '{"steps": [{"id": "net_h1", "value": 0.3775},\n'
        ' {"id": "w5+", "value": 0.1, "value": 0.35891648}]}',
        "a.json:2:30: value: duplicate key (first given at line 2, column 16)",
    ),
    "a trace's value -Infinity": (
        '{"steps": [{"id": "net_h1", "value": -Infinity}]}',
        "a.json:1:38: value: -Infinity is not a number (JSON has no NaN or Infinity)",
    ),
}


@pytest.mark.parametrize("case", sorted(ANSWERS))
def test_json_answers_and_traces_hold_numbers_once(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text, expected = ANSWERS[case]
    (tmp_path / "a.json").write_text(text, "utf-8")
    monkeypatch.chdir(tmp_path)
    assert refused("check", "a.json") == expected


LOGS = {
    "NaN": (
        '{"type": "epoch", "epoch": 1, "E_total": NaN}',
        "log.jsonl:1:42: E_total: NaN is not a number (JSON has no NaN or Infinity)",
    ),
    "E_total twice": (
        '{"type": "epoch", "epoch": 1, "E_total": 0.29, "E_total": 0.29102777369359933}',
        "log.jsonl:1:48: duplicate key (first given at column 31)",
    ),
    "an epoch of 5,000 digits": (
        '{"type": "epoch", "epoch": 1' + "0" * 5000 + ', "E_total": 0.29}',
        "log.jsonl:1:28: epoch: an integer of 5,001 digits is beyond the range of a float",
    ),
    "100,000 brackets": (
        '{"type": "epoch", "epoch": 1, "E_total": ' + "[" * 100_000 + "]" * 100_000 + "}",
        "log.jsonl:1:105: nested more than 64 levels deep",
    ),
}


@pytest.mark.parametrize("case", sorted(LOGS))
def test_a_jsonl_log_holds_numbers_once(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text, expected = LOGS[case]
    (tmp_path / "log.jsonl").write_text(text + "\n", "utf-8")
    monkeypatch.chdir(tmp_path)
    message = refused("check", "log.jsonl", MAZUR)
    if not message.startswith("log.jsonl:1:48:"):
        assert message == expected
    else:
        assert message == "log.jsonl:1:48: E_total: " + expected.split(": ", 1)[1]


def test_a_log_that_claims_epoch_ten_to_the_twelve_is_refused_when_read(tmp_path: Path) -> None:
    log = tmp_path / "log.csv"
    log.write_text("epoch,E_total\n1,0.2910277737\n1000000000000,0.1\n", "utf-8")
    rows = read_log(log)
    assert next(rows).epoch == 1
    with pytest.raises(SourceError) as caught:
        next(rows)  # before any training toward it
    assert str(caught.value) == (
        f"{log}:3:1: epoch: epoch 1000000000000 is past 1,000,000, the most epochs check trains to"
    )
    log.write_text("epoch,E_total\n1000000,0.1\n", "utf-8")
    assert [r.epoch for r in read_log(log)] == [1_000_000]  # the bound itself is allowed


# --- every read bounded ----------------------------------------------------------------------


def test_a_line_past_the_cap_is_refused_without_reading_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cap = 4 * 2**20  # datatext.MAX_LINE, the figure docs/errors.md gives
    long = '{"note": "' + "x" * cap + '", ' + ROW[1:]
    data(tmp_path, "d.jsonl", ROW + long)
    monkeypatch.chdir(tmp_path)
    assert refused("step", "net.yaml") == (
        "d.jsonl:2:1: a line longer than 4,194,304 characters (not a data file?)"
    )
    (tmp_path / "log.csv").write_text("epoch,E_total\n" + "1" * (cap + 5), "utf-8")
    assert refused("check", "log.csv", MAZUR) == (
        "log.csv:2:1: a line longer than 4,194,304 characters (not a data file?)"
    )


def test_a_cell_past_the_cap_is_refused(tmp_path: Path) -> None:
    config = data(tmp_path, "d.csv", "x1,x2,t1,t2\n0.05,0.1,0.01,0.99\n1,2," + "5" * 5000 + ",0\n")
    assert samples_error(config).endswith("d.csv:3:5: a value longer than 4,096 characters")


def test_rows_times_columns_are_bounded_by_the_budget(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert samplesfile.MAX_VALUES == 2_000_000  # the figure docs/errors.md measures
    monkeypatch.setattr(samplesfile, "MAX_VALUES", 8)
    config = data(tmp_path, "d.csv", "x1,x2,t1,t2,note\n" + "0.05,0.1,0.01,0.99,n\n" * 3)
    assert samples_error(config).endswith(
        "d.csv:4:1: row 3: more than 8 values (4 a row): a data file may give at most 2 rows "
        "of these columns"
    )
    config = data(tmp_path, "d.jsonl", ROW * 3)
    assert samples_error(config).endswith(
        "d.jsonl:3:1: row 3: more than 8 values (4 a row): a "
        "data file may give at most 2 rows of these columns"
    )
    data(tmp_path, "d.jsonl", ROW * 2)
    assert len(load_spec(config).samples) == 2


def read(file: Path) -> object:
    # The samples alone: the config's reader reserves its 64 MB cap of address space to read it
    return samplesfile.read_samples(SamplesFile("csv", str(file), str(file), ("x1",), ("t1",)))


def peak_while(fn: object) -> tuple[str, int, float]:
    """The error a call raises, the peak of memory Python allocated meanwhile, and its time."""
    tracemalloc.start()
    start = time.perf_counter()
    try:
        fn()  # type: ignore[operator]
    except SourceError as exc:
        message = str(exc)
    else:
        message = ""
    finally:
        elapsed = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return message, peak, elapsed


def test_a_sparse_file_is_binary_from_its_first_bytes(tmp_path: Path) -> None:
    # The case is 1 GB; 256 MB shows the same (main read it all into one string).
    data(tmp_path, "d.csv", "x1,x2,t1,t2\n")
    os.truncate(tmp_path / "d.csv", 2**28)
    message, peak, elapsed = peak_while(lambda: read(tmp_path / "d.csv"))
    assert message.endswith("d.csv: looks like a binary file, not CSV text")
    assert peak < 2**24 and elapsed < 1.0, (peak, elapsed)
    log = tmp_path / "log.csv"
    log.write_text("epoch,E_total\n1,0.2910277737\n", "utf-8")
    os.truncate(log, 2**28)
    message, peak, elapsed = peak_while(lambda: list(read_log(log)))
    assert message == f"{log}: looks like a binary file, not CSV text"  # not "expected 2 columns"
    assert peak < 2**24 and elapsed < 1.0, (peak, elapsed)


def test_a_bad_byte_on_line_2_is_placed_without_reading_the_rest(tmp_path: Path) -> None:
    rows = b"0.05,0.1,0.01,0.99\n" * 1000  # text past the first 8 KB, then 256 MB of zeros
    data(tmp_path, "d.csv", b"x1,x2,t1,t2\n0.05,\xff0.1,0.01,0.99\n" + rows)
    os.truncate(tmp_path / "d.csv", 2**28)
    message, peak, elapsed = peak_while(lambda: read(tmp_path / "d.csv"))
    assert message.endswith("d.csv:2:6: not valid UTF-8 text")
    assert peak < 2**24 and elapsed < 1.0, (peak, elapsed)


def test_a_quoted_cell_costs_time_linear_in_its_length(tmp_path: Path) -> None:
    config = data(tmp_path, "d.csv", 'x1,x2,t1,t2\n"' + "1" * 1_000_000 + '",0.1,0.01,0.99\n')
    message, _, elapsed = peak_while(lambda: load_spec(config))
    assert message.endswith("d.csv:2:1: a value longer than 4,096 characters")
    assert elapsed < 1.0  # main: 10.7 s, quadratic


def test_quoted_cells_are_read_by_the_csv_module(tmp_path: Path) -> None:
    # A note with a comma, a doubled quote and a line break beside the numbers: one row each.
    text = 'x1,note,x2,t1,t2\n0.05,"a, ""b""\nc",0.1,0.01,0.99\n0.9,plain,-0.4,1,0\n'
    spec = load_spec(data(tmp_path, "d.csv", text))
    assert [(s.inputs, s.targets) for s in spec.samples] == [
        ((0.05, 0.1), (0.01, 0.99)),
        ((0.9, -0.4), (1.0, 0.0)),
    ]
    config = data(tmp_path, "d.csv", 'x1,note,x2,t1,t2\n0.05,"a\nb",x,0.01,0.99\n')
    assert samples_error(config).endswith(
        "d.csv:3:4: row 1, column x2: expected a number, got the text 'x'"
    )
    config = data(tmp_path, "d.csv", 'x1,x2,t1,t2\n0.05,"0.1,0.01,0.99\n')
    assert samples_error(config).endswith("d.csv:2:6: this quote is never closed")


# --- messages that tell the truth ------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".yaml", ".json", ".csv"])
def test_a_utf16_answers_file_is_named_utf16_with_the_fix(
    suffix: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = {".yaml": "net_h1: 0.3775\n", ".json": '{"net_h1": 0.3775}', ".csv": "net_h1,0.3775\n"}
    (tmp_path / f"a{suffix}").write_bytes(text[suffix].encode("utf-16"))
    kind = {".yaml": "YAML", ".json": "JSON", ".csv": "CSV"}[suffix]
    monkeypatch.chdir(tmp_path)
    assert refused("check", f"a{suffix}") == (
        f"a{suffix}: is UTF-16 text; {kind} is read as UTF-8: convert it "
        f"(iconv -f UTF-16 -t UTF-8 a{suffix} > a-utf8{suffix})"
    )


def test_utf16_samples_and_logs_without_a_bom_are_named_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data(tmp_path, "my data.csv", "x1,x2,t1,t2\n0.05,0.1,0.01,0.99\n".encode("utf-16-le"))
    (tmp_path / "log.csv").write_bytes("epoch,E_total\n1,0.29\n".encode("utf-16-be"))
    monkeypatch.chdir(tmp_path)
    assert refused("step", "net.yaml") == (
        "my data.csv: is UTF-16 text; CSV is read as UTF-8: convert it "
        "(iconv -f UTF-16 -t UTF-8 'my data.csv' > 'my data-utf8.csv')"
    )
    assert refused("check", "log.csv", MAZUR).startswith("log.csv: is UTF-16 text; CSV is")


def test_an_id_holding_a_line_break_stays_on_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a.csv").write_text('id,value\n"net\nh1",0.3775\n', "utf-8")
    monkeypatch.chdir(tmp_path)
    message = refused("check", "a.csv")
    assert message.startswith("a.csv:2:1: net\\nh1: no such quantity")


def test_text_from_a_file_is_shown_short_and_escaped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cell = json.dumps("\x1b[2J" + "x" * 100_000)
    data(tmp_path, "d.jsonl", ROW + '{"x1": ' + cell + ', "x2": 0.1, "t1": 0.01, "t2": 0.99}\n')
    monkeypatch.chdir(tmp_path)
    message = refused("step", "net.yaml")
    assert message == (
        "d.jsonl:2:2: row 2, column x1: expected a number, got the string "
        "'\\x1b[2Jxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...': a string, not a number"
    )
