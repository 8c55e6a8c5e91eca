"""The read stage for X12, its first half: an 837P file cut into segments, envelopes, levels, claims and loops.

An X12 interchange is text made of segments, each a segment id and its elements (`SV1*HC:97112:GP*120*UN*2~`:
SV1, then SV101 `HC:97112:GP`, a composite of three components, SV102 `120`, ...). Segments nest in
envelopes: the interchange (ISA ... IEA) holds functional groups (GS ... GE), which hold transaction sets
(ST ... SE); an 837P transaction set holds a hierarchy of levels (HL 20 billing provider, HL 22 subscriber
and payer, HL 23 patient), and claims (CLM) under them, each made of loops (2300 the claim, 2310B its
rendering provider, 2320 other payers, 2400 a service line, 2420A the line's rendering provider, 2430 other
payers' adjudication of the line). No segment says which loop it is in: only the segments before it do.

This module walks a file once, in three steps; `claims.x12` reads the claims it hands over:

1. Delimiters (`read_delimiters`). A file declares its own delimiters in its ISA interchange header: the
   character after `ISA` separates elements, ISA11 separates repetitions (5010), ISA16 separates the parts
   of a composite element, and the character after ISA16 ends each segment. `split_segments` cuts the file
   into numbered segments (ISA is segment 1, as X12 tools count) and ignores line breaks and indentation
   *between* segments, so that pretty-printed files read like one-line ones. A segment that still holds a
   line break, or does not start with a segment id and the element separator, is marked faulty: that is
   what a file whose body contradicts its ISA header looks like.
2. Envelope and hierarchy (`claim_blocks`). The envelope (ISA, GS, ST ... SE, GE, IEA) and the hierarchy are
   walked once; each CLM, with every segment up to the next CLM, HL or SE, becomes a `ClaimBlock` that
   remembers the billing provider, subscriber and patient above it.
3. Loops (`sort_segments`). A claim block's segments are filed by the loop they stand in: the claim's
   diagnoses (HI), prior authorization (REF*G1), date treatment began (DTP*454), referring provider (2310A)
   and rendering provider (2310B), and per service line its SV1, date (DTP*472), prior authorization
   (REF*G1) and rendering provider (2420A). Segments of loops the model does not need (2320, 2430) are passed over.

Where the envelope breaks, nothing after that point can be placed: `claim_blocks` raises `Unreadable`, whose
record says why and where. Where the hierarchy breaks (a damaged NM1 or HL, a segment no 837P holds before a
claim), only the claims of that level are spoiled: each carries the damage (`ClaimBlock.damage`) and is
reported unreadable, and reading goes on sound from the next HL of that level or a higher one (or the next
ST). A fault inside a claim (a damaged segment, a segment id no 837P claim holds) is a problem of that claim
only, collected by `sort_segments`.

Control counts and numbers (SE01, GE01, IEA01, ...) are not checked: they say nothing about the claims, and
validating the envelope is the clearinghouse's work. What is checked is what could make a claim's data wrong
without a word: a segment id or an NM1 entity code that no 837P holds (a damaged segment, whose content
would be lost).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable, Iterator, NamedTuple

from payerpolicy.claims.model import ClaimProblem, UnreadableClaim
from payerpolicy.claims.values import quote

__all__ = [
    "BillingProvider",
    "CLAIM_SEGMENTS",
    "DECIMAL",
    "ENTITIES",
    "ClaimBlock",
    "ClaimSegments",
    "Delimiters",
    "LineSegments",
    "Patient",
    "Segment",
    "Subscriber",
    "Unreadable",
    "claim_blocks",
    "iter_segments",
    "read_delimiters",
    "sort_segments",
    "split_segments",
]

_VERSIONS = re.compile(r"005010X222(A1|A2)?")  # GS08 of an 837P and of its addenda A1 and A2, read alike

_TAG = re.compile(r"[A-Z][A-Z0-9]{1,2}")
DECIMAL = re.compile(r"-?(?:[0-9]+\.?[0-9]*|\.[0-9]+)")  # X12 data element type R: 12, 12.5, .5, -3
_TAG_LIKE = re.compile(r"([A-Za-z][A-Za-z0-9]{1,2})([^A-Za-z0-9\s])")  # a segment id and the separator it uses

# Segments that end the claim before them: the next claim, the next level of the hierarchy, the envelope.
_ENDS_A_CLAIM = frozenset({"CLM", "HL", "SE", "GE", "IEA", "GS", "ST", "ISA"})
# Every segment an 837P may hold in the header and the hierarchy levels (1000A/B, 2000A/B/C and their 2010
# loops), and in a claim (2300 to 2440). Any other segment id is a damaged one, and what it held is lost: a
# claim with one is unreadable, and one outside a claim leaves what follows it impossible to place.
_HIERARCHY_SEGMENTS = frozenset({"BHT", "NM1", "N3", "N4", "REF", "PER", "PRV", "CUR", "SBR", "PAT", "DMG"})
CLAIM_SEGMENTS = frozenset(
    {
        "DTP",
        "PWK",
        "CN1",
        "AMT",
        "REF",
        "K3",
        "NTE",
        "CR1",
        "CR2",
        "CRC",
        "HI",
        "HCP",
        "NM1",
        "N3",
        "N4",
        "PER",
        "PRV",
        "SBR",
        "CAS",
        "OI",
        "MIA",
        "MOA",
        "LX",
        "SV1",
        "SV5",
        "CR3",
        "QTY",
        "MEA",
        "PS1",
        "HSD",
        "LIN",
        "CTP",
        "SVD",
        "LQ",
        "FRM",
    }
)
# NM101 of every NM1 in an 837P: submitter, receiver, billing, pay-to, payee, subscriber, payer, patient;
# referring, rendering, facility, supervising, pickup, drop-off, purchased service, ordering providers. An
# NM1 with another code is damaged, and whose name and id it holds is unknown.
ENTITIES = frozenset(
    {"41", "40", "85", "87", "PE", "IL", "PR", "QC", "DN", "P3", "82", "77", "DQ", "PW", "45", "QB", "DK"}
)
# Every segment id an 837P holds: each is a sound id, looked up instead of matched against `_TAG`.
_KNOWN_TAGS = frozenset(_ENDS_A_CLAIM | _HIERARCHY_SEGMENTS | CLAIM_SEGMENTS | {"HL", "TA1"})
_HL_LEVELS = ("20", "22", "23")  # billing provider, subscriber, patient
_RANK = {"20": 0, "22": 1, "23": 2}  # higher levels first
_CLAIM_BODY = {"LX", "SV1"}  # segments only a claim holds: a service line


# ---------------------------------------------------------------------------------------------------------
# Step 1: delimiters and segments


class Delimiters(NamedTuple):
    """The delimiters an interchange declares in its ISA header."""

    element: str
    component: str
    segment: str
    repetition: str | None  # None when ISA11 holds a letter (U, before 5010): no repetition separator


class Segment(NamedTuple):
    """One segment: its id (`SV1`) and its elements, numbered as X12 tools count."""

    number: int  # counting from 1 (ISA), as X12 tools and clearinghouse reports count
    tag: str
    elements: list[str]  # elements[1] is the segment's 01 element; "" for an empty one
    fault: str | None = None  # why the segment cannot be read, when it cannot

    def get(self, position: int) -> str:
        """Element `position` (SV104 is get(4)), without surrounding spaces; "" when absent."""
        return self.elements[position].strip() if position < len(self.elements) else ""

    def at(self, element: str, loop: str | None = None) -> str:
        """Where a problem with one of its elements stands: `SV104 in loop 2400, segment 23`."""
        return f"{element} in loop {loop}, segment {self.number}" if loop else f"{element}, segment {self.number}"


class Unreadable(Exception):
    """The file cannot be read from here on: the one record that says so, and where."""

    def __init__(self, field: str, message: str, segment: int | None = None):
        super().__init__(message)
        self.problem = ClaimProblem(field, message)
        self.segment = segment

    def record(self, name: str) -> UnreadableClaim:
        where = f"{name} segment {self.segment}" if self.segment else name
        return UnreadableClaim(id=None, problems=(self.problem,), where=where)


def read_delimiters(text: str, name: str) -> Delimiters:
    """The delimiters an ISA header declares. ISA has 16 elements; the 16th separator stands before ISA16
    (one character), and the character after ISA16 ends the segment. The fixed widths of ISA are not
    required: the separators alone find ISA16, so an ISA without its padding still reads."""
    if not text.startswith("ISA"):
        found = f"it starts with {quote(text[:20])}" if text.strip() else "it is empty"
        raise Unreadable(
            "ISA", f"{name} is not an X12 file: an 837P starts with the ISA interchange header (`ISA*00*...`); {found}"
        )
    element = text[3:4]
    if not element or element.isalnum() or element.isspace():
        raise Unreadable(
            "ISA, segment 1",
            f"the character after `ISA` must be the element separator (such as `*`); found {_describe_char(element)}",
            1,
        )
    separators = [match.start() for match in re.finditer(re.escape(element), text[:2000])][:16]
    if len(separators) < 16 or separators[15] + 2 >= len(text):
        raise Unreadable(
            "ISA, segment 1",
            f"the ISA header is cut short: it needs 16 elements separated by `{element}`, then the segment terminator",
            1,
        )
    last = separators[15]
    isa = text[: last + 2].split(element)
    component, segment = text[last + 1], text[last + 2]
    repetition = isa[11] if len(isa[11]) == 1 and not isa[11].isalnum() else None
    _check_delimiters(element, component, segment, repetition)
    return Delimiters(element, component, segment, repetition)


def _check_delimiters(element: str, component: str, segment: str, repetition: str | None) -> None:
    if component.isalnum() or component.isspace():
        raise Unreadable(
            "ISA16, segment 1",
            f"ISA16 must be the component separator (such as `:`); found {_describe_char(component)}",
            1,
        )
    if segment.isalnum() or segment == " ":
        raise Unreadable(
            "ISA16, segment 1",
            f"the character after ISA16 must be the segment terminator (such as "
            f"`~` or a line break); found {_describe_char(segment)}",
            1,
        )
    named = [
        ("element separator (ISA position 4)", element),
        ("component separator (ISA16)", component),
        ("segment terminator (after ISA16)", segment),
    ]
    if repetition is not None:
        named.append(("repetition separator (ISA11)", repetition))
    for index, (first, char) in enumerate(named):
        for second, other in named[index + 1 :]:
            if char == other:
                raise Unreadable(
                    "ISA, segment 1",
                    f"the {first} and the {second} are both {_describe_char(char)}; the four delimiters must differ",
                    1,
                )


def split_segments(text: str, delimiters: Delimiters) -> list[Segment]:
    """The segments of a whole file, numbered from 1 (see `iter_segments`)."""
    return list(iter_segments([text], delimiters))


def iter_segments(chunks: Iterable[str], delimiters: Delimiters) -> Iterator[Segment]:
    """The segments of a file read in chunks (any sizes), numbered from 1, one at a time: a file of any size
    is read in the memory of one chunk. Whitespace around a segment (line breaks, indentation) is not part
    of it; whitespace inside one is, and X12 allows no line break there, so one is a fault."""
    number = 0
    split, element, tag_ok, known = delimiters.segment, delimiters.element, _TAG.fullmatch, _KNOWN_TAGS
    make = tuple.__new__  # Segment(...) through its own __new__ costs three times as much, per segment
    # The segment the next chunk goes on with, in parts, joined once its terminator comes: a segment longer
    # than many chunks (a file with no terminator at all) is copied once, not once per chunk.
    rest: list[str] = []
    for chunk in chunks:
        if split not in chunk:
            rest.append(chunk)
            continue
        pieces = ("".join(rest) + chunk).split(split)
        rest = [pieces.pop()]
        for piece in pieces:
            piece = piece.strip()
            if not piece:
                continue
            if "\n" in piece or "\r" in piece:  # rare: a damaged file; a sound one takes the loop below
                for segment in _over_line_breaks(piece, number, delimiters):
                    number = segment.number
                    yield segment
                continue
            number += 1
            elements = piece.split(element)
            tag = elements[0]
            # The fault's words are made only for a faulty segment: most are sound. A tag an 837P holds is
            # looked up; only another one is matched against the pattern of a segment id.
            sound = tag in known or tag_ok(tag) is not None
            yield make(Segment, (number, tag, elements, None if sound else _fault(piece, tag, delimiters)))
    piece = "".join(rest).strip()
    if piece:  # the file ends without a terminator after its last segment
        yield from _over_line_breaks(piece, number, delimiters)


def _over_line_breaks(piece: str, number: int, delimiters: Delimiters) -> Iterator[Segment]:
    """The segments of text between two terminators (or after the last one) that holds line breaks.

    X12 allows no line break inside a segment, so this is a damaged file. Where the text after a line break
    starts with a segment id and the element separator, a segment terminator was lost there (or the file
    ends its segments with line breaks against its ISA header): a careful reader starts a new segment at
    each such line, so that the next claim (its CLM) is not taken into the damaged segment. The segment
    before each lost terminator is faulty, and so is a segment that still holds a line break."""
    starts = re.compile(_TAG.pattern + re.escape(delimiters.element))
    parts: list[str] = []
    for line in re.split(r"\r\n|\r|\n", piece):
        line = line.strip()
        if not line:
            continue
        if parts and starts.match(line):
            parts.append(line)
        elif parts:
            parts[-1] += "\n" + line  # a line break inside a segment: kept, so that the segment is faulty
        else:
            parts.append(line)
    for index, part in enumerate(parts):
        elements = part.split(delimiters.element)
        fault = (
            _fault(part, elements[0], delimiters)
            if index == len(parts) - 1
            else _unended(part, elements[0], delimiters)
        )
        yield Segment(number + 1 + index, elements[0], elements, fault)


def _unended(part: str, tag: str, delimiters: Delimiters) -> str:
    """Why a segment followed by a line break and another segment, with no terminator between, is faulty."""
    fault = _fault(part, tag, delimiters)
    if fault is not None:
        return fault
    terminator = _describe_char(delimiters.segment)
    return (
        f"segment {quote(part)} ends with a line break instead of {terminator}, the segment terminator declared "
        f"after ISA16, so it may be cut short; the next segment is read from the next line. If the file ends "
        f"its segments with line breaks, its body contradicts its ISA header"
    )


def _fault(piece: str, tag: str, delimiters: Delimiters) -> str | None:
    shown = quote(piece.splitlines()[0] if piece.splitlines() else piece)
    if not _TAG.fullmatch(tag):
        other = _TAG_LIKE.match(piece)
        hint = (
            f"; it seems to use `{other[2]}`: the file's body contradicts its ISA header"
            if other and other[2] not in (delimiters.element, delimiters.segment)
            else ""
        )
        return (
            f"segment {shown} does not start with a segment id (2 or 3 capital letters or digits) followed by "
            f"`{delimiters.element}`, the element separator declared at ISA position 4{hint}"
        )
    if "\n" in piece or "\r" in piece:
        terminator = _describe_char(delimiters.segment)
        return (
            f"segment {shown} runs over a line break; X12 allows none inside a segment. Segments must end "
            f"with {terminator}, the terminator declared after ISA16: if the file ends them with line "
            f"breaks instead, its body contradicts its ISA header"
        )
    return None


# ---------------------------------------------------------------------------------------------------------
# Step 2: the envelope and the hierarchy, cut into claims


@dataclass
class BillingProvider:
    """The billing provider level (HL 20, loop 2000A): what a claim needs of it."""

    name: Segment | None = None  # NM1*85 (2010AA), with the NPI
    taxonomy: Segment | None = None  # PRV*BI


@dataclass
class Subscriber:
    """The subscriber level (HL 22, loop 2000B), with the payer: what a claim needs of it."""

    plan: Segment | None = None  # SBR, with the claim filing indicator
    name: Segment | None = None  # NM1*IL (2010BA), with the member id
    birth: Segment | None = None  # DMG of 2010BA
    payer: Segment | None = None  # NM1*PR (2010BB)


@dataclass
class Patient:
    """The patient level (HL 23, loop 2000C), for a patient who is not the subscriber."""

    name: Segment | None = None  # NM1*QC (2010CA)
    birth: Segment | None = None


@dataclass
class ClaimBlock:
    """One CLM and the segments that follow it, with the hierarchy above it."""

    clm: Segment
    billing: BillingProvider | None
    subscriber: Subscriber | None
    patient: Patient | None
    segments: list[Segment] = field(default_factory=list)
    cut_short: Segment | None = None  # the file's last segment, when the file ends inside this claim
    damage: ClaimProblem | None = None  # a broken level above it: what, and where


class _Walk:
    """Where the walk through the envelope and the hierarchy stands."""

    def __init__(self) -> None:
        self.interchange = True  # ISA (segment 1) opened it
        self.group = self.transaction = False
        self.billing: BillingProvider | None = None
        self.subscriber: Subscriber | None = None
        self.patient: Patient | None = None
        self.entity: str | None = None  # NM101 of the last NM1 of the current level, for the DMG after it
        self.level: str | None = None  # the level the walk stands in: 20, 22 or 23
        # HL01 of the open billing provider and subscriber levels, to tell a damaged HL's level from its parent
        # (HL02). Only the open ones: a file's every HL kept would grow with the file, which is streamed.
        self.billing_hl: str | None = None
        self.subscriber_hl: str | None = None
        # A broken level: (its level, the problem, the broken segment while no CLM has followed it). Claims
        # under it are spoiled until an HL of that level or a higher one (or a new transaction set).
        self.damage: tuple[str, ClaimProblem, Segment | None] | None = None

    @property
    def closed(self) -> bool:
        return not (self.interchange or self.group or self.transaction)


def claim_blocks(segments: Iterable[Segment], delimiters: Delimiters) -> Iterator[ClaimBlock]:
    """Cut the file into claims, segment by segment as they come. Raises `Unreadable` where the envelope or
    the hierarchy breaks: nothing after that point can be placed."""
    walk = _Walk()
    block: ClaimBlock | None = None
    segments = iter(segments)
    last = next(segments, None)  # ISA, read with the delimiters
    if last is None:
        return
    for segment in segments:
        last = segment
        if block is not None:
            if segment.tag not in _ENDS_A_CLAIM:
                block.segments.append(segment)  # a faulty segment too: it spoils this claim only
                continue
            yield block
            block = None
        if segment.fault and not walk.transaction:  # the envelope itself is damaged
            raise Unreadable(f"segment {segment.number}", segment.fault, segment.number)
        if segment.tag in ("ISA", "GS", "ST", "SE", "GE", "IEA", "TA1") and not segment.fault:
            _envelope(walk, segment, delimiters)
            walk.damage = None
            continue
        if not walk.transaction:
            raise _broken(segment, f"{segment.tag} stands outside a transaction set (ST ... SE)")
        if walk.damage is not None and segment.tag in _CLAIM_BODY and walk.damage[2] is not None:
            # A service line under a broken level with no CLM since: the break took the claim's CLM with it.
            # It is still a claim, reported unreadable, so the count of results stays the count of claims.
            block = ClaimBlock(
                walk.damage[2], walk.billing, walk.subscriber, walk.patient, [segment], damage=walk.damage[1]
            )
            walk.damage = (walk.damage[0], walk.damage[1], None)
            continue
        try:
            if segment.tag == "CLM":  # a damaged CLM still starts a claim: that claim is the error, no other
                damage = walk.damage[1] if walk.damage else _claim_fault(segment)
                block = ClaimBlock(segment, walk.billing, walk.subscriber, walk.patient, damage=damage)
                if walk.damage is not None:
                    walk.damage = (walk.damage[0], walk.damage[1], None)  # its claims have their CLM
            elif segment.fault:
                raise Unreadable(f"segment {segment.number}", segment.fault, segment.number)
            elif segment.tag == "HL":
                _level(walk, segment)
            else:
                _hierarchy(walk, segment)
        except Unreadable as broken:  # this level is spoiled; the claims of other levels are not
            if walk.damage is None:
                walk.damage = (walk.level or "20", broken.problem, segment)
    if block is not None:
        block.cut_short = last
        yield block
    elif not walk.closed:
        missing = "SE, GE and IEA" if walk.transaction else "GE and IEA" if walk.group else "IEA"
        raise Unreadable(
            f"{last.tag}, segment {last.number}",
            f"the file ends at segment {last.number} ({last.tag}) without the {missing} that close "
            f"it: it is cut short, and claims after this point may be missing",
            last.number,
        )


def _claim_fault(clm: Segment) -> ClaimProblem | None:
    return ClaimProblem(clm.at("CLM", "2300"), clm.fault) if clm.fault else None


def _expect(condition: bool, segment: Segment, message: str) -> None:
    if not condition:
        raise _broken(segment, message)


def _broken(segment: Segment, message: str) -> Unreadable:
    return Unreadable(f"{segment.tag}, segment {segment.number}", message, segment.number)


def _envelope(walk: _Walk, segment: Segment, delimiters: Delimiters) -> None:
    """Open and close the interchange (ISA/IEA), functional groups (GS/GE) and transaction sets (ST/SE)."""
    tag = segment.tag
    if tag == "ISA":  # a second interchange in the same file: it must use the same delimiters
        _expect(walk.closed, segment, "a second ISA header stands before the IEA that closes the first")
        _expect(
            len(segment.elements) == 17 and segment.elements[16] == delimiters.component,
            segment,
            "a second interchange uses other delimiters than the first; send it as a file of its own",
        )
        walk.interchange = True
    elif tag == "TA1":
        _expect(walk.interchange and not walk.group, segment, "TA1 stands outside the interchange header")
    elif tag == "GS":
        _expect(
            walk.interchange and not walk.group,
            segment,
            "GS opens a functional group inside another, or outside an interchange (ISA ... IEA)",
        )
        _check_version(segment)
        walk.group = True
    elif tag == "ST":
        _expect(
            walk.group and not walk.transaction,
            segment,
            "ST opens a transaction set inside another, or outside a functional group (GS ... GE)",
        )
        _expect(
            segment.get(1) == "837",
            segment,
            f"ST01 `{segment.get(1)}` is not 837: this transaction set holds no health care claims",
        )
        walk.transaction = True
    elif tag == "SE":
        _expect(walk.transaction, segment, "SE closes a transaction set, but none is open")
        walk.transaction = False
        walk.billing = walk.subscriber = walk.patient = None
    elif tag == "GE":
        _expect(
            walk.group and not walk.transaction,
            segment,
            "GE closes a functional group, but none is open, or its transaction set has no SE",
        )
        walk.group = False
    else:  # IEA
        _expect(
            walk.interchange and not walk.group,
            segment,
            "IEA closes the interchange, but none is open, or its functional group has no GE",
        )
        walk.interchange = False


def _check_version(gs: Segment) -> None:
    """GS08 says which claims the group holds; only 837P (005010X222, its addenda A1 and A2) are read."""
    version = gs.get(8)
    if _VERSIONS.fullmatch(version):
        return
    if version[:1].isalnum() and not version[-1:].isalnum():
        why = (
            f"it ends with `{version[-1]}`: if the file ends its segments with `{version[-1]}`, the ISA header "
            f"must say so (the character after ISA16), and this one does not"
        )
    elif version.startswith("004010"):
        why = "it is the 4010 version of the 837, replaced by 5010 (005010X222A1) in 2012"
    elif version.startswith("005010X223"):
        why = "it holds institutional claims (837I); this reader takes professional claims (837P)"
    elif version.startswith("005010X224"):
        why = "it holds dental claims (837D); this reader takes professional claims (837P)"
    else:
        why = "this reader takes 837P professional claims, 005010X222A1 (or X222A2, X222)"
    raise Unreadable(f"GS08, segment {gs.number}", f"GS08 `{version}`: {why}", gs.number)


def _level(walk: _Walk, hl: Segment) -> None:
    """HL starts a level of the hierarchy; a new level forgets what the levels below the old one said."""
    level = hl.get(3)
    if level not in _HL_LEVELS:
        # Which level it stands for is told by its parent (HL02): below a billing provider, a subscriber.
        parent = hl.get(2)
        guessed = "22" if parent == walk.billing_hl else "23" if parent == walk.subscriber_hl else "20"
        _start_level(walk, hl, guessed)
        raise Unreadable(
            f"HL, segment {hl.number}",
            f"HL03 `{level}` is not a level of an 837P (20 billing provider, 22 subscriber, 23 patient)",
            hl.number,
        )
    _start_level(walk, hl, level)


def _start_level(walk: _Walk, hl: Segment, level: str) -> None:
    if walk.damage is not None and _RANK[level] <= _RANK[walk.damage[0]]:
        walk.damage = None  # a new level as high as the broken one, or higher: sound again
    walk.level = level
    if level == "20":
        walk.billing, walk.subscriber, walk.patient = BillingProvider(), None, None
        walk.billing_hl, walk.subscriber_hl = hl.get(1), None
    elif level == "22":
        walk.subscriber, walk.patient = Subscriber(), None
        walk.subscriber_hl = hl.get(1)
    else:
        walk.patient = Patient()
    walk.entity = None


def _hierarchy(walk: _Walk, segment: Segment) -> None:
    """Keep the segments of the billing provider, subscriber, payer and patient that claims below need."""
    tag, elements = segment.tag, segment.elements
    entity = elements[1].strip() if len(elements) > 1 else ""  # segment.get(1), without a call per segment
    # The messages are made only when the check fails: these run for every segment above the claims.
    if tag not in _HIERARCHY_SEGMENTS:
        raise _broken(
            segment,
            f"`{tag}` is not a segment an 837P holds here, before a claim (CLM): a damaged or lost segment? The "
            f"claims of this level cannot be placed; reading goes on at the next level (HL)",
        )
    if tag == "NM1" and entity not in ENTITIES:
        raise _broken(
            segment,
            f"NM101 `{entity}` is not an entity an 837P names: a damaged segment? Whose name and id it holds is "
            f"unknown, so the claims of this level cannot be read; reading goes on at the next level (HL)",
        )
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
# Step 3: a claim's segments, filed by loop


@dataclass
class LineSegments:
    """The segments of one service line (loop 2400) that the model needs."""

    lx: Segment
    number: int  # the line's position on the claim, counting from 1
    service: Segment | None = None  # SV1
    date: Segment | None = None  # DTP*472
    provider: Segment | None = None  # NM1*82 of 2420A
    taxonomy: Segment | None = None  # PRV of 2420A
    prior_authorization: Segment | None = None  # REF*G1 of 2400, when the line has its own


@dataclass
class ClaimSegments:
    """The segments of one claim that the model needs, filed by loop (2300, 2310B, 2400 and 2420A)."""

    diagnoses: list[Segment] = field(default_factory=list)  # HI
    provider: Segment | None = None  # NM1*82 of 2310B
    taxonomy: Segment | None = None  # PRV of 2310B
    referring: Segment | None = None  # NM1*DN (referring) or NM1*P3 (primary care) of 2310A: the certifying NPI
    prior_authorization: Segment | None = None  # REF*G1 of 2300
    treatment_began: Segment | None = None  # DTP*454 of 2300 (the initial treatment date, chiropractic)
    lines: list[LineSegments] = field(default_factory=list)


def sort_segments(block: ClaimBlock, problems: list[ClaimProblem]) -> ClaimSegments:
    """File the claim's segments by loop. The same NM1*82 means the claim's rendering provider in 2310B, the
    line's in 2420A, and another payer's in 2330D, so the loop decides, and the loop is known only from
    the segments before: SBR opens 2320 (other payers), LX opens 2400, NM1 a provider loop, SVD 2430."""
    out = ClaimSegments()
    loop = "2300"
    line: LineSegments | None = None
    for segment in block.segments:
        tag = segment.tag
        if segment.fault:
            problems.append(ClaimProblem(f"segment {segment.number}", segment.fault))
        elif tag not in CLAIM_SEGMENTS:
            problems.append(
                ClaimProblem(
                    f"{tag}, segment {segment.number}",
                    f"`{tag}` is not a segment of an 837P claim: a damaged segment id? What it "
                    f"held of this claim is lost",
                )
            )
        elif tag == "NM1" and segment.get(1) not in ENTITIES:
            problems.append(
                ClaimProblem(
                    segment.at("NM101"),
                    f"NM101 `{segment.get(1)}` is not an entity an 837P names: a damaged "
                    f"segment? Whose name and id it holds is unknown",
                )
            )
        elif tag == "LX":
            line, loop = LineSegments(segment, len(out.lines) + 1), "2400"
            out.lines.append(line)
        elif line is None:  # the claim's own loops, before its first line
            if tag == "SBR":
                loop = "2320"
            elif tag == "SV1":
                problems.append(
                    ClaimProblem(
                        segment.at("SV1", "2300"), "SV1 stands before the LX that opens its service line (loop 2400)"
                    )
                )
            elif loop != "2320" and tag == "HI":
                out.diagnoses.append(segment)
            elif loop == "2300" and tag == "REF" and segment.get(1) == "G1":
                out.prior_authorization = out.prior_authorization or segment
            elif loop == "2300" and tag == "DTP" and segment.get(1) == "454":
                out.treatment_began = out.treatment_began or segment
            elif loop != "2320" and tag == "NM1":
                entity = segment.get(1)
                loop = "2310B" if entity == "82" else "2310A" if entity in ("DN", "P3") else "2310"
                if loop == "2310B":
                    out.provider = segment
                elif loop == "2310A" and (out.referring is None or entity == "DN"):
                    out.referring = segment  # the referring provider (DN) before the primary care one (P3)
            elif loop == "2310B" and tag == "PRV":
                out.taxonomy = segment
        else:
            loop = _line_segment(line, loop, segment, problems)
    return out


def _line_segment(line: LineSegments, loop: str, segment: Segment, problems: list[ClaimProblem]) -> str:
    """File one segment of a service line; return the loop it leaves the line in."""
    tag = segment.tag
    if tag in ("SVD", "LQ"):  # 2430 other payers' adjudication, 2440 forms: nothing the model needs
        return "2430"
    if loop == "2430":
        return loop
    if tag == "SV1":
        if line.service is not None:
            problems.append(
                ClaimProblem(
                    segment.at("SV1", "2400"), f"line {line.number} has a second SV1; each service line (LX) has one"
                )
            )
        else:
            line.service = segment
    elif tag == "DTP" and loop == "2400" and segment.get(1) == "472" and line.date is None:
        line.date = segment
    elif tag == "REF" and loop == "2400" and segment.get(1) == "G1" and line.prior_authorization is None:
        line.prior_authorization = segment
    elif tag == "NM1":
        loop = "2420A" if segment.get(1) == "82" else "2420"
        if loop == "2420A":
            line.provider = segment
    elif tag == "PRV" and loop == "2420A":
        line.taxonomy = segment
    return loop


# ---------------------------------------------------------------------------------------------------------
# Small helpers


def _describe_char(char: str) -> str:
    names = {"\n": "a line break", "\r": "a carriage return", "\t": "a tab", " ": "a space", "": "nothing"}
    return names.get(char) or f"`{char}`"
