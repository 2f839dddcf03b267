"""Every bad config a user could write gets one line naming file:line:col and the field, exit 2."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from backprop_cli.ops import ACTIVATIONS, LOSSES, OPTIMIZERS

from .clihelp import assert_input_error, run

BAD = Path(__file__).parent / "bad_configs"
# Lists of names are written <activations>, <losses>, <optimizers>: they come from the catalogue.
NAMES = {
    "<activations>": ", ".join(ACTIVATIONS),
    "<losses>": ", ".join(LOSSES),
    "<optimizers>": ", ".join(OPTIMIZERS),
    "<with_alpha>": " or ".join(a.name for a in ACTIVATIONS.values() if a.alpha is not None),
}


def _expand(line: str) -> str:
    for key, names in NAMES.items():
        line = line.replace(key, names)
    return line


EXPECTED: dict[str, str] = {
    name: _expand(line)
    for name, line in yaml.safe_load((BAD / "expected.yaml").read_text("utf-8")).items()
}


def test_every_bad_config_has_an_expected_line() -> None:
    files = {p.name for p in BAD.glob("*.yaml")} - {"expected.yaml"}
    assert files == set(EXPECTED)
    assert len(files) >= 45


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bad_config(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(BAD)
    result = run("step", name)
    match = assert_input_error(result)
    assert result.stderr == EXPECTED[name] + "\n"
    if match["line"]:
        # The position is inside the file and points at something written there.
        lines = (BAD / name).read_text("utf-8").splitlines() or [" "]  # empty.yaml: 1:1
        line, col = int(match["line"]), int(match["col"])
        assert 1 <= line <= len(lines) and 1 <= col <= len(lines[line - 1]), (line, col)
        assert lines[line - 1][col - 1] != " " or lines == [" "]


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    result = run("step", str(path))
    assert_input_error(result)
    assert result.stderr == f"error: {path}: no such file\n"


def test_directory(tmp_path: Path) -> None:
    result = run("step", str(tmp_path))
    assert_input_error(result)
    assert result.stderr == f"error: {tmp_path}: is a directory, not a YAML file\n"


def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "secret.yaml"
    path.write_text("inputs: 2\n")
    path.chmod(0)
    try:
        if os.access(path, os.R_OK):
            pytest.skip("running as root: a chmod 000 file is still readable")
        result = run("step", str(path))
        assert_input_error(result)
        assert result.stderr == f"error: {path}: cannot read: Permission denied\n"
    finally:
        path.chmod(0o600)


def test_not_utf8(tmp_path: Path) -> None:
    # Latin-1 'é' in a comment on line 2: the position points at the byte.
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"inputs: 2\n# r\xe9seau\n")
    result = run("step", str(path))
    assert_input_error(result)
    assert result.stderr == f"error: {path}:2:4: not valid UTF-8 text\n"


def test_byte_order_mark_and_crlf_are_fine(tmp_path: Path) -> None:
    text = (Path(__file__).parents[1] / "configs" / "mazur.yaml").read_text("utf-8")
    path = tmp_path / "windows.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode("utf-8"))
    result = run("step", str(path), "--only", "dE_total/dw5", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert '"value": 0.08216704056423077' in result.stdout


def test_error_in_a_message_is_not_markup(tmp_path: Path) -> None:
    # Brackets and :emoji: codes in the user's text come back exactly as written.
    path = tmp_path / "net.yaml"
    path.write_text("inputs: 2\n'[bold]:smile:': 1\n")
    result = run("step", str(path))
    assert_input_error(result)
    assert "unknown key '[bold]:smile:'" in result.stderr
