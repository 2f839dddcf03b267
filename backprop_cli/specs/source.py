"""Read a YAML file into plain values, remembering where each value was written.

Only plain YAML is accepted: mappings, sequences and scalars. Python tags, duplicate keys and
alias bombs are errors, so a config can never run code or hide a value it silently dropped.
"""

from __future__ import annotations

import contextlib
import errno
import gc
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import yaml

# Standard YAML tags a config may carry; anything else (e.g. !!python/object) is refused.
_SAFE_TAGS = {
    "tag:yaml.org,2002:" + t for t in ("str", "int", "float", "bool", "null", "map", "seq")
}
# A plain (unquoted) scalar that YAML 1.1 reads as a string but a person means as a number: 1e-3.
# ASCII digits only: \d and float() take ١٢ and １ too, which no one means as a number.
NUMBER = re.compile(r"[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?", re.ASCII)
_FAST_FROM = 0  # characters: libyaml for any file (3 ms to 0.1 ms on the worked example)
# Values reached through an alias: an alias bomb expands far past this, a real config has none.
_MAX_ALIASED = 100_000
# Plain values: above what --save writes for the largest network (250,000 weights, Adam's two
# slots) with 2,000 samples of 784 inputs (MNIST-sized); the file's size is capped too (MAX_BYTES).
_MAX_VALUES = 4_000_000
MAX_BYTES_ENV = "BACKPROP_MAX_CONFIG_MB"
_MAX_MB = 64
# The most BACKPROP_MAX_CONFIG_MB may ask for: the text is held twice (bytes, then str) while read.
MAX_MB_ALLOWED = 1024
_CHUNK = 2**20  # bytes read at a time: memory follows what a file holds, not the cap
_MAX_DEPTH = 64  # a config nests about 5 deep


def os_reason(exc: OSError) -> str:
    """An OSError in words, with the cases a path name can cause spelled out."""
    if exc.errno == errno.ENAMETOOLONG:
        return "a name in the path is too long (at most 255 bytes per name)"
    if exc.errno == errno.ELOOP:
        return "too many levels of symbolic links (a symlink loop?)"
    if exc.errno == errno.ENOTDIR:
        return "a part of the path is a file, not a folder"
    return exc.strerror or str(exc)


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


@dataclass(slots=True)
class Document:
    """Plain values of a YAML file plus the position and source text of every value."""

    file: str
    value: Any
    marks: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    texts: dict[Path_, str] = field(default_factory=dict)
    keys: dict[Path_, tuple[int, int]] = field(default_factory=dict)  # where each key is written
    # The text, when YAML counts its lines otherwise than an editor does (odd_breaks): marks and
    # keys are YAML's lines, where() and error() an editor's.
    text: str | None = field(default=None, repr=False, compare=False)

    def where(self, path: Path_) -> tuple[int, int]:
        """1-based line and column of the value at path, or of its nearest enclosing value."""
        p = tuple(path)
        while p not in self.marks and p:
            p = p[:-1]
        return self.place(*self.marks.get(p, (0, 0)))

    def place(self, line: int, col: int) -> tuple[int, int]:
        """YAML's 1-based line and column as an editor counts them."""
        return (line, col) if self.text is None else editor_place(self.text, line, col)

    def error(self, path: Path_, message: str, *, at_key: bool = False) -> SourceError:
        """An error about the value at path (or, with at_key, about its key)."""
        if at_key:
            line, col = self.place(*self.keys.get(tuple(path), (0, 0)))
        else:
            line, col = self.where(path)
        return SourceError(self.file, line, col, path_str(path), message)


# YAML 1.1 ends a line at NEL, LINE SEPARATOR and PARAGRAPH SEPARATOR too; an editor, at \n only.
_ODD_BREAK = re.compile("[\x85\u2028\u2029]")
_YAML_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")


def odd_breaks(text: str) -> bool:
    """Whether YAML counts the lines of text otherwise than an editor does."""
    return _ODD_BREAK.search(text) is not None


def editor_place(text: str, line: int, col: int) -> tuple[int, int]:
    """YAML's 1-based line and column in text as an editor counts them (lines end at \n)."""
    if line <= 0:
        return line, col
    start = 0
    for k, brk in enumerate(_YAML_BREAK.finditer(text), 2):
        if k > line:
            break
        start = brk.end()
    return index_place(text, start + col - 1)


def index_place(text: str, at: int) -> tuple[int, int]:
    """The 1-based line and column (as an editor counts them) of the character at index `at`."""
    return text.count("\n", 0, at) + 1, at - (text.rfind("\n", 0, at) + 1) + 1


class TooManyValues(Exception):
    """More values than a config may hold, found while composing: where, and on which path."""

    def __init__(self, index: int, path: Path_) -> None:
        super().__init__(index, path)
        self.index, self.path = index, path


class _TooDeep(Exception):
    """libyaml nests deeper than a config may: PyYAML's parser words the error."""


_KEY = object()  # on a loader's trail: a mapping's key, not counted (its value is)


class _Counted:
    """A loader that counts the values it composes and stops past _MAX_VALUES, so that a file
    of 30 million numbers is refused after 4 million rather than after all its nodes are made
    (PyYAML's composers, libyaml's too, call descend_resolver for each node but an alias)."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)  # type: ignore[call-arg]
        self.left = _MAX_VALUES
        self.trail: list[Any] = []  # the path of the node being composed

    def descend_resolver(self, parent: yaml.Node | None, index: Any) -> None:
        trail = self.trail
        if parent is None:
            trail.append(_KEY)  # the root
        elif index is None:
            trail.append(_KEY)
            return
        elif isinstance(index, yaml.Node):
            trail.append(index.value)  # a mapping's value, under its key
        else:
            trail.append(index)
        self.left -= 1
        if self.left < 0:
            path = tuple(p for p in trail if p is not _KEY)
            raise TooManyValues(_next_index(parent, index), path)
        if len(trail) > _MAX_DEPTH:
            raise _TooDeep

    def ascend_resolver(self) -> None:
        self.trail.pop()


def _next_index(parent: yaml.Node | None, index: Any) -> int:
    """Where, about, the node after `index` in `parent` starts: after its last sibling."""
    if isinstance(index, yaml.Node):
        return int(index.end_mark.index)
    if isinstance(parent, yaml.SequenceNode) and parent.value:
        return int(parent.value[-1].end_mark.index)
    if parent is None:
        return 0
    at = int(parent.start_mark.index)
    return at + 1 if getattr(parent, "flow_style", False) else at  # after its "[" or "{"


# Between one value and the next: spaces, commas, '- ', ': ', '? ', comments.
_BETWEEN = re.compile(r"(?:\s|,|[-?:](?=\s)|#[^\n]*)*")


class _Loader(_Counted, yaml.SafeLoader):
    """SafeLoader that leaves construction to us, so positions and raw texts survive."""

    depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        # PyYAML composes recursively: stop absurd nesting before Python's stack does.
        self.depth += 1
        try:
            if self.depth > _MAX_DEPTH:
                mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                raise yaml.composer.ComposerError(
                    None, None, f"nested more than {_MAX_DEPTH} levels deep", mark
                )
            node: yaml.Node | None = super().compose_node(parent, index)
            return node
        finally:
            self.depth -= 1


_CONSTRUCT = yaml.SafeLoader("")  # only its scalar constructors are used


def stat_input(name: str) -> os.stat_result:
    """os.stat of a file to read, a missing or unreachable one a SourceError."""
    try:
        return os.stat(name)
    except FileNotFoundError:
        raise SourceError(name, 0, 0, "", "no such file") from None
    except OSError as exc:
        raise SourceError(name, 0, 0, "", os_reason(exc)) from None


def read_text(path: Path) -> str:
    """Read a config file as UTF-8 text, turning every way it can fail into a SourceError."""
    name = str(path)
    st = stat_input(name)
    if stat.S_ISDIR(st.st_mode):
        raise SourceError(name, 0, 0, "", "is a directory, not a YAML file")
    limit = max_bytes()
    if stat.S_ISREG(st.st_mode) and st.st_size > limit:
        raise too_large(name, limit)  # known from its size: nothing read
    try:
        with open(path, "rb") as f:
            raw = read_bounded(f, limit)  # /dev/zero, a pipe: never more than the cap
    except OSError as exc:
        raise SourceError(name, 0, 0, "", f"cannot read: {os_reason(exc)}") from None
    return decode(raw, name, limit)


def read_bounded(f: BinaryIO, limit: int) -> bytes:
    """At most limit + 1 bytes of f (one more than the cap shows it is past it), read a chunk
    at a time: a 1 KB file costs 1 KB whatever the cap, and an endless one the cap."""
    chunks: list[bytes] = []
    size = 0
    while size <= limit:
        chunk = f.read(min(_CHUNK, limit + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def decode(raw: bytes, name: str, limit: int, what: str = "a binary file") -> str:
    """The text of a config's bytes: within the cap, not binary, UTF-8 (a BOM is dropped)."""
    if len(raw) > limit:
        raise too_large(name, limit)
    if b"\x00" in raw:
        raise SourceError(name, 0, 0, "", f"looks like {what}, not YAML text")
    return utf8_text(raw, name)


def utf8_text(raw: bytes, name: str) -> str:
    """Bytes as UTF-8 text (a BOM dropped), or a SourceError at the line and column of the first
    byte that is not."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise SourceError(name, line, col, "", "not valid UTF-8 text") from None


def max_bytes() -> int:
    """The size cap for a YAML file: 64 MB, or BACKPROP_MAX_CONFIG_MB megabytes (more than 0, at
    most MAX_MB_ALLOWED); any other value of it is a SourceError naming it."""
    given = os.environ.get(MAX_BYTES_ENV, "").strip()
    if not given:  # unset or empty: the default
        return _MAX_MB * 2**20
    try:
        mb = float(given)
    except ValueError:
        mb = float("nan")
    if not 0 < mb <= MAX_MB_ALLOWED:  # NaN fails this too
        shown = repr(given) if len(given) <= 24 else repr(given[:20]) + "..."
        raise SourceError(
            MAX_BYTES_ENV,
            0,
            0,
            "",
            f"expected a number of megabytes above 0 and at most {MAX_MB_ALLOWED}, got {shown}",
        )
    return max(1, int(mb * 2**20))


def too_large(name: str, limit: int, what: str = "a config", env: bool = True) -> SourceError:
    """The error for input past the size cap (what: the kind of file, as the message names it;
    env: the cap is the one BACKPROP_MAX_CONFIG_MB sets)."""
    message = f"larger than {_size(limit)}, the most {what} may be"
    if env:
        message += f" ({MAX_BYTES_ENV}=N allows N MB)"
    return SourceError(name, 0, 0, "", message)


def _size(n: int) -> str:
    return f"{n / 2**20:g} MB" if n >= 2**20 else f"{n} bytes"


def parse(text: str, file: str) -> Document:
    """Parse YAML text into a Document; errors name file:line:col."""
    try:
        with _collector_paused():
            node = _compose_fast(text)
            if node is None:
                node = _compose(text, file)
    except TooManyValues as exc:
        at = _BETWEEN.match(text, exc.index)
        line, col = index_place(text, at.end() if at else exc.index)
        message = f"more than {_MAX_VALUES:,} values in one file (the most a config may hold)"
        raise SourceError(file, line, col, path_str(exc.path), message) from None
    doc = Document(file, None, text=text if odd_breaks(text) else None)
    if node is None:
        raise SourceError(file, 1, 1, "", "the file is empty; expected a network spec")
    doc.value = _Builder(doc).build(node, ())
    return doc


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cycle collector off while nodes are made: a tree of nodes holds no cycles (an
    alias is one more reference), and the collector's passes over millions of new nodes took
    half the time of composing them."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


_FLOAT_TAG = "tag:yaml.org,2002:float"
# A plain scalar such as 0.25 or -1.5: YAML 1.1 reads it as a float (and as nothing else), and
# float(text) is the value PyYAML's constructor makes of it.
_DECIMAL = re.compile(r"[-+]?[0-9]+\.[0-9]+")


def _fast_loader() -> Any:
    """libyaml's loader, its tag resolution short-cut for plain decimals (a config of 1.6
    million of them spent 11 s in PyYAML's regex list; every other scalar goes there still)."""
    base = yaml.CSafeLoader

    class FastLoader(_Counted, base):  # type: ignore[misc, valid-type]
        def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
            if kind is yaml.ScalarNode and implicit[0] and _DECIMAL.fullmatch(value):
                return _FLOAT_TAG
            return super().resolve(kind, value, implicit)

    return FastLoader


def _compose_fast(text: str) -> yaml.Node | None:
    """For a large file, the node tree from libyaml when PyYAML has it (15x faster on a config
    full of samples). None for small files, when libyaml is missing, or when the tree breaks a
    rule of _Loader's, so that PyYAML's own parser reads it and words any error as usual.
    TooManyValues past the count, from either."""
    if getattr(yaml, "CSafeLoader", None) is None or len(text) < _FAST_FROM:
        return None
    loader = _fast_loader()(text)
    try:
        node: yaml.Node | None = loader.get_single_node()
    except (yaml.YAMLError, _TooDeep):
        return None
    finally:
        loader.dispose()
    return node


def _compose(text: str, file: str) -> yaml.Node | None:
    """The node tree from PyYAML's own parser, with its errors in plain words."""
    try:
        loader = _Loader(text)
    except yaml.reader.ReaderError as exc:
        # A control character: YAML text may not contain one, even in a comment.
        at = exc.position
        line = text.count("\n", 0, at) + 1
        col = at - (text.rfind("\n", 0, at) + 1) + 1
        char = f"U+{exc.character:04X}" if isinstance(exc.character, int) else repr(exc.character)
        raise SourceError(file, line, col, "", f"control character {char} is not allowed") from None
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        line, col, problem = _explain(exc, text)
        if odd_breaks(text):
            line, col = editor_place(text, line, col)
            problem += _odd_break_note(text, line)
        raise SourceError(file, line, col, "", f"invalid YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise SourceError(file, 0, 0, "", f"invalid YAML: {exc}") from None
    finally:
        loader.dispose()
    return node


def _odd_break_note(text: str, line: int) -> str:
    """Why YAML reads this line as two: a line separator on it (the first, named)."""
    start = 0
    for _ in range(line - 1):
        start = text.index("\n", start) + 1
    end = text.find("\n", start)
    odd = _ODD_BREAK.search(text, start, end if end >= 0 else len(text))
    if odd is None:
        return ""
    return f" (this line holds U+{ord(odd.group()):04X}, which ends a line in YAML)"


def _explain(exc: yaml.MarkedYAMLError, text: str) -> tuple[int, int, str]:
    """Position and a plain-words version of a YAML syntax error."""
    mark: yaml.Mark | _Mark | None = exc.problem_mark or exc.context_mark
    problem = exc.problem or exc.context or "invalid YAML"
    context = exc.context or ""
    opened: yaml.Mark | _Mark | None = exc.context_mark
    if mark is not None and (
        "could not find expected ':'" in problem or "mapping values are not allowed" in problem
    ):
        missing = _missing_colon(text, mark.line)
        if missing is not None:
            return missing
    if "'\\t'" in problem:
        problem = "a tab character; YAML indents and separates with spaces only"
    elif "cannot start any token" in problem:
        char = problem.split("'")[1] if problem.count("'") >= 2 else "this character"
        problem = f"{char!r} cannot start a plain value; put the value in quotes"
    elif any(f"<{x}" in problem for x in ("block end", "block mapping start", "document start")):
        problem = "this line's indentation does not line up with the lines above"
    elif "mapping values are not allowed" in problem:
        assert mark is not None  # the scanner always marks this problem
        before = text.splitlines()[mark.line][: mark.column] if text else ""
        if ": " in before:
            problem = "a second ': ' on this line (quote a value that contains ': ')"
        else:
            problem = "a ':' is not allowed here (check the indentation and the line above)"
    elif "could not find expected ':'" in problem:
        problem = "expected a ':' (check this line and the one above)"
    elif "another document" in problem:
        problem = "a second document ('---'); a config is one YAML document"
    elif context.startswith("while scanning a quoted") and opened is not None:
        mark, problem = opened, "this quote is never closed"
    elif context.startswith("while parsing a flow") and opened is not None and mark is not None:
        bracket = "[" if "sequence" in context else "{"
        where = f"{mark.line + 1}:{mark.column + 1}"
        if text[opened.index : opened.index + 1] not in ("[", "{"):
            # "a flow node": PyYAML marks where a value was due; name the bracket left open
            found = _unclosed(text, mark.index)
            if found is not None:
                opened, bracket = found
        mark, problem = opened, f"this {bracket!r} is not closed ({problem} at {where})"
    line, col = (mark.line + 1, mark.column + 1) if mark else (0, 0)
    return line, col, problem


class _Mark:
    """A position in the text, as PyYAML's marks give it (0-based line and column)."""

    def __init__(self, text: str, index: int) -> None:
        self.index = index
        self.line = text.count("\n", 0, index)
        self.column = index - (text.rfind("\n", 0, index) + 1)


def _unclosed(text: str, end: int) -> tuple[_Mark, str] | None:
    """The innermost bracket ([ or {) still open before `end`, outside quotes and comments."""
    stack: list[int] = []
    quote, at = "", 0
    while at < min(end, len(text)):
        char = text[at]
        if quote:
            if char == quote and not (quote == '"' and text[at - 1] == "\\"):
                quote = ""
        elif char in "'\"":
            quote = char
        elif char == "#" and (at == 0 or text[at - 1] in " \t\n"):
            at = text.find("\n", at)
            if at < 0:
                break
        elif char in "[{":
            stack.append(at)
        elif char in "]}" and stack:
            stack.pop()
        at += 1
    return (_Mark(text, stack[-1]), text[stack[-1]]) if stack else None


def load(path: Path) -> Document:
    """Read and parse a YAML file."""
    return parse(read_text(path), str(path))


class _Builder:
    """Turns composed YAML nodes into plain values, recording positions and texts."""

    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self.budget = _MAX_VALUES  # plain values
        self.aliased = _MAX_ALIASED  # values reached again through an alias
        self.seen: set[int] = set()  # ids of the nodes built so far
        self.in_alias = 0  # > 0 while building a node a second time (an alias)
        self.depth = 0
        self.active: set[int] = set()  # ids of the collections being built: an alias cycle

    def error(self, node: yaml.Node, path: Path_, message: str) -> SourceError:
        line, col = self.doc.place(node.start_mark.line + 1, node.start_mark.column + 1)
        return SourceError(self.doc.file, line, col, path_str(path), message)

    def build(self, node: yaml.Node, path: Path_) -> Any:
        again = id(node) in self.seen
        self.seen.add(id(node))
        self.in_alias += again
        self.depth += 1
        try:
            return self._build(node, path)
        finally:
            self.in_alias -= again
            self.depth -= 1

    def _build(self, node: yaml.Node, path: Path_) -> Any:
        doc = self.doc
        if self.in_alias:
            self.aliased -= 1
            if self.aliased < 0:
                # Blame the top-level key whose value blew up, where the user can see it.
                raise doc.error(
                    path[:1], f"aliases expand to over {_MAX_ALIASED} values (an alias bomb?)"
                )
        else:
            self.budget -= 1
            if self.budget < 0:
                raise self.error(node, path, f"more than {_MAX_VALUES} values in one file")
        if self.depth > _MAX_DEPTH:  # aliases of aliases can nest deeper than the text does
            raise self.error(node, path, f"nested more than {_MAX_DEPTH} levels deep")
        if id(node) in self.active:
            raise self.error(node, path, "an alias refers to the collection that contains it")
        doc.marks.setdefault(path, (node.start_mark.line + 1, node.start_mark.column + 1))
        if node.tag not in _SAFE_TAGS:
            raise self.error(node, path, f"tag {_tag(node.tag)} is not allowed (plain YAML only)")
        if isinstance(node, yaml.ScalarNode):
            doc.texts[path] = node.value
            return _scalar(node, path, doc)
        self.active.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode):
                numbers = self.decimals(node.value, path)
                if numbers is not None:
                    return numbers
                return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
            assert isinstance(node, yaml.MappingNode)
            return self.mapping(node, path)
        finally:
            self.active.discard(id(node))

    def decimals(self, items: list[yaml.Node], path: Path_) -> list[float] | None:
        """A list of plain decimals (a row of weights, a sample's inputs) built in one loop,
        recording what build() records for each; None when any item needs build() itself."""
        if self.in_alias or self.depth >= _MAX_DEPTH or self.budget < len(items):
            return None
        seen = self.seen
        for item in items:
            if (
                item.__class__ is not yaml.ScalarNode
                or item.style
                or item.tag != _FLOAT_TAG
                or not _DECIMAL.fullmatch(item.value)
                or id(item) in seen
            ):
                return None
        self.budget -= len(items)
        marks, texts = self.doc.marks, self.doc.texts
        out = []
        for i, item in enumerate(items):
            seen.add(id(item))
            child = (*path, i)
            mark = item.start_mark
            marks.setdefault(child, (mark.line + 1, mark.column + 1))
            texts[child] = item.value
            out.append(float(item.value))
        return out

    def mapping(self, node: yaml.MappingNode, path: Path_) -> dict[str, Any]:
        doc = self.doc
        out: dict[str, Any] = {}
        first: dict[str, int] = {}
        for key_node, value_node in node.value:
            kl, kc = key_node.start_mark.line + 1, key_node.start_mark.column + 1
            if isinstance(key_node, yaml.ScalarNode) and key_node.value == "<<":
                raise self.error(key_node, path, "merge keys (<<) are not supported")
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag not in _SAFE_TAGS:
                kind = {"MappingNode": "a mapping", "SequenceNode": "a list"}.get(
                    type(key_node).__name__, f"tag {_tag(key_node.tag)}"
                )
                raise self.error(key_node, path, f"a key must be a plain name, not {kind}")
            key = str(key_node.value)
            child = (*path, key)
            if key in out:
                raise self.error(
                    key_node, child, f"duplicate key (first given on line {first[key]})"
                )
            first[key] = kl
            doc.marks[child] = doc.keys[child] = (kl, kc)
            out[key] = self.build(value_node, child)
            # Point errors about a value at the value, not at its key.
            doc.marks[child] = (value_node.start_mark.line + 1, value_node.start_mark.column + 1)
        return out


_LINE = re.compile(r"(\s*(?:-\s+)?)(.*)")


def _missing_colon(text: str, line: int) -> tuple[int, int, str] | None:
    """A key written without its ': ' is only noticed a line later; point at that key instead."""
    lines = text.splitlines()
    for k in range(min(line, len(lines)) - 1, -1, -1):
        body = lines[k].split("#", 1)[0].rstrip()
        if not body:
            continue
        match = _LINE.fullmatch(body)
        assert match is not None  # the pattern matches any line
        rest = match.group(2)
        if not (rest[:1].isalpha() or rest[:1] == "_") or ": " in rest or rest.endswith(":"):
            return None
        return k + 1, len(match.group(1)) + 1, "this line needs a ':' after its key (key: value)"
    return None


def _tag(tag: str) -> str:
    """A tag as it is written in YAML: !!python/object, !half."""
    prefix = "tag:yaml.org,2002:"
    return "!!" + tag[len(prefix) :] if tag.startswith(prefix) else tag


def _scalar(node: yaml.ScalarNode, path: Path_, doc: Document) -> Any:
    tag = node.tag.rsplit(":", 1)[-1]
    text = node.value
    if tag == "str":
        if not node.style and NUMBER.fullmatch(text):  # plain: None, or "" from libyaml
            return float(text)
        return text
    if tag == "null":
        return None
    if tag == "bool":
        return text.lower() in ("true", "yes", "on", "y")
    if tag in ("int", "float") and not node.style and path != ("name",):
        # (a number for the name is refused as text, quoting what was typed: '0x10')
        _refuse_yaml11_surprise(node, path, doc)
    if tag == "int":
        try:
            return int(_CONSTRUCT.construct_yaml_int(node))
        except ValueError:
            if NUMBER.fullmatch(text):  # past int()'s 4,300 digits: its float says how large
                return float(text)
            raise _at_node(node, path, doc, f"cannot read {_short(text)} as an integer") from None
    # float: .nan/.inf are kept so validation can name them precisely
    try:
        value = float(_CONSTRUCT.construct_yaml_float(node))
    except ValueError:
        raise _at_node(node, path, doc, f"cannot read {_short(text)} as a number") from None
    return value


def _short(text: str) -> str:
    """A value quoted in a message: whole up to 40 characters, else its start and length."""
    return repr(text) if len(text) <= 40 else f"{text[:20]!r}... ({len(text):,} characters)"


def _at_node(node: yaml.Node, path: Path_, doc: Document, message: str) -> SourceError:
    # At the value: while it is being built, the path's mark is still its key's.
    line, col = doc.place(node.start_mark.line + 1, node.start_mark.column + 1)
    return SourceError(doc.file, line, col, path_str(path), message)


_OCTAL = re.compile(r"[-+]?0[0-7_]+")
_BASES = (
    (re.compile(r"[-+]?0x[0-9a-fA-F_]+"), 16, "hexadecimal"),
    (re.compile(r"[-+]?0b[01_]+"), 2, "binary"),
)
_BASE60 = re.compile(r"[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?")


def _refuse_yaml11_surprise(node: yaml.ScalarNode, path: Path_, doc: Document) -> None:
    """017 and 1:20 are numbers a person would not read the way YAML 1.1 does: refuse them,
    saying what YAML made of them, as a config must never hold a value nobody wrote."""
    text = node.value
    line, col = doc.place(node.start_mark.line + 1, node.start_mark.column + 1)
    for pattern, base, name in _BASES:
        if pattern.fullmatch(text):
            digits = text.lstrip("+-")[2:].replace("_", "")
            value = int(digits, base) * (-1 if text.startswith("-") else 1)
            raise SourceError(
                doc.file,
                line,
                col,
                path_str(path),
                f"{_short(text)[1:-1]} reads as {value} in YAML 1.1 ({name}); write {value} in "
                "decimal digits, or quote it for text",
            )
    if "_" in text and not _BASE60.fullmatch(text):
        plain = text.replace("_", "")
        raise SourceError(
            doc.file,
            line,
            col,
            path_str(path),
            f"{_short(text)[1:-1]} reads as {_short(plain)[1:-1]} in YAML 1.1 (it drops the _); "
            f"write {_short(plain)[1:-1]}, or quote it for text",
        )
    if _OCTAL.fullmatch(text):
        sign, digits = text[:1].strip("0123456789_"), text.lstrip("+-").replace("_", "")
        if int(digits, 8) != int(digits, 10):
            value = int(_CONSTRUCT.construct_yaml_int(yaml.ScalarNode("", text)))
            raise SourceError(
                doc.file,
                line,
                col,
                path_str(path),
                f"{text} reads as {value} in YAML 1.1 (a leading 0 makes it octal); "
                f"write {sign}{digits.lstrip('0')} without the 0, or quote it for text",
            )
    elif _BASE60.fullmatch(text):
        node = yaml.ScalarNode("", text)
        tag = "float" if "." in text else "int"
        value = getattr(_CONSTRUCT, f"construct_yaml_{tag}")(node)
        raise SourceError(
            doc.file,
            line,
            col,
            path_str(path),
            f"{text} reads as {value} in YAML 1.1 (base 60, as in a time of day); "
            "quote it if you mean text",
        )
