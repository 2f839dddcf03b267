"""Text from a config is data: what reaches a script is a literal, what reaches a document is
escaped, and nothing a config holds runs (issue 20, "Text is data").

Every text a config carries (its name, its file's name, a samples file's name and column names)
is given quotes of every kind, backslashes, line breaks of every kind, #, braces, markup and
non-ASCII. The exported scripts must compile to the same tokens as for a plain config but for
the two literals that hold the name and the file, run creating no file, and print the same
numbers; documents must keep the structure (tags, lines) a plain config gives them.
"""

from __future__ import annotations

import ast
import csv
import dataclasses
import html.parser
import io
import json
import re
import subprocess
import sys
import tokenize
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from backprop_cli.export import ExportError, script
from backprop_cli.specs.validate import load_spec

from .clihelp import assert_input_error, run

ROOT = Path(__file__).resolve().parents[1]

# Each kind of text that has broken generated code or markup somewhere: Python's quotes and
# comments, an f-string's braces, every line break Python or an editor knows, markup of HTML, XML,
# LaTeX and Markdown, and text beyond ASCII.
PAYLOAD = (
    'x"""; import os; os.system("touch PWNED"); """'
    "'''; os.system('touch PWNED2'); '''"
    " \\ \\n\\\n\n\r\r\n\t# {a} {{b}} {0!r} f'{os}'"
    "\u2028\u2029\u0085 é∂ ünï"
    " </script><b>&amp;</b> ]]> --> <!-- $\\alpha$ %_^~|*`[l](u) \\end{document}"
)
# A file's name: no / (a folder) and no NUL; the rest of the payload
FILE_TEXT = PAYLOAD.replace("/", "")
COLUMN = "c\"\"\"'''\\ # {a} {{b}} é"  # a CSV header cell: quotes and line breaks aside


def _config(name: str, samples: object) -> str:
    spec = yaml.safe_load((ROOT / "configs" / "mazur.yaml").read_text())
    spec["name"] = name
    spec["training"]["mode"] = "batch"
    spec["samples"] = samples
    return yaml.safe_dump(spec, allow_unicode=True)


SAMPLES = [
    {"inputs": [0.05, 0.1], "targets": [0.01, 0.99]},
    {"inputs": [0.2, 0.3], "targets": [0.5, 0.4]},
]


def _csv(folder: Path, file: str, columns: list[str]) -> dict[str, object]:
    with (folder / file).open("w", newline="", encoding="utf-8") as f:
        rows = csv.writer(f)
        rows.writerow(columns)
        for s in SAMPLES:
            rows.writerow([*s["inputs"], *s["targets"]])  # type: ignore[misc]
    return {"csv": file, "inputs": columns[:2], "targets": columns[2:]}


def _pair(folder: Path, with_csv: bool) -> tuple[str, str]:
    """(the payload config's file, a plain one's) in folder, the same network and samples."""
    made = []
    for tag, name, file, column in (
        ("plain", "plain", "plain", "c"),
        ("payload", PAYLOAD, FILE_TEXT, COLUMN),
    ):
        sub = folder / tag
        sub.mkdir()
        samples: object = SAMPLES
        if with_csv:
            samples = _csv(sub, f"s{file}.csv", [f"{x}{column}" for x in "abcd"])
        (sub / f"{file}.yaml").write_text(_config(name, samples), encoding="utf-8")
        made.append(f"{tag}/{file}.yaml")
    return made[1], made[0]


def _tokens(text: str) -> list[tuple[int, str]]:
    return [(t.type, t.string) for t in tokenize.generate_tokens(io.StringIO(text).readline)]


def _literals(text: str) -> dict[str, object]:
    """The script's module-level assignments of a literal, by name."""
    out = {}
    for node in ast.parse(text).body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            try:
                out[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                continue
    return out


def _run(text: str, folder: Path) -> str:
    """The script run as a user runs it, in an empty folder of its own; nothing must appear."""
    folder.mkdir()
    (folder / "p.py").write_text(text, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "p.py"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert sorted(p.name for p in folder.iterdir()) == ["p.py"]  # no PWNED
    return done.stdout


@pytest.mark.parametrize("with_csv", [False, True], ids=["samples", "csv"])
@pytest.mark.parametrize("to", ["numpy", "pytorch"])
def test_config_text_reaches_a_script_only_as_a_literal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, to: str, with_csv: bool
) -> None:
    if to == "pytorch":
        pytest.importorskip("torch")
    monkeypatch.chdir(tmp_path)
    bad, plain = _pair(tmp_path, with_csv)
    texts = {}
    for which, config in (("bad", bad), ("plain", plain)):
        done = run("export", config, "--to", to)
        assert done.exit_code == 0, done.stderr
        texts[which] = done.stdout_bytes.decode()
        compile(texts[which], config, "exec")
    # the name and the file are literals that read back as they are ...
    literals = _literals(texts["bad"])
    assert literals["CONFIG_NAME"] == PAYLOAD
    assert literals["CONFIG_FILE"] == bad
    assert _literals(texts["plain"])["CONFIG_FILE"] == plain
    # ... and they are all that differs: the same code, the same comments, token for token
    a, b = _tokens(texts["bad"]), _tokens(texts["plain"])
    assert len(a) == len(b)
    differ = [(x, y) for x, y in zip(a, b, strict=True) if x != y]
    assert [y for _, y in differ] == [(tokenize.STRING, "'plain'"), (tokenize.STRING, repr(plain))]
    assert all(x[0] == tokenize.STRING for x, _ in differ)
    # no line of the script holds a line break Python or an editor would split it at
    for line in texts["bad"].split("\n"):
        assert line.splitlines() in ([], [line])
    # it runs nothing but itself, and prints the numbers the plain config's script prints
    printed = _run(texts["bad"], tmp_path / "run-bad")
    assert printed == _run(texts["plain"], tmp_path / "run-plain")
    assert "\nE_total = " in printed and "w5+ = " in printed


class _Tags(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.h1 = ""
        self._in_h1 = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self._in_h1 = tag == "h1"

    def handle_endtag(self, tag: str) -> None:
        self.tags.append("/" + tag)
        self._in_h1 = False

    def handle_data(self, data: str) -> None:
        if self._in_h1:
            self.h1 += data


def _words(text: str) -> str:
    return " ".join(text.split())


def _document(args: tuple[str, ...], config: str) -> str:
    done = run(*args[:1], config, *args[1:])
    assert done.exit_code == 0, done.stderr
    return done.stdout_bytes.decode()  # as written: .stdout reads \r\n as \n


def test_documents_escape_config_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    bad, plain = _pair(tmp_path, with_csv=False)

    def both(*args: str) -> tuple[str, str]:
        return _document(args, bad), _document(args, plain)

    # JSON: the name as it was written
    doc, _ = both("step", "-f", "json")
    assert json.loads(doc)["network"]["name"] == PAYLOAD

    # HTML: the same tags as for a plain name, the name as text in the heading
    for args in (("step", "-f", "html"), ("train", "-f", "html", "-n", "2", "-q")):
        doc, ref = both(*args)
        got, want = _Tags(), _Tags()
        got.feed(doc)
        want.feed(ref)
        assert got.tags == want.tags, args
        assert _words(got.h1) == _words(PAYLOAD.replace("\r", " "))

    # SVG: well-formed XML with the same elements, the name as the title's text
    for args in (("draw",), ("draw", "--after-step")):
        doc, ref = both(*args)
        got, want = ET.fromstring(doc), ET.fromstring(ref)
        assert [e.tag for e in got.iter()] == [e.tag for e in want.iter()]
        title = got.find("{http://www.w3.org/2000/svg}title")
        assert title is not None
        # XML reads any \r as a line feed
        assert title.text == PAYLOAD.replace("\r\n", "\n").replace("\r", "\n")

    # LaTeX: only the title line differs, on one line, in ASCII, every special character escaped
    doc, ref = both("step", "-f", "latex")
    got, want = doc.split("\n"), ref.split("\n")
    assert len(got) == len(want)
    (i,) = [k for k, (x, y) in enumerate(zip(got, want, strict=True)) if x != y]
    line = got[i]
    assert line.isascii() and line.startswith(r"{\LARGE\bfseries ") and line.endswith(r"\par}")
    inner = line[len(r"{\LARGE\bfseries ") : -len(r"\par}")]
    # a text symbol, an accent on a letter, an escaped special character
    inner = re.sub(r"\\text[a-z]+\{\}|\\[`'^\"~=.]\{[A-Za-z]\}|\\[#$%&_{}]", "", inner)
    assert not set(inner) & set("\\{}$&#^_%~<>|"), inner
    assert r"\textless{}/script\textgreater{}" in line
    assert r"\textbackslash{}end\{document\}" in line and doc.count(r"\end{document}") == 1

    # Markdown: only the heading differs, one line, each character Markdown reads escaped
    doc, ref = both("step", "-f", "markdown")
    got, want = doc.split("\n"), ref.split("\n")
    assert len(got) == len(want) and got[1:] == want[1:]
    assert got[0].startswith("# x") and got[0].splitlines() == [got[0]]
    for special in "<>`*_[]#$|~":
        assert got[0][2:].count(special) == got[0][2:].count("\\" + special), special


def test_a_control_character_in_a_name_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    text = _config("ok", SAMPLES).replace("name: ok", 'name: "red \\e[31m"')
    config.write_text(text)
    error = assert_input_error(run("step", str(config)))
    assert error["line"] == str(text.split("\n").index('name: "red \\e[31m"') + 1)
    assert error["rest"] == (
        "name: U+001B cannot stand in a name: a control character, which documents and "
        "terminals cannot show; remove it"
    )


def test_a_file_name_that_is_no_text_names_the_network_with_a_replacement(tmp_path: Path) -> None:
    # undecodable bytes in a file's name reach Python as lone surrogates, which no file can hold
    folder = tmp_path.as_posix().encode()
    raw = folder + b"/n\xff\x1b.yaml"
    text = _config("x", SAMPLES).replace("name: x\n", "")
    with open(raw, "w", encoding="utf-8") as f:
        f.write(text)
    spec = load_spec(raw.decode("utf-8", "surrogateescape"))
    assert spec.name == "n\ufffd\ufffd"


def test_names_a_script_uses_as_code_must_be_identifiers() -> None:
    """A Spec made in code (validate refuses such names in a config) is refused too."""
    spec = load_spec(None)
    for bad in ('o"\nimport os', "o o", "é"):
        layer = dataclasses.replace(spec.layers[1], name=bad)
        odd = dataclasses.replace(spec, layers=(spec.layers[0], layer))
        for to in ("numpy", "pytorch"):
            with pytest.raises(ExportError, match="is no name a script can use"):
                script(odd, to)
    neuron = dataclasses.replace(spec.layers[1], neurons=("o1", "o2#x"))
    with pytest.raises(ExportError, match="'o2#x' is no name"):
        script(dataclasses.replace(spec, layers=(spec.layers[0], neuron)), "numpy")
