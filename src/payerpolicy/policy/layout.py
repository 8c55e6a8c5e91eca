"""Policy YAML in one layout, comments kept: the engine of `payerpolicy fmt`.

Why an emitter of our own: a round-trip library (ruamel.yaml) keeps comments but re-wraps flow lists with odd
indents and trailing spaces, and ties each comment to the node before it. Policy files use a small part of YAML
(block mappings and lists, short flow lists and mappings, plain, quoted and folded scalars, a few anchors), so
the file is read into PyYAML's events, which carry each node's place in the text, and written again here:

- two spaces per level; a list under a key indented under it (`key:` then `  - item`); keys in their order;
- scalars as written (their quotes, their words), continuation lines of a long scalar re-indented;
- a flow list or mapping on one line when it fits in `WIDTH` columns, else wrapped at its top-level commas with
  the next lines starting one column inside the bracket;
- conditions (`when:`) and fixes (`fix:`) of a policy's rules spaced one way (`rules.tidy`), keeping the
  author's line breaks in a folded condition;
- comments where they were: a comment on a line of its own stays above what follows it, indented like it (as
  ruff format and `opa fmt` do); a comment after a value stays after it, two spaces out; blank lines between
  entries are kept, several in a row made one.

Nothing is lost unseen: the laid-out text is read again and must give the same data as the original (only the
spacing of the rewritten expressions may differ, and only where both read as the same Lark tree), and every
comment must have been written; otherwise `LayoutError` says where, and the file is left as it was.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import yaml

from payerpolicy.diagnostics import Diagnostic, Span
from payerpolicy.policy.files import yaml_diagnostic
from payerpolicy.rules.tidy import same_tree, spaced

WIDTH = 110
INDENT = 2
# Keys of a policy's rules whose values are rule-language text, and what they are read as.
EXPRESSIONS = {"when": "condition", "fix": "fix"}


class LayoutError(Exception):
    """A file `fmt` cannot lay out: not YAML, or YAML outside what policy files use."""

    def __init__(self, diagnostic: Diagnostic):
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic


@dataclass(eq=False)
class _Node:
    kind: str  # "scalar", "alias", "seq" or "map"
    start: Any  # yaml.Mark: line, column and index in the text
    end: Any
    anchor: str | None = None
    tag: str | None = None
    flow: bool = False
    style: str | None = None
    value: str = ""
    items: list = field(default_factory=list)  # children; for a mapping, (key, value) pairs


def lay_out(text: str, display: str = "<text>") -> str:
    """`text` (a policy, table or test-case YAML file) in the one layout. Raises `LayoutError`."""
    text = text.replace("\r\n", "\n")
    try:
        events = _events(text)
        original = _data(text)
    except yaml.MarkedYAMLError as exc:
        raise LayoutError(yaml_diagnostic(exc, display, text)) from None
    except yaml.YAMLError as exc:
        raise _refusal(f"this is not valid YAML: {exc}", Span(display, 1, 1)) from None
    root, explicit = _document(events, display)
    writer = _Writer(text, display, root)
    if explicit:
        writer.out.append("---")
    if root is not None:
        writer.top(root)
    out = writer.finish()
    _same_meaning(original, out, display)
    return out


def _document(events: list, display: str) -> tuple[_Node | None, bool]:
    documents = [e for e in events if isinstance(e, yaml.DocumentStartEvent)]
    if len(documents) > 1:
        raise _refusal(
            "this file holds several YAML documents (`---`); a policy file is one",
            _span(display, documents[1].start_mark),
        )
    if not documents:
        return None, False
    if documents[0].version or documents[0].tags:
        raise _refusal(
            "`fmt` does not lay out files with `%YAML` or `%TAG` directives",
            _span(display, documents[0].start_mark),
        )
    body = [
        e
        for e in events
        if not isinstance(
            e, (yaml.StreamStartEvent, yaml.StreamEndEvent, yaml.DocumentStartEvent, yaml.DocumentEndEvent)
        )
    ]
    root, _ = _tree(body, 0, display)
    return root, bool(documents[0].explicit)


def _tree(events: list, at: int, display: str) -> tuple[_Node, int]:
    event = events[at]
    if isinstance(event, yaml.AliasEvent):
        return _Node("alias", event.start_mark, event.end_mark, anchor=event.anchor), at + 1
    if isinstance(event, yaml.ScalarEvent):
        return _Node(
            "scalar",
            event.start_mark,
            event.end_mark,
            anchor=event.anchor,
            tag=event.tag,
            style=event.style or None,
            value=event.value,
        ), at + 1  # libyaml says "" for plain
    if event.tag is not None:
        raise _refusal(
            f"`fmt` does not lay out a list or mapping with a tag (`{event.tag}`)",
            _span(display, event.start_mark),
        )
    node = _Node(
        "seq" if isinstance(event, yaml.SequenceStartEvent) else "map",
        event.start_mark,
        event.end_mark,
        anchor=event.anchor,
        flow=bool(event.flow_style),
    )
    at += 1
    children = []
    while not isinstance(events[at], (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
        child, at = _tree(events, at, display)
        children.append(child)
    node.end = events[at].end_mark
    node.items = children if node.kind == "seq" else list(zip(children[::2], children[1::2]))
    return node, at + 1


def _refusal(message: str, at: Span, help: str | None = None) -> LayoutError:
    """What `fmt` raises for a file it will not lay out (E103): what it will not do, where, and what to do."""
    return LayoutError(Diagnostic("E103", message, at, help))


def _span(display: str, mark) -> Span:
    return Span(display, mark.line + 1, mark.column + 1)


class _Writer:
    def __init__(self, text: str, display: str, root: _Node | None):
        self.text = text
        self.display = display
        self.lines = text.split("\n")
        self.out: list[str] = []
        self.written_to = -1  # the last source line whose comments and blank lines are placed
        self.policy = (
            root is not None and root.kind == "map" and not any(k.value in ("cases", "claims") for k, _ in root.items)
        )
        scalars: list[_Node] = []
        if root is not None:
            _scalars(root, scalars)
        self.comments = _comments(self.lines, scalars)  # source line -> (column, text)
        self.placed: set[int] = set()

    # ------------------------------------------------------------------ comments and blank lines

    def leading(self, line: int, indent: int) -> None:
        """The comment lines and blank lines before source line `line` not yet written, indented `indent`."""
        blank = False
        for n in range(self.written_to + 1, line):
            if n in self.comments and self.comments[n][0] == _indent_of(self.lines[n]):
                if blank and self.out and self.out[-1] != "":
                    self.out.append("")
                blank = False
                self.out.append(" " * indent + self.comments[n][1])
                self.placed.add(n)
            elif not self.lines[n].strip():
                blank = True
        if blank and self.out and self.out[-1] not in ("", "---"):
            self.out.append("")
        self.written_to = max(self.written_to, line - 1)

    def trailing(self, *lines: int) -> str:
        """The comments at the end of these source lines, not yet written, to put after a written line."""
        found = []
        for n in dict.fromkeys(lines):
            if n in self.comments and n not in self.placed and self.comments[n][0] != _indent_of(self.lines[n]):
                found.append(self.comments[n][1])
                self.placed.add(n)
        return "".join("  " + c for c in found)

    def comment_at(self, n: int) -> Span:
        """Where the comment on source line `n` (from 0) begins."""
        return Span(self.display, n + 1, self.comments[n][0] + 1)

    def finish(self) -> str:
        self.leading(len(self.lines), 0)
        missed = sorted(set(self.comments) - self.placed)
        if missed:
            n = missed[0]
            raise _refusal(
                "`fmt` cannot keep this comment in its place",
                self.comment_at(n),
                "put the comment on a line of its own above what it is about",
            )
        while self.out and self.out[-1] == "":
            self.out.pop()
        return "\n".join(line.rstrip() for line in self.out) + "\n" if self.out else ""

    # ------------------------------------------------------------------ block layout

    def top(self, root: _Node) -> None:
        self.leading(root.start.line, 0)
        if root.kind == "map" and not root.flow:
            self.block_map(root, 0, depth=0)
        elif root.kind == "seq" and not root.flow:
            self.block_seq(root, 0, depth=0)
        else:
            self.value("", root, 0, root.start.line, depth=0, key=None)
            if self.out and self.out[-1].startswith(" "):
                self.out[-1] = self.out[-1][1:]

    def block_map(self, node: _Node, indent: int, depth: int, first: str | None = None) -> None:
        for i, (key, val) in enumerate(node.items):
            self.leading(key.start.line, indent)
            head = first if (i == 0 and first is not None) else " " * indent
            self.value(head + self.key_text(key) + ":", val, indent, key.end.line, depth, key.value)

    def block_seq(self, node: _Node, indent: int, depth: int) -> None:
        for item in node.items:
            self.leading(item.start.line, indent)
            head = " " * indent + "-"
            if item.kind == "map" and not item.flow and item.items and item.anchor is None:
                self.block_map(item, indent + INDENT, depth + 1, first=head + " " * (INDENT - 1))
            else:
                self.value(head, item, indent, item.start.line, depth + 1, key=None)

    def value(self, head: str, node: _Node, indent: int, key_line: int, depth: int, key: str | None) -> None:
        """Write `head` (a key and its colon, or a list dash) and the value after it."""
        if node.kind == "alias":
            self.out.append(f"{head} *{node.anchor}" + self.trailing(key_line, node.end.line))
            return
        if node.kind in ("map", "seq") and not node.flow and node.items:
            self.out.append(head + self.anchor_text(node) + self.trailing(key_line))
            if node.kind == "map":
                self.block_map(node, indent + INDENT, depth + 1)
            else:
                self.block_seq(node, indent + INDENT, depth + 1)
            return
        if node.kind in ("map", "seq"):
            first, *rest = self.flow(node, len(head) + 1)
            self.out.append(f"{head} {first}")
            self.out.extend(rest)
            self.out[-1] += self.trailing(key_line, node.end.line)
            self.written_to = max(self.written_to, node.end.line)
            return
        if node.style in ("|", ">"):
            self.block_scalar(head, node, indent, key_line, depth, key)
            return
        if node.value == "" and node.style is None and node.start.index == node.end.index and node.anchor is None:
            self.out.append(head + self.trailing(key_line))  # `key:` with nothing after it
            return
        body = self.scalar_lines(node, indent + INDENT, depth, key)
        self.out.append(f"{head} {body[0]}")
        self.out.extend(body[1:])
        self.out[-1] += self.trailing(key_line, node.end.line)
        self.written_to = max(self.written_to, node.end.line)

    def anchor_text(self, node: _Node) -> str:
        return f" &{node.anchor}" if node.anchor else ""

    def key_text(self, key: _Node) -> str:
        if key.kind != "scalar" or key.style in ("|", ">") or key.start.line != key.end.line:
            raise _refusal("`fmt` lays out only keys written on one line", _span(self.display, key.start))
        return self.text[key.start.index : key.end.index]

    # ------------------------------------------------------------------ scalars

    def source_lines(self, node: _Node) -> list[str]:
        return self.text[node.start.index : node.end.index].split("\n")

    def scalar_lines(self, node: _Node, indent: int, depth: int, key: str | None) -> list[str]:
        """A plain or quoted scalar, as written, its continuation lines indented `indent`."""
        lines = [line.strip() for line in self.source_lines(node)]
        kind = self.expression_kind(node, depth, key)
        if kind is not None:
            lines = self.expression_lines(node, lines, kind)
        return [lines[0]] + [(" " * indent + line) if line else "" for line in lines[1:]]

    def expression_kind(self, node: _Node, depth: int, key: str | None) -> str | None:
        # A rule row is an item of a top-level list (depth 2 is its keys); only policy files hold rules.
        if self.policy and depth == 2 and key in EXPRESSIONS and node.tag is None and node.anchor is None:
            return EXPRESSIONS[key]
        return None

    def expression_lines(self, node: _Node, lines: list[str], kind: str) -> list[str]:
        """The lines of a condition or fix, spaced one way, line by line, where that reads the same."""
        if node.style is None:
            tidied = [spaced(line) if line else "" for line in lines]
            if None in tidied:
                return lines
            new = [t for t in tidied if t is not None]
            return new if same_tree(node.value, " ".join(new), kind) else lines
        if len(lines) > 1:
            return lines  # a quoted expression over several lines: left as written
        tidy = spaced(node.value)
        if tidy is None or tidy == node.value or not same_tree(node.value, tidy, kind):
            return lines
        if node.style == "'":
            return ["'" + tidy.replace("'", "''") + "'"]
        if node.style == '"' and '"' not in tidy and "\\" not in tidy:
            return ['"' + tidy + '"']
        return lines

    def block_scalar(self, head: str, node: _Node, indent: int, key_line: int, depth: int, key: str | None) -> None:
        source = self.source_lines(node)
        header = source[0].partition("#")[0].strip()  # its comment, if any, comes back as a trailing one
        self.out.append(f"{head} {header}" + self.trailing(key_line, node.start.line))
        body = source[1:]
        while body and not body[-1].strip():
            body.pop()
        last = node.start.line + len(body)
        kind = self.expression_kind(node, depth, key)
        margin = min((_indent_of(line) for line in body if line.strip()), default=0)
        lines = [line[margin:] if line.strip() else "" for line in body]
        if kind is not None and node.style == ">" and all(not line.startswith(" ") for line in lines):
            tidied = [spaced(line) if line else "" for line in lines]
            if None not in tidied and same_tree(node.value, " ".join(t or "" for t in tidied), kind):
                lines = [t or "" for t in tidied]
        self.out.extend((" " * (indent + INDENT) + line) if line else "" for line in lines)
        self.written_to = max(self.written_to, last)

    # ------------------------------------------------------------------ flow collections

    def flow(self, node: _Node, column: int, tail: int = 0) -> list[str]:
        """A flow list or mapping whose bracket is at `column`: one line if it fits, else wrapped at its
        commas, the next lines starting one column inside the bracket (and so on for a list inside it).
        `tail` is how many characters follow it on its last line (the brackets and comma that close around it)."""
        self.no_comment_inside(node)
        one = self.flow_text(node)
        if column + len(one) + tail <= WIDTH or not node.items:
            return [one]
        opening, closing = ("[", "]") if node.kind == "seq" else ("{", "}")
        lines: list[str] = []
        current = (f"&{node.anchor} " if node.anchor else "") + opening
        start = column  # the column in the file where `current` starts
        hang = column + len(current)
        for i, item in enumerate(node.items):
            last = i == len(node.items) - 1
            end, after = (closing, tail) if last else (",", 0)
            piece = self.flow_item(item) + end
            fresh = current.endswith(opening) or current == " " * hang
            if not fresh and start + len(current) + 1 + len(piece) + after > WIDTH:
                lines.append(current)
                current, start, fresh = " " * hang, 0, True
            if not fresh:
                current += " "
            at = start + len(current)
            if at + len(piece) + after <= WIDTH or not self.wraps(item):
                current += piece
                continue
            # Too long even on a line of its own: the list or mapping inside is wrapped in turn.
            key, inner = item if isinstance(item, tuple) else (None, item)
            prefix = f"{self.flow_text(key)}: " if key is not None else ""
            inner_lines = self.flow(inner, at + len(prefix), len(end) + after)
            current += prefix + inner_lines[0]
            if len(inner_lines) > 1:
                lines.append(current)
                lines.extend(inner_lines[1:-1])
                current, start = inner_lines[-1], 0
            current += end
        lines.append(current)
        return lines

    @staticmethod
    def wraps(item) -> bool:
        inner = item[1] if isinstance(item, tuple) else item
        return inner.kind in ("seq", "map") and bool(inner.items)

    def flow_text(self, node: _Node) -> str:
        if node.kind == "alias":
            return f"*{node.anchor}"
        if node.kind == "scalar":
            return self.flow_scalar(node)
        body = ", ".join(self.flow_item(item) for item in node.items)
        inner = f"[{body}]" if node.kind == "seq" else f"{{{body}}}"
        return (f"&{node.anchor} " if node.anchor else "") + inner

    def flow_item(self, item) -> str:
        if isinstance(item, tuple):
            key, val = item
            return f"{self.flow_text(key)}: {self.flow_text(val)}".rstrip()
        return self.flow_text(item)

    def flow_scalar(self, node: _Node) -> str:
        if node.style in ("|", ">"):
            raise _refusal(
                "`fmt` does not lay out a block scalar inside `[...]` or `{...}`",
                _span(self.display, node.start),
            )
        lines = [line.strip() for line in self.source_lines(node)]
        if len(lines) == 1:
            return lines[0]
        if node.anchor is None and node.tag is None and ("" in lines[1:] or any(line.endswith("\\") for line in lines)):
            # Text over several lines of a flow list whose line breaks mean something (a blank line is a
            # newline, a `\` at the end joins without a space): one line in double quotes says the same.
            return json.dumps(node.value, ensure_ascii=False)
        return " ".join(lines)  # each line break is read as one space

    def no_comment_inside(self, node: _Node) -> None:
        for n in range(node.start.line, node.end.line):
            if n in self.comments:
                raise _refusal(
                    "`fmt` does not lay out a comment inside `[...]` or `{...}`",
                    self.comment_at(n),
                    "put the comment on a line of its own above the list",
                )


def _indent_of(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _scalars(node: _Node, found: list[_Node]) -> None:
    if node.kind in ("scalar", "alias"):
        found.append(node)
    for item in node.items:
        for part in item if isinstance(item, tuple) else (item,):
            _scalars(part, found)


def _comments(lines: list[str], scalars: list[_Node]) -> dict[int, tuple[int, str]]:
    """Each source line's comment: its column and its text from `#`. A `#` inside a scalar is not a comment,
    except on the header line of a block scalar (`>-  # why`), which `block_scalar` writes itself."""
    covered: dict[int, list[tuple[int, int]]] = {}
    for node in scalars:
        first, last = node.start.line, node.end.line
        if node.style in ("|", ">"):
            first += 1  # the header line's comment is a comment
        for n in range(first, last + 1):
            start = node.start.column if n == node.start.line else 0
            end = node.end.column if n == node.end.line else len(lines[n]) if n < len(lines) else 0
            covered.setdefault(n, []).append((start, end))
    found: dict[int, tuple[int, str]] = {}
    for n, line in enumerate(lines):
        at = -1
        while True:
            at = line.find("#", at + 1)
            if at < 0:
                break
            if at > 0 and line[at - 1] not in " \t":
                continue
            if any(s <= at < e for s, e in covered.get(n, ())):
                continue
            found[n] = (at, line[at:].rstrip())
            break
    return found


def _same_meaning(original, laid_out: str, display: str) -> None:
    try:
        again = _data(laid_out)
        same = _alike(original, again)
    except (yaml.YAMLError, RecursionError):
        same = False
    if not same:
        raise _refusal(
            "`fmt` could not lay this file out without changing what it says, so it is left as it was",
            Span(display, 1, 1),
            "please report this file to the payerpolicy maintainers",
        )


def _events(text: str) -> list:
    """The file's parse events with their places in the text. libyaml's, when PyYAML has it, are several times
    faster, with the same marks; on a mistake the pure-Python parser reads the file again, because the
    diagnostics are written for its messages and marks (as `policy.files` does)."""
    if getattr(yaml, "CSafeLoader", None) is not None:
        try:
            return list(yaml.parse(text, Loader=yaml.CSafeLoader))
        except yaml.YAMLError:
            pass
    return list(yaml.parse(text, Loader=yaml.SafeLoader))


class _Pairs(list):
    """A mapping's (key, value) pairs in order, duplicates kept: what the file says, not what a loader keeps."""


def _data(text: str):
    """What a file says: its node tree, each scalar as its resolved tag and its text. Composed, not
    constructed, so a value no Python type takes (a date such as 2026-02-30) is compared, not raised. A node
    met again through an alias is said as the number of its first meeting: fmt keeps anchors and aliases as
    written, and a file of aliases of aliases (a "billion laughs") is not expanded."""
    node = yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    return _said(node, {}) if node is not None else None


def _said(node, met: dict):
    if id(node) in met:
        return ("*", met[id(node)])
    met[id(node)] = len(met)
    if isinstance(node, yaml.ScalarNode):
        return (node.tag, node.value)
    if isinstance(node, yaml.SequenceNode):
        return [_said(item, met) for item in node.value]
    return _Pairs((_said(key, met), _said(value, met)) for key, value in node.value)


def _alike(a, b) -> bool:
    if isinstance(a, list) and isinstance(b, list):
        return type(a) is type(b) and len(a) == len(b) and all(_alike(x, y) for x, y in zip(a, b))
    if isinstance(a, tuple) and isinstance(b, tuple) and len(a) == len(b) == 2 and isinstance(a[0], str):
        if a == b:
            return True
        if a[0] == b[0] == "tag:yaml.org,2002:str":  # a condition or fix spaced another way reads the same
            return any(same_tree(a[1], b[1], kind) for kind in ("condition", "fix"))
        return False
    if isinstance(a, tuple) and isinstance(b, tuple):  # a mapping's (key, value) pair
        return len(a) == len(b) and all(_alike(x, y) for x, y in zip(a, b))
    return a == b
