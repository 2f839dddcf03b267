"""Smoke test: the worked example's headline figure."""

from backprop_cli import load_spec, step


def test_dE_total_dw5() -> None:
    step_ = step(load_spec()).find("dE_total/dw5")
    assert step_ is not None
    assert step_.value == 0.08216704056423077
