"""The text loss curve at narrow widths: every line within the width, the epochs' labels whole
(at 20 columns the last one read `epoch 100…`)."""

from __future__ import annotations

import pytest

from .clihelp import run


@pytest.mark.parametrize("columns", [20, 21, 24, 30, 40])
def test_the_curve_keeps_its_labels_whole(columns: int) -> None:
    out = run("train", "--epochs", "10000", env={"COLUMNS": str(columns)}).stdout
    curve = out[out.index("Loss curve") :].splitlines()
    assert all(len(line) <= columns for line in curve), curve
    assert "…" not in "\n".join(curve)
    labels = " ".join(curve[-4:])
    assert "epoch 0" in labels and "epoch 10000" in labels
    assert "0.298371 |*" in curve[1] and curve[10].startswith("0.000035 |")
    assert "(E_total," in labels and "log scale)" in labels
