"""Explain one quantity: the chain rule as the post narrates it, factor by factor.

A step's formula names other values (`dE_total/dw5 = dE_total/dout_o1 * dout_o1/dnet_o1 *
dnet_o1/dw5`). Each name is either another step of the trace (the most recent one before it, in
the same sample) or a given value: a parameter, an input, a target, a hyper-parameter. Following
the names recursively gives a tree whose leaves are the given values.
"""

from __future__ import annotations

import difflib
import re
from bisect import bisect_left
from dataclasses import dataclass, field
from itertools import chain
from typing import Any

from backprop_cli.engine.trace import Step, Trace, json_number
from backprop_cli.ops import SYMBOLS

# Where the expansion stops by default: a backward quantity takes the forward pass as given, and
# the error after the update takes the updated weights as given (as the post does).
STAGE = {"forward": 0, "loss": 0, "backward": 1, "update": 1, "after": 2}
_SAMPLE_SUFFIX = re.compile(r"^(?P<id>.+)\[(?P<k>\d+)\]$")
HYPER = {symbol: meaning for symbol, (_, meaning) in SYMBOLS.items()}  # from the catalogue


class UnknownId(LookupError):
    """An id that is not in the trace; `closest` holds the nearest ids."""

    def __init__(self, step_id: str, closest: list[str], note: str = "") -> None:
        self.step_id, self.closest = step_id, closest
        hint = f"; closest: {', '.join(closest)}" if closest else ""
        what = note or f"no quantity {step_id!r} in this network"
        super().__init__(f"{what}{hint}")


@dataclass(slots=True)
class Node:
    """One value in the explanation: a step (with its factors as children) or a given value.

    kind: "step", "parameter", "input", "target", "hyper" or "value".
    state (steps only): "expanded", "seen" (expanded earlier in the tree), "given" (an earlier
    stage, taken as known) or "depth" (the depth limit).
    """

    symbol: str
    value: float
    kind: str
    step: Step | None = None
    state: str = "expanded"
    children: list[Node] = field(default_factory=list)
    leaves: list[Node] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"symbol": self.symbol, "kind": self.kind}
        if self.step is not None:
            s = self.step
            d.update(
                id=s.id,
                phase=s.phase,
                sample=s.sample,
                formula=s.formula,
                substituted=s.substituted(),
                state=self.state,
            )
            if s.note:
                d["note"] = s.note
        d["value"] = json_number(self.value)
        if self.step is not None and self.state == "expanded":
            d["factors"] = [c.to_dict() for c in self.children]
            d["given"] = [leaf.to_dict() for leaf in self.leaves]
        return d


@dataclass(slots=True)
class Explanation:
    """The tree under one step, plus every given value it rests on (deduplicated, in order)."""

    root: Node
    given: list[Node]
    depth: int | None
    several: bool = False  # the network has several samples: ids name theirs as id[k]
    samples: tuple[int, ...] = ()  # the samples (0-based) the root belongs to or updates from
    n_samples: int = 1
    first_sample: dict[int, int] = field(default_factory=dict)  # update → its first sample

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.root.symbol,
            "value": json_number(self.root.value),
            "tree": self.root.to_dict(),
            "given": [g.to_dict() for g in self.given],
        }


def parse_id(text: str) -> tuple[str, int | None]:
    """`dE_total/dw5[2]` -> ('dE_total/dw5', 1): an id and a 0-based sample, if one is named."""
    m = _SAMPLE_SUFFIX.match(text)
    if m and m.group("k") != "0":
        return m.group("id"), int(m.group("k")) - 1
    return text, None


def locate(trace: Trace, step_id: str, sample: int | None = None) -> int:
    """Index in trace.steps of the step called step_id (`id[k]` names sample k); else UnknownId.

    With a sample, a step of that sample, or else of the update that sample belongs to.
    """
    base, named = parse_id(step_id)
    zero = _SAMPLE_SUFFIX.match(step_id)
    if zero and zero.group("k") == "0":
        first = f"{zero.group('id')}[1]"
        raise UnknownId(step_id, [], f"{step_id}: samples count from 1; {first} is the first")
    if named is not None:
        sample = named
    n_samples = len(trace.spec.samples)
    if sample is not None and not 0 <= sample < n_samples:
        raise UnknownId(step_id, [], f"sample {sample + 1}: the spec has {n_samples} sample(s)")
    found = _positions(trace).get(base, [])
    if not found:
        related = [x for x in (f"dE_total/d{base}", f"{base}+") if x in trace.ids()]
        near = [x for x in closest_ids(trace, base) if x not in related]
        raise UnknownId(step_id, (related + near)[:5], _given_note(trace, base))
    if sample is None:
        return found[0]
    for i in found:
        if trace.steps[i].sample == sample:
            return i
    update = next((s.update for s in trace.steps if s.sample == sample), None)
    for i in found:
        if trace.steps[i].sample is None and trace.steps[i].update == update:
            return i
    return found[0]


def _given_note(trace: Trace, symbol: str) -> str:
    """'w5 is given (a parameter, 0.4), not computed' for a value the trace only uses."""
    for s in trace.steps:
        if symbol in s.terms:
            kind = leaf_kind(trace, symbol)
            return f"{symbol!r} is given ({kind} = {s.terms[symbol]!r}), not computed"
    return ""


def closest_ids(trace: Trace, word: str, n: int = 5) -> list[str]:
    """The trace ids nearest to word (difflib), best first."""
    return difflib.get_close_matches(word, trace.ids(), n=n, cutoff=0.4)


class _Facts:
    """What explain() looks up in a trace, indexed once: a web page explains every step, and
    scanning the whole trace for each made it quadratic (minutes for 7,682 steps)."""

    def __init__(self, trace: Trace) -> None:
        self.steps, self.length = trace.steps, len(trace.steps)
        self.positions: dict[str, list[int]] = {}  # each id's positions, ascending
        self.at: dict[int, int] = {}  # id(step) -> its position
        self.first: dict[int, int] = {}  # update -> its first sample
        by_update: dict[int, set[int]] = {}
        for i, s in enumerate(trace.steps):
            self.positions.setdefault(s.id, []).append(i)
            self.at[id(s)] = i
            if s.update is not None and s.sample is not None:
                self.first.setdefault(s.update, s.sample)
                by_update.setdefault(s.update, set()).add(s.sample)
        self.samples = {u: tuple(sorted(v)) for u, v in by_update.items()}
        self.params = {p.id: k for k, p in enumerate(trace.parameters)}  # id -> its place


_FACTS: list[_Facts] = []  # of the trace last explained


def _facts(trace: Trace) -> _Facts:
    last = _FACTS[0] if _FACTS else None
    if last is None or last.steps is not trace.steps or last.length != len(trace.steps):
        _FACTS[:] = [_Facts(trace)]
    return _FACTS[0]


def _positions(trace: Trace) -> dict[str, list[int]]:
    """Each id's positions in trace.steps, ascending."""
    return _facts(trace).positions


def producer(trace: Trace, index: int, symbol: str) -> int | None:
    """Index of the step that produced `symbol` as used by the step at `index`, or None.

    The producer is the latest step of that name before it: in the same sample, or the named one
    (`dE_total/dw5[2]`), or one that belongs to no sample (updates, reductions). A parameter used
    after an earlier update (`w2` in the second update of an online step) comes from it (`w2+`).
    """
    name, named = parse_id(symbol)
    user = trace.steps[index]
    value = user.terms.get(symbol)
    pos = _positions(trace)
    before = [
        ids[: bisect_left(ids, index)] for ids in (pos.get(name, []), pos.get(f"{name}+", []))
    ]
    for i in sorted(chain(*before), reverse=True):  # latest first, as a scan back would meet them
        s = trace.steps[i]
        if s.id == f"{name}+" and s.value == value and leaf_kind(trace, name) == "parameter":
            return i
        if s.id != name:
            continue
        if named is not None:
            if s.sample == named:
                return i
        elif s.sample is None or user.sample is None or s.sample == user.sample:
            return i
    return None


def ancestors(trace: Trace, index: int) -> tuple[set[int], set[str]]:
    """Every step the step at index rests on (indices), and every given value (symbols)."""
    steps: set[int] = set()
    given: set[str] = set()
    todo = [index]
    while todo:
        i = todo.pop()
        for term in trace.steps[i].terms:
            j = producer(trace, i, term)
            if j is None:
                given.add(parse_id(term)[0])
            elif j not in steps:
                steps.add(j)
                todo.append(j)
    return steps, given


def leaf_kind(trace: Trace, symbol: str) -> str:
    """What a given value is: parameter, input, target or hyper (a hyper-parameter or count)."""
    if symbol in HYPER:
        return "hyper"
    if symbol.startswith("target_"):
        return "target"
    if symbol in trace.spec.inputs:
        return "input"
    if symbol in _facts(trace).params:
        return "parameter"
    return "value"


def explain(
    trace: Trace,
    step_id: str,
    *,
    sample: int | None = None,
    depth: int | None = None,
    full: bool = False,
) -> Explanation:
    """The chain of factors behind step_id.

    depth: levels of factors to expand below the root (None: no limit). full: also expand values
    from earlier stages (the forward pass under a gradient, the update under the error after it).
    """
    index = locate(trace, step_id, sample)
    root_stage = STAGE[trace.steps[index].phase]
    seen: set[int] = set()
    given: dict[str, Node] = {}

    def build(i: int, symbol: str, level: int) -> Node:
        s = trace.steps[i]
        node = Node(symbol, s.value, "step", s)
        if level > 0 and not full and STAGE[s.phase] < root_stage:
            node.state = "given"
            given.setdefault(symbol, Node(symbol, s.value, "step", s, "given"))
            return node
        if i in seen:
            node.state = "seen"
            return node
        if depth is not None and level > depth:
            node.state = "depth"
            return node
        seen.add(i)
        for term, value in s.terms.items():
            j = producer(trace, i, term)
            if j is None:
                leaf = Node(term, value, leaf_kind(trace, term))
                node.leaves.append(leaf)
                given.setdefault(term, leaf)
                continue
            child = build(j, term, level + 1)
            if child.state == "given":
                node.leaves.append(child)
            else:
                node.children.append(child)
        return node

    root = build(index, trace.steps[index].id, 0)
    kinds = ("input", "target", "parameter", "hyper", "value", "step")
    facts = _facts(trace)

    def place(g: Node) -> tuple[int, int]:
        if g.step is not None:
            return kinds.index("step"), facts.at[id(g.step)]
        return kinds.index(g.kind), facts.params.get(g.symbol, 0)

    ordered = sorted(given.values(), key=place)
    n = len(trace.spec.samples)
    first = dict(facts.first)
    return Explanation(root, ordered, depth, n > 1, samples_of(trace, index), n, first)


def samples_of(trace: Trace, index: int) -> tuple[int, ...]:
    """The samples (0-based) the step at index is computed for: its own, or its update's."""
    s = trace.steps[index]
    if s.sample is not None:
        return (s.sample,)
    if s.update is None:
        return ()
    return _facts(trace).samples.get(s.update, ())
