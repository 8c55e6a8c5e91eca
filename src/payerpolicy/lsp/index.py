"""What an editor asks about a policy, answered from its loaded form: where a rule or code set is written,
what a code, modifier, rule or diagnostic code is, and what may be typed where.

Built from a `RuleProgram` (the policy as it last loaded without errors), so hover and go-to-definition keep
working while the file being typed has a mistake in it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from payerpolicy import explain_code
from payerpolicy.codes import CODE_RANGE, MODIFIER, PROCEDURE_CODE, range_codes
from payerpolicy.diagnostics import Span
from payerpolicy.rules.fields import FIELDS

# What the cursor may stand on: rule ids (medicare.unit-cap.97112), @code_sets, codes, modifiers, E401.
WORD = re.compile(r"@?[A-Za-z0-9_][A-Za-z0-9_.\-]*")
DIAGNOSTIC_CODE = re.compile(r"[EW][0-9]{3}")


@dataclass
class Entry:
    """One name in a policy: where it is written, and what to say about it."""

    span: Span | None
    text: str


@dataclass
class PolicyIndex:
    rules: dict[str, Entry] = field(default_factory=dict)
    code_sets: dict[str, Entry] = field(default_factory=dict)
    rules_by_code: dict[str, list[str]] = field(default_factory=dict)
    sets_by_entry: dict[str, list[str]] = field(default_factory=dict)
    base_files: dict[str, Span] = field(default_factory=dict)  # `extends:` value -> the base's first file
    every_code: int = 0  # rules that judge every line, whatever its code

    @classmethod
    def of(cls, program) -> PolicyIndex:
        spec = program.policy
        index = cls()
        for name, code_set in spec.code_sets.items():
            shown = ", ".join(code_set.entries[:12]) + (" ..." if len(code_set.entries) > 12 else "")
            index.code_sets[name] = Entry(
                code_set.span, f"code set `@{name}` ({len(code_set.entries)} entries): {shown}"
            )
            for entry in code_set.entries:
                index.sets_by_entry.setdefault(str(entry).upper(), []).append(name)
        for rule in spec.rules:
            cite = rule.source.get("cite")
            where = f"{rule.source.get('file')}:{rule.source.get('line')}"
            text = (
                f"rule `{rule.id}`: {rule.family}, {rule.severity}, {rule.kind}"
                + (f"\n\nsource: {cite}" if cite else "")
                + f"\n\nwritten at {where}"
            )
            index.rules[rule.id] = Entry(_source_span(rule), text)
        general = {compiled.spec.id for compiled in program.for_every_code}
        index.every_code = len(general)
        for code, rules in program.by_code.items():
            # The policy's own rules first: in a payer built on Medicare, what the author wrote comes before
            # what it inherits.
            own = sorted(
                (compiled.spec for compiled in rules if compiled.spec.id not in general),
                key=lambda rule: not str(rule.source.get("file", "")).startswith(spec.folder + "/"),
            )
            index.rules_by_code[code] = [rule.id for rule in own]
        return index

    # ----------------------------------------------------------------------------------------- answers

    def hover(self, word: str) -> str | None:
        name = word.lstrip("@")
        if word in self.rules:
            return self.rules[word].text
        if name in self.code_sets and (word.startswith("@") or name not in self.rules):
            return self.code_sets[name].text
        if DIAGNOSTIC_CODE.fullmatch(word.upper()) and explain_code(word):
            return f"{word.upper()}: {explain_code(word)} (payerpolicy lint --explain {word.upper()})"
        upper = word.upper()
        if PROCEDURE_CODE.match(upper):
            rules = self.rules_by_code.get(upper, [])
            sets = self.sets_by_entry.get(upper, [])
            lines = [
                f"procedure code {upper}: {len(rules)} rule{'' if len(rules) == 1 else 's'} of its own"
                + (f", and the {self.every_code} that judge every line" if self.every_code else "")
            ]
            lines += [f"- `{rule}`" for rule in rules[:15]] + (
                [f"- and {len(rules) - 15} more"] if len(rules) > 15 else []
            )
            if sets:
                lines.append("in code sets: " + ", ".join(f"`@{s}`" for s in sets))
            return "\n".join(lines)
        if CODE_RANGE.match(upper):
            codes = range_codes(*upper.split("-"))
            return f"codes {upper}: " + (f"{len(codes)} codes" if isinstance(codes, list) else codes)
        if MODIFIER.match(upper) and upper in self.sets_by_entry:
            sets = self.sets_by_entry[upper]
            return f"modifier {upper}: in code sets " + ", ".join(f"`@{s}`" for s in sets)
        return None

    def definition(self, word: str) -> Span | None:
        name = word.lstrip("@")
        if word in self.rules:
            return self.rules[word].span
        if name in self.code_sets:
            return self.code_sets[name].span
        return self.base_files.get(word)

    def completions(self, after_at: bool) -> list[tuple[str, str, str]]:
        """(label, what it is, detail) for what may be typed here: code sets after `@`, else fields too."""
        sets = [
            (f"@{name}" if not after_at else name, "code set", entry.text)
            for name, entry in sorted(self.code_sets.items())
        ]
        if after_at:
            return sets
        fields = [
            (label, "field", f"{field.kind}: {field.doc}")
            for field in FIELDS
            for label in ((field.name, f"line.{field.name}") if field.subject == "line" else (field.name,))
        ]
        return fields + sets


def _source_span(rule) -> Span | None:
    file, line = rule.source.get("file"), rule.source.get("line")
    if not file or not isinstance(line, int):
        return rule.span
    return Span(file, line, 1)


def word_at(text: str, line: int, character: int) -> str | None:
    """The word under the cursor (0-based line and character, as the protocol counts)."""
    lines = text.splitlines()
    if not 0 <= line < len(lines):
        return None
    for found in WORD.finditer(lines[line]):
        if found.start() <= character <= found.end():
            return found.group(0).rstrip(".-")
    return None
