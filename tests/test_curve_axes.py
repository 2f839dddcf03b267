"""The training report's loss curve: round ticks on both axes (more than the two ends), the
epoch axis titled under it, E_total's title beside the y axis (turned), not under the x axis."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from backprop_cli.render.html import loss_svg

SVG = "{http://www.w3.org/2000/svg}"


def parts(svg: str) -> tuple[list[tuple[float, float, str, str]], float, float]:
    """Each text (x, y, text, transform), the y axis' x and the x axis' y."""
    root = ET.fromstring(
        re.sub(r"<p .*", "", svg).replace("<svg ", f'<svg xmlns="{SVG[1:-1]}" ', 1)
    )
    texts = [
        (float(t.get("x", 0)), float(t.get("y", 0)), t.text or "", t.get("transform", ""))
        for t in root.iter(f"{SVG}text")
    ]
    axes = [line for line in root.iter(f"{SVG}line") if line.get("class") == "axis"]
    y_axis = next(a for a in axes if a.get("x1") == a.get("x2") and a.get("y1") != a.get("y2"))
    x_axis = next(a for a in axes if a.get("y1") == a.get("y2"))
    return texts, float(y_axis.get("x1", 0)), float(x_axis.get("y1", 0))


def test_a_log_curve_has_decade_ticks_and_its_titles_where_they_belong() -> None:
    # E_total from 0.3 to 3e-5 over 10,000 epochs: the post's run, on a log scale
    points = [(e, 0.3 * 10 ** (-4 * e / 10000)) for e in range(0, 10001, 100)]
    texts, y_axis, x_axis = parts(loss_svg(points))
    left = [t for x, y, t, turn in texts if x < y_axis and not turn]
    assert left == ["1e-5", "1e-4", "0.001", "0.01", "0.1", "1"]  # from the bottom up
    below = [t for x, y, t, turn in texts if y > x_axis and t.isdigit()]
    assert below == ["0", "2000", "4000", "6000", "8000", "10000"]
    title = next((x, y, turn) for x, y, t, turn in texts if t.startswith("E_total"))
    assert title[0] < y_axis and title[1] < x_axis and "rotate(-90" in title[2]
    assert any(t == "epoch" and y > x_axis for x, y, t, _ in texts)


def test_a_linear_curve_has_round_ticks_between_its_ends() -> None:
    points = [(e, 0.3 - 0.02 * e / 50) for e in range(51)]
    texts, y_axis, x_axis = parts(loss_svg(points))
    left = [t for x, y, t, turn in texts if x < y_axis and not turn]
    assert left == ["0.28", "0.285", "0.29", "0.295", "0.3"]
    assert [t for x, y, t, _ in texts if y > x_axis and t.isdigit()] == [
        "0", "10", "20", "30", "40", "50"
    ]  # fmt: skip
    assert not any("log scale" in t for _, _, t, _ in texts)
