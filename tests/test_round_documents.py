"""Documents of a rounded run (`step --round N -f markdown|latex|html`) say they were rounded and
carry the drift table the terminal shows."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from .tutor_support import run

# The post's network rounded to 4 decimals: (rounded, exact, drift) of some rows, as the terminal
# prints them; the exact w5+ is the post's 0.35891648.
ROWS = {
    "E_total": ("0.2984", "0.298371109", "+0.000028891"),
    "E_total+": ("0.2910", "0.291027774", "-0.000027774"),
    "w3+": ("0.2497", "0.249751144", "-0.000051144"),
    "w5+": ("0.3589", "0.35891648", "-0.00001648"),
}
SAID = "Every intermediate rounded to 4 decimals, as by hand"


def _terminal_rows() -> dict[str, tuple[str, ...]]:
    result = run("step", "--round", "4")
    assert result.exit_code == 0, result.stderr
    tail = result.stdout.split("Drift from rounding every intermediate to 4 decimals")[1]
    rows = {}
    for line in tail.splitlines():
        cells = line.split()
        if len(cells) == 4 and cells[0] != "id":
            rows[cells[0]] = tuple(cells[1:])
    return rows


def test_the_terminal_rows_are_the_ones_the_documents_must_show() -> None:
    rows = _terminal_rows()
    assert len(rows) == 10
    for key, cells in ROWS.items():
        assert rows[key] == cells


def test_markdown_says_it_was_rounded_and_has_the_drift_table() -> None:
    result = run("step", "--round", "4", "-f", "markdown")
    assert result.exit_code == 0, result.stderr
    md = result.stdout
    assert SAID in md.split("## The network")[0]  # said before anything is worked
    assert "## Drift from rounding every intermediate to 4 decimals" in md
    assert "| id | rounded \\(4\\) | exact | drift |" not in md  # () need no escape
    assert "| id | rounded (4) | exact | drift |\n|:---|---:|---:|---:|" in md
    assert "| $w_5^{+}$ | 0.3589 | 0.35891648 | -0.00001648 |" in md
    assert "| $E_{total}^{+}$ | 0.2910 | 0.291027774 | -0.000027774 |" in md
    table = [line for line in md.splitlines() if line.startswith("| $")]
    assert len(table) == len(_terminal_rows()) == 10
    # the results keep their zeros, as the terminal's do: 0.2910 says four decimals were kept
    assert "E_{total}^{+} = 0.2910" in md


def test_latex_says_it_was_rounded_and_has_the_drift_table() -> None:
    result = run("step", "--round", "4", "-f", "latex")
    assert result.exit_code == 0, result.stderr
    tex = result.stdout
    assert SAID in tex
    assert r"\section*{Drift from rounding every intermediate to 4 decimals}" in tex
    assert r"\begin{tabular}{lrrr}" in tex
    assert r"$w_3^{+}$ & $0.2497$ & $0.249751144$ & $-0.000051144$ \\" in tex
    assert tex.index(r"\end{tabular}") < tex.index(r"\end{document}")


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def test_the_page_says_it_was_rounded_and_has_the_drift_table(tmp_path: Path) -> None:
    out = tmp_path / "page.html"
    result = run("step", "--round", "4", "-f", "html", "-o", str(out))
    assert result.exit_code == 0, result.stderr
    page = out.read_text()
    assert f"<p>{SAID};" in page
    assert ">Drift from rounding every intermediate to 4 decimals</h2>" in page
    parser = _Text()
    parser.feed(page.split("Drift from rounding")[1].split("</table>")[0])
    text = " ".join(p.strip() for p in parser.parts if p.strip())
    assert "0.3589 0.35891648 -0.00001648" in text
    assert "0.2910 0.291027774 -0.000027774" in text


@pytest.mark.parametrize("fmt", ["markdown", "latex"])
def test_an_exact_document_says_nothing_of_rounding(fmt: str) -> None:
    result = run("step", "-f", fmt)
    assert result.exit_code == 0, result.stderr
    assert "rounded" not in result.stdout and "Drift" not in result.stdout
    assert re.search(r"E_\{total\}\^\{\+\} = 0\.291027774", result.stdout)


def _drift_rows(page: str) -> dict[str, list[str]]:
    """The drift table of a page, id (its MathML text joined) -> its three numbers."""
    table = page.split(">Drift from rounding every intermediate to 4 decimals</h2>")[1]
    rows = {}
    for tr in re.findall(r"<tr><th scope=\"row\">.*?</tr>", table.split("</table>")[0]):
        parser = _Text()
        parser.feed(tr)
        cells = [p.strip() for p in parser.parts if p.strip()]
        rows["".join(cells[:-3])] = cells[-3:]
    return rows


def test_the_training_report_says_it_was_rounded_and_has_the_drift_table(tmp_path: Path) -> None:
    out = tmp_path / "tr.html"
    result = run("train", "--round", "4", "--epochs", "20", "-f", "html", "-o", str(out))
    assert result.exit_code == 0, result.stderr
    page = out.read_text()
    assert f'<p class="note">{SAID}; the last table' in page.split("</header>")[0]
    rows = _drift_rows(page)
    # the figures the terminal prints for the same run: its E_total line and drift column
    assert rows["Etotal"] == ["0.1491", "0.149106135", "-0.000006135"]
    assert rows["w1"] == ["0.1522", "0.152302584", "-0.000102584"]
    assert rows["w5"] == ["-0.4394", "-0.439544881", "+0.000144881"]
    assert set(rows) == {"Etotal", *(f"w{k}" for k in range(1, 9))}  # b1, b2 are not trained
    terminal = run("train", "--round", "4", "--epochs", "20")
    assert "(exact run: 0.149106135, drift -0.000006135)" in terminal.stdout
    for line in terminal.stdout.split("drift from exact")[1].splitlines():
        cells = line.split()
        if cells and cells[0] in rows:
            assert cells[3] == rows[cells[0]][0]  # the rounded run's new value
            assert float(cells[-1]) == pytest.approx(float(rows[cells[0]][2]), abs=5e-10)
    # the exact column is an exact run's result
    exact = json.loads(run("train", "--epochs", "20", "-f", "json").stdout)
    assert float(rows["w1"][1]) == pytest.approx(exact["parameters"]["w1"], abs=5e-10)
    assert float(rows["Etotal"][1]) == pytest.approx(exact["E_total"], abs=5e-10)
    # its results keep their zeros, as the terminal's do
    assert "<strong>0.6930</strong>" in page and "<strong>0.1491</strong>" in page


def test_an_exact_training_report_says_nothing_of_rounding() -> None:
    result = run("train", "--epochs", "20", "-f", "html")
    assert result.exit_code == 0, result.stderr
    assert "rounded" not in result.stdout and "Drift" not in result.stdout
    assert "<strong>0.149106135</strong>" in result.stdout
