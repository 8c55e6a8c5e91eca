"""Stage 1, load: policy files from disk into plain values that remember where each came from.

PyYAML's own loader forgets positions and guesses types the way YAML 1.1 does (`NO` becomes false, a date
becomes a date object, a duplicate key silently wins). Policy authors are billing specialists, so this stage
composes the YAML node tree itself and builds values with a small, predictable set of types:

- mappings -> dict, sequences -> list;
- plain scalars: `true`/`false` -> bool, `null`/`~`/empty -> None, whole numbers -> `WholeNumber` (an int that
  remembers how it was written, so a code written as 00100 stays 00100), decimals -> float, anything else ->
  str (dates stay text: the schema checks their shape);
- quoted scalars are always text.

Every value's node is kept by its path (`("unit_caps", 0, "max_units")`), so later stages can point at the
line and column of any value or key, and `origin()` maps each character of a text value (a rule condition,
say) back to its line and column in the file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from pathlib import Path

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from payerpolicy.diagnostics import Diagnostic, SourceFiles, Span, TextOrigin

Path_ = tuple  # a path into a document: keys and list indexes


class WholeNumber(int):
    """An int read from YAML that keeps its written form (`text`)."""

    text: str

    def __new__(cls, value: int, text: str):
        obj = super().__new__(cls, value)
        obj.text = text
        return obj

    def __reduce__(self):  # kept in the compiled-policy cache with its written form
        return WholeNumber, (int(self), self.text)


# Bounds on what one policy file may make, so a hostile or broken file costs a diagnostic, not the machine.
# A payer-scale policy of 10,000 rules is about 60,000 values in 3 MB; pair tables are files of their own.
MAX_FILE_BYTES = 64 * 1024 * 1024
# YAML aliases (`*name`) repeat a value where they stand: ten nested aliases of ten make 10^10 values from a
# few hundred bytes ("billion laughs"). Counting values as they are built stops that within this budget.
MAX_VALUES = 1_000_000
# Policies are a few levels deep (section, row, key, list); anything much deeper is a mistake or an attack.
MAX_DEPTH = 64


class _Refused(Exception):
    """A file that may not be built at all; carries its one diagnostic."""

    def __init__(self, diagnostic: Diagnostic):
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic


_INT = re.compile(r"^[-+]?[0-9]+$")
_FLOAT = re.compile(r"^[-+]?([0-9]+\.[0-9]*|\.[0-9]+)$")
_NULLS = {"", "~", "null", "Null", "NULL"}
_BOOLS = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}


@dataclass
class PolicyDocument:
    """One YAML file of a policy: its values, and the node behind every value and key."""

    file: str
    data: Any  # what YAML gave: any value; a mapping in a file that passed the schema
    nodes: dict = field(default_factory=dict)
    key_nodes: dict = field(default_factory=dict)
    text: str = ""
    merged: set = field(default_factory=set)  # mappings whose `<<` merge key was refused
    path: Path | None = None  # where it was read from: files it names are found beside it

    def span(self, path: Path_, key: bool = False) -> Span:
        """The place of the value at `path` (or of its key, with key=True); the nearest parent when unknown."""
        node = self.key_nodes.get(path) if key else None
        while node is None:
            node = self.nodes.get(path)
            if node is None and not path:
                break
            path = path[:-1]
        if node is None:
            return Span(self.file, 1, 1)
        return node_span(self.file, node)

    def origin(self, path: Path_) -> TextOrigin:
        node = self.nodes.get(path)
        if not isinstance(node, ScalarNode):
            span = self.span(path)
            return TextOrigin(self.file, ((span.line, span.column),))
        return TextOrigin(self.file, _scalar_positions(self.text, node))


def node_span(file: str, node: Node) -> Span:
    start, end = node.start_mark, node.end_mark
    return Span(file, start.line + 1, start.column + 1, end.line + 1, end.column + 1)


def read_policy_file(
    path: Path, display: str, sources: SourceFiles, diagnostics: list[Diagnostic]
) -> PolicyDocument | None:
    """Read one YAML file; on a YAML mistake, record a diagnostic and return None."""
    try:
        unsaved = sources.unsaved.get(path.resolve()) if sources.unsaved else None
        size = len(unsaved.encode("utf-8")) if unsaved is not None else path.stat().st_size
        if size > MAX_FILE_BYTES:
            diagnostics.append(
                Diagnostic(
                    "E105",
                    f"the file is {size / 1024 / 1024:.0f} MB; a policy file may be at most "
                    f"{MAX_FILE_BYTES // 1024 // 1024} MB",
                    Span(display, 1, 1),
                    "put large tables in a table file (`code_pair_tables`, `unit_cap_tables`) beside the policy",
                )
            )
            return None
        raw = unsaved.encode("utf-8", "surrogatepass") if unsaved is not None else sources.read_bytes(path)
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        column = len(before) - (before.rfind(b"\n") + 1) + 1
        diagnostics.append(
            Diagnostic(
                "E102",
                f"the file is not UTF-8 text: byte 0x{raw[exc.start]:02x} cannot be read",
                Span(display, line, column),
                "save the file as UTF-8",
            )
        )
        return None
    except OSError as exc:
        diagnostics.append(Diagnostic("E101", f"cannot read the file: {exc.strerror}", Span(display, 1, 1)))
        return None
    sources.texts[display] = text
    sources.read.append(path)
    try:
        root = _compose(text)
    except RecursionError:
        diagnostics.append(
            Diagnostic("E106", f"the file is nested too deeply (more than {MAX_DEPTH} levels)", Span(display, 1, 1))
        )
        return None
    except yaml.MarkedYAMLError as exc:
        diagnostics.append(yaml_diagnostic(exc, display, text))
        return None
    except yaml.YAMLError as exc:
        diagnostics.append(Diagnostic("E103", f"this is not valid YAML: {exc}", Span(display, 1, 1)))
        return None
    doc = PolicyDocument(display, None, text=text, path=path)
    if root is not None:
        try:
            doc.data = _build(root, (), doc, diagnostics, [MAX_VALUES])
        except _Refused as refused:
            diagnostics.append(refused.diagnostic)
            return None
    return doc


def _compose(text: str):
    """The YAML node tree of a file. libyaml's composer, when PyYAML has it, reads a large policy (thousands
    of rows) ten times faster; on a mistake the pure-Python one reads the file again, because its messages and
    marks are the ones our diagnostics are written for."""
    if getattr(yaml, "CSafeLoader", None) is not None:
        try:
            return yaml.compose(text, Loader=yaml.CSafeLoader)
        except yaml.YAMLError:
            pass
    return yaml.compose(text, Loader=yaml.SafeLoader)


def yaml_diagnostic(exc: yaml.MarkedYAMLError, display: str, text: str) -> Diagnostic:
    """A YAML syntax error, placed where the author has to look and said without the parser's words.

    PyYAML marks the place where it gave up; for a quote or bracket left open that is a later, innocent
    line, so the place where the quote or bracket was opened (its context mark) is used instead.
    """
    problem = exc.problem or "not valid YAML"
    context = exc.context or ""
    opened = any(w in context for w in ("quoted scalar", "flow sequence", "flow mapping")) and "escape" not in problem
    mark = exc.context_mark if opened and exc.context_mark else (exc.problem_mark or exc.context_mark)
    span = Span(display, mark.line + 1, mark.column + 1) if mark else Span(display, 1, 1)
    lines = text.splitlines()
    hint = None
    if opened:
        what = "quote" if "quoted" in context else ("`[`" if "sequence" in context else "`{`")
        problem = f"this {what} is never closed"
        hint = "close it on the same line" if "quoted" in context else "close it with the matching bracket"
    elif "mapping values are not allowed" in problem:
        at = mark.line if mark else 0
        here = lines[at] if at < len(lines) else ""
        above = next((l for l in reversed(lines[:at]) if l.strip() and not l.lstrip().startswith("#")), "")
        indent = lambda l: len(l) - len(l.lstrip())  # noqa: E731
        if here.strip() and ":" in here.strip() and indent(here) > indent(above) and not above.rstrip().endswith(":"):
            hint = "this key is indented more than the key above it; line them up"
        else:
            hint = "a value that contains `: ` must be put in quotes"
    elif "found character '\\t'" in problem or "\t" in problem:
        hint = "YAML indents with spaces, not tabs"
    elif "expected <block end>" in problem:
        quote = _open_quote_above(lines, mark.line if mark else 0)
        if quote is not None:
            # A quote left open runs on to the next line and is closed by that line's first quote.
            span = Span(display, quote[0] + 1, quote[1] + 1)
            problem, hint = "this quote is never closed", "close it on the same line"
        elif "'-'" in problem or "<block sequence start>" in problem:
            problem = "this list item is not lined up with the lines above it"
            hint = "a list under a key starts every item with `-` at the same indentation"
        else:
            problem = "this line is not lined up with the lines above it"
            hint = "the keys of one entry start at the same column; a value on its own line goes further in"
    else:
        if "another document" in problem and mark:  # point at the `---` that starts the second one
            at = next(
                (n for n in range(mark.line, -1, -1) if lines[n : n + 1] and lines[n].startswith("---")), mark.line
            )
            span = Span(display, at + 1, 1)
        if "could not find expected ':'" in problem and exc.context_mark:  # the key, not the line after it
            span = Span(display, exc.context_mark.line + 1, exc.context_mark.column + 1)
        problem, hint = _in_words(problem, hint)
    return Diagnostic("E103", f"this is not valid YAML: {problem}", span, hint)


# PyYAML's other messages, in words an author knows (checked by `tests/test_billing_words.py`).
_YAML_WORDS = [
    (
        "but found another document",
        "this file holds several YAML documents (`---`); a policy file is one",
        "remove the `---` line, or split the file in two",
    ),
    (
        "found undefined alias",
        "this `*name` refers to no `&name` above it",
        "write the value out, or put `&name` on the value it should repeat",
    ),
    (
        "could not find expected ':'",
        "a key on this line has no `:` after it",
        "write `key: value`, or put text that runs over several lines in quotes",
    ),
    (
        "found unknown escape character",
        "a backslash in double quotes starts a character YAML does not know",
        "write `\\\\` for a backslash, or use single quotes",
    ),
    ("that cannot start any token", "a value cannot start with this character", "put the value in quotes"),
    (
        "expected alphabetic or numeric character",
        "an `&` or `*` must be followed by a name",
        "put a value starting with `&` or `*` in quotes",
    ),
]


def _in_words(problem: str, hint: str | None) -> tuple[str, str | None]:
    for words, said, help_text in _YAML_WORDS:
        if words in problem:
            return said, help_text
    if "<" in problem and ">" in problem:  # parser tokens such as `<block end>` or `<scalar>`
        return "the file's structure breaks here", "check the indentation and the brackets on this line and above"
    return problem, hint


def _open_quote_above(lines: list[str], at: int) -> tuple[int, int] | None:
    """The line and column of a double quote opened on a line above `at` and not closed on it, if any."""
    for n in range(at - 1, max(at - 20, -1), -1):
        line = lines[n]
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        opening = _value_start(line)
        if opening is not None and line[opening] == '"' and (line[opening:].replace('\\"', "").count('"') % 2):
            return n, opening
        return None
    return None


def _value_start(line: str) -> int | None:
    stripped = line.lstrip()
    start = len(line) - len(stripped)
    if stripped.startswith("- "):
        start += 2
    key = line.find(": ", start)
    if key >= 0 and line[start:key].strip() and '"' not in line[start:key]:
        start = key + 2
    while start < len(line) and line[start] == " ":
        start += 1
    return start if start < len(line) else None


def _build(node: Node, path: Path_, doc: PolicyDocument, diagnostics: list[Diagnostic], budget: list[int]):
    budget[0] -= 1
    if budget[0] < 0:
        raise _Refused(
            Diagnostic(
                "E107",
                f"the file makes more than {MAX_VALUES:,} values (YAML aliases repeated inside each other?)",
                # An alias is the very node it names, so its own place is not known: point at the entry it is in.
                node_span(doc.file, doc.key_nodes.get(path[:2]) or doc.key_nodes.get(path[:1]) or node),
                "write the values out, or put large tables in a table file",
            )
        )
    if len(path) > MAX_DEPTH:
        raise _Refused(
            Diagnostic(
                "E106", f"the file is nested too deeply (more than {MAX_DEPTH} levels)", node_span(doc.file, node)
            )
        )
    doc.nodes[path] = node
    if isinstance(node, MappingNode):
        out: dict = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, ScalarNode) else str(key_node.value)
            if key == "<<":
                doc.merged.add(path)
                diagnostics.append(
                    Diagnostic("E104", "merge keys (`<<`) are not supported in policies", node_span(doc.file, key_node))
                )
                continue
            if key in out:
                first = doc.key_nodes[path + (key,)]
                diagnostics.append(
                    Diagnostic(
                        "E104",
                        f"`{key}` is given twice here",
                        node_span(doc.file, key_node),
                        f"the first `{key}` is on line {first.start_mark.line + 1}; keep one",
                    )
                )
                continue
            doc.key_nodes[path + (key,)] = key_node
            out[key] = _build(value_node, path + (key,), doc, diagnostics, budget)
        return out
    if isinstance(node, SequenceNode):
        return [_build(item, path + (i,), doc, diagnostics, budget) for i, item in enumerate(node.value)]
    assert isinstance(node, ScalarNode)  # PyYAML composes three kinds of node only
    return _scalar(node)


def _scalar(node: ScalarNode):
    text = node.value
    if node.style:  # quoted or block: always text (plain is None, or "" from libyaml)
        return text
    if text in _NULLS:
        return None
    if text in _BOOLS:
        return _BOOLS[text]
    if _INT.match(text):
        # A number longer than any figure a policy holds stays text: the schema then says it is not a
        # number, where reading it would take long (or be refused: Python reads at most 4,300 digits).
        return WholeNumber(int(text), text) if len(text) <= 30 else text
    if _FLOAT.match(text):
        return float(text) if len(text) <= 60 else text
    return text


def _scalar_positions(text: str, node: ScalarNode) -> tuple:
    """Line and column of every character of a scalar's value, found by walking its raw text.

    The value's characters appear in the raw text in order (quotes, indentation and escapes aside), so a
    greedy walk finds each one; a folded line break in the value matches a line break in the raw text.
    """
    start = node.start_mark
    raw = text[start.index : node.end_mark.index]
    value = node.value
    line, column = start.line + 1, start.column + 1
    raw_positions = []
    for ch in raw:
        raw_positions.append((line, column))
        if ch == "\n":
            line, column = line + 1, 1
        else:
            column += 1
    end_position = (line, column)
    positions = []
    j = 0
    escapes = node.style == '"'
    if escapes and raw.startswith('"'):
        j = 1
    for ch in value:
        k = j
        if escapes:
            # In double quotes a character may be written as an escape (\n, \t, \x41): it stands where its
            # backslash is. Skip escapes that stand for nothing (a backslash before a line break).
            while k < len(raw) - 1 and raw[k] == "\\" and raw[k + 1] == "\n":
                k += 2
            if raw[k : k + 1] == "\\" and (ch != "\\" or raw[k : k + 2] == "\\\\"):
                positions.append(raw_positions[k])
                width = {"x": 4, "u": 6, "U": 10}.get(raw[k + 1 : k + 2], 2)
                j = k + width
                continue
        while k < len(raw) and raw[k] != ch and not (ch in " \n" and raw[k] in " \n"):
            k += 1
        if k >= len(raw):  # an escape we could not follow: fall back to the scalar's start
            positions.append(raw_positions[0] if raw_positions else end_position)
            continue
        positions.append(raw_positions[k])
        j = k + 1
    positions.append(raw_positions[j] if j < len(raw_positions) else end_position)
    return tuple(positions)
