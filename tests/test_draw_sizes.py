"""`draw` stays near-linear in the number of edges: labels are placed against their neighbours
only, and past MAX_LABELS weights edges keep their values as tooltips, with a note."""

from __future__ import annotations

import signal
import time
from pathlib import Path

from .clihelp import run
from .test_sizes import _network


def _draw(tmp_path: Path, sizes: tuple[int, int, int]) -> tuple[str, str, float]:
    path = tmp_path / "net.yaml"
    path.write_text(_network(*sizes, 1))
    start = time.process_time()

    def too_slow(signum: int, frame: object) -> None:
        raise TimeoutError("draw took over 30 s")

    old = signal.signal(signal.SIGALRM, too_slow)
    signal.alarm(30)  # the quadratic placement took minutes: fail, don't hang
    try:
        result = run("draw", str(path))
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    assert result.exit_code == 0, result.stderr
    return result.stdout, result.stderr, time.process_time() - start


def test_a_200_200_2_network_draws_in_seconds(tmp_path: Path) -> None:
    svg, err, seconds = _draw(tmp_path, (200, 200, 2))
    assert seconds < 15, seconds  # CPU seconds under coverage; the quadratic placement took minutes
    assert svg.count("<line ") == 200 * 200 + 200 * 2 + 202  # every edge, biases included
    assert "<title>w40400 = 0.01</title>" in svg  # the value, as a tooltip
    assert err == (
        "40402 weights are too many to label (at most 1000); each edge's tooltip shows its weight\n"
    )


def test_a_25_25_2_network_keeps_its_labels_and_is_quick(tmp_path: Path) -> None:
    svg, err, seconds = _draw(tmp_path, (25, 25, 2))
    assert seconds < 15, seconds  # CPU seconds under coverage; the quadratic placement took minutes
    assert err == ""
    assert svg.count('<g id="labels">') == 1 and ">w675 = 0.01<" in svg
