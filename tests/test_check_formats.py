"""`backprop check ANSWERS`: the formats answers come in (.yaml, .json ids or trace, .csv), their
errors as file:line:col, and the Python API `from backprop_cli import check`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from backprop_cli import check, load_spec, loads_spec, step
from backprop_cli.specs.source import SourceError
from backprop_cli.tutor.answers import kind_of, parse_answers

from .tutor_support import ONLINE_SPEC, run

MAZUR = load_spec()
TRACE = step(MAZUR)


def test_json_ids_csv_and_yaml_agree(tmp_path: Path) -> None:
    answers = {"net_h1": "0.3825", "w5+": "0.35891648", "dE_total/dw5": "0.082167041"}
    (tmp_path / "a.json").write_text(
        "{" + ", ".join(f'"{k}": {v}' for k, v in answers.items()) + "}"
    )
    (tmp_path / "a.csv").write_text(
        "id,value\n" + "".join(f"{k},{v}\n" for k, v in answers.items())
    )
    (tmp_path / "a.yaml").write_text("".join(f'"{k}": {v}\n' for k, v in answers.items()))
    reports = [check(tmp_path / f"a.{ext}") for ext in ("json", "csv", "yaml")]
    for r in reports:
        assert [(v.answer.key, v.answer.text, v.status) for v in r.verdicts] == [
            ("net_h1", "0.3825", "wrong"),
            ("dE_total/dw5", "0.082167041", "right"),
            ("w5+", "0.35891648", "right"),
        ]
        assert r.codes[0] == "neighbour_weight"
    assert [v.answer.line for v in reports[1].verdicts] == [2, 4, 3]


def test_a_trace_of_another_program_with_sample_and_update(tmp_path: Path) -> None:
    # A program imitating `steps` of an online run over two samples: w5+ twice, told apart by
    # `update`; one value off in the second update.
    spec = loads_spec(ONLINE_SPEC)
    steps = [
        {"id": s.id, "sample": s.sample, "update": s.update, "value": s.value}
        for s in step(spec).steps
    ]
    second = next(s for s in steps if s["id"] == "w5+" and s["update"] == 1)
    second["value"] *= 1.01
    path = tmp_path / "mine.json"
    path.write_text(json.dumps({"steps": steps}, indent=1))
    report = check(path, spec)
    wrong = [v for v in report.verdicts if v.status == "wrong"]
    assert [(v.answer.key, v.step.update) for v in wrong] == [("w5+", 1)]
    assert wrong[0].answer.line == 7 + 6 * steps.index(second)  # the line of its value


def test_the_fixed_bias_updated_is_accepted() -> None:
    report = check({"b1+": 0.35, "b2+": 0.6})
    assert report.passed
    report = check({"b1+": 0.3406371953026479})
    assert [v.status for v in report.verdicts] == ["wrong"]
    assert report.verdicts[0].step.note == "held fixed by the config"


@pytest.mark.parametrize(
    ("suffix", "text", "message"),
    [
        (
            ".json",
            '{"w5+": 0.3589,\n "dE_total/dw9": 0.1}',
            "a.json:2:18: dE_total/dw9: no such quantity; closest: dE_total/dw8",
        ),
        (".json", '{"w5+": 0.3589,,}', "a.json:1:16: not valid JSON: Expecting property name"),
        (".json", '{"w5+": "abc"}', "a.json:1:9: w5+: expected a number, got the string 'abc'"),
        (".json", '{"w5+": [1, 2]}', "a.json:1:9: w5+: expected a number, got a list"),
        (".json", "[1, 2]", "a.json:1:1: expected an object of ids to values"),
        (
            ".json",
            '{"steps": [{"value": 1}]}',
            "a.json:1:12: steps[0]: expected an object with an id",
        ),
        (
            ".json",
            '{"steps": [{"id": "w5+", "value": 1, "update": -1}]}',
            "a.json:1:12: steps[0].update: expected a count from 0",
        ),
        (
            ".csv",
            "id,value\nw5+,0.3589\nw5,0.4\n",
            "a.csv:3:1: w5: 'w5' is given (parameter = 0.4), not computed",
        ),
        (".csv", "w5+,0.3589,1\n", "a.csv:1:1: expected 2 columns `id,value`, got 3"),
        (".csv", "w5+,x\n", "a.csv:1:5: w5+: expected a number written in digits, got 'x'"),
        (".csv", "w5+,0.3589\nw5+,0.36\n", "a.csv:2:1: w5+: the same quantity as 'w5+' on line 1"),
        (".csv", "\n", "a.csv:1:1: no answers"),
        (".txt", "w5+: 1", "a.txt: unknown answers format '.txt'"),
    ],
)
def test_bad_answers_name_the_place(suffix: str, text: str, message: str) -> None:
    with pytest.raises(SourceError) as exc:
        parse_answers(text, f"a{suffix}", TRACE, suffix)
    assert str(exc.value).startswith(message), str(exc.value)


def test_bad_files_exit_2_with_one_line(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    path.write_text('{"dE/dw5": 0.08}')
    result = run("check", str(path))
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"error: {path}:1:12: dE/dw5: no such quantity; closest: ")


def test_kind_follows_extension_and_header() -> None:
    assert kind_of(Path("a.jsonl")) == "log"
    assert kind_of(Path("a.csv"), "epoch,E_total\n0,0.29\n") == "log"
    assert kind_of(Path("a.csv"), "id,value\nw5+,0.3\n") == "answers"
    assert kind_of(Path("a.json"), "epoch") == "answers"


def test_json_report_of_a_program(tmp_path: Path) -> None:
    path = tmp_path / "trace.json"
    path.write_text(run("step", "--format", "json").stdout)
    result = run("check", str(path), "--format", "json")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert doc["passed"] is True and doc["summary"] == {"right": 66, "rounding": 0, "wrong": 0}
    row = next(a for a in doc["answers"] if a["id"] == "dE_total/dw5")
    assert row["program"] is True and row["reason"] == "program output: within 1e-9 relative"
    table = run("check", str(path)).stdout
    assert "57 of 66 answers have 12 or more significant digits" in table
    line = next(x for x in table.splitlines() if x.startswith("dE_total/dw5 "))
    assert line.split()[-2:] == ["rel.", "✓"]


def test_api_takes_a_config_path_and_rejects_other_things() -> None:
    report = check({"w5+": 0.35891648}, Path(__file__).parents[1] / "configs" / "mazur.yaml")
    assert report.passed and report.network == MAZUR.name
    with pytest.raises(TypeError, match="cannot check list"):
        check([1, 2])


def test_matrices_under_layer_ids(tmp_path: Path) -> None:
    # W_o+ row by row as in the config (one row per neuron); a column as a flat list too.
    path = tmp_path / "m.json"
    path.write_text(
        '{"W_o+": [[0.35891648, 0.408666186],\n'
        "          [0.51130127, 0.561370121]],\n"
        ' "delta_h": [0.00877, 0.00995],\n'
        ' "dE_total/dW_h": [[0.000438568, 0.000877135], [0.000497713, 0.0009945]]}'
    )
    report = check(path)
    rows = {v.answer.key: (v.answer.line, v.status) for v in report.verdicts}
    assert rows == {
        "delta_h1": (3, "right"),
        "delta_h2": (3, "right"),
        "dE_total/dw1": (4, "right"),
        "dE_total/dw2": (4, "right"),
        "dE_total/dw3": (4, "right"),
        "dE_total/dw4": (4, "wrong"),  # 0.0009945 for 0.000995425
        "w5+": (1, "right"),
        "w6+": (1, "right"),
        "w7+": (2, "right"),
        "w8+": (2, "right"),
    }
    yaml = tmp_path / "m.yaml"
    yaml.write_text("W_h+: [[0.1498, 0.1996], [0.2490, 0.2995]]\n")
    assert [v.status for v in check(yaml).verdicts] == ["right", "right", "wrong", "right"]


def test_a_matrix_of_the_wrong_shape_names_its_place() -> None:
    with pytest.raises(SourceError) as exc:
        parse_answers('{"w5+": 0.35,\n "W_o+": [[0.35, 0.40]]}', "a.json", TRACE, ".json")
    assert str(exc.value) == (
        "a.json:2:10: W_o+: expected a 2×2 matrix: 2 rows (one per neuron) of 2"
    )
    with pytest.raises(SourceError) as exc:
        parse_answers("delta_o: [1, 2, 3]\n", "a.yaml", TRACE)
    assert str(exc.value).endswith(
        "delta_o: expected a 2×1 matrix: 2 rows (one per neuron) of 1, or a list of 2"
    )


def test_a_narrow_terminal_keeps_every_number_and_verdict_whole() -> None:
    # Narrower than the table, rich would cut the numbers short and drop the verdict column.
    import io

    from rich.console import Console

    from backprop_cli import check
    from backprop_cli.render.check import render_report

    report = check(Path(__file__).resolve().parent.parent / "configs" / "answers-example.yaml")
    out = io.StringIO()
    Console(file=out, width=40, force_terminal=False).print(render_report(report), crop=False)
    lines = [line.rstrip() for line in out.getvalue().splitlines()]  # as emit() trims them
    assert max(map(len, lines)) <= 40
    # an answer a line, its numbers on the next: the table's columns do not fit 40 columns
    at = lines.index("net_h1 ✗")
    assert lines[at + 1 : at + 3] == ["  you wrote 0.3825, expected 0.3775,", "  allowed ±5e-05"]
    at = lines.index("out_h1 ✓")
    assert lines[at + 1 : at + 3] == [
        "  you wrote 0.593269992, expected",
        "  0.593269992, allowed ±5e-10",
    ]
