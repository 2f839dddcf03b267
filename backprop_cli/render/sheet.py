"""A problem sheet: the worked example's sections with each value left blank, and the answers
file for `backprop check` beside it (every id, blank, its formula in a comment)."""

from __future__ import annotations

from collections import Counter

import yaml

from backprop_cli.engine.trace import Trace
from backprop_cli.render.document import Block, Eq, Heading, Prose, build, text
from backprop_cli.render.markdown import write_markdown
from backprop_cli.render.mathtex import Equation

BLANK = r"\underline{\qquad\qquad}"  # where the student writes the value


def answer_keys(trace: Trace) -> list[str | None]:
    """The id each step has in an answers file, as `check` reads it: its own, or `id[k]` where
    it repeats (k: its sample, or the first sample of its update); None where no key names that
    step alone."""
    from backprop_cli.tutor.explain import UnknownId
    from backprop_cli.tutor.grading import Ids

    counts = Counter(s.id for s in trace.steps)
    first: dict[int, int] = {}  # update -> its first sample
    for s in trace.steps:
        if s.update is not None and s.sample is not None:
            first.setdefault(s.update, s.sample)
    ids = Ids(trace)
    keys: list[str | None] = []
    seen: set[str] = set()
    for i, s in enumerate(trace.steps):
        key: str | None = s.id
        if counts[s.id] > 1:
            k = s.sample if s.sample is not None else first.get(s.update or 0)
            key = None if k is None else f"{s.id}[{k + 1}]"
        try:
            if key is not None and (key in seen or ids.index(key) != i):
                key = None
        except UnknownId:
            key = None
        if key is not None:
            seen.add(key)
        keys.append(key)
    return keys


def _blocks(trace: Trace) -> list[Block]:
    """The document's blocks up to its result (the result is the answer)."""
    blocks = build(trace)
    ends = [i for i, b in enumerate(blocks) if isinstance(b, Heading) and b.text == "Result"]
    return blocks[: ends[-1]] if ends else blocks


def sheet_markdown(trace: Trace, config: str, answers: str) -> str:
    """The problem sheet as Markdown: the network and its numbers, then every quantity of one
    step in the post's order, its id and formula with a blank for the value."""
    keys = iter(answer_keys(trace))
    out: list[Block] = []
    for block in _blocks(trace):
        if isinstance(block, Eq):
            key = next(keys)
            e = block.eq
            out.append(Prose((("code", key or block.step_id),)))
            out.append(Eq(Equation(e.lhs, e.formula, [], BLANK), block.step_id))
            continue
        out.append(block)
        if isinstance(block, Heading) and block.level == 1:
            out.append(
                text(
                    "Work one step of backpropagation by hand: each quantity below, in order, "
                    f"from the numbers given. Write each value after its id in {answers}, with "
                    "the digits you worked to, then check them: "
                    f"backprop check {answers} {config}"
                )
            )
    return write_markdown(out)


def answers_yaml(trace: Trace, config: str, sheet: str, answers: str) -> str:
    """The answers file: every id of the sheet with a blank value, its formula beside it, under
    the sheet's section titles."""
    keys = answer_keys(trace)
    quoted = [_key(k) for k in keys if k is not None]
    pad = min(max((len(k) for k in quoted), default=0) + 2, 40)
    lines = [
        f"# Answers to {_line(sheet)}: write each value after its id, with the digits you",
        "# worked to (0.3775 claims four decimals); a blank one is not graded. Then:",
        f"#   backprop check {_line(answers)} {_line(config)}",
    ]
    steps = iter(zip(trace.steps, keys, strict=True))
    section, sub, shown = "", "", ""
    for block in _blocks(trace):
        if isinstance(block, Heading) and block.level == 2:
            section, sub = block.text, ""
        elif isinstance(block, Heading) and block.level == 3:
            sub = block.text
        elif isinstance(block, Eq):
            step, key = next(steps)
            if key is None:
                continue
            title = f"{section} · {sub}" if sub else section
            if title != shown:  # a section's title above its first id
                lines += ["", f"# {_line(title)}"]
                shown = title
            lines.append(f"{(_key(key) + ':').ljust(pad)} # = {_line(step.formula)}")
    return "\n".join(lines) + "\n"


def _key(key: str) -> str:
    """The id as a YAML key: plain where YAML reads it back as that text, else quoted."""
    try:
        if yaml.safe_load(f"{key}: 1") == {key: 1}:
            return key
    except yaml.YAMLError:
        pass
    return '"' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _line(text: str) -> str:
    """Text for a comment: one line."""
    return " ".join(text.split())
