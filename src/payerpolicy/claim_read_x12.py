"""The read stage for X12: claims sent as 837P professional claims (005010X222A1) become the claim model.

An 837P file is a stream of segments (`SV1*HC:97112:GP*120*UN*2***1:2~`), and this module reads it in
three steps, each a function of its own:

1. Delimiters (`_delimiters`). A file declares its own delimiters in its ISA interchange header: the
   character after `ISA` separates elements, ISA11 separates repetitions (5010), ISA16 separates the parts
   of a composite element, and the character after ISA16 ends each segment. `_segments` cuts the file into
   numbered segments (ISA is segment 1, as X12 tools count) and ignores line breaks and indentation
   *between* segments, so that pretty-printed files read like one-line ones. A segment that still holds a
   line break, or does not start with a segment id and the element separator, is marked faulty: that is
   what a file whose body contradicts its ISA header looks like.
2. Structure (`_claim_blocks`). The envelope (ISA, GS, ST ... SE, GE, IEA) and the hierarchy (HL 20
   billing provider, HL 22 subscriber and payer, HL 23 patient) are walked once; each CLM, with every
   segment up to the next CLM, HL or SE, becomes a block that remembers the billing provider, subscriber
   and patient above it.
3. Claims (`_ClaimReading`). One block is read loop by loop (2300 claim, 2310B rendering provider, 2320
   other payers, 2400 service line, 2420A the line's rendering provider, 2430 other payers' adjudication)
   into a `Claim`, or an `UnreadableClaim` with every problem found, checked by the rules of the JSON
   reader (codes, at most four modifiers, whole units, real dates, ICD-10 with the dot).

`read_x12` yields one record per CLM, in file order. A faulty claim never stops the rest. A file that cannot
be read from some point on (no ISA header, a broken envelope, not an 837P) yields one `UnreadableClaim`
saying why and where, after the claims read before that point. No exception leaves this module for bad
data. Problems name the element, the loop and the segment (`SV104 in loop 2400, segment 23`) and say, in
a billing specialist's words, what was found and what is expected.

Decisions taken here, and why:
- Unit basis MJ (minutes, SV103): the count goes to `minutes` and `units` is 0, because the file billed no
  units; turning minutes into units is the policy's business (the 8-minute rule or the AMA midpoint rule),
  and the evaluator does it from `minutes`. So a timed therapy code billed in minutes is judged as "0 units
  billed, N minutes" and its policy says what to bill.
- A date range (DTP*472*RD8) dates the line on its first day: the model has one date per line.
- Payer: `medicare` when the claim filing indicator (SBR09) is MA or MB (Medicare Part A or B), or the
  payer's name (NM1*PR) has the word MEDICARE and SBR09 is not 16 (a Medicare HMO, a private plan);
  otherwise None, so that the default policy applies. A payer's name is never passed on as `payer`: the
  evaluator takes `payer` as the name of a shipped policy.
- ICD-9 diagnoses (qualifiers BK, BF) are kept as written, without a dot, so that they cannot pass for
  ICD-10 codes; a claim with one is unreadable only when a line's date of service is on or after
  2015-10-01, when ICD-9 stopped being valid.
- Patient: the subscriber's member id (NM109 of 2010BA) when the subscriber is the patient; for a patient
  of their own (HL 23, 2010CA, who has no member id in 5010) the subscriber's member id, the patient's name
  and birth date, so that two children on one policy are two patients on the same day.
- Rendering provider: 2310B on the claim, 2420A on a line. Without 2310B, the billing provider (2010AA,
  with the taxonomy of PRV*BI) is the rendering provider, as the implementation guide says.
- Lines are numbered by their position on the claim (1, 2, ...), which is what LX01 should say.
- Control counts and numbers (SE01, GE01, IEA01, ...) are not checked: they say nothing about the claims,
  and validating the envelope is the clearinghouse's work. What is checked is what could make a claim's
  data wrong without a word: a segment id or an NM1 entity code that no 837P holds (a damaged segment,
  whose content would be lost), a member id or NPI not announced by its qualifier (an element shifted).
"""
from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Iterator, NamedTuple

# The JSON reader's rules for codes, modifiers, diagnoses and NPIs, so that both formats accept the same claims.
from .claim_read import FREQUENCIES, MAX_DIAGNOSIS_POINTER, MAX_MODIFIERS, _CPT_HCPCS, _ICD10, _MODIFIER, _NPI
from .claim_model import Claim, ClaimProblem, Provider, ServiceLine, UnreadableClaim

__all__ = ["read_x12"]

_VERSIONS = re.compile(r"005010X222(A1|A2)?")  # GS08 of an 837P and of its addenda A1 and A2, read alike
_ICD10_START = datetime.date(2015, 10, 1)

_TAG = re.compile(r"[A-Z][A-Z0-9]{1,2}")
_TAG_LIKE = re.compile(r"([A-Za-z][A-Za-z0-9]{1,2})([^A-Za-z0-9\s])")  # a segment id and the separator it uses
_DECIMAL = re.compile(r"-?(?:[0-9]+\.?[0-9]*|\.[0-9]+)")  # X12 type R: 12, 12.5, .5, -3
_D8 = re.compile(r"[0-9]{8}")  # CCYYMMDD
_ICD9 = re.compile(r"[0-9]{3,5}|V[0-9]{2,4}|E[0-9]{3,4}")
_TAXONOMY = re.compile(r"[0-9A-Z]{10}")
_MEDICARE = re.compile(r"\bMEDICARE\b")

# Qualifiers of the HI segment. Diagnoses: ABK principal and ABF other ICD-10-CM; BK and BF the same in ICD-9.
_ICD10_QUALIFIERS = ("ABK", "ABF")
_ICD9_QUALIFIERS = ("BK", "BF")
_OTHER_HI_QUALIFIERS = ("BP", "BO", "BG")  # anesthesia-related procedures, condition codes: not diagnoses

# Provider types by NUCC taxonomy code (PRV03), matched on the first four characters, which name the
# provider type (the rest names a specialty: 2251X0800X is an orthopedic PT). Physicians (207..., 208...)
# are MD or DO alike, so their taxonomy gives no type.
_TAXONOMY_TYPES = {"2251": "PT", "2252": "PTA", "225X": "OT", "224Z": "OTA", "235Z": "SLP", "111N": "DC",
                   "363L": "NP", "363A": "PA"}

_WHOSE_NPI = {"2310B": "the rendering provider's NPI", "2420A": "the NPI of the line's rendering provider",
              "2010AA": "the billing provider's NPI"}
_STANDS_FOR = {"2010AA": " (the billing provider stands for the rendering provider: the claim names none in 2310B)"}

# Segments that end the claim before them: the next claim, the next level of the hierarchy, the envelope.
_ENDS_A_CLAIM = frozenset({"CLM", "HL", "SE", "GE", "IEA", "GS", "ST", "ISA"})
# Every segment an 837P may hold in the header and the hierarchy levels (1000A/B, 2000A/B/C and their 2010
# loops), and in a claim (2300 to 2440). Any other segment id is a damaged one, and what it held is lost: a
# claim with one is unreadable, and one outside a claim leaves what follows it impossible to place.
_HIERARCHY_SEGMENTS = frozenset({"BHT", "NM1", "N3", "N4", "REF", "PER", "PRV", "CUR", "SBR", "PAT", "DMG"})
_CLAIM_SEGMENTS = frozenset({"DTP", "PWK", "CN1", "AMT", "REF", "K3", "NTE", "CR1", "CR2", "CRC", "HI", "HCP",
                             "NM1", "N3", "N4", "PER", "PRV", "SBR", "CAS", "OI", "MIA", "MOA", "LX", "SV1", "SV5",
                             "CR3", "QTY", "MEA", "PS1", "HSD", "LIN", "CTP", "SVD", "LQ", "FRM"})
# NM101 of every NM1 in an 837P: submitter, receiver, billing, pay-to, payee, subscriber, payer, patient;
# referring, rendering, facility, supervising, pickup, drop-off, purchased service, ordering providers. An
# NM1 with another code is damaged, and whose name and id it holds is unknown.
_ENTITIES = frozenset({"41", "40", "85", "87", "PE", "IL", "PR", "QC", "DN", "P3", "82", "77", "DQ", "PW", "45",
                       "QB", "DK"})
_HL_LEVELS = ("20", "22", "23")  # billing provider, subscriber, patient


# ---------------------------------------------------------------------------------------------------------
# Step 1: delimiters and segments


class Delimiters(NamedTuple):
    element: str
    component: str
    segment: str
    repetition: str | None  # None when ISA11 holds a letter (U, before 5010): no repetition separator


class Segment(NamedTuple):
    number: int  # counting from 1 (ISA), as X12 tools and clearinghouse reports count
    tag: str
    elements: tuple[str, ...]  # elements[1] is the segment's 01 element; "" for an empty one
    fault: str | None = None  # why the segment cannot be read, when it cannot

    def get(self, position: int) -> str:
        """Element `position` (SV104 is get(4)), without surrounding spaces; "" when absent."""
        return self.elements[position].strip() if position < len(self.elements) else ""


class _Unreadable(Exception):
    """The file cannot be read from here on: the one record that says so, and where."""

    def __init__(self, field: str, message: str, segment: int | None = None):
        super().__init__(message)
        self.problem = ClaimProblem(field, message)
        self.segment = segment

    def record(self, name: str) -> UnreadableClaim:
        where = f"{name} segment {self.segment}" if self.segment else name
        return UnreadableClaim(id=None, problems=(self.problem,), where=where)


def _delimiters(text: str, name: str) -> Delimiters:
    """The delimiters an ISA header declares. ISA has 16 elements; the 16th separator stands before ISA16
    (one character), and the character after ISA16 ends the segment. The fixed widths of ISA are not
    required: the separators alone find ISA16, so an ISA without its padding still reads."""
    if not text.startswith("ISA"):
        found = f"it starts with {_quote(text[:20])}" if text.strip() else "it is empty"
        raise _Unreadable("ISA", f"{name} is not an X12 file: an 837P starts with the ISA interchange header "
                                 f"(`ISA*00*...`); {found}")
    element = text[3:4]
    if not element or element.isalnum() or element.isspace():
        raise _Unreadable("ISA, segment 1", f"the character after `ISA` must be the element separator (such as "
                                            f"`*`); found {_describe_char(element)}", 1)
    separators = [match.start() for match in re.finditer(re.escape(element), text[:2000])][:16]
    if len(separators) < 16 or separators[15] + 2 >= len(text):
        raise _Unreadable("ISA, segment 1", f"the ISA header is cut short: it needs 16 elements separated by "
                                            f"`{element}`, then the segment terminator", 1)
    last = separators[15]
    isa = text[:last + 2].split(element)
    component, segment = text[last + 1], text[last + 2]
    repetition = isa[11] if len(isa[11]) == 1 and not isa[11].isalnum() else None
    _check_delimiters(element, component, segment, repetition)
    return Delimiters(element, component, segment, repetition)


def _check_delimiters(element: str, component: str, segment: str, repetition: str | None) -> None:
    if component.isalnum() or component.isspace():
        raise _Unreadable("ISA16, segment 1", f"ISA16 must be the component separator (such as `:`); found "
                                              f"{_describe_char(component)}", 1)
    if segment.isalnum() or segment == " ":
        raise _Unreadable("ISA16, segment 1", f"the character after ISA16 must be the segment terminator (such as "
                                              f"`~` or a line break); found {_describe_char(segment)}", 1)
    named = [("element separator (ISA position 4)", element), ("component separator (ISA16)", component),
             ("segment terminator (after ISA16)", segment)]
    if repetition is not None:
        named.append(("repetition separator (ISA11)", repetition))
    for index, (first, char) in enumerate(named):
        for second, other in named[index + 1:]:
            if char == other:
                raise _Unreadable("ISA, segment 1", f"the {first} and the {second} are both "
                                                    f"{_describe_char(char)}; the four delimiters must differ", 1)


def _segments(text: str, delimiters: Delimiters) -> list[Segment]:
    """The file's segments, numbered from 1. Whitespace around a segment (line breaks, indentation) is not
    part of it; whitespace inside one is, and X12 allows no line break there, so one is a fault."""
    segments = []
    for piece in text.split(delimiters.segment):
        piece = piece.strip()
        if not piece:
            continue
        number = len(segments) + 1
        elements = tuple(piece.split(delimiters.element))
        segments.append(Segment(number, elements[0], elements, _fault(piece, elements[0], delimiters)))
    return segments


def _fault(piece: str, tag: str, delimiters: Delimiters) -> str | None:
    shown = _quote(piece.splitlines()[0] if piece.splitlines() else piece)
    if not _TAG.fullmatch(tag):
        other = _TAG_LIKE.match(piece)
        hint = (f"; it seems to use `{other[2]}`: the file's body contradicts its ISA header"
                if other and other[2] not in (delimiters.element, delimiters.segment) else "")
        return (f"segment {shown} does not start with a segment id (2 or 3 capital letters or digits) followed by "
                f"`{delimiters.element}`, the element separator declared at ISA position 4{hint}")
    if "\n" in piece or "\r" in piece:
        terminator = _describe_char(delimiters.segment)
        return (f"segment {shown} runs over a line break; X12 allows none inside a segment. Segments must end "
                f"with {terminator}, the terminator declared after ISA16: if the file ends them with line "
                f"breaks instead, its body contradicts its ISA header")
    return None


# ---------------------------------------------------------------------------------------------------------
# Step 2: the envelope and the hierarchy, cut into claims


@dataclass
class _BillingProvider:  # loop 2000A
    name: Segment | None = None  # NM1*85 (2010AA), with the NPI
    taxonomy: Segment | None = None  # PRV*BI


@dataclass
class _Subscriber:  # loop 2000B
    plan: Segment | None = None  # SBR, with the claim filing indicator
    name: Segment | None = None  # NM1*IL (2010BA), with the member id
    birth: Segment | None = None  # DMG of 2010BA
    payer: Segment | None = None  # NM1*PR (2010BB)


@dataclass
class _Patient:  # loop 2000C: a patient who is not the subscriber
    name: Segment | None = None  # NM1*QC (2010CA)
    birth: Segment | None = None


@dataclass
class _ClaimBlock:
    """One CLM and the segments that follow it, with the hierarchy above it."""

    clm: Segment
    billing: _BillingProvider | None
    subscriber: _Subscriber | None
    patient: _Patient | None
    segments: list[Segment] = field(default_factory=list)
    cut_short: Segment | None = None  # the file's last segment, when the file ends inside this claim


class _Walk:
    """Where the walk through the envelope and the hierarchy stands."""

    def __init__(self) -> None:
        self.interchange = True  # ISA (segment 1) opened it
        self.group = self.transaction = False
        self.billing: _BillingProvider | None = None
        self.subscriber: _Subscriber | None = None
        self.patient: _Patient | None = None
        self.entity: str | None = None  # NM101 of the last NM1 of the current level, for the DMG after it

    @property
    def closed(self) -> bool:
        return not (self.interchange or self.group or self.transaction)


def _claim_blocks(segments: list[Segment], delimiters: Delimiters) -> Iterator[_ClaimBlock]:
    """Cut the file into claims. Raises `_Unreadable` where the envelope or the hierarchy breaks: nothing
    after that point can be placed."""
    walk = _Walk()
    block: _ClaimBlock | None = None
    for segment in segments[1:]:
        if block is not None:
            if segment.tag not in _ENDS_A_CLAIM:
                block.segments.append(segment)  # a faulty segment too: it spoils this claim only
                continue
            yield block
            block = None
        if segment.fault:
            raise _Unreadable(f"segment {segment.number}", segment.fault, segment.number)
        if segment.tag in ("ISA", "GS", "ST", "SE", "GE", "IEA", "TA1"):
            _envelope(walk, segment, delimiters)
            continue
        _expect(walk.transaction, segment, f"{segment.tag} stands outside a transaction set (ST ... SE)")
        if segment.tag == "CLM":
            block = _ClaimBlock(segment, walk.billing, walk.subscriber, walk.patient)
        elif segment.tag == "HL":
            _level(walk, segment)
        else:
            _hierarchy(walk, segment)
    if block is not None:
        block.cut_short = segments[-1]
        yield block
    elif not walk.closed:
        last = segments[-1]
        missing = "SE, GE and IEA" if walk.transaction else "GE and IEA" if walk.group else "IEA"
        raise _Unreadable(f"{last.tag}, segment {last.number}",
                          f"the file ends at segment {last.number} ({last.tag}) without the {missing} that close "
                          f"it: it is cut short, and claims after this point may be missing", last.number)


def _expect(condition: bool, segment: Segment, message: str) -> None:
    if not condition:
        raise _Unreadable(f"{segment.tag}, segment {segment.number}", message, segment.number)


def _envelope(walk: _Walk, segment: Segment, delimiters: Delimiters) -> None:
    """Open and close the interchange (ISA/IEA), functional groups (GS/GE) and transaction sets (ST/SE)."""
    tag = segment.tag
    if tag == "ISA":  # a second interchange in the same file: it must use the same delimiters
        _expect(walk.closed, segment, "a second ISA header stands before the IEA that closes the first")
        _expect(len(segment.elements) == 17 and segment.elements[16] == delimiters.component, segment,
                "a second interchange uses other delimiters than the first; send it as a file of its own")
        walk.interchange = True
    elif tag == "TA1":
        _expect(walk.interchange and not walk.group, segment, "TA1 stands outside the interchange header")
    elif tag == "GS":
        _expect(walk.interchange and not walk.group, segment,
                "GS opens a functional group inside another, or outside an interchange (ISA ... IEA)")
        _check_version(segment)
        walk.group = True
    elif tag == "ST":
        _expect(walk.group and not walk.transaction, segment,
                "ST opens a transaction set inside another, or outside a functional group (GS ... GE)")
        _expect(segment.get(1) == "837", segment, f"ST01 `{segment.get(1)}` is not 837: this transaction set "
                                                  f"holds no health care claims")
        walk.transaction = True
    elif tag == "SE":
        _expect(walk.transaction, segment, "SE closes a transaction set, but none is open")
        walk.transaction = False
        walk.billing = walk.subscriber = walk.patient = None
    elif tag == "GE":
        _expect(walk.group and not walk.transaction, segment,
                "GE closes a functional group, but none is open, or its transaction set has no SE")
        walk.group = False
    else:  # IEA
        _expect(walk.interchange and not walk.group, segment,
                "IEA closes the interchange, but none is open, or its functional group has no GE")
        walk.interchange = False


def _check_version(gs: Segment) -> None:
    """GS08 says which claims the group holds; only 837P (005010X222, its addenda A1 and A2) are read."""
    version = gs.get(8)
    if _VERSIONS.fullmatch(version):
        return
    if version[:1].isalnum() and not version[-1:].isalnum():
        why = (f"it ends with `{version[-1]}`: if the file ends its segments with `{version[-1]}`, the ISA header "
               f"must say so (the character after ISA16), and this one does not")
    elif version.startswith("004010"):
        why = "it is the 4010 version of the 837, replaced by 5010 (005010X222A1) in 2012"
    elif version.startswith("005010X223"):
        why = "it holds institutional claims (837I); this reader takes professional claims (837P)"
    elif version.startswith("005010X224"):
        why = "it holds dental claims (837D); this reader takes professional claims (837P)"
    else:
        why = "this reader takes 837P professional claims, 005010X222A1 (or X222A2, X222)"
    raise _Unreadable(f"GS08, segment {gs.number}", f"GS08 `{version}`: {why}", gs.number)


def _level(walk: _Walk, hl: Segment) -> None:
    """HL starts a level of the hierarchy; a new level forgets what the levels below the old one said."""
    level = hl.get(3)
    _expect(level in _HL_LEVELS, hl, f"HL03 `{level}` is not a level of an 837P (20 billing provider, "
                                     f"22 subscriber, 23 patient)")
    if level == "20":
        walk.billing, walk.subscriber, walk.patient = _BillingProvider(), None, None
    elif level == "22":
        walk.subscriber, walk.patient = _Subscriber(), None
    else:
        walk.patient = _Patient()
    walk.entity = None


def _hierarchy(walk: _Walk, segment: Segment) -> None:
    """Keep the segments of the billing provider, subscriber, payer and patient that claims below need."""
    tag, entity = segment.tag, segment.get(1)
    _expect(tag in _HIERARCHY_SEGMENTS, segment,
            f"`{tag}` is not a segment an 837P holds here, before a claim (CLM): a damaged or lost segment? What "
            f"follows cannot be placed, so the file cannot be read from here on")
    _expect(tag != "NM1" or entity in _ENTITIES, segment,
            f"NM101 `{entity}` is not an entity an 837P names: a damaged segment? Whose name and id it holds is "
            f"unknown, so the file cannot be read from here on")
    if walk.patient is not None:
        if tag == "NM1" and entity == "QC":
            walk.patient.name = segment
        elif tag == "DMG" and walk.entity == "QC":
            walk.patient.birth = segment
    elif walk.subscriber is not None:
        if tag == "SBR":
            walk.subscriber.plan = segment
        elif tag == "NM1" and entity == "IL":
            walk.subscriber.name = segment
        elif tag == "NM1" and entity == "PR":
            walk.subscriber.payer = segment
        elif tag == "DMG" and walk.entity == "IL":
            walk.subscriber.birth = segment
    elif walk.billing is not None:
        if tag == "NM1" and entity == "85":
            walk.billing.name = segment
        elif tag == "PRV" and entity == "BI":
            walk.billing.taxonomy = segment
    if tag == "NM1":
        walk.entity = entity


# ---------------------------------------------------------------------------------------------------------
# Step 3: one claim


@dataclass
class _LineSegments:
    """The segments of one service line (loop 2400) that the model needs."""

    lx: Segment
    number: int  # the line's position on the claim, counting from 1
    service: Segment | None = None  # SV1
    date: Segment | None = None  # DTP*472
    provider: Segment | None = None  # NM1*82 of 2420A
    taxonomy: Segment | None = None  # PRV of 2420A


@dataclass
class _ClaimSegments:
    diagnoses: list[Segment] = field(default_factory=list)  # HI
    provider: Segment | None = None  # NM1*82 of 2310B
    taxonomy: Segment | None = None  # PRV of 2310B
    lines: list[_LineSegments] = field(default_factory=list)


def _sort_segments(block: _ClaimBlock, problems: list[ClaimProblem]) -> _ClaimSegments:
    """File the claim's segments by loop. The same NM1*82 means the claim's rendering provider in 2310B, the
    line's in 2420A, and another payer's in 2330D, so the loop decides, and the loop is known only from
    the segments before: SBR opens 2320 (other payers), LX opens 2400, NM1 a provider loop, SVD 2430."""
    out = _ClaimSegments()
    loop = "2300"
    line: _LineSegments | None = None
    for segment in block.segments:
        tag = segment.tag
        if segment.fault:
            problems.append(ClaimProblem(f"segment {segment.number}", segment.fault))
        elif tag not in _CLAIM_SEGMENTS:
            problems.append(ClaimProblem(f"{tag}, segment {segment.number}",
                                         f"`{tag}` is not a segment of an 837P claim: a damaged segment id? What it "
                                         f"held of this claim is lost"))
        elif tag == "NM1" and segment.get(1) not in _ENTITIES:
            problems.append(ClaimProblem(_at(segment, "NM101", None),
                                         f"NM101 `{segment.get(1)}` is not an entity an 837P names: a damaged "
                                         f"segment? Whose name and id it holds is unknown"))
        elif tag == "LX":
            line, loop = _LineSegments(segment, len(out.lines) + 1), "2400"
            out.lines.append(line)
        elif line is None:  # the claim's own loops, before its first line
            if tag == "SBR":
                loop = "2320"
            elif tag == "SV1":
                problems.append(ClaimProblem(_at(segment, "SV1", "2300"), "SV1 stands before the LX that opens "
                                                                          "its service line (loop 2400)"))
            elif loop != "2320" and tag == "HI":
                out.diagnoses.append(segment)
            elif loop != "2320" and tag == "NM1":
                loop = "2310B" if segment.get(1) == "82" else "2310"
                if loop == "2310B":
                    out.provider = segment
            elif loop == "2310B" and tag == "PRV":
                out.taxonomy = segment
        else:
            loop = _line_segment(line, loop, segment, problems)
    return out


def _line_segment(line: _LineSegments, loop: str, segment: Segment, problems: list[ClaimProblem]) -> str:
    """File one segment of a service line; return the loop it leaves the line in."""
    tag = segment.tag
    if tag in ("SVD", "LQ"):  # 2430 other payers' adjudication, 2440 forms: nothing the model needs
        return "2430"
    if loop == "2430":
        return loop
    if tag == "SV1":
        if line.service is not None:
            problems.append(ClaimProblem(_at(segment, "SV1", "2400"), f"line {line.number} has a second SV1; "
                                                                      f"each service line (LX) has one"))
        else:
            line.service = segment
    elif tag == "DTP" and loop == "2400" and segment.get(1) == "472" and line.date is None:
        line.date = segment
    elif tag == "NM1":
        loop = "2420A" if segment.get(1) == "82" else "2420"
        if loop == "2420A":
            line.provider = segment
    elif tag == "PRV" and loop == "2420A":
        line.taxonomy = segment
    return loop


def _read_claim(block: _ClaimBlock, delimiters: Delimiters, name: str) -> Claim | UnreadableClaim:
    """One claim: a `Claim`, or an `UnreadableClaim` with every problem found (where: its CLM segment)."""
    problems: list[ClaimProblem] = []
    reading = _ClaimReading(delimiters, problems)
    claim_id, frequency = reading.header(block.clm)
    parts = _sort_segments(block, problems)
    diagnoses, listed, icd9 = reading.diagnoses(parts.diagnoses)
    if parts.provider is not None:
        provider = reading.provider(parts.provider, parts.taxonomy, "2310B")
    elif block.billing is not None and block.billing.name is not None:
        provider = reading.provider(block.billing.name, block.billing.taxonomy, "2010AA")
    else:
        provider = None
    if not parts.lines:
        problems.append(ClaimProblem(_at(block.clm, "CLM", "2300"),
                                     "a claim needs at least one service line (LX with SV1); this one has none"))
    lines = tuple(line for line in (reading.line(raw, listed) for raw in parts.lines) if line is not None)
    reading.check_icd9(icd9)
    patient_id = reading.patient_id(block)
    payer = _payer(block.subscriber)
    if block.cut_short is not None:
        last = block.cut_short
        problems.append(ClaimProblem(
            f"{last.tag}, segment {last.number}",
            f"the file ends at segment {last.number} ({last.tag}), inside this claim, without the SE that closes "
            f"its transaction set: the file is cut short, and the claim may have lost lines or part of its "
            f"last segment"))
    if problems:
        return UnreadableClaim(id=claim_id, problems=tuple(problems), where=f"{name} segment {block.clm.number}",
                               payer=payer, patient_id=patient_id)
    return Claim(id=claim_id, patient_id=patient_id, lines=lines, payer=payer, provider=provider,
                 diagnoses=diagnoses, frequency=frequency)


class _Entry(NamedTuple):
    """One element of HI as read: the code (None when bad or not a diagnosis), whether it counts as a listed
    diagnosis for the pointers, and how many elements it took."""

    code: str | None = None
    lists: bool = True
    elements: int = 1


class _Icd9(NamedTuple):
    """An ICD-9 code on the claim, and where it stands, for the check against the dates of service."""

    hi: Segment
    element: str
    qualifier: str
    code: str


class _ClaimReading:
    """Reads the parts of one claim, collecting every problem in `problems`."""

    def __init__(self, delimiters: Delimiters, problems: list[ClaimProblem]):
        self.delimiters = delimiters
        self.problems = problems
        self.dates: list[tuple[int, datetime.date]] = []  # (line, date of service) of every line with a good date

    def problem(self, segment: Segment, element: str, loop: str | None, message: str) -> None:
        self.problems.append(ClaimProblem(_at(segment, element, loop), message))

    def parts(self, segment: Segment, position: int) -> list[str]:
        """The components of a composite element (SV101 is parts(sv1, 1)), without surrounding spaces."""
        return [part.strip() for part in segment.get(position).split(self.delimiters.component)]

    def holds_separator(self, value: str) -> bool:
        """Whether a plain element holds the component or repetition separator: a damaged or shifted element."""
        repetition = self.delimiters.repetition
        return self.delimiters.component in value or (repetition is not None and repetition in value)

    def contradiction(self, value: str) -> str:
        """A hint for a composite written without the declared component separator, when another one shows."""
        if self.delimiters.component in value:
            return ""
        other = next((char for char in value if not char.isalnum() and not char.isspace() and char not in ".-/"),
                     None)
        if other is None:
            return ""
        return (f"; it seems to use `{other}` as the component separator, but ISA16 declares "
                f"`{self.delimiters.component}`: the file's body contradicts its ISA header")

    # -- the claim (2300)

    def header(self, clm: Segment) -> tuple[str | None, str | None]:
        """The claim id (CLM01, the patient control number) and frequency code (CLM05-3)."""
        claim_id = clm.get(1) or None
        if claim_id is None:
            self.problem(clm, "CLM01", "2300", "missing: every claim needs its claim id (CLM01, the patient "
                                               "control number)")
        elif self.holds_separator(claim_id):
            self.problem(clm, "CLM01", "2300", f"the claim id {_quote(claim_id)} holds a separator of the file; "
                                               f"a claim id is plain text")
        facility = clm.get(5)
        parts = self.parts(clm, 5)
        frequency = parts[2] if len(parts) > 2 else ""
        if not frequency:
            c = self.delimiters.component
            found = f"CLM05 {_quote(facility)} has none" if facility else "CLM05 is empty"
            self.problem(clm, "CLM05-3", "2300", f"missing: the claim frequency code is the third part of CLM05, "
                                                 f"after the place of service and B (11{c}B{c}1); {found}"
                                                 f"{self.contradiction(facility)}")
            return claim_id, None
        if frequency not in FREQUENCIES:
            self.problem(clm, "CLM05-3", "2300", f"the claim frequency code must be 1 (original claim), "
                                                 f"7 (replacement) or 8 (void); found {_quote(frequency)}")
            return claim_id, None
        return claim_id, frequency

    def diagnoses(self, his: list[Segment]) -> tuple[tuple[str, ...], int, list[_Icd9]]:
        """The claim's diagnoses, in order; how many entries the claim lists, good or bad (so that a pointer
        at a bad one is not reported twice); and the ICD-9 codes with where they stand."""
        codes: list[str] = []
        listed = 0
        icd9: list[_Icd9] = []
        for hi in his:
            position = 1
            while position < len(hi.elements):
                entry = self.diagnosis(hi, position, icd9)
                listed += entry.lists
                if entry.code:
                    codes.append(entry.code)
                position += entry.elements
        return tuple(codes), listed, icd9

    def diagnosis(self, hi: Segment, position: int, icd9: list[_Icd9]) -> _Entry:
        """One element of HI: a diagnosis, a bad one, or something else (a condition code, an empty slot)."""
        value = hi.get(position)
        element = f"HI{position:02d}"
        if not value:
            return _Entry(lists=False)
        parts = self.parts(hi, position)
        if len(parts) < 2 or not parts[1]:
            following = hi.get(position + 1)
            if parts[0] in _ICD10_QUALIFIERS + _ICD9_QUALIFIERS and following and \
                    self.delimiters.component not in following:
                # HI*BK*8901: qualifier and code written as two elements rather than one composite.
                self.problem(hi, f"{element}-HI{position + 1:02d}", "2300",
                             f"diagnosis qualifier {_quote(parts[0])} and code {_quote(following)} are written as two "
                             f"elements; write them as one, joined by `{self.delimiters.component}` "
                             f"({parts[0]}{self.delimiters.component}{following})")
                return _Entry(elements=2)
            self.problem(hi, element, "2300", f"{_quote(value)} is not a diagnosis written qualifier"
                                              f"{self.delimiters.component}code (ABK{self.delimiters.component}"
                                              f"I69351){self.contradiction(value)}")
            return _Entry()
        qualifier, code = parts[0].upper(), parts[1].upper()
        if qualifier in _OTHER_HI_QUALIFIERS:
            return _Entry(lists=False)
        if qualifier in _ICD10_QUALIFIERS:
            match = _ICD10.fullmatch(code) if code.isascii() else None
            if match is None:
                self.problem(hi, element, "2300", f"diagnosis {_quote(parts[1])} is not an ICD-10-CM code (a "
                                                  f"letter, a digit, a letter or digit, then up to four more: "
                                                  f"I69351, R2689)")
                return _Entry()
            category, rest = match.groups()
            return _Entry(code=f"{category}.{rest}" if rest else category)
        if qualifier in _ICD9_QUALIFIERS:
            if not _ICD9.fullmatch(code):
                self.problem(hi, element, "2300", f"diagnosis {_quote(parts[1])} (qualifier {qualifier}) is not an "
                                                  f"ICD-9-CM code (3 to 5 digits, V and 2 to 4 digits, E and 3 or 4)")
                return _Entry()
            icd9.append(_Icd9(hi, element, qualifier, code))
            return _Entry(code=code)  # kept as written, without a dot, so that it cannot pass for ICD-10
        self.problem(hi, element, "2300", f"diagnosis qualifier {_quote(parts[0])} is not one of ABK (principal) "
                                          f"or ABF (other) for ICD-10-CM, BK or BF for ICD-9-CM")
        return _Entry()

    def check_icd9(self, icd9: list[_Icd9]) -> None:
        """ICD-9 codes stand when every date of service is before ICD-10 began (lines with other problems
        count too: their dates are good)."""
        late = [(number, date) for number, date in self.dates if date >= _ICD10_START]
        if not icd9 or not late:
            return
        first = icd9[0]
        codes = ", ".join(f"{_quote(entry.code)} ({entry.qualifier})" for entry in icd9)
        verb = "is an ICD-9 code" if len(icd9) == 1 else "are ICD-9 codes"
        self.problem(first.hi, first.element, "2300",
                     f"{'diagnosis' if len(icd9) == 1 else 'diagnoses'} {codes} {verb}, and ICD-9 is invalid for "
                     f"services on or after 2015-10-01: line {late[0][0]} is on {late[0][1]}. Code the diagnoses "
                     f"in ICD-10-CM (qualifiers ABK, ABF)")

    # -- providers (2310B, 2420A; 2010AA when the billing provider rendered the service)

    def provider(self, nm1: Segment, prv: Segment | None, loop: str) -> Provider | None:
        """NPI (NM109 when NM108 is XX) and provider type (the taxonomy code of PRV) of a rendering provider."""
        npi = None
        qualifier, value = nm1.get(8), nm1.get(9)
        if qualifier == "XX":
            if _NPI.fullmatch(value):
                npi = value
            else:
                self.problem(nm1, "NM109", loop, f"{_WHOSE_NPI[loop]} must be 10 digits; found "
                                                 f"{_quote(value) if value else 'none'}{_STANDS_FOR.get(loop, '')}")
        elif qualifier or any(element.strip() for element in nm1.elements[9:]):
            # 5010 names providers by NPI alone; anything else here is a shifted element or another id.
            found = f"`{qualifier}`" if qualifier else "none"
            self.problem(nm1, "NM108", loop, f"NM108 must be XX, saying that NM109 is {_WHOSE_NPI[loop]}; found "
                                             f"{found} (an element too many or too few before it?)"
                                             f"{_STANDS_FOR.get(loop, '')}")
        kind = self.provider_type(prv, "2000A" if loop == "2010AA" else loop, _STANDS_FOR.get(loop, "")) \
            if prv is not None else None
        return Provider(npi=npi, type=kind) if npi or kind else None

    def provider_type(self, prv: Segment, loop: str, note: str = "") -> str | None:
        """The provider type of a taxonomy code (PRV03): PT, OT, SLP...; None for one that names no type here."""
        if prv.get(2) != "PXC":  # 5010 knows no other kind of provider code here
            self.problem(prv, "PRV02", loop, f"PRV02 must be PXC (a taxonomy code follows); found "
                                             f"{_quote(prv.get(2)) if prv.get(2) else 'none'}{note}")
            return None
        taxonomy = prv.get(3).upper()
        if not _TAXONOMY.fullmatch(taxonomy):
            self.problem(prv, "PRV03", loop, f"taxonomy code {_quote(prv.get(3))} is not a provider taxonomy code "
                                             f"(ten letters and digits: 225100000X for a physical therapist){note}")
            return None
        return _TAXONOMY_TYPES.get(taxonomy[:4])

    # -- service lines (2400)

    def line(self, raw: _LineSegments, listed: int) -> ServiceLine | None:
        number = raw.number
        before = len(self.problems)
        if raw.service is None:
            self.problem(raw.lx, "LX", "2400", f"line {number} has no SV1 segment (the service: code, charge, "
                                               f"units)")
            return None
        sv1 = raw.service
        code, modifiers = self.procedure(sv1, number)
        charge = self.charge(sv1, number)
        units, minutes = self.quantity(sv1, number)
        pointers = self.pointers(sv1, number, listed)
        date = self.date_of_service(raw, number)
        if date is not None:
            self.dates.append((number, date))
        provider = self.provider(raw.provider, raw.taxonomy, "2420A") if raw.provider is not None else None
        if len(self.problems) > before:
            return None
        return ServiceLine(number=number, code=code, date_of_service=date, units=units, modifiers=modifiers,
                           minutes=minutes, charge=charge, diagnosis_pointers=pointers, provider=provider)

    def procedure(self, sv1: Segment, number: int) -> tuple[str | None, tuple[str, ...]]:
        """SV101: HC, the CPT/HCPCS code, up to four modifiers (empty slots allowed), a description."""
        value = sv1.get(1)
        parts = self.parts(sv1, 1)
        qualifier = parts[0].upper()
        if qualifier != "HC":
            what = f"found {_quote(value)}" if value else "it is empty"
            self.problem(sv1, "SV101", "2400", f"line {number}: SV101 must be `HC`, the procedure code and its "
                                               f"modifiers (HC{self.delimiters.component}97110"
                                               f"{self.delimiters.component}GP); {what}{self.contradiction(value)}")
            return None, ()
        raw_code = parts[1] if len(parts) > 1 else ""
        code = raw_code.upper() if raw_code.isascii() else ""
        if not _CPT_HCPCS.fullmatch(code):
            found = f"code {_quote(raw_code)} is" if raw_code else "the code is missing: SV101-2 is"
            self.problem(sv1, "SV101-2", "2400", f"line {number}: {found} not a CPT/HCPCS code (five characters: "
                                                 f"97112, G0283)")
            code = None
        return code, self.modifiers(sv1, parts, number)

    def modifiers(self, sv1: Segment, parts: list[str], number: int) -> tuple[str, ...]:
        modifiers = []
        for position, raw in enumerate(parts[2:6], 3):
            if not raw:
                continue  # an empty slot: HC:97110::GP
            modifier = raw.upper()
            if not (modifier.isascii() and _MODIFIER.fullmatch(modifier)):
                self.problem(sv1, f"SV101-{position}", "2400", f"line {number}: modifier {_quote(raw)} is not a "
                                                               f"modifier (two letters or digits: GP, 59, KX)")
                continue
            modifiers.append(modifier)
        description = parts[6] if len(parts) > 6 else ""
        if len(parts) > 8 or (len(modifiers) == MAX_MODIFIERS and description.isascii()
                              and _MODIFIER.fullmatch(description.upper())):
            # A fifth modifier lands in SV101-7, the description: the claim form has room for four.
            extra = len([part for part in parts[2:] if part])
            self.problem(sv1, "SV101", "2400", f"line {number}: a line may carry at most {MAX_MODIFIERS} "
                                               f"modifiers (SV101-3 to SV101-6); found {extra} parts after the code")
        return tuple(modifiers)

    def charge(self, sv1: Segment, number: int) -> float | None:
        value = sv1.get(2)
        if not value:
            return None  # required by the guide, but no rule needs it
        if _DECIMAL.fullmatch(value) and not value.startswith("-"):
            return float(value)
        self.problem(sv1, "SV102", "2400", f"line {number}: the charge must be an amount of 0 or more, e.g. 120.00; "
                                           f"found {_quote(value)}")
        return None

    def quantity(self, sv1: Segment, number: int) -> tuple[int | None, int | None]:
        """Units and minutes from the unit basis (SV103) and count (SV104). UN: units. MJ: minutes, and no
        units (0), since the file billed none; the policy says what the minutes are worth."""
        basis, value = sv1.get(3).upper(), sv1.get(4)
        if basis not in ("UN", "MJ"):
            found = f"found {_quote(sv1.get(3))}" if basis else "it is missing"
            self.problem(sv1, "SV103", "2400", f"line {number}: the unit basis must be UN (units) or MJ (minutes); "
                                               f"{found}")
            return None, None
        noun = "units" if basis == "UN" else "minutes"
        if not value:
            self.problem(sv1, "SV104", "2400", f"missing: line {number} needs its count of {noun} (SV104)")
            return None, None
        count = _decimal(value)
        if count is None or count < 0:
            self.problem(sv1, "SV104", "2400", f"line {number}: {noun} must be a number of 0 or more; found "
                                               f"{_quote(value)}")
            return None, None
        if count != count.to_integral_value():
            self.problem(sv1, "SV104", "2400", f"line {number}: {value} {noun} is not a whole number; {noun} are "
                                               f"billed whole (1, 2, 3)")
            return None, None
        return (int(count), None) if basis == "UN" else (0, int(count))

    def pointers(self, sv1: Segment, number: int, listed: int) -> tuple[int, ...]:
        """SV107: up to four diagnosis pointers, positions (from 1) in the claim's HI list."""
        value = sv1.get(7)
        if not value:
            return ()
        parts = [part for part in self.parts(sv1, 7) if part]
        if len(parts) > 4:
            self.problem(sv1, "SV107", "2400", f"line {number}: SV107 holds at most four diagnosis pointers; "
                                               f"found {len(parts)}")
        pointers = []
        for part in parts:
            pointer = int(part) if part.isdigit() and part.isascii() else None
            if pointer is None or not 1 <= pointer <= MAX_DIAGNOSIS_POINTER:
                self.problem(sv1, "SV107", "2400", f"line {number}: diagnosis pointers must be whole numbers from 1 "
                                                   f"to {MAX_DIAGNOSIS_POINTER}; found {_quote(part)}"
                                                   f"{self.contradiction(value)}")
            elif pointer > listed:
                listing = f"lists only {listed}" if listed else "lists none"
                self.problem(sv1, "SV107", "2400", f"line {number}: diagnosis pointer {pointer} points at no "
                                                   f"diagnosis: the claim {listing}")
            else:
                pointers.append(pointer)
        return tuple(pointers)

    def date_of_service(self, raw: _LineSegments, number: int) -> datetime.date | None:
        """DTP*472: D8 one date; RD8 a range, which dates the line on its first day."""
        dtp = raw.date
        if dtp is None:
            self.problem(raw.lx, "LX", "2400", f"missing: line {number} needs its date of service (DTP*472)")
            return None
        form, value = dtp.get(2), dtp.get(3)
        if form == "D8":
            return self.date(dtp, value, number)
        if form == "RD8":
            first, dash, last = value.partition("-")
            start = self.date(dtp, first, number)
            end = self.date(dtp, last, number) if dash else None
            if start is None or end is None:
                if start is not None:
                    self.problem(dtp, "DTP03", "2400", f"line {number}: a date range (RD8) is written "
                                                       f"CCYYMMDD-CCYYMMDD; found {_quote(value)}")
                return None
            if end < start:
                self.problem(dtp, "DTP03", "2400", f"line {number}: the date range {_quote(value)} ends before "
                                                   f"it starts")
                return None
            return start
        self.problem(dtp, "DTP02", "2400", f"line {number}: the date format must be D8 (a date) or RD8 (a range); "
                                           f"found {_quote(form) if form else 'none'}")
        return None

    def date(self, dtp: Segment, value: str, number: int) -> datetime.date | None:
        if _D8.fullmatch(value):
            try:
                return datetime.date(int(value[:4]), int(value[4:6]), int(value[6:]))
            except ValueError:
                self.problem(dtp, "DTP03", "2400", f"line {number}: date of service {_quote(value)} is not a real "
                                                   f"date (CCYYMMDD)")
                return None
        self.problem(dtp, "DTP03", "2400", f"line {number}: date of service {_quote(value)} is not written "
                                           f"CCYYMMDD (e.g. 20260302)")
        return None

    # -- the patient (2010BA, 2010CA)

    def patient_id(self, block: _ClaimBlock) -> str | None:
        """Who the patient is, for judging a patient's day across claims (see the module's docstring)."""
        subscriber = block.subscriber
        if subscriber is None or subscriber.name is None:
            self.problem(block.clm, "CLM", "2300", "missing: the claim has no subscriber above it (HL*...*22 with "
                                                   "NM1*IL), so its patient is unknown")
            return None
        member = self.member_id(subscriber.name)
        if block.patient is not None:  # a patient of their own: no member id, so the subscriber's, name and birth
            person = block.patient.name
            if person is None or not _person(person):
                self.problem(block.clm, "CLM", "2300", "missing: the patient level (HL*...*23) above this claim "
                                                       "names no patient (NM1*QC with a last name)")
                return None
            return " / ".join(part for part in (member, _person(person), _birth(block.patient.birth)) if part)
        if member:
            return member
        name = _person(subscriber.name)
        if not name:
            self.problem(subscriber.name, "NM109", "2010BA", "missing: the subscriber has neither a member id "
                                                             "(NM109) nor a name, so the patient is unknown")
            return None
        return " / ".join(part for part in (name, _birth(subscriber.birth)) if part)

    def member_id(self, nm1: Segment) -> str | None:
        """The subscriber's member id: NM109, which NM108 MI (or II, a national health identifier) announces.
        Anything else there is an element out of place, and the id read would be someone else's."""
        qualifier, member = nm1.get(8), nm1.get(9)
        if not qualifier and not member:
            return None
        if qualifier not in ("MI", "II") or not member or self.holds_separator(member):
            found = " ".join(_quote(value) for value in (qualifier, member) if value)
            self.problem(nm1, "NM108", "2010BA", f"the subscriber's member id is written NM108 MI, then the id in "
                                                 f"NM109 (MI*1EG4TE5MK73); found {found}")
            return None
        return member


def _payer(subscriber: _Subscriber | None) -> str | None:
    """`medicare` when the claim clearly goes to Medicare; else None, and the default policy applies."""
    if subscriber is None:
        return None
    indicator = subscriber.plan.get(9) if subscriber.plan is not None else ""
    if indicator in ("MA", "MB"):  # the claim filing indicator: Medicare Part A, Part B
        return "medicare"
    payer_name = subscriber.payer.get(3).upper() if subscriber.payer is not None else ""
    if _MEDICARE.search(payer_name) and indicator != "16":  # 16: a Medicare HMO, a private plan
        return "medicare"
    return None


def _person(nm1: Segment) -> str:
    """A person's name as the patient id shows it: LAST, FIRST (NM103, NM104), spaces tidied."""
    last, first = " ".join(nm1.get(3).upper().split()), " ".join(nm1.get(4).upper().split())
    return f"{last}, {first}" if last and first else last


def _birth(dmg: Segment | None) -> str:
    if dmg is None or dmg.get(1) != "D8" or not _D8.fullmatch(dmg.get(2)):
        return ""
    value = dmg.get(2)
    return f"{value[:4]}-{value[4:6]}-{value[6:]}"


# ---------------------------------------------------------------------------------------------------------
# Small helpers


def _at(segment: Segment, element: str, loop: str | None) -> str:
    """Where a problem stands: `SV104 in loop 2400, segment 23`."""
    return f"{element} in loop {loop}, segment {segment.number}" if loop else f"{element}, segment {segment.number}"


def _decimal(value: str) -> Decimal | None:
    if not _DECIMAL.fullmatch(value):
        return None
    try:
        return Decimal(value)
    except InvalidOperation:
        return None


def _quote(text: str, limit: int = 40) -> str:
    return f"`{text if len(text) <= limit else text[:limit] + '...'}`"


def _describe_char(char: str) -> str:
    names = {"\n": "a line break", "\r": "a carriage return", "\t": "a tab", " ": "a space", "": "nothing"}
    return names.get(char) or f"`{char}`"


# ---------------------------------------------------------------------------------------------------------
# The stage


def read_x12(text: str, name: str) -> Iterator[Claim | UnreadableClaim]:
    """Read the claims of an X12 837P file: one `Claim` or `UnreadableClaim` per CLM, in file order.

    `text` is the whole file; `name` is shown in `where` ("claims.837 segment 23"). After the claims read
    so far, a file that cannot be read from some point on yields one `UnreadableClaim` naming the problem
    and the segment. Never raises for bad data.
    """
    text = text.lstrip("\ufeff \t\r\n")  # a byte order mark, blank lines before the header
    try:
        delimiters = _delimiters(text, name)
        segments = _segments(text, delimiters)
        for block in _claim_blocks(segments, delimiters):
            yield _read_claim(block, delimiters, name)
    except _Unreadable as err:
        yield err.record(name)
