"""The read stage for HL7 FHIR R4, its first half: documents, their resources, and the references between them.

A FHIR document, as parsed JSON, is a resource (an object whose `resourceType` names it), a `Bundle` whose
`entry[].resource` are resources, or, as some feeds send them, a JSON array of resources. A `Claim` names
the people and organizations it is about by reference (`{"reference": "Patient/123"}`, `#id` for a resource
contained in the claim, a Bundle entry's `fullUrl`), and the resources referred to (Patient, Practitioner,
PractitionerRole, Organization, Coverage, Condition) stand beside it in the Bundle or the array.

`read_document` walks a document and hands each `Claim` to the claim mapping (`claims.fhir`), with the
`References` it may resolve: the Bundle's (or the array's) resources, indexed by `Type/id` and `fullUrl`, and
the claim's contained ones. Records are placed as `name`, `name entry 3` (a Bundle's third entry) or
`name resource 3` (an array's third element). What holds no claim to read becomes one `UnreadableClaim`
saying what it is instead: a Bundle without Claims, an entry without a resource, a resource that is not a
Claim, and ExplanationOfBenefit and ClaimResponse, which are the payer's answer to a claim, already
adjudicated, not a claim to check. A bad entry never stops a Bundle.

The rest are readers of FHIR data types that feeds fill loosely (a single value where an array belongs, code
system URIs written several ways): identifiers, codings, and code systems compared leniently.
"""

from __future__ import annotations

import difflib
import re
from typing import Callable, Iterable, Iterator

from payerpolicy.claims.model import ClaimProblem, ClaimRecord, UnreadableClaim
from payerpolicy.claims.values import describe, quote

__all__ = [
    "References",
    "as_list",
    "code_system",
    "codings_of",
    "identifier_value",
    "identifiers_of",
    "read_document",
    "reference_text",
    "resource_id",
]

# Resources that look like claims but are the payer's answer to one.
_ANSWERS = {
    "ExplanationOfBenefit": "an ExplanationOfBenefit is the payer's account of a claim it has already "
    "processed (what it paid and denied), not a claim to check",
    "ClaimResponse": "a ClaimResponse is the payer's answer to a claim, not a claim to check",
}


# ---------------------------------------------------------------------------------------------------------
# Documents: a Claim, a Bundle, an array


# A Claim resource, where it stands, and the references it may resolve, to its record.
ReadClaim = Callable[[dict, str, "References"], ClaimRecord]


def read_document(document: object, name: str, read_claim: ReadClaim) -> Iterator[ClaimRecord]:
    """One record per Claim in a FHIR document (a resource, a Bundle, an array of resources), in input order,
    each made by `read_claim`; one `UnreadableClaim` for each part of the document that holds no claim to read.
    Never raises for bad data."""
    if isinstance(document, list):
        return _read_array(document, name, read_claim)
    return _read_resource(document, name, References({}), read_claim, top=True)


def _read_resource(
    resource: object, where: str, references: References, read_claim: ReadClaim, top: bool = False
) -> Iterator[ClaimRecord]:
    """One resource: a Claim is read, a Bundle opened, an answer to a claim refused; others are context."""
    fields = resource if isinstance(resource, dict) else {}  # a list or a value has no resource type
    kind = fields.get("resourceType")
    if not isinstance(kind, str):  # an object or list where a name belongs is no resource type at all
        kind = None
    if kind == "Claim":
        yield read_claim(fields, where, references)
    elif kind == "Bundle":
        yield from _read_bundle(fields, where, read_claim)
    elif kind in _ANSWERS:
        yield _answer_not_claim(fields, kind, where)
    elif top or not isinstance(kind, str):
        yield _not_a_claim(resource, where)
    # Other resources inside a Bundle or an array (Patient, Practitioner, ...) only resolve references.


def _read_bundle(bundle: dict, where: str, read_claim: ReadClaim) -> Iterator[ClaimRecord]:
    entries = bundle.get("entry")
    if not isinstance(entries, list):
        found = "has no entries" if entries is None else f"has entry {describe(entries)}, not a list of entries"
        yield _unreadable_document(where, "entry", f"this Bundle {found}, so it holds no Claim to read")
        return
    references = References.of_entries(entries)
    read = 0
    for number, entry in enumerate(entries, 1):
        at = f"{where} entry {number}"
        problem = _entry_problem(entry, number)
        if problem is not None:
            read += 1
            yield UnreadableClaim(id=None, problems=(problem,), where=at)
        elif isinstance(entry.get("resource"), dict):
            for record in _read_resource(entry["resource"], at, references, read_claim):
                read += 1
                yield record
    if not read:
        kinds = sorted(
            {
                e["resource"]["resourceType"]
                for e in entries
                if _entry_problem(e, 0) is None and isinstance(e.get("resource"), dict)
            }
        )
        held = f"it holds {', '.join(kinds)}" if kinds else "it is empty"
        yield _unreadable_document(where, "entry", f"this Bundle holds no Claim to read ({held})")


def _entry_problem(entry: object, number: int) -> ClaimProblem | None:
    """Why a Bundle entry cannot be read, or None. An entry with a `request` but no resource (a delete in
    a transaction) is fine: it holds nothing to read."""
    field = f"entry[{number}]"
    if not isinstance(entry, dict):
        return ClaimProblem(
            field, f"a Bundle entry must be an object {{...}} with a `resource`; found {describe(entry)}"
        )
    resource = entry.get("resource")
    if resource is None:
        if "request" in entry:
            return None
        close = difflib.get_close_matches("resource", [str(key) for key in entry], n=1)
        hint = f" (did you mean `resource` for `{close[0]}`?)" if close else ""
        return ClaimProblem(field, f"this entry has no `resource`{hint}, so whatever it holds cannot be read")
    if not isinstance(resource, dict):
        return ClaimProblem(field + ".resource", f"a resource must be an object {{...}}; found {describe(resource)}")
    if not isinstance(resource.get("resourceType"), str):
        return ClaimProblem(
            field + ".resource.resourceType", "missing: every resource names its resourceType (Claim, Patient, ...)"
        )
    return None


def _read_array(resources: list, name: str, read_claim: ReadClaim) -> Iterator[ClaimRecord]:
    """A JSON array of resources, read like a Bundle's entries: references resolve among its elements."""
    references = References.of_resources(resources)
    read = 0
    for number, resource in enumerate(resources, 1):
        for record in _read_resource(resource, f"{name} resource {number}", references, read_claim):
            read += 1
            yield record
    if resources and not read:
        yield _unreadable_document(name, "resourceType", "this array holds no FHIR Claim or Bundle to read")


def _answer_not_claim(resource: dict, kind: str, where: str) -> UnreadableClaim:
    problem = ClaimProblem(
        "resourceType", f"{_ANSWERS[kind]}; send the Claim resource instead (its items have the same shape)"
    )
    return UnreadableClaim(id=resource_id(resource), problems=(problem,), where=where)


def _not_a_claim(value: object, where: str) -> UnreadableClaim:
    kind = value.get("resourceType") if isinstance(value, dict) else None
    if isinstance(kind, str):
        message = f"this is a FHIR {quote(kind)}, not a Claim or a Bundle of Claims"
    elif isinstance(value, dict):
        message = "this is not a FHIR resource (it has no resourceType); expected a Claim or a Bundle of Claims"
        if "lines" in value:  # the project's own claim JSON, given to the wrong reader
            message += "; it looks like a claim in payerpolicy's claim JSON, which the JSON reader reads"
    else:
        message = f"expected a FHIR Claim or Bundle, an object {{...}}; found {describe(value)}"
    return _unreadable_document(where, "resourceType", message)


def _unreadable_document(where: str, field: str, message: str) -> UnreadableClaim:
    return UnreadableClaim(id=None, problems=(ClaimProblem(field, message),), where=where)


# ---------------------------------------------------------------------------------------------------------
# References


class References:
    """The resources a claim's references can reach: the Bundle's (or array's) and the claim's contained."""

    def __init__(self, pool: dict[str, dict], contained: dict[str, dict] | None = None):
        self._pool = pool  # shared by every claim of a Bundle, so never copied
        self._contained = contained or {}  # "#id" of the claim being read

    @classmethod
    def of_entries(cls, entries: list) -> References:
        pool: dict[str, dict] = {}
        for entry in entries:
            if isinstance(entry, dict) and isinstance(entry.get("resource"), dict):
                full_url = entry.get("fullUrl")
                if isinstance(full_url, str):
                    pool.setdefault(full_url, entry["resource"])
                _add(pool, entry["resource"])
        return cls(pool)

    @classmethod
    def of_resources(cls, resources: Iterable) -> References:
        pool: dict[str, dict] = {}
        for resource in resources:
            if isinstance(resource, dict):
                _add(pool, resource)
        return cls(pool)

    def with_contained(self, claim: dict) -> References:
        contained = claim.get("contained")
        if not isinstance(contained, list):
            return self
        local = {f"#{r['id']}": r for r in contained if isinstance(r, dict) and isinstance(r.get("id"), str)}
        return References(self._pool, local)

    def resolve(self, reference: object, kind: str | tuple[str, ...] | None = None) -> dict | None:
        """The resource a Reference points to, if it is here (and of `kind`, when given)."""
        text = reference.get("reference") if isinstance(reference, dict) else None
        if not isinstance(text, str):
            return None
        resource = self._contained.get(text) if text.startswith("#") else self._pool.get(text)
        if resource is None and not text.startswith("#"):
            # An absolute or versioned URL: its last Type/id is what a Bundle entry is known by.
            parts = text.split("/_history/")[0].rstrip("/").split("/")
            resource = self._pool.get("/".join(parts[-2:])) if len(parts) >= 2 else None
        if resource is not None and kind is not None:
            wanted = (kind,) if isinstance(kind, str) else kind
            return resource if resource.get("resourceType") in wanted else None
        return resource


def _add(pool: dict[str, dict], resource: dict) -> None:
    kind, ident = resource.get("resourceType"), resource.get("id")
    if isinstance(kind, str) and isinstance(ident, str):
        pool.setdefault(f"{kind}/{ident}", resource)


def reference_text(reference: object) -> str | None:
    """The text of a Reference (`Patient/123`, `#p1`), or None when it has none."""
    text = reference.get("reference") if isinstance(reference, dict) else None
    return text if isinstance(text, str) and text.strip() else None


def identifier_value(identifier: object, system: str | None = None) -> str | None:
    """The value of an Identifier (of `system`, when given), or None when it has none."""
    if not isinstance(identifier, dict):
        return None
    if system is not None and identifier.get("system") != system:
        return None
    value = identifier.get("value")
    return value if isinstance(value, str) and value.strip() else None


def identifiers_of(resource: dict) -> list:
    """A resource's identifiers, as a list even when a feed sends one alone."""
    identifiers = resource.get("identifier")
    return identifiers if isinstance(identifiers, list) else [identifiers]


def resource_id(resource: dict) -> str | None:
    """A resource's `id`, else its first identifier's value; None when it has neither."""
    ident = resource.get("id")
    if isinstance(ident, str) and ident.strip():
        return ident
    return next(filter(None, map(identifier_value, identifiers_of(resource))), None)


# ---------------------------------------------------------------------------------------------------------
# Data types


def codings_of(concept: object) -> list[dict]:
    """The codings of a CodeableConcept that are objects; none for anything else."""
    codings = concept.get("coding") if isinstance(concept, dict) else None
    return [c for c in as_list(codings) if isinstance(c, dict)]


def as_list(value: object) -> list:
    """A FHIR array; a single value where a list belongs is taken as a list of one (feeds break cardinality)."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def code_system(coding: dict) -> str:
    """A code system URI compared loosely: no scheme, no "www.", no trailing slash, lower case."""
    system = coding.get("system")
    if not isinstance(system, str):
        return ""
    system = re.sub(r"^https?://(www\.)?", "", system.strip().lower())
    return system.rstrip("/")
