"""What a spec may say, and that it reads back as written."""

from __future__ import annotations

import yaml

from backprop_cli import load_spec, loads_spec, step
from backprop_cli.specs.validate import bundled_example_text, init_weights


def test_worked_example_loads_as_the_post_draws_it() -> None:
    spec = load_spec()
    assert spec.inputs == ("i1", "i2")
    assert [layer.neurons for layer in spec.layers] == [("h1", "h2"), ("o1", "o2")]
    assert spec.layers[0].weights == ((0.15, 0.2), (0.25, 0.3))
    assert spec.layers[1].bias == (0.6,) and spec.layers[1].bias_shared
    assert spec.training.update_biases is False
    assert spec.training.learning_rate == 0.5
    assert [p.id for p in spec.parameters()] == [f"w{i}" for i in range(1, 9)] + ["b1", "b2"]


def test_inputs_as_a_count_and_neuron_names() -> None:
    spec = loads_spec(
        """
inputs: 2
layers:
  - {name: hidden, neurons: [a, b, c], weights: [[1, 2], [3, 4], [5, 6]]}
  - {weights: [[1, 1, 1]], activation: linear}
samples: [{inputs: [1, 2], targets: [3]}]
"""
    )
    assert spec.inputs == ("i1", "i2")
    assert spec.layers[0].neurons == ("a", "b", "c")
    assert spec.layers[1].name == "o" and spec.layers[1].neurons == ("o1",)
    assert spec.layers[0].activation == "sigmoid"  # the default, as in the post
    assert step(spec).find("net_a").formula == "w1 * i1 + w2 * i2"


def test_default_names_for_deeper_networks() -> None:
    spec = loads_spec(
        """
inputs: 1
layers:
  - {weights: [[1], [2]]}
  - {weights: [[1, 2], [3, 4]]}
  - {weights: [[1, 2]]}
samples: [{inputs: [1], targets: [0.5]}]
"""
    )
    assert [layer.name for layer in spec.layers] == ["h1", "h2", "o"]
    assert spec.layers[0].neurons == ("h1_1", "h1_2")


def test_size_and_init_are_reproducible() -> None:
    text = """
inputs: 3
layers:
  - {size: 4, activation: tanh, init: {seed: 7, scheme: xavier}}
  - {size: 2, init: {seed: 7, scheme: he}}
samples: [{inputs: [1, 2, 3], targets: [0, 1]}]
"""
    a, b = loads_spec(text), loads_spec(text)
    assert a.layers == b.layers
    assert len(a.layers[0].weights) == 4 and len(a.layers[0].weights[0]) == 3
    limit = (6 / (3 + 4)) ** 0.5
    assert all(abs(w) <= limit for row in a.layers[0].weights for w in row)
    assert a.layers[0].weights == init_weights("xavier", 7, 0, 4, 3)
    other = loads_spec(text.replace("seed: 7, scheme: xavier", "seed: 8, scheme: xavier"))
    assert other.layers[0].weights != a.layers[0].weights


def test_to_dict_round_trips_through_yaml() -> None:
    for spec in (load_spec(), load_spec("configs/deep-softmax.yaml")):
        again = loads_spec(yaml.safe_dump(spec.to_dict(), sort_keys=False))
        assert again.to_dict() == spec.to_dict()
        assert step(again).updated == step(spec).updated


def test_plain_numbers_like_1e_3_are_numbers() -> None:
    # YAML 1.1 reads 1e-3 as a string; a person means a number.
    spec = loads_spec(bundled_example_text().replace("learning_rate: 0.5", "learning_rate: 5e-1"))
    assert spec.training.learning_rate == 0.5


def test_with_parameters_replaces_by_id() -> None:
    spec = load_spec().with_parameters({"w2": 0.25, "b2": 0.7})
    assert spec.layers[0].weights[0] == (0.15, 0.25)
    assert spec.layers[1].bias == (0.7,)
