"""Making frozen dataclass objects quickly, for the per-claim path.

A frozen dataclass's own `__init__` sets each field through `object.__setattr__` (its `__setattr__` refuses
every other way), about 0.2 µs a field: a 12-field `ServiceLine` took 2.9 µs to make against 0.45 µs for the
same class unfrozen, and the reader and the judge make several such objects per claim line. `maker(cls)`
gives a function that takes every field, positionally and in order, stores them in a plain twin of `cls`
(the same slots, or a plain `__dict__`) with ordinary attribute stores, and then makes the object a `cls`
(`__class__` assignment, allowed between classes of the same layout). What comes out is the object the
constructor makes: the same class, equal, hashed and pickled alike, and frozen from then on.

No defaults, no `__post_init__`, no checks: only for callers that pass every field, already read and checked.
"""

from __future__ import annotations

import dataclasses


def maker(cls):
    """A function making a `cls` from all its fields, positionally, without the frozen `__init__`'s cost."""
    names = [field.name for field in dataclasses.fields(cls)]
    if hasattr(cls, "__post_init__"):
        raise TypeError(f"{cls.__name__} checks its fields in __post_init__: make it with its constructor")
    slots = cls.__dict__.get("__slots__")
    if slots is not None and tuple(slots) != tuple(names):
        raise TypeError(f"{cls.__name__}: its slots are not its fields in order")
    twin = type(f"_{cls.__name__}Draft", (), {} if slots is None else {"__slots__": tuple(slots)})
    stores = "".join(f"    made.{name} = {name}\n" for name in names)
    text = (
        f"def make_{cls.__name__}({', '.join(names)}):\n"
        f"    made = new(twin)\n{stores}    made.__class__ = cls\n    return made\n"
    )
    scope = {"new": object.__new__, "twin": twin, "cls": cls}
    exec(compile(text, f"<payerpolicy maker of {cls.__name__}>", "exec"), scope)  # noqa: S102 - our own text
    return scope[f"make_{cls.__name__}"]
