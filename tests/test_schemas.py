"""The published JSON Schemas describe what the tool really reads and writes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from jsonschema import Draft202012Validator

from backprop_cli import SpecError, load_spec, loads_spec, step
from backprop_cli.cli import app
from backprop_cli.ops import LOSSES

from .clihelp import run
from .test_fuzz_configs import damaged

ROOT = Path(__file__).parents[1]
PACKAGED = ROOT / "backprop_cli" / "specs" / "schemas"
KINDS = ("config", "trace", "train")
SCHEMAS = {k: json.loads((PACKAGED / f"{k}.json").read_text("utf-8")) for k in KINDS}
VALIDATORS = {k: Draft202012Validator(s) for k, s in SCHEMAS.items()}
CONFIGS = [
    *sorted(p for p in (ROOT / "configs").glob("*.yaml") if "\nlayers:" in p.read_text("utf-8")),
    ROOT / "backprop_cli" / "configs" / "mazur.yaml",
    *sorted((ROOT / "tests" / "valid_configs").glob("*.yaml")),
]
# Bad configs only loading can catch: YAML-level faults, NaN (not JSON), and rules that tie one
# part of the spec to another (shapes, names, softmax on the last layer, targets against the loss).
SCHEMA_CANNOT_SEE = {
    "alias_bomb", "recursive_alias", "duplicate_key", "duplicate_key_in_layer", "merge_key",
    "weight_nan", "batch_size_too_large", "bce_linear_output", "bce_target_outside",
    "bias_wrong_length", "ce_target_negative", "ce_targets_not_distribution",
    "ce_without_softmax", "inputs_wrong_length", "layer_name_duplicate", "neuron_name_clash",
    "optimizer_state_unknown_param", "softmax_hidden", "targets_wrong_length",
    "too_many_weights", "weights_extra_row", "weights_ragged", "weights_vs_neurons",
    "weights_vs_size", "neurons_vs_size", "softmax_one_neuron",
    "weight_octal", "rate_sexagesimal", "rate_hexadecimal", "rate_underscore",  # a JSON Schema
    # sees the number YAML made of them
    "optimizer_state_other_shapes", "optimizer_state_no_step", "optimizer_state_untrained",
    "optimizer_state_negative_v",
}  # fmt: skip


def errors(kind: str, data: Any) -> list[str]:
    return [e.message for e in VALIDATORS[kind].iter_errors(data)]


@pytest.mark.parametrize("kind", KINDS)
def test_schema_is_draft_2020_12(kind: str) -> None:
    assert SCHEMAS[kind]["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(SCHEMAS[kind])


@pytest.mark.parametrize("kind", KINDS)
def test_docs_copy_is_identical(kind: str) -> None:
    docs = ROOT / "docs" / "schemas" / f"{kind}.json"
    assert docs.read_bytes() == (PACKAGED / f"{kind}.json").read_bytes()


@pytest.mark.parametrize("kind", KINDS)
def test_schema_command_prints_the_file(kind: str) -> None:
    result = run("schema", kind)
    assert result.exit_code == 0
    assert result.stdout == (PACKAGED / f"{kind}.json").read_text("utf-8")


def test_trace_schema_embeds_the_config_schema() -> None:
    config = {k: v for k, v in SCHEMAS["config"].items() if k not in ("$schema", "$defs")}
    assert SCHEMAS["trace"]["$defs"]["config"] == config
    for name, sub in SCHEMAS["config"]["$defs"].items():
        assert SCHEMAS["trace"]["$defs"][name] == sub


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_configs_and_their_traces_validate(path: Path) -> None:
    assert errors("config", yaml.safe_load(path.read_text("utf-8"))) == []
    for order in ("simultaneous", "sequential"):
        doc = json.loads(run("step", str(path), "--format", "json", "--update-order", order).stdout)
        assert errors("trace", doc) == []
        assert errors("config", doc["network"]) == []  # the trace's spec reads back as a config


def test_filtered_and_edge_traces_validate() -> None:
    only = json.loads(run("step", "--only", "dE_total/dw*", "--format", "json").stdout)
    assert len(only["steps"]) == 8 and errors("trace", only) == []
    edge = loads_spec(
        "inputs: 1\nlayers: [{name: o, activation: softmax, weights: [[1000], [-1000]]}]\n"
        "loss: cross_entropy\nsamples: [{inputs: [1], targets: [0, 1]}]\n"
    )
    doc = json.loads(json.dumps(step(edge).to_dict()))
    assert any(s["value"] is None for s in doc["steps"])  # a null value, with its note
    assert errors("trace", doc) == []


def test_trace_schema_rejects_drift() -> None:
    doc = step(load_spec()).to_dict()
    doc["steps"][0]["colour"] = "red"
    doc["steps"][1]["value"] = "0.5"
    del doc["loss_after"]
    assert len(errors("trace", doc)) == 3


@pytest.mark.parametrize(
    "name", sorted(p.stem for p in (ROOT / "tests" / "bad_configs").glob("*.yaml"))
)
def test_schema_rejects_bad_configs(name: str) -> None:
    if name == "expected" or name in SCHEMA_CANNOT_SEE:
        return
    try:
        data = yaml.safe_load((ROOT / "tests" / "bad_configs" / f"{name}.yaml").read_bytes())
    except (yaml.YAMLError, UnicodeDecodeError):
        return  # not YAML at all
    assert errors("config", data), name


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=damaged())
def test_schema_accepts_every_config_that_loads(raw: bytes) -> None:
    try:
        loads_spec(raw.decode("utf-8"))
    except (SpecError, UnicodeDecodeError):
        return
    assert errors("config", yaml.safe_load(raw)) == []


def test_train_records() -> None:
    good = [
        {"type": "epoch", "epoch": 1, "E_total": 0.29},
        {"type": "epoch", "epoch": 2, "E_total": None},
        {
            "type": "summary",
            "epochs": 2,
            "E_total": 0.28,
            "parameters": {"w1": 0.15, "b1": 0.35},
            "outputs": [[0.75, 0.77]],
        },
    ]
    bad = [
        {"epoch": 1, "E_total": 0.29},
        {"type": "epoch", "epoch": -1, "E_total": 0.29},
        {"type": "epoch", "epoch": 1, "E_total": 0.29, "extra": 1},
        {"type": "summary", "epochs": 2, "E_total": 0.28, "parameters": {}},
    ]
    assert [errors("train", r) for r in good] == [[], [], []]
    assert all(errors("train", r) for r in bad)


def test_train_output_validates() -> None:
    import typer

    if "train" not in typer.main.get_command(app).commands:  # type: ignore[attr-defined]
        pytest.skip("the train command is not on this branch yet")
    result = run("train", "--epochs", "3", "--format", "jsonl")
    assert result.exit_code == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert lines and lines[-1]["type"] == "summary"
    assert [errors("train", r) for r in lines] == [[] for _ in lines]


def test_committed_schemas_are_generated_from_the_catalogue() -> None:
    # `python -m backprop_cli.specs.schemas.build` writes them; nobody edits the names by hand.
    from backprop_cli.specs.schemas import build

    for kind in build.KINDS:
        expected = build.text(kind)
        assert (build.HERE / f"{kind}.json").read_text("utf-8") == expected, kind
        assert (build.DOCS / f"{kind}.json").read_text("utf-8") == expected, kind
    assert (build.DOCS.parent / "operations.md").read_text("utf-8") == build.operations()
    loss = json.loads(build.text("config"))["properties"]["loss"]
    names = loss["anyOf"][0] if "anyOf" in loss else loss
    assert names["enum"] == list(LOSSES)
