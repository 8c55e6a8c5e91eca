"""The fields of the rule language, declared once in `fields.yaml` (a table of data, read here at import):
how a rule names each, its kind, whether it can be missing, where the judged line holds it, and what it means.

Everything that knows a field reads it from here: the rule checker (`policy.check`: the field exists, its
kind), the code writer (`program.source`: how the generated code reads it, whether it tests for a missing
value), the judged line (`judge.judge.LineView`: its attributes), a past line from the claim history
(`judge.history.HistoryLine`: the fields it does not keep are missing) and the README's table of fields
(`python -m payerpolicy.rules.readme README.md` writes it; a test checks that they agree).

To add a field: declare it in `fields.yaml`, give `LineView` (for a line field) the value, read it in each
claim reader, then rewrite the README's table.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from payerpolicy.claims.model import FAULTS

# Where the generated code finds a field's value (`program.source` writes one read per kind):
LINE = "line"  # an attribute of the line in focus: the judged line, or inside `with ...` the counted one
JUDGED_LINE = "judged line"  # an attribute of the judged line whatever the focus (the patient's age on its date)
CLAIM = "claim"  # an attribute of the judged line's claim
CLAIM_PROVIDER = "claim provider"  # an attribute of the claim's provider, which may not be given
DAY_UNITS = "day units"  # worked out over the patient-day's timed minutes, for a line (judge.judge.DayContext)
DAY_WORDS = "day words"  # the patient-day's timed-unit split in words, the same for every line of the day
RUN = "run"  # a figure of the run (the date the payer receives the claims), the same for every claim


@dataclass(frozen=True)
class Field:
    subject: str  # "line", "claim" or "patient": how a rule begins the name (a line field needs no prefix)
    path: tuple[str, ...]  # the name after the subject: ("provider", "type")
    kind: str  # as the checker names kinds: code, number, date, text, provider_type, list[modifier], ...
    doc: str
    read: str = LINE  # where its value is (one of the read kinds above)
    attr: str = ""  # the attribute read (on the line, the claim, the provider); the name itself when not given
    missing: bool = True  # whether it can be missing (None): comparisons then test for it first
    summable: bool = False  # `total NAME of lines ...` adds it up
    in_history: bool = True  # a line field that the claim history keeps (else a past line has it missing)

    @property
    def attribute(self) -> str:
        return self.attr or "_".join(self.path)

    @property
    def name(self) -> str:
        """How a rule writes it: `units`, `claim.referring_npi`, `patient.age`."""
        dotted = ".".join(self.path)
        return dotted if self.subject == "line" else f"{self.subject}.{dotted}"

    @property
    def empty(self):
        """What a line that lacks the field holds: no value, or no entries for a list."""
        return () if self.kind.startswith("list[") else None


def _load(text: str) -> tuple[Field, ...]:
    """The fields `fields.yaml` declares, in its order, `data_fault.*` written out for each kind of fault."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    declared = yaml.load(text, Loader=loader)
    fields: list[Field] = []
    for subject, entries in declared.items():
        for name, how in entries.items():
            if name == "data_fault.*":
                fields.extend(_fault_field(subject, how, fault, doc) for fault, doc in FAULTS.items())
            else:
                fields.append(_declared(subject, name, how))
    return tuple(fields)


def _declared(subject: str, name: str, how: dict) -> Field:
    unknown = set(how) - _ENTRY_KEYS
    if unknown or how.get("read", LINE) not in READ_KINDS:
        raise ValueError(f"fields.yaml: {subject}.{name}: unknown {sorted(unknown) or how['read']}")
    return Field(subject, tuple(name.split(".")), **how)


def _fault_field(subject: str, how: dict, fault: str, doc: str) -> Field:
    words = {"fault": fault, "doc": doc}
    return _declared(
        subject, f"data_fault.{fault}", {k: v.format(**words) if isinstance(v, str) else v for k, v in how.items()}
    )


READ_KINDS = (LINE, JUDGED_LINE, CLAIM, CLAIM_PROVIDER, DAY_UNITS, DAY_WORDS, RUN)
_ENTRY_KEYS = {"kind", "doc", "read", "attr", "missing", "summable", "in_history"}

FIELDS: tuple[Field, ...] = _load((Path(__file__).parent / "fields.yaml").read_text(encoding="utf-8"))

# The fields by how a rule's AST names their subject: `focus` (no prefix) and `line.` are both line fields.
_BY_SUBJECT: dict[str, dict[tuple[str, ...], Field]] = {"line": {}, "claim": {}, "patient": {}}
for _field in FIELDS:
    _BY_SUBJECT[_field.subject][_field.path] = _field
_BY_SUBJECT["focus"] = _BY_SUBJECT["line"]

LINE_FIELDS = _BY_SUBJECT["line"]
# `total NAME of lines ...`: the fields that add up.
SUMMABLE = tuple(f.path[0] for f in FIELDS if f.summable)
# The attributes of a line that rules read (`judge.judge.LineView`; a past line, `judge.history.HistoryLine`,
# has them too), the data faults' among them, and those read of the judged line only.
LINE_ATTRIBUTES = tuple(f.attribute for f in FIELDS if f.read == LINE)
FAULT_ATTRIBUTES = tuple(f.attribute for f in FIELDS if f.path[0] == "data_fault")
JUDGED_LINE_ATTRIBUTES = tuple(f.attribute for f in FIELDS if f.read == JUDGED_LINE)


def fields_of(subject: str) -> dict[tuple[str, ...], Field]:
    """The fields a rule may name after `subject` ("focus" for a bare name, "line", "claim", "patient")."""
    return _BY_SUBJECT[subject]


def field(subject: str, path: tuple[str, ...]) -> Field | None:
    return _BY_SUBJECT[subject].get(path)


def known(subject: str, path: tuple[str, ...]) -> Field:
    """A field the policy checker has already found (the code writer only sees checked rules)."""
    return _BY_SUBJECT[subject][path]


def summed(measure: str) -> Field:
    """The line field `total MEASURE of lines` adds up (the checker has made sure it is one)."""
    return _BY_SUBJECT["line"][(measure,)]


# Kinds as the README's tables name them.
KIND_WORDS = {
    "code": "code",
    "number": "number",
    "date": "date",
    "text": "text",
    "provider_type": "provider type",
    "modifier": "modifier",
    "list[modifier]": "modifiers",
    "list[diagnosis]": "diagnoses",
}


def markdown_table() -> str:
    """The README's table of fields."""
    rows = ["| field | kind | can be missing | what it is |", "|---|---|---|---|"]
    faults_shown = False
    for f in FIELDS:
        name, doc = f"`{f.name}`", f.doc
        if f.path[0] == "data_fault":  # one row for the kinds of fault, which share their wording
            if faults_shown:
                continue
            faults_shown = True
            name = ", ".join(f"`data_fault.{fault}`" for fault in FAULTS)
            doc = (
                'what a payer\'s front end rejects the claim for (see "Claim data faults"), on the line it '
                "concerns (the claim's first line for the whole claim); missing when there is none"
            )
        rows.append(f"| {name} | {KIND_WORDS.get(f.kind, f.kind)} | {'yes' if f.missing else 'no'} | {doc} |")
    return "\n".join(rows)
