"""Samples from a data file: `samples: {csv: data.csv, inputs: [...], targets: [...]}` (or jsonl),
every bad row one `file:line:col` line naming the row and column, and 10⁵ rows trained in
minibatch mode in constant memory."""

from __future__ import annotations

import json
import random
import tracemalloc
from pathlib import Path

import pytest

from backprop_cli import load_spec, step
from backprop_cli.kernels import Trainer
from backprop_cli.specs.fileio import dump_spec
from backprop_cli.specs.source import SourceError
from backprop_cli.specs.validate import loads_spec

from .clihelp import assert_input_error, run

NET = """name: from a file
inputs: [a, b]
layers:
  - name: h
    weights: [[0.15, 0.2], [0.25, 0.3]]
    bias: 0.35
  - name: o
    weights: [[0.4, 0.45], [0.5, 0.55]]
    bias: 0.6
training: {{learning_rate: 0.5, mode: batch}}
samples: {samples}
"""
INLINE = "[{inputs: [0.05, 0.1], targets: [0.01, 0.99]}, {inputs: [0.9, -0.4], targets: [1, 0]}]"
CSV = "t2,x1,x2,t1\n0.99,0.05,0.10,0.01\n0,0.9,-0.4,1\n"  # columns in any order
FROM_CSV = "{csv: data.csv, inputs: [x1, x2], targets: [t1, t2]}"


def write(folder: Path, config: str, data: str, name: str = "data.csv") -> Path:
    (folder / name).write_bytes(data.encode("utf-8", "surrogateescape"))
    path = folder / "net.yaml"
    path.write_text(NET.format(samples=config), "utf-8")
    return path


def test_a_csv_gives_the_samples_written_inline(tmp_path: Path) -> None:
    spec = load_spec(write(tmp_path, FROM_CSV, CSV))
    inline = loads_spec(NET.format(samples=INLINE))
    assert [(s.inputs, s.targets) for s in spec.samples] == [
        ((0.05, 0.1), (0.01, 0.99)),
        ((0.9, -0.4), (1.0, 0.0)),
    ]
    assert step(spec).updated == step(inline).updated
    assert step(spec).find("w5+").value == step(inline).find("w5+").value


def test_jsonl_the_same_way(tmp_path: Path) -> None:
    rows = [
        {"x1": 0.05, "x2": 0.1, "t1": 0.01, "t2": 0.99},
        {"x2": -0.4, "x1": 0.9, "t1": 1, "t2": 0},
    ]
    text = "\n".join(json.dumps(r) for r in rows) + "\n\n"
    spec = load_spec(
        write(tmp_path, "{jsonl: d.jsonl, inputs: [x1, x2], targets: [t1, t2]}", text, "d.jsonl")
    )
    assert [s.inputs for s in spec.samples] == [(0.05, 0.1), (0.9, -0.4)]
    assert spec.samples[1].targets == (1.0, 0.0)


def test_the_path_is_relative_to_the_config_and_a_save_names_the_file_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "nets").mkdir()
    (tmp_path / "data.csv").write_text(CSV, "utf-8")
    config = tmp_path / "nets" / "net.yaml"
    config.write_text(NET.format(samples=FROM_CSV.replace("data.csv", "../data.csv")), "utf-8")
    monkeypatch.chdir(tmp_path / "nets")
    spec = load_spec("net.yaml")
    assert spec.samples_from is not None and spec.samples_from.file == "../data.csv"
    monkeypatch.chdir(tmp_path)
    spec = load_spec("nets/net.yaml")
    assert spec.samples_from is not None and spec.samples_from.file == "nets/../data.csv"
    saved = dump_spec(spec, folder=tmp_path / "elsewhere")
    assert "csv: ../data.csv\n  inputs: [x1, x2]\n  targets: [t1, t2]\n" in saved
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "run.yaml").write_text(saved, "utf-8")
    assert load_spec(tmp_path / "elsewhere" / "run.yaml").samples == spec.samples


# (data file text, samples: value, the one line expected)
BAD = {
    "missing column": (
        CSV,
        "{csv: data.csv, inputs: [x1, x3], targets: [t1, t2]}",
        "net.yaml:11:39: samples.inputs[1]: no column 'x3' in data.csv (did you mean 'x2'?); "
        "its header has t2, x1, x2, t1",
    ),
    "non-number": (
        "x1,x2,t1,t2\n" + "0.1,0.2,0.3,0.7\n" * 1233 + "0.1,n/a,0.3,0.7\n",
        "{csv: data.csv, inputs: [x1, x2], targets: [t1, t2]}",
        "data.csv:1235:5: row 1234, column x2: expected a number, got the text 'n/a'",
    ),
    "ragged short": (
        "x1,x2,t1,t2\n0.1,0.2,0.3,0.7\n0.1,0.2,0.3\n",
        FROM_CSV.replace("t1, t2", "t1, t2"),
        "data.csv:3:12: row 2: expected 4 values (the header has 4 columns), got 3",
    ),
    "ragged long": (
        "x1,x2,t1,t2\n0.1,0.2,0.3,0.7,9\n",
        FROM_CSV,
        "data.csv:2:16: row 1: expected 4 values (the header has 4 columns), got 5",
    ),
    "quoted cell": (
        'x1,x2,t1,t2\n"0.1","0,2",0.3,0.7\n',
        FROM_CSV,
        "data.csv:2:7: row 1, column x2: expected a number, got the text '0,2' "
        "(write decimals with a point)",
    ),
    "empty cell": (
        "x1,x2,t1,t2\n0.1,,0.3,0.7\n",
        FROM_CSV,
        "data.csv:2:5: row 1, column x2: expected a number, got nothing (an empty value)",
    ),
    "too large": (
        "x1,x2,t1,t2\n1e9,0.2,0.3,0.7\n",
        FROM_CSV,
        "data.csv:2:1: row 1, column x1: 1e9 is too large (|x| must be at most 1e+06)",
    ),
    "no header": (
        "0.1,0.2,0.3,0.7\n",
        FROM_CSV,
        "data.csv:1:1: header: expected column names in the first row, got numbers "
        "(add a header row, such as x1,x2,x3,x4)",
    ),
    "duplicate column": (
        "x1,x2,x1,t2\n",
        FROM_CSV,
        "data.csv:1:7: header: column name 'x1' is used twice (columns 1 and 3)",
    ),
    "header only": ("x1,x2,t1,t2\n", FROM_CSV, "data.csv: has a header but no rows of data"),
    "empty file": ("", FROM_CSV, "data.csv: the file is empty; expected a header row"),
    "binary": ("x1\x00", FROM_CSV, "data.csv: looks like a binary file, not CSV text"),
    "targets of the loss": (
        "x1,x2,t1,t2\n0.1,0.2,0.3,0.7\n0.1,0.2,0.3,1.5\n",
        FROM_CSV,
        "data.csv:3:13: row 2, column t2: binary_cross_entropy targets must lie in [0, 1], got 1.5",
    ),
    "too few targets": (
        CSV,
        "{csv: data.csv, inputs: [x1, x2], targets: [t1]}",
        "net.yaml:11:53: samples.targets: expected 2 column names (one per output neuron), got 1",
    ),
    "two files": (
        CSV,
        "{csv: data.csv, jsonl: d.jsonl, inputs: [x1, x2], targets: [t1, t2]}",
        "net.yaml:11:10: samples: expected one data file (csv: FILE or jsonl: FILE), "
        "got both csv and jsonl",
    ),
    "no such file": (
        CSV,
        FROM_CSV.replace("data.csv", "nope.csv"),
        "net.yaml:11:16: samples.csv: no such file: nope.csv",
    ),
    "column twice": (
        CSV,
        "{csv: data.csv, inputs: [x1, x2], targets: [x1, t2]}",
        "net.yaml:11:54: samples.targets[0]: column 'x1' is already used",
    ),
    "jsonl syntax": (
        '{"x1": 1, "x2": 2, "t1": 0.5, "t2": 0.5}\n{"x1": 1, "x2" 2}\n',
        FROM_CSV.replace("csv: data.csv", "jsonl: data.csv"),
        "data.csv:2:16: row 2: invalid JSON: Expecting ':' delimiter",
    ),
    "jsonl missing key": (
        '{"x1": 1, "x2": 2, "t1": 0.5}\n',
        FROM_CSV.replace("csv: data.csv", "jsonl: data.csv"),
        "data.csv:1:1: row 1: no key 't2' (this row has x1, x2, t1)",
    ),
    "jsonl not a number": (
        '{"x1": 1, "x2": true, "t1": 0.5, "t2": 0.5}\n',
        FROM_CSV.replace("csv: data.csv", "jsonl: data.csv"),
        "data.csv:1:11: row 1, column x2: expected a number, got true",
    ),
    "not utf-8": (
        "x1,x2,t1,t2\n1,2,\udcff,3\n",
        FROM_CSV,
        "data.csv:2:5: not valid UTF-8 text",
    ),
    "a column without a name": (
        "x1,,t1,t2\n",
        FROM_CSV,
        "data.csv:1:4: header: column 2 has no name",
    ),
    "an escaped quote": (
        'x1,x2,t1,t2\n"1""2",2,0.3,0.7\n',
        FROM_CSV,
        "data.csv:2:1: row 1, column x1: expected a number, got the text '1\"2'",
    ),
    "a folder": (
        CSV,
        FROM_CSV.replace("data.csv", "."),
        ".: is not a regular file; expected a data file",
    ),
    "file name not text": (
        CSV,
        FROM_CSV.replace("data.csv", "3"),
        "net.yaml:11:16: samples.csv: expected a file name, got the number 3",
    ),
    "no targets key": (
        "",
        "{csv: data.csv, inputs: [x1, x2]}",
        "net.yaml:11:10: samples: missing key 'targets' (the output neurons' column names)",
    ),
    "inputs not a list": (
        "",
        "{csv: data.csv, inputs: x1, targets: [t1, t2]}",
        "net.yaml:11:34: samples.inputs: expected a list of column names, got the text 'x1'",
    ),
    "jsonl empty": (
        "\n\n",
        FROM_CSV.replace("csv: data.csv", "jsonl: data.csv"),
        "data.csv: the file is empty; expected a JSON object",
    ),
    "jsonl targets of the loss": (
        '{"x1": 1, "x2": 2, "t1": 0.5, "t2": 2}\n',
        FROM_CSV.replace("csv: data.csv", "jsonl: data.csv"),
        "data.csv:1:31: row 1, column t2: binary_cross_entropy targets must lie in [0, 1], got 2",
    ),
    "jsonl not an object": (
        "[1, 2, 3, 4]\n",
        FROM_CSV.replace("csv: data.csv", "jsonl: data.csv"),
        'data.csv:1:1: row 1: expected an object such as {"x1": 0.5, "y": 1}',
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_bad_data_file_is_one_line_naming_row_and_column(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data, samples, expected = BAD[case]
    write(tmp_path, samples, data)
    net = tmp_path / "net.yaml"
    if case.endswith("targets of the loss"):
        net.write_text(net.read_text("utf-8") + "loss: binary_cross_entropy\n", "utf-8")
    monkeypatch.chdir(tmp_path)
    result = run("step", "net.yaml")
    assert_input_error(result)
    assert result.stderr == f"error: {expected}\n"


def test_the_error_is_a_spec_error_from_python(tmp_path: Path) -> None:
    path = write(tmp_path, FROM_CSV, "x1,x2,t1,t2\n1,2,x,4\n")
    with pytest.raises(SourceError) as info:
        load_spec(path)
    assert (info.value.line, info.value.col, info.value.field) == (2, 5, "row 1, column t1")


BIG = """inputs: 2
layers:
  - {size: 3, activation: tanh, init: {seed: 1}}
  - {size: 1, init: {seed: 2}}
loss: binary_cross_entropy
training: {mode: minibatch, batch_size: 50, learning_rate: 0.5}
samples: {csv: big.csv, inputs: [x1, x2], targets: [y]}
"""


def test_a_hundred_thousand_rows_train_in_minibatch_mode_in_constant_memory(
    tmp_path: Path,
) -> None:
    rng = random.Random(3)
    lines = ["x1,x2,y"]
    for _ in range(100_000):
        a, b = rng.uniform(-1, 1), rng.uniform(-1, 1)
        lines.append(f"{a:.5f},{b:.5f},{float(a + b > 0)}")
    (tmp_path / "big.csv").write_text("\n".join(lines) + "\n", "utf-8")
    (tmp_path / "big.yaml").write_text(BIG, "utf-8")
    spec = load_spec(tmp_path / "big.yaml")
    assert len(spec.samples) == 100_000
    assert spec.samples[-1].inputs == tuple(float(x) for x in lines[-1].split(",")[:2])
    tracemalloc.start()
    try:
        trainer = Trainer(spec)
        list(trainer.run(1))
        after_one = tracemalloc.get_traced_memory()[0]
        list(trainer.run(2))
        after_three = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert trainer.epochs_done == 3
    # a separable problem: three epochs of 2,000 updates learn it
    assert trainer.loss < 0.25 * trainer.loss_before
    assert after_three - after_one < 100_000  # bytes: nothing grows with the epochs


def test_init_sizes_the_network_from_a_data_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data.csv").write_text(CSV, "utf-8")
    (tmp_path / "ex").mkdir()
    result = run(
        "init", "ex/net.yaml", "--samples", "data.csv", "--targets", "t1,t2", "--seed", "4"
    )
    assert result.exit_code == 0, result.stderr
    assert result.stderr == (
        "note: data.csv: inputs x1, x2 (the columns --targets leaves)\n"
        "wrote ex/net.yaml (2-2-2, seed 4); next: backprop step ex/net.yaml\n"
    )
    text = (tmp_path / "ex" / "net.yaml").read_text("utf-8")
    assert "--layers 2,2,2 --seed 4 --samples ../data.csv" in text.splitlines()[0]
    spec = load_spec(tmp_path / "ex" / "net.yaml")
    assert spec.samples_from is not None
    assert (spec.samples_from.inputs, spec.samples_from.targets) == (("x1", "x2"), ("t1", "t2"))
    assert spec.samples == load_spec(write(tmp_path, FROM_CSV, CSV)).samples
    # By default the last column is the target (t2 is not next to it), the others the inputs.
    result = run("init", "-", "--samples", "data.csv", "--seed", "4")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == (
        "note: data.csv: inputs t2, x1, x2; targets t1 (the last column; see --targets)\n"
    )
    spec = loads_spec(result.stdout)
    assert [len(spec.inputs), *(layer.size for layer in spec.layers)] == [3, 3, 1]
    assert spec.samples[0].inputs == (0.99, 0.05, 0.1) and spec.samples[0].targets == (0.01,)


@pytest.mark.parametrize(
    ("header", "targets"),
    [
        ("x1,x2,y1,y2", ["y1", "y2"]),
        ("a,b,y_1,y_2,y_3", ["y_1", "y_2", "y_3"]),
        ("x1,x2,label", ["label"]),
        ("x1,x2,x3", ["x3"]),  # every column alike: the last one
        ("y1,x2,y2", ["y2"]),  # only the run at the end
    ],
)
def test_init_takes_the_last_columns_named_alike_as_targets_and_says_so(
    header: str, targets: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    columns = header.split(",")
    row = ",".join(f"0.{i + 1}" for i in range(len(columns)))
    (tmp_path / "d.csv").write_text(f"{header}\n{row}\n", "utf-8")
    result = run("init", "-", "--samples", "d.csv", "--seed", "3")
    assert result.exit_code == 0, result.stderr
    inputs = columns[: len(columns) - len(targets)]
    last = "the last column" if len(targets) == 1 else f"the last {len(targets)} columns"
    assert result.stderr == (
        f"note: d.csv: inputs {', '.join(inputs)}; "
        f"targets {', '.join(targets)} ({last}; see --targets)\n"
    )
    spec = loads_spec(result.stdout)
    assert spec.samples_from is not None
    assert spec.samples_from.targets == tuple(targets)
    assert (len(spec.inputs), spec.layers[-1].size) == (len(inputs), len(targets))
    assert spec.samples[0].targets == tuple(float(f"0.{columns.index(t) + 1}") for t in targets)
    quiet = run("init", "-", "--samples", "d.csv", "--seed", "3", "-q")
    assert quiet.stderr == "" and quiet.stdout == result.stdout


def test_init_with_many_rows_trains_in_minibatches_and_refuses_a_mismatch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    rows = "".join(f"{i / 40},{1 - i / 40},{i % 2}\n" for i in range(40))
    (tmp_path / "d.csv").write_text("a,b,y\n" + rows, "utf-8")
    result = run("init", "-", "--samples", "d.csv", "--seed", "1", "-l", "2,4,1")
    assert result.exit_code == 0, result.stderr
    spec = loads_spec(result.stdout)
    assert (spec.training.mode, spec.training.batch_size, len(spec.samples)) == (
        "minibatch",
        32,
        40,
    )
    result = run("init", "-", "--samples", "d.csv", "-l", "3,4,1")
    assert_input_error(result)
    assert "the network has 3 inputs but the columns give 2 (a, b)" in result.stderr
    result = run("init", "-", "--samples", "500")
    assert_input_error(result)
    assert result.stderr == "error: --samples 500: must be 1 to 100 (or a data file)\n"
    result = run("init", "-", "--inputs", "a")
    assert result.stderr == "error: --inputs and --targets name columns of a --samples data file\n"
    result = run("init", "-")
    assert result.stderr.startswith("error: --layers is needed")


def test_a_training_summary_lists_the_first_20_samples(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    rows = "".join(f"{i / 25},{1 - i / 25},0.5,0.5\n" for i in range(25))
    write(tmp_path, FROM_CSV, "x1,x2,t1,t2\n" + rows)
    result = run("train", "net.yaml", "-n", "1", "-q")
    assert result.exit_code == 0, result.stderr
    assert "\n    20   o2 " in result.stdout and "\n    21   o1 " not in result.stdout
    assert "... and 5 more samples (--format jsonl gives every output)\n" in result.stdout
