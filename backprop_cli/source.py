"""Read a YAML file into plain values, remembering where each value was written.

Only plain YAML is accepted: mappings, sequences and scalars. Python tags, duplicate keys and
alias bombs are errors, so a config can never run code or hide a value it silently dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

# Standard YAML tags a config may carry; anything else (e.g. !!python/object) is refused.
_SAFE_TAGS = {
    "tag:yaml.org,2002:" + t for t in ("str", "int", "float", "bool", "null", "map", "seq")
}
# A plain (unquoted) scalar that YAML 1.1 reads as a string but a person means as a number: 1e-3.
_NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")
_MAX_NODES = 100_000  # an alias bomb expands far past this; a real config stays far below


class SourceError(Exception):
    """A problem at a place in a file: file:line:col, the field, and what is wrong."""

    def __init__(self, file: str, line: int, col: int, field: str, message: str) -> None:
        self.file, self.line, self.col, self.field, self.message = file, line, col, field, message
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.col}" if self.line else self.file
        return (
            f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"
        )


Path_ = tuple[str | int, ...]


def path_str(path: Path_) -> str:
    """Render a path like ('layers', 1, 'weights') as layers[1].weights."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


@dataclass
class Document:
    """Plain values of a YAML file plus the position and source text of every value."""

    file: str
    value: Any
    marks: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    texts: dict[Path_, str] = field(default_factory=dict)

    def where(self, path: Path_) -> tuple[int, int]:
        """1-based line and column of the value at path, or of its nearest enclosing value."""
        p = tuple(path)
        while p not in self.marks and p:
            p = p[:-1]
        return self.marks.get(p, (0, 0))

    def error(self, path: Path_, message: str) -> SourceError:
        line, col = self.where(path)
        return SourceError(self.file, line, col, path_str(path), message)


class _Loader(yaml.SafeLoader):
    """SafeLoader that leaves construction to us, so positions and raw texts survive."""


_CONSTRUCT = yaml.SafeLoader("")  # only its scalar constructors are used


def read_text(path: Path) -> str:
    """Read a config file as UTF-8 text, turning every way it can fail into a SourceError."""
    name = str(path)
    if not path.exists():
        raise SourceError(name, 0, 0, "", "no such file")
    if path.is_dir():
        raise SourceError(name, 0, 0, "", "is a directory, not a YAML file")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SourceError(name, 0, 0, "", f"cannot read: {exc.strerror or exc}") from None
    if b"\x00" in raw:
        raise SourceError(name, 0, 0, "", "looks like a binary file, not YAML text")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise SourceError(name, line, col, "", "not valid UTF-8 text") from None


def parse(text: str, file: str) -> Document:
    """Parse YAML text into a Document; errors name file:line:col."""
    node = _compose_fast(text)
    if node is None:
        node = _compose(text, file)
    doc = Document(file, None)
    if node is None:
        raise SourceError(file, 1, 1, "", "the file is empty; expected a network spec")
    budget = [_MAX_NODES]
    doc.value = _build(node, (), doc, budget)
    return doc


def _compose_fast(text: str) -> yaml.Node | None:
    """The node tree from libyaml when PyYAML has it (15x faster on a config full of samples);
    None when it is missing or finds a problem, so that the Python parser words the error."""
    fast = getattr(yaml, "CSafeLoader", None)
    if fast is None:
        return None
    loader = fast(text)
    try:
        node: yaml.Node | None = loader.get_single_node()
        return node
    except yaml.YAMLError:
        return None
    finally:
        loader.dispose()


def _compose(text: str, file: str) -> yaml.Node | None:
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        problem = exc.problem or exc.context or "invalid YAML"
        if "\t" in problem or "tab" in problem:
            problem = "tab characters can't indent YAML; use spaces"
        raise SourceError(file, line, col, "", f"invalid YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise SourceError(file, 0, 0, "", f"invalid YAML: {exc}") from None
    finally:
        loader.dispose()
    return node


def load(path: Path) -> Document:
    """Read and parse a YAML file."""
    return parse(read_text(path), str(path))


def _build(node: yaml.Node, path: Path_, doc: Document, budget: list[int]) -> Any:
    budget[0] -= 1
    if budget[0] < 0:
        raise doc.error(path, "too many values (an alias bomb?); a config is far smaller")
    line, col = node.start_mark.line + 1, node.start_mark.column + 1
    doc.marks.setdefault(path, (line, col))
    if node.tag not in _SAFE_TAGS:
        raise SourceError(doc.file, line, col, path_str(path), f"tag {node.tag!r} is not allowed")
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag not in _SAFE_TAGS:
                kl, kc = key_node.start_mark.line + 1, key_node.start_mark.column + 1
                raise SourceError(doc.file, kl, kc, path_str(path), "keys must be plain names")
            key = str(key_node.value)
            if key == "<<":
                kl, kc = key_node.start_mark.line + 1, key_node.start_mark.column + 1
                raise SourceError(
                    doc.file, kl, kc, path_str(path), "merge keys (<<) are not supported"
                )
            if key in out:
                kl, kc = key_node.start_mark.line + 1, key_node.start_mark.column + 1
                raise SourceError(
                    doc.file, kl, kc, path_str((*path, key)), "duplicate key (each key once)"
                )
            child = (*path, key)
            doc.marks[child] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            out[key] = _build(value_node, child, doc, budget)
            # Point errors about a value at the value, not at its key.
            doc.marks[child] = (value_node.start_mark.line + 1, value_node.start_mark.column + 1)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, (*path, i), doc, budget) for i, item in enumerate(node.value)]
    assert isinstance(node, yaml.ScalarNode)
    doc.texts[path] = node.value
    return _scalar(node, path, doc)


def _scalar(node: yaml.ScalarNode, path: Path_, doc: Document) -> Any:
    tag = node.tag.rsplit(":", 1)[-1]
    text = node.value
    if tag == "str":
        if not node.style and _NUMBER.fullmatch(text):  # plain: None, or "" from libyaml
            return float(text)
        return text
    if tag == "null":
        return None
    if tag == "bool":
        return text.lower() in ("true", "yes", "on", "y")
    if tag == "int":
        try:
            return int(_CONSTRUCT.construct_yaml_int(node))
        except ValueError:
            raise doc.error(path, f"cannot read {text!r} as an integer") from None
    # float: .nan/.inf are kept so validation can name them precisely
    try:
        value = float(_CONSTRUCT.construct_yaml_float(node))
    except ValueError:
        raise doc.error(path, f"cannot read {text!r} as a number") from None
    return value
