"""The read stage for HL7 FHIR R4: `Claim` resources become the claim model.

`read_fhir(document, name)` takes parsed JSON (the caller opens and decodes the file) and yields one record
per FHIR `Claim`, in input order: a `Claim` of the model when it could be read, an `UnreadableClaim` with
every problem found when it could not. The document may be
  - a `Claim` resource;
  - a `Bundle`: each `Claim` entry becomes a record, and the other entries (Patient, Practitioner,
    PractitionerRole, Organization, Coverage, Condition) are only there to resolve the claim's references;
  - a JSON array of such resources, read like the entries of one Bundle;
  - anything else: one `UnreadableClaim` that says what it is instead.
A bad Claim never stops a Bundle, and nothing leaves this module as an exception for bad data. Walking the
document and resolving references is `claims.fhir_resources`'s work; this module maps one Claim to the model.

Only the standard library is used, and the reader is lenient on purpose: real feeds break FHIR cardinality and
leave optional pieces out, so this module reads the few elements the policies need and ignores the rest,
rather than validating the resource against the specification. What it reads it checks with the rules every
claim reader shares (`claims.values`), in the same words as the JSON reader (`claims.json_claims`): CPT/HCPCS code
shape, at most four modifiers, whole units of 0 or more, real dates, NPIs of 10 digits, ICD-10-CM written with
the dot. A piece the model needs that is missing or wrong (no item, an item without a code or a date) makes
that claim unreadable, with a problem whose field is the FHIR path (`item[2].productOrService`). Array
positions in those paths count from 1, as lines do on the claim form and in the JSON reader's fields, not from
0 as in FHIRPath; for the usual claim, whose items are numbered 1, 2, 3 in order, `item[2]` is the item of
sequence 2.

How FHIR maps to the model, and the choices made where FHIR does not say:

  - claim id: `id`, else the first `identifier.value`.
  - patient: the `patient` reference, resolved (contained `#id`, Bundle entry, array element) to the
    Patient's first identifier value, else its `id`; unresolved, the reference text (`Patient/123`), else
    the reference's identifier value.
  - payer: "medicare" when the insurer clearly is Original Medicare: its name (`insurer.display` or the
    resolved Organization's name or alias) is Medicare, Medicare Part B, Original Medicare, Medicare
    fee-for-service, CMS or the Centers for Medicare & Medicaid Services; or, when the insurer gives no name,
    the focal Coverage's payor does, or the Coverage's type is Source of Payment Typology 12 or 121 (Medicare
    non-managed care, fee-for-service). Anything else, Medicare Advantage plans included (they are private
    plans with their own rules), is None: the payer's name in a FHIR feed is never the name of a shipped
    policy, so the caller chooses the policy (`--payer`; the command line's default is medicare).
  - frequency: FHIR has no claim frequency code, so None.
  - diagnoses: `diagnosis[]` in `sequence` order, from the ICD-10-CM coding of `diagnosisCodeableConcept`
    (or of the Condition a `diagnosisReference` points to, when it is in the Bundle), written with the dot.
    A listed diagnosis without a readable ICD-10-CM code is a problem: dropping it would shift the pointers.
  - lines: `item[]` in `sequence` order; the line number is the sequence (the position when it is absent),
    so findings name the lines as the sender numbered them.
      code       `productOrService`: a CPT or HCPCS coding, else any coding whose code has the CPT/HCPCS shape.
      modifiers  the code of each `modifier[]` (at most four).
      units      `quantity.value`, a whole number. No quantity means one service (FHIR makes the count
                 optional; the specification's own CMS-1500 example has none).
      minutes    a quantity in minutes (UCUM `min`, a unit text such as "minutes", X12's MJ; hours are 60)
                 is not a count of units: its value goes to `minutes` and `units` is 0, because the claim
                 billed no units. How many units minutes are worth is the payer's rule (Medicare pools a
                 day's timed minutes, CPT counts each code alone), so the policy, not this reader, says it:
                 a timed code sent in minutes is judged as "0 units billed, N minutes", and the timed-unit
                 rules propose the units to bill. Converting here would invent a billed figure that the
                 timed-unit rules would then judge as if someone had billed it. The X12 reader treats unit
                 basis MJ the same way, so one visit sent either way reads the same.
      date       `servicedDate`, or the day of `servicedPeriod` (a period over several days is a problem: a
                 line is one date of service); with neither, the claim's `billablePeriod` when it is one day.
      charge     `net` (the line total), else `unitPrice` x the quantity's count (x `factor`), as FHIR
                 defines `net`.
      pointers   `diagnosisSequence[]`, turned from diagnosis sequence numbers into positions in the list.
      provider   the line's rendering member of `careTeam` (through `careTeamSequence`; see below).
  - providers: the claim's provider is its `provider` reference; a line's is the careTeam member its
    `careTeamSequence` names (the first whose role is rendering, performing or primary, else the first that
    is not referring, ordering, prescribing or supervising). A reference resolves to a Practitioner,
    PractitionerRole (and its Practitioner) or Organization. The NPI is the identifier of system
    http://hl7.org/fhir/sid/us-npi (or that of a reference by identifier). The provider type comes, first
    match wins, from the careTeam entry's `qualification`, the PractitionerRole's `code` and `specialty`, then
    the Practitioner's `qualification[].code`: a NUCC taxonomy code (2251... PT, 225200000X PTA, 225X... OT,
    224Z... OTA, 235Z00000X SLP, 111N... DC, 363L... NP, 363A... PA) or a plain PT, PTA, OT, ... as code
    or text. MD and DO cannot be told apart by taxonomy, so physicians are left without a type.
  - place of service: `item.locationCodeableConcept` (CMS's two-digit codes); FHIR has none for the claim.
  - prior authorization: the first `insurance[].preAuthRef`.
  - patient's date of birth: the resolved Patient's `birthDate` (a full date; a partial one is a data fault).
  - referring provider: the careTeam member whose role is `referring`; its NPI is the claim's referring NPI.
  - data faults (claims.model.DataFault): an NPI of the wrong length or check digit (kept as written), a
    `diagnosisSequence` that names no diagnosis, a place of service that is not two digits, a birth date
    after a service: the claim is read and judged, and the policy reports what a front end rejects it for.
  - not read: `item.detail`, the date treatment began (no standard element), `supportingInfo`, `status` and
    `use` (a preauthorization is read like a claim), adjudication.
  - ExplanationOfBenefit and ClaimResponse are the payer's answer to a claim, already adjudicated, not a
    claim to check: each becomes an `UnreadableClaim` saying so, rather than being judged as if billed
    (an EOB's items carry what was paid and may be reversals with negative amounts).
"""

from __future__ import annotations

import datetime
import re
from typing import Iterable, Iterator

from payerpolicy._internal_error import NOT_A_BUG
from payerpolicy.claims.model import ClaimProblem, ClaimRecord, DataFault, Provider
from payerpolicy.claims.reading import ClaimReading, LineReading, failed_reading

# The rules every claim reader applies, so that a claim is read alike in any format.
from payerpolicy.claims.values import (
    CPT_HCPCS,
    ICD10,
    MAX_MODIFIERS,
    MODIFIER,
    PLACE_OF_SERVICE,
    PROVIDER_TYPES,
    TAXONOMY_TYPES,
    describe,
    diagnosis_code,
    modifier_code,
    is_amount,
    npi_fault,
    quote,
    upper_ascii,
    whole_number,
    written_as,
)
from payerpolicy.claims.fhir_resources import (
    References,
    as_list,
    code_system,
    codings_of,
    identifier_value,
    identifiers_of,
    read_document,
    reference_text,
    resource_id,
)

__all__ = ["read_fhir"]

NPI_SYSTEM = "http://hl7.org/fhir/sid/us-npi"

# Code systems, compared after `code_system` drops the scheme, "www." and a trailing slash.
_CPT_SYSTEMS = {"ama-assn.org/go/cpt", "urn:oid:2.16.840.1.113883.6.12"}
_HCPCS_SYSTEMS = {
    "cms.gov/medicare/coding/hcpcsreleasecodesets",
    "urn:oid:2.16.840.1.113883.6.285",
    "terminology.hl7.org/codesystem/hcpcs-all-codes",
}
_ICD10_SYSTEMS = {
    "hl7.org/fhir/sid/icd-10-cm",
    "hl7.org/fhir/sid/icd-10",
    "urn:oid:2.16.840.1.113883.6.90",
    "urn:oid:2.16.840.1.113883.6.3",
}
_NUCC_SYSTEM = "nucc.org/provider-taxonomy"
_X12_SERVICE_TYPES = "codesystem.x12.org/005010/1365"  # Da Vinci PAS: a kind of service, not a procedure

_TAXONOMY = re.compile(r"[0-9]{3}[0-9A-Z][0-9A-Z]{5}X")

# careTeam roles (claimcareteamrole and CARIN's) of people who did not render the service.
_RENDERING_ROLES = ("rendering", "performing", "primary")
_OTHER_ROLES = {"referring", "ordering", "prescribing", "supervisor", "supervising", "purchasedservice"}

# Quantity units that are lengths of time, not counts: UCUM codes, what people write, and X12's unit basis
# MJ (minutes), which feeds converted from an 837P carry over.
_DURATION_UNITS = {
    "min": "minutes",
    "mins": "minutes",
    "minute": "minutes",
    "minutes": "minutes",
    "mj": "minutes",
    "h": "hours",
    "hr": "hours",
    "hrs": "hours",
    "hour": "hours",
    "hours": "hours",
}

_MEDICARE_NAMES = {
    "medicare",
    "medicare part b",
    "original medicare",
    "medicare fee for service",
    "medicare ffs",
    "cms",
    "centers for medicare and medicaid services",
    "centers for medicare medicaid services",
}
_MEDICARE_PAYMENT_TYPOLOGY = {"12", "121"}  # SOPT: Medicare non-managed care, Medicare fee-for-service

_DATE = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2})(T.*)?")  # a FHIR date, or the date of a dateTime


# ---------------------------------------------------------------------------------------------------------
# The stage


def read_fhir(document: object, name: str) -> Iterator[ClaimRecord]:
    """Read every FHIR R4 Claim in parsed JSON: one `Claim` or `UnreadableClaim` per Claim, in input order.

    `name` says where the document came from (a file name); records are placed as `name`, `name entry 3`
    (a Bundle's third entry) or `name resource 3` (an array's third element). Never raises for bad data.
    """
    return read_document(document, name, _read_claim_or_fail)


def _read_claim_or_fail(resource: dict, where: str, references: References | None = None) -> ClaimRecord:
    """`_read_claim`, or a claim sent back when the reader fails on it (a bug in payerpolicy): the rest are read."""
    try:
        return _read_claim(resource, where, references)
    except NOT_A_BUG:
        raise
    except Exception as exc:
        return failed_reading(resource.get("id"), where, exc)


# ---------------------------------------------------------------------------------------------------------
# One Claim


def _read_claim(resource: dict, where: str, references: References | None = None) -> ClaimRecord:
    """Turn one FHIR Claim resource into a `Claim`, or an `UnreadableClaim` listing every problem found."""
    references = (references or References({})).with_contained(resource)
    reading = ClaimReading(where)
    problems, faults = reading.problems, reading.faults
    reading.id = resource_id(resource)
    if reading.id is None:
        problems.append(ClaimProblem("id", "missing: every claim needs an id (`id`, or an `identifier` value)"))
    reading.patient_id = _read_patient(resource.get("patient"), references, problems)
    reading.payer = _read_payer(resource, references)
    team = _CareTeam(resource.get("careTeam"), references, problems, faults)
    # Claim.provider is who bills the claim (the 837P's billing provider): it renders the lines that name no
    # careTeam member of their own.
    reading.provider = _read_provider(
        resource.get("provider"), None, references, "provider", "the claim's provider", problems, faults, "billing_npi"
    )
    reading.diagnoses, positions = _read_diagnoses(resource.get("diagnosis"), references, problems)
    _read_items(resource, positions, team, reading)
    dates = [line.date_of_service for line in reading.lines]
    reading.patient_birth_date = _read_birth_date(resource.get("patient"), references, dates, faults)
    reading.referring_npi = team.referring_npi()
    reading.prior_authorization = _prior_authorization(resource)
    return reading.record()


def _read_birth_date(
    reference: object, references: References, dates: list[datetime.date], faults: list[DataFault]
) -> datetime.date | None:
    """The Patient's `birthDate`, when the patient reference resolves; one after a service is a data fault."""
    patient = references.resolve(reference, "Patient") if reference is not None else None
    value = patient.get("birthDate") if patient is not None else None
    if value is None:
        return None
    match = _DATE.fullmatch(value) if isinstance(value, str) else None
    born = None
    if match is not None:
        try:
            born = datetime.date.fromisoformat(match[1])
        except ValueError:
            pass
    if born is None:  # FHIR allows a year or year-month: too little to say an age from
        faults.append(
            DataFault(
                "patient_birth_date",
                "patient.birthDate",
                f"the patient's date of birth must be a full date (YYYY-MM-DD); found {describe(value)}",
            )
        )
        return None
    later = [date for date in dates if date < born]
    if later:
        faults.append(
            DataFault(
                "patient_birth_date",
                "patient.birthDate",
                f"the patient's date of birth {born} is after a date of service ({min(later)})",
            )
        )
    return born


def _prior_authorization(claim: dict) -> str | None:
    """The first prior-authorization number of the claim's insurances (`insurance[].preAuthRef`)."""
    for insurance in as_list(claim.get("insurance")):
        refs = insurance.get("preAuthRef") if isinstance(insurance, dict) else None
        for ref in as_list(refs):
            if isinstance(ref, str) and ref.strip():
                return ref.strip()
    return None


def _read_patient(reference: object, references: References, problems: list[ClaimProblem]) -> str | None:
    if reference is None:
        problems.append(ClaimProblem("patient", "missing: every claim needs a patient (a `patient` reference)"))
        return None
    patient = references.resolve(reference, "Patient")
    if patient is not None:
        # The patient's own identifier (a member or record number) is what other systems know them by.
        known = next(filter(None, map(identifier_value, identifiers_of(patient))), None) or resource_id(patient)
        if known is None:
            problems.append(
                ClaimProblem(
                    "patient",
                    "the claim's Patient resource has no `identifier` value and no `id`: every claim needs a "
                    "patient id (the patient's member or record number)",
                )
            )
        return known
    text = reference_text(reference) or identifier_value(
        reference.get("identifier") if isinstance(reference, dict) else None
    )
    if text is None:
        problems.append(
            ClaimProblem(
                "patient",
                f"the patient reference gives no patient id (no `reference` and "
                f"no `identifier` value); found {describe(reference)}",
            )
        )
    return text


def _read_payer(claim: dict, references: References) -> str | None:
    """The payer: `medicare` when the insurer clearly is Original Medicare, else None (module docstring)."""
    insurer = claim.get("insurer")
    names = _party_names(insurer, references)
    if names:
        return "medicare" if any(_is_medicare(name) for name in names) else None
    coverage = _focal_coverage(claim, references)
    if coverage is None:
        return None
    payor_names = [name for payor in as_list(coverage.get("payor")) for name in _party_names(payor, references)]
    if any(_is_medicare(name) for name in payor_names):
        return "medicare"
    typology = [
        coding.get("code")
        for coding in codings_of(coverage.get("type"))
        if "sopt" in code_system(coding) or "nahdo.org" in code_system(coding)
    ]
    return "medicare" if any(code in _MEDICARE_PAYMENT_TYPOLOGY for code in typology) else None


def _party_names(reference: object, references: References) -> list[str]:
    """The names an insurer or payor reference carries: its display, and the Organization's name and aliases."""
    names = []
    if isinstance(reference, dict) and isinstance(reference.get("display"), str):
        names.append(reference["display"])
    organization = references.resolve(reference, "Organization")
    if organization is not None:
        names += [organization.get("name")] + list(organization.get("alias") or [])
    return [name for name in names if isinstance(name, str) and name.strip()]


def _is_medicare(name: str) -> bool:
    words = re.sub(r"[^a-z0-9]+", " ", name.lower().replace("&", " and ")).split()
    return " ".join(words) in _MEDICARE_NAMES


def _focal_coverage(claim: dict, references: References) -> dict | None:
    insurance = [i for i in as_list(claim.get("insurance")) if isinstance(i, dict)]
    focal = next((i for i in insurance if i.get("focal") is True), insurance[0] if insurance else None)
    return references.resolve(focal.get("coverage"), "Coverage") if focal else None


# ---------------------------------------------------------------------------------------------------------
# Diagnoses


def _read_diagnoses(
    value: object, references: References, problems: list[ClaimProblem]
) -> tuple[tuple[str, ...], dict[int, int]]:
    """ICD-10-CM codes in sequence order, and where each diagnosis sequence number stands in that list
    (the items point at diagnoses by sequence number; the model points by position)."""
    entries = _in_sequence(as_list(value), "diagnosis", problems)
    codes, positions = [], {}
    for position, (sequence, number, entry) in enumerate(entries, 1):
        positions[sequence] = position
        code = _read_diagnosis(entry, f"diagnosis[{number}]", references, problems)
        if code is not None:
            codes.append(code)
    return tuple(codes), positions


def _read_diagnosis(entry: dict, at: str, references: References, problems: list[ClaimProblem]) -> str | None:
    concept, field = entry.get("diagnosisCodeableConcept"), at + ".diagnosisCodeableConcept"
    if concept is None and entry.get("diagnosisReference") is not None:
        field = at + ".diagnosisReference"
        condition = references.resolve(entry["diagnosisReference"], "Condition")
        if condition is None:
            target = reference_text(entry["diagnosisReference"]) or "a Condition"
            problems.append(
                ClaimProblem(
                    field,
                    f"refers to {quote(target)}, which is not in the Bundle: send the "
                    f"ICD-10-CM code in diagnosisCodeableConcept",
                )
            )
            return None
        concept = condition.get("code")
    codings = codings_of(concept)
    icd = [c for c in codings if code_system(c) in _ICD10_SYSTEMS]
    # A coding without a system is taken when it has the ICD-10 shape; other systems (SNOMED CT) are not ICD.
    candidates = icd or [
        c for c in codings if not c.get("system") and ICD10.fullmatch(upper_ascii(c.get("code")) or "")
    ]
    if not candidates:
        systems = sorted({str(c.get("system")) for c in codings if c.get("system")})
        found = f"found codes of {', '.join(systems)}" if systems else f"found {describe(concept)}"
        problems.append(
            ClaimProblem(
                field,
                f"missing: a diagnosis needs an ICD-10-CM coding (system http://hl7.org/fhir/sid/icd-10-cm); {found}",
            )
        )
        return None
    raw = candidates[0].get("code")
    return diagnosis_code(raw, field, problems)


# ---------------------------------------------------------------------------------------------------------
# Providers


class _CareTeam:
    """The claim's careTeam by sequence number; each member's provider is read once, when a line uses it,
    so that a bad member is reported once however many lines name it."""

    def __init__(self, value: object, references: References, problems: list[ClaimProblem], faults: list[DataFault]):
        self._references, self._problems, self._faults = references, problems, faults
        self._members: dict[int, tuple[int, dict]] = {}
        self._providers: dict[int, Provider | None] = {}
        for sequence, number, member in _in_sequence(as_list(value), "careTeam", problems):
            self._members[sequence] = (number, member)

    def __contains__(self, sequence: int) -> bool:
        return sequence in self._members

    def rendering(self, sequences: list[int]) -> int | None:
        """Of the members a line names, the one who rendered it."""
        roles = {s: _role(self._members[s][1]) for s in sequences}
        for wanted in _RENDERING_ROLES:
            chosen = next((s for s in sequences if roles[s] == wanted), None)
            if chosen is not None:
                return chosen
        return next((s for s in sequences if roles[s] not in _OTHER_ROLES), None)

    def provider(self, sequence: int, fault: str = "rendering_npi") -> Provider | None:
        if sequence not in self._providers:
            number, member = self._members[sequence]
            self._providers[sequence] = _read_provider(
                member.get("provider"),
                member.get("qualification"),
                self._references,
                f"careTeam[{number}].provider",
                f"careTeam member {sequence}",
                self._problems,
                self._faults,
                fault,
            )
        return self._providers[sequence]

    def referring_npi(self) -> str | None:
        """The NPI of the member whose role is referring (the physician who referred or certifies)."""
        for sequence, (_, member) in sorted(self._members.items()):
            if _role(member) == "referring":
                provider = self.provider(sequence, "referring_npi")
                return provider.npi if provider is not None else None
        return None


def _role(member: dict) -> str | None:
    codes = [c.get("code") for c in codings_of(member.get("role"))]
    return next((code.lower() for code in codes if isinstance(code, str)), None)


def _read_provider(
    reference: object,
    qualification: object,
    references: References,
    field: str,
    what: str,
    problems: list[ClaimProblem],
    faults: list[DataFault],
    fault: str,
) -> Provider | None:
    """A provider from a reference to a Practitioner, PractitionerRole or Organization (see the module
    docstring for where the NPI and the type come from). Nothing found is no provider, not a problem."""
    if reference is None:
        return None
    resource = references.resolve(reference, ("Practitioner", "PractitionerRole", "Organization"))
    holders: list = [reference.get("identifier")] if isinstance(reference, dict) else []
    concepts: list[object] = [qualification]
    if resource is not None:
        holders = [resource] + holders
        if resource["resourceType"] == "PractitionerRole":
            concepts += as_list(resource.get("code")) + as_list(resource.get("specialty"))
            practitioner = references.resolve(resource.get("practitioner"), "Practitioner")
            if practitioner is not None:
                holders.insert(1, practitioner)
                resource = practitioner
        if resource["resourceType"] == "Practitioner":
            concepts += [q.get("code") for q in as_list(resource.get("qualification")) if isinstance(q, dict)]
    target = reference_text(reference)
    npi = _read_npi(holders, field, f"{what} ({target})" if target else what, problems, faults, fault)
    kind = _provider_type(concepts)
    return Provider(npi=npi, type=kind) if npi or kind else None


def _read_npi(
    holders: list, field: str, what: str, problems: list[ClaimProblem], faults: list[DataFault], fault: str
) -> str | None:
    """The first NPI among the resources' identifiers (or a bare Identifier). One of the wrong length or check
    digit is a data fault, kept as written when it is digits."""
    for holder in holders:
        identifiers = identifiers_of(holder) if isinstance(holder, dict) and "resourceType" in holder else [holder]
        for identifier in identifiers:
            npi = identifier_value(identifier, NPI_SYSTEM)
            if npi is None:
                continue
            wrong = npi_fault(npi) if isinstance(npi, str) else "is not text"
            if wrong is None:
                return npi
            faults.append(DataFault(fault, field, f"the NPI of {what} {quote(str(npi))} {wrong}"))
            return npi if isinstance(npi, str) and npi.isascii() and npi.isdigit() else None
    return None


def _provider_type(concepts: Iterable[object]) -> str | None:
    """The first provider type that a qualification or role names, by NUCC taxonomy or plain text."""
    for concept in concepts:
        for coding in codings_of(concept):
            code = upper_ascii(coding.get("code"))
            if code is None:
                continue
            if _TAXONOMY.fullmatch(code) and (code_system(coding) == _NUCC_SYSTEM or not coding.get("system")):
                kind = TAXONOMY_TYPES.get(code[:4])
                if kind is not None:
                    return kind
            elif code in PROVIDER_TYPES:
                return code
        text = upper_ascii(concept.get("text")) if isinstance(concept, dict) else None
        if text is not None and text.strip() in PROVIDER_TYPES:
            return text.strip()
    return None


# ---------------------------------------------------------------------------------------------------------
# Items (service lines)


def _read_items(claim: dict, positions: dict[int, int], team: _CareTeam, reading: ClaimReading) -> None:
    items = as_list(claim.get("item"))
    if not items:
        reading.problems.append(
            ClaimProblem("item", "missing: every claim needs at least one service line (an `item`)")
        )
        return
    day = _billable_day(claim.get("billablePeriod"))
    # A prior-authorization request asks for services not yet given, so it often has no date: say why.
    undated = (
        " (this Claim is a prior-authorization request, which usually has none yet)"
        if claim.get("use") in ("preauthorization", "predetermination")
        else ""
    )
    for sequence, number, item in _in_sequence(items, "item", reading.problems):
        _read_item(item, sequence, number, day, undated, positions, team, reading)


def _read_item(
    item: dict,
    line_number: int,
    number: int,
    day: datetime.date | None,
    undated: str,
    positions: dict[int, int],
    team: _CareTeam,
    reading: ClaimReading,
) -> None:
    problems, faults = reading.problems, reading.faults
    at = f"item[{number}]"
    line = LineReading(reading, line_number)
    line.code = _read_code(item.get("productOrService"), at, problems)
    line.modifiers = _read_modifiers(item.get("modifier"), at, problems)
    line.units, line.minutes = _read_quantity(item.get("quantity"), at, problems)
    line.date_of_service = _read_service_date(item, at, day, undated, problems)
    line.charge = _read_charge(item, line.minutes if line.minutes is not None else line.units, at, problems)
    line.diagnosis_pointers = _read_pointers(
        item.get("diagnosisSequence"), at, line_number, positions, problems, faults
    )
    line.provider = _read_line_provider(item.get("careTeamSequence"), at, team, problems)
    line.place_of_service = _read_place(item.get("locationCodeableConcept"), at, line_number, faults)
    line.done()


def _read_place(concept: object, at: str, line: int, faults: list[DataFault]) -> str | None:
    """The place of service of an item (`locationCodeableConcept`, CMS's place of service code set): two
    digits. A code of another shape is a data fault; a concept without a code is no place."""
    for coding in codings_of(concept):
        code = coding.get("code")
        if not isinstance(code, str) or not code.strip():
            continue
        if PLACE_OF_SERVICE.fullmatch(code.strip()):
            return code.strip()
        faults.append(
            DataFault(
                "place_of_service",
                at + ".locationCodeableConcept",
                f"line {line}: the place of service {quote(code)} is not a place of service code "
                f"(two digits: 11 office, 22 outpatient hospital)",
                line,
            )
        )
        return None
    return None


def _read_code(concept: object, at: str, problems: list[ClaimProblem]) -> str | None:
    field = at + ".productOrService"
    codings = codings_of(concept)
    text = upper_ascii(concept.get("text")) if isinstance(concept, dict) else None
    if not codings and text is None:
        problems.append(
            ClaimProblem(field, "missing: every line needs a procedure code (CPT/HCPCS) in productOrService.coding")
        )
        return None
    named = [c for c in codings if code_system(c) in _CPT_SYSTEMS | _HCPCS_SYSTEMS]
    for coding in named or codings:
        code = upper_ascii(coding.get("code"))
        if code is not None and CPT_HCPCS.fullmatch(code):
            return code
    if not codings and text is not None and CPT_HCPCS.fullmatch(text.strip()):
        return text.strip()  # a bare code written as text, as some feeds do
    problems.append(ClaimProblem(field, _not_a_procedure(named or codings, concept)))
    return None


def _not_a_procedure(codings: list[dict], concept: object) -> str:
    if not codings:
        text = concept.get("text") if isinstance(concept, dict) else None
        return f"{describe(text)} is not a CPT/HCPCS code (five characters: 97112, G0283)"
    coding = codings[0]
    raw = coding.get("code")
    shown = quote(raw) if isinstance(raw, str) else describe(raw)
    if code_system(coding) == _X12_SERVICE_TYPES:
        display = f" ({coding['display']})" if isinstance(coding.get("display"), str) else ""
        return (
            f"code {shown}{display} is an X12 service type code, a kind of service as asked for in a prior "
            f"authorization, not a procedure; a line needs a CPT/HCPCS code (five characters: 97112, G0283)"
        )
    return f"code {shown} is not a CPT/HCPCS code (five characters: 97112, G0283)"


def _read_modifiers(value: object, at: str, problems: list[ClaimProblem]) -> tuple[str, ...]:
    field = at + ".modifier"
    value = as_list(value)
    if len(value) > MAX_MODIFIERS:
        problems.append(ClaimProblem(field, f"a line may carry at most {MAX_MODIFIERS} modifiers; found {len(value)}"))
    modifiers = []
    for concept in value:
        codes = [c.get("code") for c in codings_of(concept)]
        if not codes and isinstance(concept, dict):
            codes = [concept.get("text")]
        raw = next((c for c in codes if MODIFIER.fullmatch(upper_ascii(c) or "")), codes[0] if codes else concept)
        modifier = modifier_code(raw, field, problems)
        if modifier is not None:
            modifiers.append(modifier)
    return tuple(modifiers)


def _read_quantity(quantity: object, at: str, problems: list[ClaimProblem]) -> tuple[int | None, int | None]:
    """Units and minutes of a line. A count: (its value, None); no quantity is one service. A length of time:
    (0, its minutes), since the claim billed no units (module docstring)."""
    field = at + ".quantity"
    if quantity is None:
        return 1, None
    if not isinstance(quantity, dict):
        problems.append(
            ClaimProblem(field, f'quantity must be an object like {{"value": 2}}; found {describe(quantity)}')
        )
        return None, None
    value, per_minute = quantity.get("value"), _minutes_per_unit(quantity)
    noun = "units" if per_minute is None else "minutes"
    if value is None:
        problems.append(ClaimProblem(field + ".value", f"missing: the quantity gives no value (how many {noun})"))
        return None, None
    count = whole_number(value * (per_minute or 1) if is_amount(value) else value)
    if count is None:
        problems.append(
            ClaimProblem(field + ".value", f"{noun} must be a whole number of 0 or more; found {describe(value)}")
        )
        return None, None
    return (count, None) if per_minute is None else (0, count)


def _minutes_per_unit(quantity: dict) -> int | None:
    """60 for hours, 1 for minutes, None for a count: the quantity's UCUM code, else its unit text, tells."""
    for key in ("code", "unit"):
        text = quantity.get(key)
        if isinstance(text, str) and text.strip().lower() in _DURATION_UNITS:
            return 60 if _DURATION_UNITS[text.strip().lower()] == "hours" else 1
    return None


def _read_service_date(
    item: dict, at: str, day: datetime.date | None, undated: str, problems: list[ClaimProblem]
) -> datetime.date | None:
    if item.get("servicedDate") is not None:
        return _read_date(item["servicedDate"], at + ".servicedDate", problems)
    period = item.get("servicedPeriod")
    if period is None:
        if day is not None:
            return day  # the claim bills a single day, so every line is on it
        problems.append(
            ClaimProblem(
                at + ".servicedDate",
                f"missing: every line needs a date of service "
                f"(servicedDate, or a servicedPeriod within one day)"
                f"{undated}",
            )
        )
        return None
    field = at + ".servicedPeriod"
    if not isinstance(period, dict) or (period.get("start") is None and period.get("end") is None):
        problems.append(
            ClaimProblem(
                field, f'servicedPeriod must be an object like {{"start": "2026-03-02"}}; found {describe(period)}'
            )
        )
        return None
    start = _read_date(period["start"], field + ".start", problems) if period.get("start") is not None else None
    end = _read_date(period["end"], field + ".end", problems) if period.get("end") is not None else None
    if start is not None and end is not None and start != end:
        # The model has one date per line, and units are judged per day: a line over several days cannot be.
        problems.append(
            ClaimProblem(
                field, f"the line runs from {start} to {end}, but a line is one date of service: send one item per day"
            )
        )
        return None
    return start or end


def _read_date(value: object, field: str, problems: list[ClaimProblem]) -> datetime.date | None:
    """A FHIR date, or the date of a dateTime (as written, in the sender's own time zone)."""
    match = written_as(
        value,
        _DATE,
        field,
        problems,
        must="a date",
        named="date",
        form="YYYY-MM-DD",
        example="2026-03-02",
        not_one="a full date written YYYY-MM-DD (e.g. 2026-03-02)",
    )
    if match is None:
        return None
    try:
        return datetime.date.fromisoformat(match[1])
    except ValueError:
        problems.append(ClaimProblem(field, f"date {quote(match.string)} is not a real date (expected YYYY-MM-DD)"))
        return None


def _billable_day(period: object) -> datetime.date | None:
    """The claim's billablePeriod when it is a single day; anything else (or anything odd) is no day."""
    if not isinstance(period, dict):
        return None
    dates = [_read_date(period.get(key), key, []) for key in ("start", "end")]
    return dates[0] if dates[0] is not None and dates[0] == dates[1] else None


def _read_charge(item: dict, count: int | None, at: str, problems: list[ClaimProblem]) -> float | None:
    """The line's charge: `net` (already the line total), else `unitPrice` times the quantity's count (units,
    or minutes for a quantity in minutes, as FHIR defines net) and `factor`."""
    for key in ("net", "unitPrice"):
        money = item.get(key)
        if money is None:
            continue
        value = money.get("value") if isinstance(money, dict) else money
        if value is None or not is_amount(value):
            problems.append(
                ClaimProblem(
                    f"{at}.{key}",
                    f'{key} must be an amount of 0 or more, e.g. {{"value": '
                    f'120.00, "currency": "USD"}}; found {describe(value)}',
                )
            )
            return None
        if key == "net":
            return float(value)
        factor = item.get("factor", 1)
        factor = factor if is_amount(factor) else 1
        return round(float(value) * (count if count is not None else 1) * factor, 2)
    return None


def _read_pointers(
    value: object, at: str, line: int, positions: dict[int, int], problems: list[ClaimProblem], faults: list[DataFault]
) -> tuple[int, ...]:
    """`diagnosisSequence` names diagnoses by their sequence number; the model wants their positions. A
    sequence that names no diagnosis is a data fault, kept as a position past the list: the line just has
    fewer diagnoses."""
    field = at + ".diagnosisSequence"
    if value is None:
        return ()
    pointers = []
    for raw in as_list(value):
        sequence = whole_number(raw)
        if sequence is None or sequence < 1:
            problems.append(
                ClaimProblem(field, f"diagnosis sequence numbers are whole numbers from 1; found {describe(raw)}")
            )
        elif sequence not in positions:
            listed = f"lists sequences {', '.join(map(str, sorted(positions)))}" if positions else "lists none"
            faults.append(
                DataFault(
                    "diagnosis_pointer",
                    field,
                    f"line {line}: diagnosis sequence {sequence} points at no diagnosis: the claim {listed}",
                    line,
                )
            )
            pointers.append(len(positions) + 1)
        else:
            pointers.append(positions[sequence])
    return tuple(pointers)


def _read_line_provider(value: object, at: str, team: _CareTeam, problems: list[ClaimProblem]) -> Provider | None:
    field = at + ".careTeamSequence"
    if value is None:
        return None
    sequences = []
    for raw in as_list(value):
        sequence = whole_number(raw)
        if sequence is None or sequence not in team:
            problems.append(ClaimProblem(field, f"careTeamSequence {describe(raw)} points at no careTeam member"))
        else:
            sequences.append(sequence)
    chosen = team.rendering(sequences) if sequences else None
    return team.provider(chosen) if chosen is not None else None


# ---------------------------------------------------------------------------------------------------------
# Small helpers


def _in_sequence(entries: list, name: str, problems: list[ClaimProblem]) -> list[tuple[int, int, dict]]:
    """The entries of a sequenced list (item, diagnosis, careTeam) as (sequence, position, entry), sorted by
    sequence. An entry without a sequence takes its position. Two entries with one sequence are a problem:
    lines and pointers name entries by it."""
    found: list[tuple] = []
    seen: dict[object, int] = {}
    for number, entry in enumerate(entries, 1):
        field = f"{name}[{number}]"
        if not isinstance(entry, dict):
            problems.append(
                ClaimProblem(field, f"each {name} entry must be an object {{...}}; found {describe(entry)}")
            )
            continue
        raw = entry.get("sequence")
        sequence = number if raw is None else whole_number(raw)
        if sequence is None or sequence < 1:
            problems.append(
                ClaimProblem(field + ".sequence", f"sequence must be a whole number from 1; found {describe(raw)}")
            )
            continue
        if sequence in seen:
            problems.append(
                ClaimProblem(
                    field + ".sequence",
                    f"sequence {sequence} is used by {name}[{seen[sequence]}] too; each {name} entry needs its own",
                )
            )
            continue
        seen[sequence] = number
        found.append((sequence, number, entry))
    return sorted(found, key=lambda triple: triple[0])
