"""`backprop init`: exercises that load, step, and come back the same for the same seed."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

from backprop_cli import load_spec, step
from backprop_cli.specs.model import Names
from backprop_cli.specs.validate import loads_spec
from backprop_cli.tutor.exercise import ExerciseError, Options, make_exercise, parse_layers

from .runcli import cli


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    for path in (a, b):
        r = cli("init", str(path), "--layers", "2,3,2", "--seed", "42")
        assert r.returncode == 0, r.stderr
        assert r.stdout == ""  # data goes to the file; the message to stderr
        assert str(path) in r.stderr
    assert a.read_bytes() == b.read_bytes()
    assert make_exercise(Options((2, 3, 2), seed=42)).encode() == a.read_bytes()
    assert make_exercise(Options((2, 3, 2), seed=43)) != a.read_text()
    assert "--seed 42" in a.read_text()  # the file says how to make it again


COMBOS = [
    Options((2, 2, 2)),
    Options((3, 4, 4, 2), seed=1),
    Options((2, 3, 3), loss="cross_entropy", seed=2, samples=3),
    Options((4, 2), activation="tanh", loss="mse", seed=3, decimals=3),
    Options((2, 2, 1), activation="relu", output_activation="linear", seed=4),
    Options((2, 3, 2), activation="leaky_relu", loss="binary_cross_entropy", seed=5),
    Options((3, 2, 4), output_activation="softmax", seed=6, samples=2),
]


@pytest.mark.parametrize("opts", COMBOS, ids=lambda o: f"{o.layers}-{o.loss}-{o.activation}")
def test_valid_config_that_steps(tmp_path: Path, opts: Options) -> None:
    path = tmp_path / "ex.yaml"
    path.write_text(make_exercise(opts), encoding="utf-8")
    spec = load_spec(path)
    assert (len(spec.inputs), *(layer.size for layer in spec.layers)) == opts.layers
    assert spec.loss == opts.loss and spec.layers[-1].activation == opts.output
    assert len(spec.samples) == opts.samples
    trace = step(spec)
    assert math.isfinite(trace.loss_before) and math.isfinite(trace.loss_after)
    assert trace.loss_after != trace.loss_before
    unit = 10.0**-opts.decimals
    for p in spec.parameters():  # rounded to the decimals asked for, never 0
        assert p.value != 0 and abs(p.value / unit - round(p.value / unit)) < 1e-6
        assert -1 <= p.value <= 1
    for sample in spec.samples:
        assert all(0 < x <= 1 for x in sample.inputs)
        if opts.output == "softmax":
            assert sorted(sample.targets) == [0.0] * (opts.layers[-1] - 1) + [1.0]
        elif opts.output == "sigmoid":
            assert all(0 < t < 1 for t in sample.targets)


@pytest.mark.parametrize("opts", COMBOS[:3], ids=str)
def test_comments_name_the_weights_of_each_row(opts: Options) -> None:
    text = make_exercise(opts)
    spec = loads_spec(text)
    names = Names.of(spec)
    rows = re.findall(r"^      - \[.*\]\s+# ([w0-9, ]+?)\s+\((.*)\)$", text, flags=re.M)
    expected = [row for layer in names.weight for row in layer]
    assert [ids.split(", ") for ids, _ in rows] == expected
    # ... and the edges in brackets are the row's inputs into its neuron
    _, first_edges = rows[0]
    assert first_edges.split(", ")[0] == f"{spec.inputs[0]}→{spec.layers[0].neurons[0]}"


def test_step_runs_on_the_written_file(tmp_path: Path) -> None:
    path = tmp_path / "ex.yaml"
    assert cli("init", str(path), "-l", "3,4,4,2", "--seed", "9").returncode == 0
    r = cli("step", str(path), "--only", "E_total")
    assert r.returncode == 0, r.stderr
    assert "E_total" in r.stdout


def test_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    path = tmp_path / "ex.yaml"
    path.write_text("keep me\n")
    r = cli("init", str(path), "--layers", "2,2,2", "--seed", "1")
    assert r.returncode == 2
    assert r.stdout == "" and r.stderr.startswith("error:") and "--force" in r.stderr
    assert path.read_text() == "keep me\n"
    r = cli("init", str(path), "--layers", "2,2,2", "--seed", "1", "--force")
    assert r.returncode == 0
    assert path.read_text() == make_exercise(Options((2, 2, 2), seed=1))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ex.yaml"]  # no temporary file left


@pytest.mark.parametrize("layers", ["2", "2,x", "0,2", "2,,2", "", "2,2,2,2,2,2,2,2,2,2,2", "2,99"])
def test_bad_layers_exit_2(tmp_path: Path, layers: str) -> None:
    path = tmp_path / "ex.yaml"
    r = cli("init", str(path), "--layers", layers)
    assert r.returncode == 2
    assert r.stdout == ""
    assert r.stderr.count("\n") == 1 and "--layers" in r.stderr
    assert not path.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--loss", "cross_entropy", "--output-activation", "sigmoid"], "needs"),
        (["--activation", "softmax"], "only for the output layer"),
        (["--activation", "sigmod"], "did you mean 'sigmoid'"),
        (["--loss", "hinge"], "--loss 'hinge'"),
        (["--learning-rate", "0"], "greater than 0"),
    ],
)
def test_bad_options_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    r = cli("init", str(tmp_path / "ex.yaml"), "--layers", "2,2,2", *args)
    assert r.returncode == 2 and message in r.stderr and r.stdout == ""
    assert not (tmp_path / "ex.yaml").exists()


def test_dash_writes_to_stdout() -> None:
    r = cli("init", "-", "--layers", "2,2,2", "--seed", "7")
    assert r.returncode == 0
    assert r.stdout == make_exercise(Options((2, 2, 2), seed=7))


def test_without_seed_the_file_records_one(tmp_path: Path) -> None:
    path = tmp_path / "ex.yaml"
    assert cli("init", str(path), "--layers", "2,2").returncode == 0
    seed = re.search(r"--seed (\d+)", path.read_text())
    assert seed is not None
    again = make_exercise(Options((2, 2), seed=int(seed.group(1))))
    assert again == path.read_text()


def test_parse_layers() -> None:
    assert parse_layers("2, 3,2") == (2, 3, 2)
    with pytest.raises(ExerciseError):
        parse_layers("2")
