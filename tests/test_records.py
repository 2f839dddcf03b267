"""`record` behaves as `dataclass` does: each class is declared both ways and compared."""

from __future__ import annotations

import copy
import dataclasses
import pickle
from dataclasses import dataclass, field

import pytest

from backprop_cli.ops.records import record


def shapes(make):  # type: ignore[no-untyped-def]
    """The same classes, declared by `make` (dataclass or record)."""

    @make(frozen=True)
    class Point:
        """A frozen value with defaults and a factory."""

        x: float
        y: float = 0.0
        tags: tuple[str, ...] = field(default_factory=tuple)
        note: str = field(default="", repr=False, compare=False)

    @make
    class Box:
        """A mutable one."""

        items: list[int] = field(default_factory=list)
        size: int = field(default=3, init=False)

    @make(frozen=True)
    class Named:
        """A frozen one with its own __eq__."""

        name: str

        def __eq__(self, other: object) -> bool:
            return isinstance(other, Named) and other.name.lower() == self.name.lower()

    return Point, Box, Named


STD, REC = shapes(dataclass), shapes(record)


def both(index: int, *args, **kwargs):  # type: ignore[no-untyped-def]
    return STD[index](*args, **kwargs), REC[index](*args, **kwargs)


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [((1.0,), {}), ((1.0, 2.0), {}), ((1.0,), {"tags": ("a",)}), ((), {"x": 3.0, "note": "n"})],
)
def test_construction_repr_equality_hash(args, kwargs):  # type: ignore[no-untyped-def]
    std, rec = both(0, *args, **kwargs)
    assert repr(rec) == repr(std)
    assert vars(rec) == vars(std) and list(vars(rec)) == list(vars(std))
    assert rec == REC[0](*args, **kwargs) and rec != STD[0](*args, **kwargs)
    assert hash(rec) == hash(REC[0](*args, **kwargs)) == hash(std)
    assert dataclasses.asdict(rec) == dataclasses.asdict(std)
    assert [f.name for f in dataclasses.fields(rec)] == ["x", "y", "tags", "note"]


def test_compare_false_and_replace():
    point = REC[0](1.0, note="a")
    assert point == REC[0](1.0, note="b")  # note is not compared
    moved = dataclasses.replace(point, y=5.0)
    assert (moved.x, moved.y, moved.note) == (1.0, 5.0, "a")
    assert hash(REC[0](1.0, note="a")) == hash(REC[0](1.0, note="b"))


def test_frozen_and_mutable():
    point = REC[0](1.0)
    with pytest.raises(dataclasses.FrozenInstanceError, match="cannot assign to field 'x'"):
        point.x = 2.0  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError, match="cannot delete field 'y'"):
        del point.y  # type: ignore[misc]
    box = REC[1]()
    box.items.append(1)
    box.size = 4
    assert (box.items, box.size) == ([1], 4)
    with pytest.raises(TypeError):
        hash(box)
    assert REC[1]().items is not REC[1]().items  # a new list each time
    with pytest.raises(TypeError, match="unexpected keyword argument 'size'"):
        REC[1](size=4)  # init=False


def test_own_eq_kept_and_hashed():
    std, rec = both(2, "Ab")
    assert rec == REC[2]("aB") and std == STD[2]("aB")
    assert hash(rec) == hash(REC[2]("Ab"))


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [((), {}), ((1.0, 2.0, (), "n", 5), {}), ((1.0,), {"x": 2.0}), ((1.0,), {"z": 2.0})],
)
def test_wrong_arguments(args, kwargs):  # type: ignore[no-untyped-def]
    with pytest.raises(TypeError) as std:
        STD[0](*args, **kwargs)
    for _ in range(2):  # the first call compiles the __init__, the second uses it
        with pytest.raises(TypeError) as rec:
            REC[0](*args, **kwargs)
        assert str(rec.value) == str(std.value)


def test_copies():
    point = REC[0](1.0, 2.0, ("t",))
    assert copy.deepcopy(point) == point and copy.copy(point) == point
    assert pickle.loads(pickle.dumps(_Pickled(1, "a"))) == _Pickled(1, "a")


@record(frozen=True)
class _Pickled:
    """Module level, so pickle finds it."""

    n: int
    s: str
