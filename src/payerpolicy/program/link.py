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

import array
import linecache
import marshal

from payerpolicy.program.pycode import Function, written_out


class Linker:
    """Collects generated functions (`def NAME(d, f): ...`), then compiles each distinct shape once."""

    def __init__(self, label: str):
        self.label = label
        self.shapes: dict[str, int] = {}  # shape text -> its number
        self.arity: list[int] = []  # per shape, how many names it binds
        self.pieces: list[tuple] = []  # per shape, its text as pieces (pycode.Function), to write it for people
        # Per function, in order of adding: its name, its shape's number, and the names it binds (one flat list,
        # each function's ending at its `ends`): flat, so that the compiled-policy cache keeps 30,000 functions as
        # a few strings and arrays, not 30,000 tuples and lists to unpickle.
        self.names: list[str] = []
        self.shape_of = array.array("I")
        self.bound: list[str] = []
        self.ends = array.array("I")
        self.where: dict[str, int] = {}  # name -> its place
        # The shapes compiled first, as (how many, marshal's bytes of the module making them): see `__getstate__`.
        self._compiled: tuple[int, bytes] | None = None

    def add(self, function: Function) -> None:
        """Add a written function (program.pycode): its shape, and the names it binds in order."""
        number = self.shapes.get(function.shape)
        if number is None:
            number = self.shapes[function.shape] = len(self.shapes)
            self.arity.append(len(function.bound))
            self.pieces.append(function.pieces)
        self.where[function.name] = len(self.names)
        self.names.append(function.name)
        self.shape_of.append(number)
        self.bound.extend(function.bound)
        self.ends.append(len(self.bound))

    def written(self, name: str) -> Function:
        """The function added as `name`, as it was added (program.row_forms learns a form from it)."""
        at = self.where[name]
        number = self.shape_of[at]
        shape = next(text for text, n in self.shapes.items() if n == number)
        return Function(name, shape, tuple(self._bound_names(at)), self.pieces[number])

    def has(self, name: str) -> bool:
        return name in self.where

    def text(self, at: int) -> str:
        """The text for people of the function added `at`-th: its shape's pieces with its bound names."""
        return written_out(self.names[at], self.pieces[self.shape_of[at]], self._bound_names(at))

    def _bound_names(self, at: int) -> list[str]:
        return self.bound[self.ends[at - 1] if at else 0 : self.ends[at]]

    def compile_shapes(self, runtime: dict) -> None:
        """Compile the shapes not compiled yet; `runtime` holds the names every generated function may use
        (scopes, NOT_YET, format_value...)."""
        self._compile_new_shapes(runtime)

    def make(self, name: str, resolve):
        """The function `name`: its shape called with its figures, `resolve(bound name)` giving each."""
        at = self.where[name]
        return self._factories[self.shape_of[at]](*[resolve(n) for n in self._bound_names(at)])

    def _compile_new_shapes(self, runtime: dict) -> None:
        factories = getattr(self, "_factories", [])
        new = list(self.shapes)[len(factories) :]
        if not new:
            self._factories = factories
            return
        source, filename = self._shapes_module(factories, new)
        kept = self._compiled
        if not factories and kept is not None and kept[0] == len(new):
            code = marshal.loads(kept[1])
        else:
            code = compile(source, filename, "exec")
            if not factories:
                # Kept with the plan (`__getstate__`): a cached policy's few hundred shapes load as bytecode,
                # not as text to compile again.
                self._compiled = (len(new), marshal.dumps(code))
        namespace = dict(runtime)
        exec(code, namespace)
        self._factories = factories + [namespace[f"shape_{len(factories) + i}"] for i in range(len(new))]

    def _shapes_module(self, factories: list, new: list) -> tuple[str, str]:
        """The text of the module making the `new` shapes' factories, and its name."""
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
        return source, filename

    def __getstate__(self) -> dict:
        """What the compiled-policy cache keeps: the shapes as text and as the bytecode compiled from them
        (marshal's: the cache is made anew for each Python version), not the functions; the functions' names
        and bound names as text a line each (no name holds a line break)."""
        return {
            "label": self.label,
            "shapes": self.shapes,
            "arity": self.arity,
            "pieces": self.pieces,
            "names": "\n".join(self.names),
            "shape_of": self.shape_of.tobytes(),
            "bound": "\n".join(self.bound),
            "ends": self.ends.tobytes(),
            "compiled": self._compiled,
        }

    def __setstate__(self, state: dict) -> None:
        self.label, self.shapes, self.arity = state["label"], state["shapes"], state["arity"]
        self.pieces = state["pieces"]
        self.names = state["names"].split("\n") if state["names"] else []
        self.bound = state["bound"].split("\n") if state["bound"] else []
        self.shape_of, self.ends = array.array("I"), array.array("I")
        self.shape_of.frombytes(state["shape_of"])
        self.ends.frombytes(state["ends"])
        self.where = dict(zip(self.names, range(len(self.names))))
        self._compiled = state.get("compiled")

    @property
    def source(self) -> str:
        """The shapes as compiled: what actually runs."""
        return "".join(f"# shape {n}\n{shape}\n" for shape, n in self.shapes.items())
