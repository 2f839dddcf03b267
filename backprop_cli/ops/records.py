"""`record`: a dataclass whose methods are shared functions instead of generated code.

The standard `@dataclass` writes `__init__`, `__repr__`, `__eq__`, `__setattr__`, `__delattr__`
and `__hash__` out as source text for each class and compiles it: about 1 ms a class, and the
spec, the catalogue and the trace declare some twenty classes that every command loads (a
quarter of `backprop step`'s own start-up). `record` lets `dataclasses` do everything but the
methods (fields, defaults, `field(repr=False, compare=False)`, `fields()`, `replace()`,
`asdict()` work as before) and gives the class `__repr__`, `__eq__`, `__hash__` and frozen
`__setattr__` functions that read its fields at run time. Its `__init__`, the one `dataclass`
would write, is compiled the first time the class is built, so that a class never built costs
nothing and one built 35,000 times (a trace's steps) is as quick as a dataclass.

Type checkers see the standard `dataclass` (the same signature, the same checks).
"""

from __future__ import annotations

import dataclasses
import inspect  # dataclasses imports it too
import operator
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

T = TypeVar("T", bound=type)

__all__ = ["record"]

if TYPE_CHECKING:
    from dataclasses import dataclass as record
else:

    def record(cls: T | None = None, /, *, frozen: bool = False) -> Any:
        """`@record` or `@record(frozen=True)`, as `@dataclass` is used."""

        def wrap(cls: T) -> T:
            made: T = _made(cls, frozen)
            return made

        return wrap if cls is None else wrap(cls)


def _made(cls: Any, frozen: bool) -> Any:
    if cls.__doc__ is None:  # what dataclass would write, without inspect.signature's cost
        cls.__doc__ = f"{cls.__name__}({', '.join(inspect.get_annotations(cls))})"
    cls = dataclasses.dataclass(init=False, repr=False, eq=False)(cls)  # fields only
    every = dataclasses.fields(cls)
    made = {"__init__": _init(cls, every, frozen), "__repr__": _repr(every), "__eq__": _eq(every)}
    methods: dict[str, Any] = {k: v for k, v in made.items() if k not in cls.__dict__}
    # a class that defines __eq__ gets __hash__ = None from Python: not a hash of its own
    own = cls.__dict__.get("__hash__", _MISSING)
    if own is _MISSING or (own is None and "__eq__" in cls.__dict__):
        # as dataclass: frozen and eq hash the compared fields; eq alone is unhashable
        methods["__hash__"] = _hash(every) if frozen else None
    if frozen:
        methods["__setattr__"] = _frozen(cls, every, "assign to")
        methods["__delattr__"] = _frozen(cls, every, "delete")
    for name, method in methods.items():
        setattr(cls, name, method)
    return cls


_MISSING = dataclasses.MISSING


def _init(
    cls: type, every: tuple[dataclasses.Field[Any], ...], frozen: bool
) -> Callable[..., None]:
    """An __init__ that compiles the real one the first time it runs (most classes a run
    loads are built a few times or never; one built 35,000 times needs the quick one)."""

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        made = _compiled_init(cls, every, frozen)
        type.__setattr__(cls, "__init__", made)
        made(self, *args, **kwargs)

    return __init__


_FACTORY = object()  # the default of an argument whose default comes from a factory


def _compiled_init(
    cls: type, every: tuple[dataclasses.Field[Any], ...], frozen: bool
) -> Callable[..., None]:
    """The __init__ dataclass would write: the same arguments, defaults and error messages."""
    names: dict[str, Any] = {"_FACTORY": _FACTORY, "_set": object.__setattr__}
    arguments, body = ["self"], []
    for k, f in enumerate(every):
        default = f"_default_{k}"
        if f.default is not _MISSING:
            names[default] = f.default
        elif f.default_factory is not _MISSING:
            names[default] = f.default_factory
        if f.init:
            if f.default is not _MISSING:
                arguments.append(f"{f.name}={default}")
            elif f.default_factory is not _MISSING:
                arguments.append(f"{f.name}=_FACTORY")
            else:
                arguments.append(f.name)
            value = f.name
            if f.default_factory is not _MISSING:
                value = f"{default}() if {f.name} is _FACTORY else {f.name}"
        elif f.default is not _MISSING:
            value = default
        elif f.default_factory is not _MISSING:
            value = f"{default}()"
        else:
            continue  # no value, as dataclass leaves it
        # a frozen record refuses self.x = ...; object's own __setattr__ is what dataclass uses
        body.append(
            f"  _set(self, {f.name!r}, {value})" if frozen else f"  self.{f.name} = {value}"
        )
    source = f"def __init__({', '.join(arguments)}):\n" + "\n".join(body or ["  pass"])
    exec(source, names)
    made: Callable[..., None] = names["__init__"]
    made.__qualname__ = f"{cls.__qualname__}.__init__"
    return made


def _repr(every: tuple[dataclasses.Field[Any], ...]) -> Callable[[Any], str]:
    names = tuple(f.name for f in every if f.repr)

    def __repr__(self: Any) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in names)
        return f"{type(self).__qualname__}({shown})"

    return __repr__


def _compared(every: tuple[dataclasses.Field[Any], ...]) -> Callable[[Any], tuple[Any, ...]]:
    return _values([f.name for f in every if f.compare])


def _values(names: list[str]) -> Callable[[Any], tuple[Any, ...]]:
    """The named attributes as a tuple, read in C (attrgetter gives a bare value for one)."""
    if len(names) > 1:
        return operator.attrgetter(*names)
    return lambda self: tuple([getattr(self, name) for name in names])


def _eq(every: tuple[dataclasses.Field[Any], ...]) -> Callable[[Any, Any], Any]:
    key = _compared(every)

    def __eq__(self: Any, other: Any) -> Any:
        if other.__class__ is self.__class__:
            return key(self) == key(other)
        return NotImplemented

    return __eq__


def _hash(every: tuple[dataclasses.Field[Any], ...]) -> Callable[[Any], int]:
    key = _values([f.name for f in every if (f.compare if f.hash is None else f.hash)])
    return lambda self: hash(key(self))


def _frozen(cls: type, every: tuple[dataclasses.Field[Any], ...], verb: str) -> Callable[..., None]:
    names = frozenset(f.name for f in every)
    base = "__setattr__" if verb == "assign to" else "__delattr__"

    def refuse(self: Any, name: str, *value: Any) -> None:
        if type(self) is cls or name in names:
            raise dataclasses.FrozenInstanceError(f"cannot {verb} field {name!r}")
        getattr(super(cls, self), base)(name, *value)

    return refuse
