"""Generated Python kept as data until it is written out, so that nothing ever reads its own output back.

`program.source` builds each expression as a `Code`: text, with the pieces the writer must know about kept as
objects rather than spelled out: a name bound to a policy figure (`Bound`, `K_12`), a local of the generated
function (`Temp`, a loop variable or a value held for a second read), a field of the line in focus
(`FocusField`, `f.units`), the judged line (`JUDGED`, `l`) and a count kept in a memo (`Memo`). A `Frame`
(after Jinja2's code generator, whose frames track the names a template reads) writes one function: it counts
what the function's code reads first, decides which counts and fields to hold in locals, then writes the text
and records, while writing, which locals the function must set up (`l = d.line`, `m = d.memo`...) and which
bound names it uses, in order. The same pass gives the text people read (`K_12`) and the function's *shape*
(`P0`, `P1` in order of first use), which `program.link` compiles once for every function of that shape.
"""

from __future__ import annotations

import collections
from dataclasses import dataclass


class Code:
    """A piece of generated Python: strings, other code and the objects below, in order. `simple` when it is
    a single name or attribute read, cheap to read twice. Code inside code stays nested until a `Frame`
    writes it: a condition is built up in a few levels, and copying every level's pieces into the next cost
    more than the writing."""

    __slots__ = ("parts", "simple")

    def __init__(self, parts: tuple, simple: bool = False):
        self.parts = parts
        self.simple = simple


def py(*pieces) -> Code:
    """Code made of text, other code and the pieces below, in order."""
    return Code(pieces)


def simple(*pieces) -> Code:
    """A single name or attribute read (`K_3`, `f.units`, `l.claim.id`)."""
    return Code(pieces, simple=True)


def joined(codes, separator: str) -> Code:
    out: list = []
    for n, code in enumerate(codes):
        if n:
            out.append(separator)
        out.append(code)
    return py(*out)


@dataclass(frozen=True, slots=True)
class Bound:
    """A name the linker binds per function: a constant `K_n`, a rule `R_n`, a rule's condition `W_n`, a
    running total's function `S_n`."""

    name: str


class Temp:
    """A local of a generated function: a loop variable (`o`) or a value held for a second read (`_t`).
    Numbered per function, in order of first use."""

    __slots__ = ("prefix",)

    def __init__(self, prefix: str):
        self.prefix = prefix


@dataclass(frozen=True, slots=True)
class FocusField:
    """`f.NAME`: a field of the line the rule looks at. A group function reads one its rules ask more than
    once into a local first."""

    attribute: str


class _Judged:
    """`l`, the judged line: a function that names it sets `l = d.line` first."""

    __slots__ = ()


JUDGED = _Judged()


@dataclass(frozen=True, slots=True, eq=False)
class Memo:
    """A count over lines, worked out once per judged line (`m`, the judged line's memo) or once per claim and
    date (`dm`, the day's memo), under its slot."""

    slot: Bound
    day: bool
    compute: Code


@dataclass(frozen=True, slots=True)
class Function:
    """A written function: its shape for the linker, the bound names it uses, and its text as pieces (text,
    and the numbers of bound names), from which its text for people is written when someone asks."""

    name: str
    shape: str
    bound: tuple[str, ...]
    pieces: tuple

    @property
    def text(self) -> str:
        return written_out(self.name, self.pieces, self.bound)


def written_out(name: str, pieces: tuple, bound) -> str:
    """A function's text for people: its pieces with the names it binds in place of their numbers."""
    return f"def {name}(d, f):\n" + "".join([p if p.__class__ is str else bound[p] for p in pieces])


def _walk(code: Code):
    """Every piece of `code`, a memo's computation included (once for each time the memo is read)."""
    for part in code.parts:
        if part.__class__ is Code:
            yield from _walk(part)
            continue
        yield part
        if isinstance(part, Memo):
            yield from _walk(part.compute)


class Frame:
    """Writes one generated function of `(d, f)`.

    `in_line_counts`: the judged line's memo is left out (a group function): a count asked once is worked out
    where it is asked, one asked more than once is held in a local (`c0`), set the first time it is worked
    out. `held_fields`: fields of the line in focus asked more than once are read into locals first."""

    def __init__(self, in_line_counts: bool = False, held_fields: bool = False):
        self.in_line_counts = in_line_counts
        self.held_fields = held_fields
        self.out: list = []  # text, and ints: the number of a bound name (in `bound`)
        self.bound: dict[str, int] = {}
        self.temps: dict[Temp, str] = {}
        self.held_counts: dict[Bound, Temp] = {}
        self.fields: list[str] = []
        self.uses_judged = self.uses_memo = self.uses_day_memo = False

    def plan(self, codes) -> None:
        """Count what `codes` read, and choose what to hold in locals (before anything is written)."""
        counts: collections.Counter = collections.Counter()
        fields: collections.Counter = collections.Counter()
        for code in codes:
            for part in _walk(code):
                if isinstance(part, Memo) and not part.day:
                    counts[part.slot] += 1
                elif isinstance(part, FocusField):
                    fields[part.attribute] += 1
        if self.in_line_counts:
            self.held_counts = {slot: Temp("c") for slot, n in counts.items() if n > 1}
        if self.held_fields:
            self.fields = sorted(name for name, n in fields.items() if n > 1)

    def write(self, code: Code) -> None:
        out = self.out
        for part in code.parts:
            if part.__class__ is str:  # most pieces: first, and the cheapest test
                out.append(part)
            elif part.__class__ is Code:
                self.write(part)
            elif isinstance(part, Bound):
                out.append(self.bound.setdefault(part.name, len(self.bound)))
            elif isinstance(part, Temp):
                out.append(self.temp_name(part))
            elif isinstance(part, FocusField):
                out.append(f"f_{part.attribute}" if part.attribute in self.fields else f"f.{part.attribute}")
            elif part is JUDGED:
                self.uses_judged = True
                out.append("l")
            elif isinstance(part, Memo):
                self._memo(part)
            else:
                raise AssertionError(f"not a piece of code: {part!r}")

    def temp_name(self, temp: Temp) -> str:
        name = self.temps.get(temp)
        if name is None:
            name = self.temps[temp] = f"{temp.prefix}{len(self.temps)}"
        return name

    def _memo(self, memo: Memo) -> None:
        if self.in_line_counts and not memo.day:
            held = self.held_counts.get(memo.slot)
            if held is None:
                return self.write(py("(", memo.compute, ")"))
            return self.write(py("(", held, " if ", held, " is not NOT_YET else (", held, " := ", memo.compute, "))"))
        name = "dm" if memo.day else "m"
        if memo.day:
            self.uses_day_memo = True
        else:
            self.uses_memo = True
        self.write(
            py(
                f"(_v if (_v := {name}.get(",
                memo.slot,
                f", NOT_YET)) is not NOT_YET else remember({name}, ",
                memo.slot,
                ", ",
                memo.compute,
                "))",
            )
        )

    def take(self) -> list:
        """What has been written since the last take: text, and the numbers of bound names."""
        out, self.out = self.out, []
        return out


class FunctionWriter:
    """Lines of one function, with their indent, for a `Frame`; the set-up lines the frame found it needs
    come first."""

    def __init__(self, name: str, frame: Frame):
        self.name = name
        self.frame = frame
        self.lines: list[tuple[int, list]] = []

    def line(self, indent: int, *pieces) -> None:
        self.frame.write(py(*pieces))
        self.lines.append((indent, self.frame.take()))

    def finish(self, set_up: tuple[str, ...] = ()) -> Function:
        frame = self.frame
        head = []
        if frame.uses_judged:
            head.append("l = d.line")
        if frame.uses_memo:
            head.append("m = d.memo")
        if frame.uses_day_memo:
            head.append("dm = d.day_memo")
        head += [f"{frame.temp_name(temp)} = NOT_YET" for temp in frame.held_counts.values()]
        head += set_up
        head += [f"f_{name} = f.{name}" for name in frame.fields]
        names = sorted(frame.bound, key=lambda name: frame.bound[name])
        pieces: list = ["    " + line + "\n" for line in head]  # text, and the numbers of bound names
        for indent, written in self.lines:
            pieces.append("    " * (indent + 1))
            pieces += written
            pieces.append("\n")
        pieces.append("\n")
        while len(_PARAMETERS) < len(names):
            _PARAMETERS.append(f"P{len(_PARAMETERS)}")
        shape = "".join([p if p.__class__ is str else _PARAMETERS[p] for p in pieces])
        return Function(self.name, shape, tuple(names), tuple(pieces))


_PARAMETERS: list[str] = []  # P0, P1...: a shape's names for the figures it is called with


def function(name: str, expression: Code, frame: Frame | None = None) -> Function:
    """A generated function of `(d, f)` returning `expression`."""
    writer = FunctionWriter(name, frame or Frame())
    writer.line(0, "return ", expression)
    return writer.finish()


def measure(code: Code) -> int:
    """The length of `code` written out on its own: what it costs to write it in line."""
    frame = Frame()
    frame.write(code)
    return sum(len(p) if isinstance(p, str) else 4 for p in frame.take())  # a bound name: about `K_12`
