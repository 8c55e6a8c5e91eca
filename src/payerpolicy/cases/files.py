"""Policy test cases, stage 1: case files from disk, checked, into `PolicyCase`s.

A case file is YAML, usually beside the policy it tests (`policies/medicare/tests/test_caps.yaml`), named
`test_*.yaml` so that pytest and `payerpolicy test` find it:

    policy: medicare                # optional; by default the policy folder above this `tests/` folder
    exact: true                     # optional: every expectation lists all the findings (default: some)
    claim_defaults:                 # optional: fields every claim of the file has unless it gives its own
      referring_npi: "1234567893"
    cases:
      - name: 97112 over the daily cap of 4 units
        claim: {id: C-1, patient: {id: P-1}, provider: {type: PT}, lines: [...]}   # or claims: [...]
        expect:                     # or claim_file: a claim file, from this file's folder
          status: denied
          findings:                 # these must appear; others may too, unless `exact: true`
            - {rule: medicare.unit-cap.97112, line: 1, fix: {action: set_units, value: 4}}
          absent:                   # these must not appear
            - {family: code_pair}

Case files are read like policies (positions kept, checked against `schemas/cases.schema.json`), so a
mistake in one is reported with its file, line and column.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from pathlib import Path

from payerpolicy.diagnostics import Diagnostic, SourceFiles
from payerpolicy.policy.files import PolicyDocument, WholeNumber, read_policy_file
from payerpolicy.pipeline import display_name, policy_files
from payerpolicy.policy.schema import validate_document

CASE_FILE_PATTERNS = ("test_*.yaml", "test_*.yml")
# Folders a search for case files does not go into: installed packages and tools' own files.
_SKIPPED = {".venv", "venv", "site-packages", "node_modules", ".git", ".tox", "build", "dist"}
_TEXT_KEYS = {
    "id",
    "code",
    "npi",
    "frequency",
    "payer",
    "type",
    "start",
    "end",
    "date",
    "referring_npi",
    "place_of_service",
    "prior_authorization",
    "birth_date",
    "treatment_began",
}
_TEXT_LISTS = {"modifiers", "diagnoses"}


@dataclass
class PolicyCase:
    name: str
    file: str  # as shown to people: policies/medicare/tests/test_caps.yaml
    line: int
    policy: str  # a shipped payer or a path
    base: Path  # the folder that relative paths of the case start from
    expect: list[dict]  # one expectation per claim
    claims: list[dict] | None = None
    claim_file: Path | None = None
    window: int | None = None
    index: int = 0  # place in its file's `cases`
    single: bool = True  # `expect` was written as one mapping, not a list
    exact: bool = False  # the file's default for expectations that do not say `exact:`
    as_of: datetime.date | None = None  # judge with the policy as known on this date
    received: datetime.date | None = None  # the date the payer receives the claims (default: today)


@dataclass
class CaseFile:
    path: Path
    display: str
    document: PolicyDocument
    cases: list[PolicyCase] = field(default_factory=list)


def is_case_file(path: Path) -> bool:
    return any(path.match(pattern) for pattern in CASE_FILE_PATTERNS)


def find_case_files(paths: list[Path]) -> list[Path]:
    """Every case file in or under `paths`, in a stable order."""
    found: list[Path] = []
    for path in paths:
        if path.is_file():
            found.append(path)
        elif path.is_dir():
            for pattern in CASE_FILE_PATTERNS:
                found.extend(p for p in path.rglob(pattern) if not _SKIPPED.intersection(p.relative_to(path).parts))
    return sorted(set(found))


def default_policy(path: Path) -> str | None:
    """The policy a case file in `<policy folder>/tests/` tests: that folder."""
    folder = path.resolve().parent
    if folder.name == "tests" and policy_files(folder.parent):
        return str(folder.parent)
    return None


def read_case_file(path: Path, sources: SourceFiles, diagnostics: list[Diagnostic]) -> CaseFile | None:
    display = display_name(path)
    document = read_policy_file(path, display, sources, diagnostics)
    if document is None:
        return None
    ok = validate_document(document, diagnostics, "cases.schema.json")
    data = document.data if isinstance(document.data, dict) else {}
    case_file = CaseFile(path, display, document)
    file_policy = data.get("policy") or default_policy(path)
    for index, raw in enumerate(data.get("cases") or []):
        case = _case(
            raw, index, case_file, file_policy, diagnostics, bool(data.get("exact")), data.get("claim_defaults") or {}
        )
        if case is not None:
            case_file.cases.append(case)
    return case_file if ok else None


def _case(
    raw: dict,
    index: int,
    case_file: CaseFile,
    file_policy: str | None,
    diagnostics: list[Diagnostic],
    exact: bool,
    claim_defaults: dict,
) -> PolicyCase | None:
    doc, base = case_file.document, case_file.path.parent
    span = doc.span(("cases", index, "name"))
    policy = raw.get("policy") or file_policy
    if policy is None:
        diagnostics.append(
            Diagnostic(
                "E501",
                f"case `{raw['name']}` names no policy",
                span,
                "give `policy:` (a shipped payer or a path) in the case or at the top of the file, or put the file "
                "in the `tests/` folder of the policy it tests",
            )
        )
        return None
    claim_file = None
    if "claim_file" in raw:
        claim_file = base / raw["claim_file"]
        if not claim_file.is_file():
            diagnostics.append(
                Diagnostic(
                    "E502",
                    f"no claim file `{raw['claim_file']}` (looked in {base})",
                    doc.span(("cases", index, "claim_file")),
                )
            )
            return None
    claims = [raw["claim"]] if "claim" in raw else raw.get("claims")
    if claims is not None and claim_defaults:
        # What every real claim of the file would carry (the certifying NPI, say), written once: a claim's
        # own value, even null, wins.
        claims = [{**claim_defaults, **claim} if isinstance(claim, dict) else claim for claim in claims]
    expect = raw["expect"]
    expectations = [expect] if isinstance(expect, dict) else list(expect)
    return PolicyCase(
        name=raw["name"],
        file=case_file.display,
        line=span.line,
        policy=str(policy),
        base=base,
        expect=expectations,
        single=isinstance(expect, dict),
        claims=[as_claim_json(c) for c in claims] if claims is not None else None,
        claim_file=claim_file,
        window=raw.get("window"),
        index=index,
        exact=exact,
        as_of=datetime.date.fromisoformat(raw["as_of"]) if raw.get("as_of") else None,
        received=datetime.date.fromisoformat(raw["received"]) if raw.get("received") else None,
    )


def as_claim_json(value):
    """A claim written in YAML, as the claim JSON would have it: codes, modifiers and ids are text even when
    written without quotes (97112, 59), so a case author need not quote them."""
    if isinstance(value, dict):
        return {
            k: (
                _text(v)
                if k in _TEXT_KEYS
                else [_text(i) for i in v]
                if k in _TEXT_LISTS and isinstance(v, list)
                else as_claim_json(v)
            )
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [as_claim_json(v) for v in value]
    return value


def _text(value):
    if isinstance(value, WholeNumber):
        return value.text
    return value
