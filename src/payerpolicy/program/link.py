"""Stage 6, compile (the link step): generated functions compiled once per shape, then bound to their figures.

The generated source of a rule names everything the policy supplies as a constant (`K_12`), the rules a
group function reports as `R_3`, a rule called from a group as `W_3`, and the function a running total adds
lines with as `S_3` (see program.source). Six thousand
unit-cap rows differ only in those names, so their functions have one *shape*: the same text once the names
are numbered in order of use (`P0`, `P1`: program.pycode writes the shape beside the text people read). Each shape is compiled once, as a factory taking the names' values; every
function is the factory called with its own values (a closure). A policy of 10,000 rules compiles a few
hundred shapes instead of 30,000 functions, and the judged line pays nothing for it: a closure reads its
figures as fast as a module reads its globals.
"""

from __future__ import annotations

import linecache

from payerpolicy.program.pycode import Function


class Linker:
    """Collects generated functions (`def NAME(d, f): ...`), then compiles each distinct shape once."""

    def __init__(self, label: str):
        self.label = label
        self.shapes: dict[str, int] = {}  # shape text -> its number
        self.arity: list[int] = []  # per shape, how many names it binds
        self.functions: list[tuple[str, int, list[str]]] = []  # (name, shape number, bound names)
        self.where: dict[str, int] = {}  # name -> its place in `functions`

    def add(self, function: Function) -> None:
        """Add a written function (program.pycode): its shape, and the names it binds in order."""
        number = self.shapes.get(function.shape)
        if number is None:
            number = self.shapes[function.shape] = len(self.shapes)
            self.arity.append(len(function.bound))
        self.where[function.name] = len(self.functions)
        self.functions.append((function.name, number, list(function.bound)))

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
        new = list(self.shapes)[len(factories) :]
        if not new:
            self._factories = factories
            return
        chunks = []
        for offset, shape in enumerate(new):
            parameters = ", ".join(f"P{i}" for i in range(self.arity[len(factories) + offset]))
            indented = "\n".join("    " + line if line else line for line in shape.split("\n"))
            chunks.append(
                f"def shape_{len(factories) + offset}({parameters}):\n"
                f"    def run(d, f):\n{indented}\n    return run\n\n"
            )
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
