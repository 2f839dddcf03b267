"""Labels that tell the truth (issue 8, item 4): what the header, the hints and the headings say."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from tests.clihelp import run

ROOT = Path(__file__).resolve().parent.parent
TWO_SAMPLES = ROOT / "tests" / "valid_configs" / "linear_mse.yaml"

XOR = """\
name: xor
inputs: 2
layers:
  - {name: h, activation: sigmoid, weights: [[1, 2], [3, 4]], bias: 0}
  - {name: o, activation: sigmoid, weights: [[1, 1]], bias: 0}
loss: half_sse
samples:
  - {inputs: [0, 0], targets: [0]}
  - {inputs: [0, 1], targets: [1]}
  - {inputs: [1, 0], targets: [1]}
  - {inputs: [1, 1], targets: [0]}
"""


def test_train_header_names_the_update_order_the_flag_chose() -> None:
    result = run("train", "--epochs", "10000", "--update-order", "sequential")
    assert result.exit_code == 0, result.stderr
    head = result.stdout.splitlines()[0]
    assert head.endswith("(sgd, η = 0.5, online, sequential)"), head
    # and it is the sequential run: the post's closing figures
    assert re.search(r"\b1\s+o1\s+0\.015912196\b", result.stdout)
    assert re.search(r"\b1\s+o2\s+0\.984065734\b", result.stdout)


def test_train_header_keeps_the_configs_order_without_the_flag() -> None:
    head = run("train", "--epochs", "1").stdout.splitlines()[0]
    assert head.endswith("(sgd, η = 0.5, online, simultaneous)"), head


def test_explains_suggested_command_keeps_the_config(tmp_path: Path) -> None:
    config = tmp_path / "my net.yaml"  # a space: the suggestion must survive the shell
    config.write_text((ROOT / "configs" / "mazur.yaml").read_text())
    result = run("explain", "w5+", str(config), "--depth", "0")
    assert result.exit_code == 0, result.stderr
    hint = re.search(r"\(backprop explain (.+?)\)\n", result.stdout.replace("\n    ", " "))
    assert hint, result.stdout
    words = shlex.split(hint.group(1))
    assert words == ["dE_total/dw5", str(config)]
    # pasting it explains that quantity of this config, with the value shown above
    assert "dE_total/dw5 = 0.082167041" in result.stdout
    again = run("explain", *words)
    assert again.stdout.startswith("dE_total/dw5 = dE_total/dout_o1 * dout_o1/dnet_o1")
    assert "dE_total/dw5 = 0.74136507 * 0.186815602 * 0.593269992 = 0.082167041" in again.stdout


def test_explain_without_a_config_suggests_none() -> None:
    result = run("explain", "w5+", "--depth", "0")
    assert "(backprop explain dE_total/dw5)" in result.stdout


def test_explain_says_which_sample_it_shows() -> None:
    result = run("explain", "dE_total/dw1", str(TWO_SAMPLES), "--depth", "1")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert (
        lines[0] == "Showing sample 1 of 2; for sample 2, explain dE_total/dw1[2] (or --sample 2)"
    )
    assert "dE_total/dw1 = 0.274292298 * 0.149146452 * 0.5 = 0.020454862" in result.stdout
    second = run("explain", "dE_total/dw1", str(TWO_SAMPLES), "--sample", "2", "--depth", "1")
    assert second.stdout.splitlines()[0] == (
        "Showing sample 2 of 2; for sample 1, explain dE_total/dw1[1] (or --sample 1)"
    )
    # an update belongs to no sample, but to the update that sample brings (online)
    update = run("explain", "w1+[2]", str(TWO_SAMPLES), "--depth", "0")
    assert update.stdout.splitlines()[0] == (
        "Showing the update from sample 2 of 2; for the update from sample 1, explain w1+[1] "
        "(or --sample 1)"
    )
    assert "w1+ = 1.998977257 - 0.05 * 0.022245896 = 1.997864962" in update.stdout


def test_explain_of_one_sample_names_none() -> None:
    assert run("explain", "delta_o1").stdout.startswith("delta_o1 = ")


def test_draw_keeps_the_first_heading_inside_the_picture(tmp_path: Path) -> None:
    config = tmp_path / "xor.yaml"
    config.write_text(XOR)
    svg = run("draw", str(config)).stdout
    heading = re.search(r'<text x="([\d.]+)" y="58"[^>]*text-anchor="middle">([^<]+)</text>', svg)
    assert heading and heading.group(2) == "inputs (sample 1 of 4)"
    # DejaVu Sans at 12px: about 0.6 em a character, so the text is ~158px wide, centred on x
    half = len(heading.group(2)) * 0.6 * 12 / 2
    assert float(heading.group(1)) - half >= 0, heading.group(0)


def test_explains_hint_for_a_later_update_names_its_sample() -> None:
    # After the update, net_y1+ reads the weights of the last update (sample 2's, online):
    # `backprop explain w3+` would explain the first update's w3+ instead.
    result = run("explain", "net_y1+[1]", str(TWO_SAMPLES), "--depth", "0", "--full")
    joined = " ".join(line.strip(" │") for line in result.stdout.splitlines())
    assert f"w3+ = 1.493398053  (backprop explain 'w3+[2]' {TWO_SAMPLES})" in joined
    again = run("explain", "w3+[2]", str(TWO_SAMPLES), "--depth", "0")
    assert "w3+ = 1.492487226 - 0.05 * (-0.018216545) = 1.493398053" in again.stdout
    first = run("explain", "w3+", str(TWO_SAMPLES), "--depth", "0")
    assert "= 1.492487226" in first.stdout
