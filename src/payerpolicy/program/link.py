"""Stage 6, compile (the link step): generated functions compiled once per shape, then bound to their figures.

The generated source of a rule names everything the policy supplies as a constant (`K_12`), the rules a
group function reports as `R_3`, a rule called from a group as `W_3`, and the function a running total adds
lines with as `S_3` (see program.source). Six thousand
unit-cap rows differ only in those names, so their functions have one *shape*: the same text once the names
are numbered in order of use. Each shape is compiled once, as a factory taking the names' values; every
function is the factory called with its own values (a closure). A policy of 10,000 rules compiles a few
hundred shapes instead of 30,000 functions, and the judged line pays nothing for it: a closure reads its
figures as fast as a module reads its globals.
"""
from __future__ import annotations

import linecache
import re

_BOUND = re.compile(r"\b[KRWS]_\d+\b")  # bound per function: constants, rules, conditions, totals
_LOCAL = re.compile(r"\b(_t|o|c_)\d+\b")  # temporaries, loop variables, counts held: renumbered per function


def _shape_of(text: str) -> tuple[str, list[str]]:
    """The function's text with its bound names as P0, P1, ... (in order of first use), and those names."""
    names: dict[str, str] = {}

    def bound(match: re.Match) -> str:
        return names.setdefault(match.group(0), f"P{len(names)}")
    shape = _BOUND.sub(bound, text)
    locals_: dict[str, str] = {}

    def local(match: re.Match) -> str:
        return locals_.setdefault(match.group(0), f"{match.group(1)}{len(locals_)}")
    return _LOCAL.sub(local, shape), list(names)


class Linker:
    """Collects generated functions (`def NAME(d, f): ...`), then compiles each distinct shape once."""

    def __init__(self, label: str):
        self.label = label
        self.shapes: dict[str, int] = {}  # shape text -> its number
        self.arity: list[int] = []  # per shape, how many names it binds
        self.functions: list[tuple[str, int, list[str]]] = []  # (name, shape number, bound names)
        self.where: dict[str, int] = {}  # name -> its place in `functions`

    def add(self, name: str, text: str) -> None:
        body = text.split("\n", 1)[1]  # the text after `def NAME(d, f):`
        shape, names = _shape_of(body)
        number = self.shapes.get(shape)
        if number is None:
            number = self.shapes[shape] = len(self.shapes)
            self.arity.append(len(names))
        self.where[name] = len(self.functions)
        self.functions.append((name, number, names))

    def has(self, name: str) -> bool:
        return name in self.where

    def compile_shapes(self, runtime: dict) -> None:
        """Compile the shapes not compiled yet; `runtime` holds the names every generated function may use
        (scopes, NOT_YET, format_value...)."""
        self._compile_new_shapes(runtime)

    def make(self, name: str, resolve):
        """The function `name`: its shape called with its figures, `resolve(bound name)` giving each."""
        _, number, names = self.functions[self.where[name]]
        return self._factories[number](*[resolve(n) for n in names])

    def _compile_new_shapes(self, runtime: dict) -> None:
        factories = getattr(self, "_factories", [])
        new = list(self.shapes)[len(factories):]
        if not new:
            self._factories = factories
            return
        chunks = []
        for offset, shape in enumerate(new):
            parameters = ", ".join(f"P{i}" for i in range(self.arity[len(factories) + offset]))
            indented = "\n".join("    " + line if line else line for line in shape.split("\n"))
            chunks.append(f"def shape_{len(factories) + offset}({parameters}):\n"
                          f"    def run(d, f):\n{indented}\n    return run\n\n")
        source = "".join(chunks)
        # Named for tracebacks and profiles; linecache lets both show the generated lines.
        filename = f"<payerpolicy {self.label} shapes {len(factories)}+>"
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        namespace = dict(runtime)
        exec(compile(source, filename, "exec"), namespace)
        self._factories = factories + [namespace[f"shape_{len(factories) + i}"] for i in range(len(new))]

    def __getstate__(self) -> dict:
        """What the compiled-policy cache keeps: the shapes as text, not the functions compiled from them."""
        return {"label": self.label, "shapes": self.shapes, "arity": self.arity, "functions": self.functions}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self.where = {name: i for i, (name, _, _) in enumerate(self.functions)}

    @property
    def source(self) -> str:
        """The shapes as compiled: what actually runs."""
        return "".join(f"# shape {n}\n{shape}\n" for shape, n in self.shapes.items())
