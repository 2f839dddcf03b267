"""The worked example, figure by figure.

Each figure is written twice: as the post prints it (held to one unit of its last digit, as the post
rounds some intermediates by hand) and as the exact float64 value (held to 1e-12 relative; in fact
the engine reproduces each one bit for bit).
"""

from __future__ import annotations

import math

import pytest

from backprop_cli import load_spec, loads_spec, step
from backprop_cli.engine.passes import dataset_loss
from backprop_cli.specs.model import initial_values
from backprop_cli.specs.validate import bundled_example_text

# id, published, exact. Arithmetic as in the post, e.g.
#   net_h1 = w1*i1 + w2*i2 + b1*1 = 0.15*0.05 + 0.2*0.1 + 0.35*1 = 0.3775
#   delta_o1 = -(target_o1 - out_o1) * out_o1*(1 - out_o1) = 0.74136507 * 0.186815602
#   w5+ = w5 - η * dE_total/dw5 = 0.4 - 0.5 * 0.082167041 = 0.35891648
FIGURES = [
    ("net_h1", "0.3775", 0.3775),
    ("out_h1", "0.593269992", 0.5932699921071872),
    ("out_h2", "0.596884378", 0.596884378259767),
    ("net_o1", "1.105905967", 1.10590596705977),
    ("out_o1", "0.75136507", 0.7513650695523157),
    ("out_o2", "0.772928465", 0.7729284653214625),
    ("E_o1", "0.274811083", 0.274811083176155),
    ("E_o2", "0.023560026", 0.023560025583847746),
    ("E_total", "0.298371109", 0.2983711087600027),
    ("dE_total/dout_o1", "0.74136507", 0.7413650695523157),
    ("dout_o1/dnet_o1", "0.186815602", 0.18681560180895948),
    ("dnet_o1/dw5", "0.593269992", 0.5932699921071872),
    ("dE_total/dw5", "0.082167041", 0.08216704056423077),
    ("delta_o1", "0.138498562", 0.13849856162855695),
    ("w5+", "0.35891648", 0.35891647971788465),
    ("w6+", "0.408666186", 0.4086661860762334),
    ("w7+", "0.511301270", 0.5113012702387375),
    ("w8+", "0.561370121", 0.5613701211079891),
    ("dnet_o1/dout_h1", "0.40", 0.4),
    ("dE_o1/dout_h1", "0.055399425", 0.05539942465142278),
    ("dE_o2/dout_h1", "-0.019049119", -0.019049118258278118),
    ("dE_total/dout_h1", "0.036350306", 0.03635030639314466),
    ("dout_h1/dnet_h1", "0.241300709", 0.24130070857232525),
    ("dnet_h1/dw1", "0.05", 0.05),
    ("dE_total/dw1", "0.000438568", 0.0004385677344743465),
    ("w1+", "0.149780716", 0.1497807161327628),
    ("w2+", "0.19956143", 0.19956143226552567),
    ("w3+", "0.24975114", 0.24975114363236958),
    ("w4+", "0.29950229", 0.29950228726473915),
]


@pytest.fixture(scope="module")
def trace():  # type: ignore[no-untyped-def]
    return step(load_spec())


@pytest.mark.parametrize(("step_id", "published", "exact"), FIGURES)
def test_published_figure(trace, step_id: str, published: str, exact: float) -> None:  # type: ignore[no-untyped-def]
    value = trace.find(step_id).value
    decimals = len(published.split(".")[1])
    assert abs(value - float(published)) <= 10.0**-decimals, (step_id, value, published)
    assert value == pytest.approx(exact, rel=1e-12, abs=0)


def test_bit_for_bit(trace) -> None:  # type: ignore[no-untyped-def]
    assert [trace.find(i).value for i, _, _ in FIGURES] == [e for _, _, e in FIGURES]


def test_losses_before_and_after(trace) -> None:  # type: ignore[no-untyped-def]
    # The post's text: "the total error is now down to 0.291027924" comes from the sequential
    # order; following the text's own algorithm gives 0.29102777369359933.
    assert trace.loss_before == 0.2983711087600027
    assert trace.loss_after == pytest.approx(0.29102777369359933, rel=1e-12)
    assert trace.find("E_total+").value == trace.loss_after


def test_sequential_order_gives_the_posts_closing_figure() -> None:
    seq = step(load_spec(), update_order="sequential")
    assert seq.loss_after == pytest.approx(0.29102792390544197, rel=1e-12)
    assert f"{seq.loss_after:.9f}" == "0.291027924"
    # the hidden deltas see w5+, not w5
    dnet = seq.find("dnet_o1/dout_h1")
    assert dnet.formula == "w5+"
    assert dnet.value == 0.35891647971788465
    # output weights are the same in both orders; hidden weights differ
    simul = step(load_spec())
    assert seq.updated["w5"] == simul.updated["w5"]
    assert seq.updated["w1"] != simul.updated["w1"]


def test_biases_stay_fixed_as_in_the_post(trace) -> None:  # type: ignore[no-untyped-def]
    assert trace.updated["b1"] == 0.35
    assert trace.updated["b2"] == 0.6
    assert trace.find("dE_total/db1") is None


def test_bias_gradients_when_trained() -> None:
    text = bundled_example_text().replace("update_biases: false", "update_biases: true")
    t = step(loads_spec(text))
    # shared bias: dE_total/db2 = delta_o1*1 + delta_o2*1
    db2 = t.find("dE_total/db2")
    assert db2.formula == "delta_o1 * 1 + delta_o2 * 1"
    assert db2.value == pytest.approx(0.13849856162855695 - 0.03809823651655623, rel=1e-12)
    assert t.updated["b2"] == pytest.approx(0.6 - 0.5 * db2.value, rel=1e-15)
    db1 = t.find("dE_total/db1")
    assert db1.value == pytest.approx(
        t.find("delta_h1").value + t.find("delta_h2").value, rel=1e-15
    )


def test_per_neuron_biases_are_named_after_their_neuron() -> None:
    text = (
        bundled_example_text()
        .replace("bias: 0.35 ", "bias: [0.35, 0.36]")
        .replace("update_biases: false", "update_biases: true")
    )
    spec = loads_spec(text)
    # beside per-neuron biases a shared one is named by its layer: b_o, not b2 beside b_h2
    assert [p.id for p in spec.parameters() if p.kind == "bias"] == ["b_h1", "b_h2", "b_o"]
    t = step(spec)
    assert t.find("net_h2").formula == "w3 * i1 + w4 * i2 + b_h2 * 1"
    assert t.find("dE_total/db_h1").value == t.find("delta_h1").value


def test_step_order_follows_the_post(trace) -> None:  # type: ignore[no-untyped-def]
    ids = trace.ids()
    order = [
        "net_h1",
        "out_h1",
        "net_o1",
        "out_o1",
        "E_o1",
        "E_total",
        "dE_total/dout_o1",
        "dout_o1/dnet_o1",
        "delta_o1",
        "dnet_o1/dw5",
        "dE_total/dw5",
        "dnet_o1/dout_h1",
        "dE_o1/dout_h1",
        "dE_o2/dout_h1",
        "dE_total/dout_h1",
        "dout_h1/dnet_h1",
        "delta_h1",
        "dnet_h1/dw1",
        "dE_total/dw1",
        "w5+",
        "w1+",
        "net_h1+",
        "E_total+",
    ]
    positions = [ids.index(i) for i in order]
    assert positions == sorted(positions)
    assert {s.phase for s in trace.steps} == {"forward", "loss", "backward", "update", "after"}


def test_formula_and_substitution(trace) -> None:  # type: ignore[no-untyped-def]
    s = trace.find("net_h1")
    assert s.formula == "w1 * i1 + w2 * i2 + b1 * 1"
    assert s.substituted() == "0.15 * 0.05 + 0.2 * 0.1 + 0.35 * 1"
    assert s.inputs == ("w1", "i1", "w2", "i2", "b1")
    g = trace.find("dE_total/dw5")
    assert g.formula == "dE_total/dout_o1 * dout_o1/dnet_o1 * dnet_o1/dw5"
    assert g.inputs == ("dE_total/dout_o1", "dout_o1/dnet_o1", "dnet_o1/dw5")
    w = trace.find("w7+")
    # negative numbers are bracketed where they are substituted
    assert w.substituted(lambda x: f"{x:.9f}") == "0.500000000 - 0.500000000 * (-0.022602540)"


def test_every_input_names_something_known(trace) -> None:  # type: ignore[no-untyped-def]
    spec = trace.spec
    known = {p.id for p in spec.parameters()} | set(spec.inputs)
    known |= {f"target_{n}" for n in spec.outputs}
    for s in trace.steps:
        for i in s.inputs:
            assert i in known or i.rstrip("+") in known, (s.id, i)
        known.add(s.id)


def test_dataset_loss_matches_trace(trace) -> None:  # type: ignore[no-untyped-def]
    spec = trace.spec
    assert dataset_loss(spec, initial_values(spec)) == trace.find("E_total").value


def test_round_to_drifts_like_a_calculator() -> None:
    exact = step(load_spec())
    rounded = step(load_spec(), round_to=4)
    for s in rounded.steps:
        assert s.value == round(s.value, 4)
    drift = abs(rounded.loss_after - exact.loss_after)
    assert 0 < drift < 1e-3
    # the summary's losses are the rounded run's own, not the exact ones
    assert rounded.loss_before == rounded.find("E_total").value == 0.2984
    assert rounded.loss_after == rounded.find("E_total+").value


def test_batch_mode_averages_the_sample_gradients() -> None:
    text = (
        bundled_example_text()
        .replace("samples:\n", "samples:\n  - inputs: [0.20, 0.70]\n    targets: [0.50, 0.10]\n")
        .replace("update_biases: false", "update_biases: false\n  mode: batch")
    )
    spec = loads_spec(text)
    t = step(spec)
    one = [step(_single(spec, s)) for s in range(2)]
    g = t.find("dE_batch/dw5")
    assert g.sample is None
    expected = (one[0].find("dE_total/dw5").value + one[1].find("dE_total/dw5").value) / 2
    assert g.value == expected
    assert t.updated["w5"] == 0.4 - 0.5 * expected
    assert t.loss_before == pytest.approx((one[0].loss_before + one[1].loss_before) / 2, rel=1e-15)
    assert t.find("E+").value == t.loss_after


def test_online_mode_updates_once_per_sample_in_order() -> None:
    text = bundled_example_text().replace(
        "samples:\n", "samples:\n  - inputs: [0.20, 0.70]\n    targets: [0.50, 0.10]\n"
    )
    spec = loads_spec(text)
    t = step(spec)
    first = step(_single(spec, 0))
    second = step(_single(spec.with_parameters(first.updated), 1))
    assert t.updated == second.updated
    assert {s.update for s in t.steps if s.phase == "update"} == {0, 1}


def test_minibatch_batches_in_order() -> None:
    from backprop_cli.specs.model import batches

    text = (
        bundled_example_text()
        .replace(
            "samples:\n",
            "samples:\n" + "  - inputs: [0.20, 0.70]\n    targets: [0.50, 0.10]\n" * 4,
        )
        .replace("update_biases: false", "update_biases: false\n  mode: minibatch\n  batch_size: 2")
    )
    spec = loads_spec(text)
    assert batches(spec) == [[0, 1], [2, 3], [4]]
    t = step(spec)
    assert {s.update for s in t.steps if s.id == "w5+"} == {0, 1, 2}


def test_softmax_cross_entropy_shows_jacobian_and_simplification() -> None:
    t = step(load_spec("configs/deep-softmax.yaml"))
    assert t.find("dout_o1/dnet_o2").formula == "-out_o1 * out_o2"
    delta = t.find("delta_o1")
    assert delta.formula.endswith("= out_o1 - target_o1")
    assert "dout_o2/dnet_o1" in delta.formula
    full_sum = sum(
        t.find(f"dE_total/dout_o{i}").value * t.find(f"dout_o{i}/dnet_o1").value for i in (1, 2, 3)
    )
    assert delta.value == pytest.approx(full_sum, rel=1e-12)
    assert math.isfinite(t.loss_after) and t.loss_after < t.loss_before


def _single(spec, s: int):  # type: ignore[no-untyped-def]
    from dataclasses import replace

    return replace(spec, samples=(spec.samples[s],))
