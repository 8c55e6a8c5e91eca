"""The fields of the rule language, declared once: how a rule names each, its kind, whether it can be missing,
where the judged line holds it, and what it means.

Everything that knows a field reads it from here: the rule checker (`policy.check`: the field exists, its
kind), the code writer (`program.source`: how the generated code reads it, whether it tests for a missing
value), the judged line (`judge.judge.LineView`: its attributes), a past line from the claim history
(`judge.history.HistoryLine`: the fields it does not keep are missing) and the README's table of fields
(`python -m payerpolicy.rules.readme README.md` writes it; a test checks that they agree).

To add a field: declare it here, give `LineView` (for a line field) the value, read it in each claim reader,
then rewrite the README's table.
"""

from __future__ import annotations

from dataclasses import dataclass

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


def _line(path: str, kind: str, doc: str, **how) -> Field:
    return Field("line", tuple(path.split(".")), kind, doc, **how)


FIELDS: tuple[Field, ...] = (
    _line("code", "code", "the procedure code (CPT or HCPCS)", missing=False),
    _line("units", "number", "the units billed; missing on a line billed in minutes (837P `MJ`)", summable=True),
    _line(
        "minutes",
        "number",
        "the minutes of treatment the line gives; missing when it gives none",
        summable=True,
        in_history=False,
    ),
    _line("modifiers", "list[modifier]", "the line's modifiers (none is an empty list)", missing=False),
    _line("date", "date", "the date of service", missing=False),
    _line("charge", "number", "the amount billed", summable=True),
    _line("diagnoses", "list[diagnosis]", "the diagnoses the line points to, else the claim's", in_history=False),
    _line(
        "provider.type",
        "provider_type",
        "the rendering provider's type (PT, PTA, OT, ...): the line's own provider, else the claim's",
        attr="provider_type",
    ),
    _line(
        "provider.npi",
        "text",
        "the rendering provider's NPI: the line's own provider, else the claim's",
        attr="provider_npi",
        in_history=False,
    ),
    _line(
        "supported_units",
        "number",
        "the units the day's treatment minutes support for the line, by the "
        "policy's timed-unit method: its units in the allowed split of the day nearest to the bill; missing "
        "when a timed line of the day has no minutes",
        read=DAY_UNITS,
    ),
    _line(
        "pta_minutes",
        "number",
        "the line's minutes furnished by a PT assistant (the line's provider, or its periods')",
        in_history=False,
    ),
    _line("ota_minutes", "number", "the line's minutes furnished by an OT assistant", in_history=False),
    _line("claim_id", "text", "the id of the line's claim", missing=False),
    _line("discipline", "text", "PT, OT or SLP: the line's GP/GO/GN, else its provider's discipline"),
    _line(
        "day_split",
        "text",
        'for messages: the allowed split of the day nearest to the bill, in words ("97112 x2, 97110 x1")',
        read=DAY_WORDS,
        attr="proposal",
    ),
    _line(
        "other_splits",
        "text",
        'for messages: "" when that split is the only one allowed, else what else is '
        '("(other splits are valid too: ...)")',
        read=DAY_WORDS,
        attr="others",
    ),
    _line(
        "place_of_service",
        "text",
        "the line's place of service, else the claim's: `place_of_service = \"11\"`",
        in_history=False,
    ),
    _line("prior_authorization", "text", "the line's prior authorization number, else the claim's", in_history=False),
    _line(
        "allowed",
        "number",
        "the line's estimated allowed amount in dollars (fee x units, after the multiple "
        "procedure reduction and the assistant payment); missing when the policy names no "
        "`fee_schedule_tables:` for the line's date or the code has no fee there",
        summable=True,
    ),
    _line(
        "fee_schedule",
        "text",
        "the carrier, locality and period of the fee schedule that priced the line; missing when none did",
        in_history=False,
    ),
    *(
        _line(
            f"data_fault.{fault}",
            "text",
            f"a data fault a payer's front end rejects the claim for: {doc}; on "
            "the line it concerns (the claim's first line for the whole claim), missing when there is none",
            attr=f"fault_{fault}",
            in_history=False,
        )
        for fault, doc in FAULTS.items()
    ),
    Field("claim", ("id",), "text", "the claim's id", read=CLAIM, missing=False),
    Field("claim", ("payer",), "text", "the payer the claim is billed to", read=CLAIM),
    Field("claim", ("diagnoses",), "list[diagnosis]", "every diagnosis of the claim", read=CLAIM),
    Field("claim", ("frequency",), "text", "the claim's frequency code: 1 original, 7 replacement, 8 void", read=CLAIM),
    Field(
        "claim",
        ("received",),
        "date",
        "the date the payer receives the claim: the run's (`--received`, `received=`; default the day of the run)",
        read=RUN,
        missing=False,
    ),
    Field(
        "claim",
        ("provider", "type"),
        "provider_type",
        "the claim's rendering provider's type",
        read=CLAIM_PROVIDER,
        attr="type",
    ),
    Field(
        "claim", ("provider", "npi"), "text", "the claim's rendering provider's NPI", read=CLAIM_PROVIDER, attr="npi"
    ),
    Field("claim", ("place_of_service",), "text", "the claim's place of service", read=CLAIM),
    Field("claim", ("prior_authorization",), "text", "the claim's prior authorization number", read=CLAIM),
    Field("claim", ("referring_npi",), "text", "the referring or certifying physician's NPI (837P 2310A)", read=CLAIM),
    Field("claim", ("treatment_began",), "date", "the date treatment began (837P `DTP*454`)", read=CLAIM),
    Field("patient", ("id",), "text", "the patient's id", read=CLAIM, attr="patient_id"),
    Field("patient", ("birth_date",), "date", "the patient's date of birth", read=CLAIM, attr="patient_birth_date"),
    Field(
        "patient",
        ("age",),
        "number",
        "the patient's age in whole years on the judged line's date of service",
        read=JUDGED_LINE,
        attr="patient_age",
    ),
)

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
