"""The quick road for 837P claims (`claims.x12_quick`) gives exactly the careful road's `Claim`, or steps aside.

`read_x12` first tries the quick road on each claim block; the careful road (`read_x12(quick=False)`, the
reader every other X12 test holds to its expectations) reads everything else and words every problem. Here
both read the same files: the benchmark's, the samples, sample files with random cuts and insertions, and
files made by hypothesis from good and bad values of every element either road reads. Read whole, the two
must give equal records (`==` and `repr`); claim by claim, the quick road must give the careful road's
`Claim` or None, never a different claim, and never a claim where the careful road finds a problem or a
data fault.
"""

from __future__ import annotations

import dataclasses
import io
import itertools
import random
import sys
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from payerpolicy.claims.model import Claim
from payerpolicy.claims.x12 import read_x12
from payerpolicy.claims.x12_quick import QuickReading
from payerpolicy.claims.x12_segments import Unreadable, claim_blocks, iter_segments, read_delimiters

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "tests" / "samples" / "x12"
sys.path.insert(0, str(ROOT / "bench"))

import generate  # noqa: E402
import x12_corpus  # noqa: E402
from test_fuzz import X12_BITS, X12_FILES, mutated  # noqa: E402

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def both_roads(text: str, name: str = "claims.837") -> list[bool]:
    """Read `text` by both roads, asserting the same records; per claim block, whether the quick road took it."""
    quick = list(read_x12(text, name))
    careful = list(read_x12(text, name, quick=False))
    assert quick == careful
    assert repr(quick) == repr(careful)  # the same types too: 70.0, not 70, for a charge
    head = text.lstrip("\ufeff \t\r\n")
    try:
        delimiters = read_delimiters(head, name)
    except Unreadable:  # not an 837P at all: no claim block for either road
        return []
    taken = []
    reading = QuickReading(delimiters)
    blocks = []
    try:
        for block in claim_blocks(iter_segments([head], delimiters), delimiters):
            blocks.append(block)
    except Unreadable:  # the file breaks off: the claims before it are compared
        pass
    for block, record in zip(blocks, careful):
        claim = reading.claim(block)
        if claim is not None:
            assert isinstance(record, Claim), (claim, record)  # never a claim the careful road refuses
            assert claim == record and repr(claim) == repr(record)
        taken.append(claim is not None)
    return taken


def test_the_benchmark_claims_take_the_quick_road_and_read_the_same():
    out = io.StringIO()
    x12_corpus.write_837p(out, (generate.claim(random.Random(7 + i), i) for i in range(300)))
    taken = both_roads(out.getvalue())
    assert len(taken) == 300 and all(taken)


def test_the_sample_files_read_the_same_by_both_roads():
    taken = []
    for path in sorted(SAMPLES.iterdir()):
        if path.suffix not in (".md", ".json", ".yaml"):
            taken += both_roads(path.read_text(encoding="utf-8"), path.name)
    assert any(taken)  # the quick road takes some sample claims (the rest are unusual on purpose)


def test_a_stream_read_in_small_chunks_reads_the_same():
    out = io.StringIO()
    x12_corpus.write_837p(out, (generate.claim(random.Random(i), i) for i in range(50)))
    text = out.getvalue()

    class Trickle(io.StringIO):
        def read(self, size: int | None = -1) -> str:
            return super().read(7)  # segments and claims cut anywhere between two reads

    assert list(read_x12(Trickle(text), "x.837")) == list(read_x12(text, "x.837", quick=False))


# ------------------------------------------------------------------------------------------ made by hypothesis

# Good and bad values of each element, about half of each: the careful road's problems and data faults, the
# forms the quick road leaves to it (ICD-9, RD8, 2.0 units, another payer's loops), and spaces and case.
CLAIM_IDS = ["C-1", "C-2", " C-3 ", "", "C:4", "C^5"]
FACILITY = ["11:B:1", "11:B:7", "22:B:8", " 11 : B : 1 ", "11:B:2", "11:B", ":B:1", "", "1A:B:1"]
DIAGNOSES = [
    "ABK:G35",
    "ABF:R2689",
    "ABF:I69351",
    "abf:m5450",
    " ABF : R42 ",
    "BP:1234",
    "BG:01",
    "BK:8901",
    "BF:V5789",
    "ABK:",
    "ABK",
    "ABK:123",
    "ZZ:G35",
    "",
    "ABF:\u0131\u0131",
]
NPIS = ["XX*1245319599", "XX*1234567893", "*", "XX*1245319598", "XX*", "XX*12453195", "MI*1245319599"]
TAXONOMIES = ["PXC*225100000X", "PXC*225200000X", "PXC*225X00000X", "PXC*225100000x", "PXC*2251", "ZZ*225100000X"]
PROCEDURES = [
    "HC:97110:GP",
    "HC:97110",
    "HC:97110::GP",
    "HC:97530:GP:59:KX:CQ",
    "hc:97110:gp",
    "HC:G0283:GP",
    "HC: 97140 : GP ",
    "HC:97530:GP:59:KX:CQ:THERAPY",
    "HC:97530:GP:59:KX:CQ:XU",
    "HC:97112:GP:59:KX:CQ:x\u0131",
    "HC:9711",
    "AD:97110",
    "HC:97110:G",
    "HC:97110:GP:::::::",
]
CHARGES = ["70", "70.50", ".5", "", "99999999.99", "-1", "1e3", "100000000", "12345678901234567890"]
BASES = ["UN", "MJ", "un", "DA", ""]
COUNTS = ["2", "0", "02", "99999", "2.0", "2.5", "-1", "", "100000", "9" * 20, "\u00b2"]
PLACES = ["", "11", "1", "AB"]
POINTERS = ["1", "1:2", "", "2:1", "1::2", "3", "0", "13", "1:2:3:4:5", "01", "a"]
SERVICE_DATES = ["D8*20260302", "D8*20261302", "RD8*20260302-20260303", "RD8*20260303-20260302", "D8*2026030", "D9*1"]
MEMBERS = ["MI*P-1", "II*P-2", "", "XX*P-3", "MI*", "MI*A:B"]
BIRTHS = ["D8*19480312*F", "", "D8*2030", "D8*20300101*F", "RD8*19480312", "D8*19480230*F"]
EXTRAS = [
    "NTE*ADD*NOTE",
    "AMT*F5*10",
    "PWK*OZ*BM",
    "REF*D9*CLAIMREF",
    "REF*G1*AUTH-1",
    "REF*G1* ",
    "DTP*454*D8*20260101",
    "DTP*454*D8*20270101",
    "DTP*454*D8*2026013X",
    "NM1*DN*1*DOE*JOHN****XX*1245319599",
    "NM1*DN*1*DOE*JOHN****XX*1245319598",
    "NM1*P3*1*ROE*JANE****XX*1234567893",
    "NM1*77*2*CLINIC*****XX*1234567893",
    "NM1*ZZ*1*NOBODY",
    "SBR*S*18*******CI",
    "XYZ*1",
    "HI*ABF:M25511",
]
LINE_EXTRAS = [
    "REF*G1*LINE-AUTH",
    "DTP*472*D8*20260303",
    "NM1*82*1*LINE*PRO****XX*1234567893",
    "NM1*82*1*LINE*PRO****XX*1234567890",
    "PRV*PE*PXC*225X00000X",
    "NTE*ADD*LINE NOTE",
    "SVD*12502*70*HC:97110**1",
    "SV1*HC:97110:GP*70*UN*1***1",
    "NM1*DK*1*ORDER*ING****XX*1245319599",
    "HI*ABK:G35",
]


@dataclasses.dataclass(frozen=True)
class LineShape:
    """One service line of a made claim: SV1's elements, its DTP*472 and the segments after them."""

    procedure: str = "HC:97110:GP"
    charge: str = "70"
    basis: str = "UN"
    count: str = "2"
    place: str = ""
    pointers: str = "1"
    date: str | None = "D8*20260302"
    extras: tuple[str, ...] = ()

    def segments(self, number: int) -> list[str]:
        sv1 = f"SV1*{self.procedure}*{self.charge}*{self.basis}*{self.count}*{self.place}**{self.pointers}"
        date = [f"DTP*472*{self.date}"] if self.date is not None else []
        return [f"LX*{number}", sv1, *date, *self.extras]


@dataclasses.dataclass(frozen=True)
class Shape:
    """A made claim, each element a field: the default is a claim both roads read alike and the quick road takes."""

    billing: str = "XX*1234567893"  # NM108 and NM109 of the billing provider (NM1*85)
    billing_taxonomy: str = "PXC*225100000X"  # PRV*BI
    filing: str = "MB"  # SBR09
    payer: str = "MEDICARE PART B"
    member: str = "MI*P-1"  # NM108 and NM109 of the subscriber
    birth: str | None = "D8*19480312*F"  # the subscriber's DMG
    patient: str | None = None  # NM1*QC's name, for a patient level of their own (HL 23)
    patient_birth: str | None = None
    claim_id: str = "C-1"
    facility: str = "11:B:1"  # CLM05
    diagnoses: tuple[str, ...] = ("ABK:G35", "ABF:R2689")  # HI's elements
    extras: tuple[str, ...] = ()  # segments of the claim after HI
    rendering: str | None = "XX*1245319599"  # NM1*82 (2310B)
    taxonomy: str | None = "PXC*225100000X"  # its PRV
    lines: tuple[LineShape, ...] = (LineShape(), LineShape(procedure="HC:97112:GP", pointers="1:2"))

    def segments(self, number: int) -> list[str]:
        out = [f"HL*{number}*1*22*0", f"SBR*P*18*******{self.filing}", f"NM1*IL*1*PATIENT*PAT****{self.member}"]
        out += [f"DMG*{self.birth}"] if self.birth is not None else []
        out.append(f"NM1*PR*2*{self.payer}*****PI*12502")
        if self.patient is not None:
            out += [f"HL*{number + 1000}*{number}*23*0", "PAT*19", f"NM1*QC*1*{self.patient}"]
            out += [f"DMG*{self.patient_birth}"] if self.patient_birth is not None else []
        out.append(f"CLM*{self.claim_id}*175***{self.facility}*Y*A*Y*Y")
        out += ["HI*" + "*".join(self.diagnoses)] if self.diagnoses else []
        out += self.extras
        if self.rendering is not None:
            out.append(f"NM1*82*1*RIVERA*ANA****{self.rendering}")
            out += [f"PRV*PE*{self.taxonomy}"] if self.taxonomy is not None else []
        for index, line in enumerate(self.lines, 1):
            out += line.segments(index)
        return out


def made_file(shapes: list[Shape]) -> str:
    billing = shapes[0]
    body = [
        "ST*837*0001*005010X222A1",
        "BHT*0019*00*MADE*20260303*0915*CH",
        "NM1*41*2*MADE PHYSICAL THERAPY*****46*MADEPT",
        "PER*IC*BILLING OFFICE*TE*5555550100",
        "NM1*40*2*MEDICARE PART B*****46*12502",
        "HL*1**20*1",
        f"PRV*BI*{billing.billing_taxonomy}",
        f"NM1*85*2*MADE PHYSICAL THERAPY*****{billing.billing}",
        "N3*100 MAIN STREET",
        "N4*SPRINGFIELD*IL*627010001",
    ]
    for number, shape in enumerate(shapes, 2):
        body += shape.segments(number)
    body.append(f"SE*{len(body) + 1}*0001")
    interchange = x12_corpus._HEADER.split("~")[:2]  # ISA and GS
    return "~".join([*interchange, *body, "GE*1*101", "IEA*1*000000101"]) + "~\n"


def _line_variations() -> list[LineShape]:
    fields = {
        "procedure": PROCEDURES,
        "charge": CHARGES,
        "basis": BASES,
        "count": COUNTS,
        "place": PLACES,
        "pointers": POINTERS,
        "date": [*SERVICE_DATES, None],
    }
    lines = [LineShape(**{name: value}) for name, values in fields.items() for value in values]
    lines += [LineShape(extras=(extra,)) for extra in LINE_EXTRAS]
    lines += [LineShape(extras=pair) for pair in itertools.permutations(LINE_EXTRAS[:5], 2)]
    return lines


def _variations() -> list[Shape]:
    """The default claim with one thing changed: every value of every field, every extra segment, alone and
    in pairs (the order of two segments of one kind decides which one counts)."""
    fields: dict[str, list] = {
        "billing": NPIS,
        "billing_taxonomy": TAXONOMIES,
        "filing": ["MB", "MA", "16", "CI", ""],
        "payer": ["ACME HEALTH", "MEDICARE ADVANTAGE"],
        "member": MEMBERS,
        "birth": [*BIRTHS, None],
        "patient": ["CHILD*ANN", "CHILD", "", " "],
        "claim_id": CLAIM_IDS,
        "facility": FACILITY,
        "diagnoses": [(value,) for value in DIAGNOSES] + [(), ("BK", "8901"), ("ABF", "R2689"), ("ABK:G35", "")],
        "extras": [(extra,) for extra in EXTRAS] + list(itertools.permutations(EXTRAS[3:12], 2)),
        "rendering": [*NPIS, "*1245319599", "XX*1245319599*EXTRA", None],
        "taxonomy": [*TAXONOMIES, None],
        "lines": [(), *((line,) for line in _line_variations())],
    }
    shapes = [Shape(**{name: value}) for name, values in fields.items() for value in values]
    shapes += [Shape(patient="CHILD*ANN", patient_birth=birth) for birth in BIRTHS]
    shapes += [Shape(rendering=None, billing=npi) for npi in NPIS]
    shapes += [Shape(rendering=None, billing_taxonomy=taxonomy) for taxonomy in TAXONOMIES]
    return shapes


VARIATIONS = _variations()


def test_each_element_alone_reads_the_same_by_both_roads():
    taken = [both_roads(made_file([shape])) for shape in VARIATIONS]
    assert all(len(one) == 1 for one in taken)  # one claim block each, none lost
    flat = [one[0] for one in taken]
    assert 0.2 < sum(flat) / len(flat) < 0.8  # both roads are tried
    assert both_roads(made_file([Shape()])) == [True]  # the default claim takes the quick road


@SETTINGS
@given(
    shapes=st.lists(
        st.lists(st.sampled_from(VARIATIONS), min_size=1, max_size=3).map(
            lambda picked: dataclasses.replace(
                picked[0],
                **{
                    name: getattr(other, name)
                    for other in picked[1:]
                    for name in (field.name for field in dataclasses.fields(Shape))
                    if getattr(other, name) != getattr(Shape(), name)
                },
            )
        ),
        min_size=1,
        max_size=3,
    )
)
def test_made_claims_with_several_changes_read_the_same_by_both_roads(shapes):
    both_roads(made_file(shapes))


@st.composite
def damaged_sample(draw) -> tuple[str, str]:
    """A sample file with a few cuts, insertions of X12 pieces, or duplications, as the fuzz test makes them."""
    path = draw(st.sampled_from(X12_FILES))
    return path.name, draw(mutated(path.read_text(encoding="utf-8", errors="replace"), X12_BITS))


@SETTINGS
@given(case=damaged_sample())
def test_damaged_samples_read_the_same_by_both_roads(case):
    name, text = case
    both_roads(text, name)
