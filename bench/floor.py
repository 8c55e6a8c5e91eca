"""The floor: the benchmark's Medicare policy written out by hand in plain Python.

The benchmark's policy is `bench/policies/medicare/`, a frozen copy of the shipped Medicare policy as it
stood at version 2026.1 before its billing corrections (issue 22). The shipped policy changes with the
billing rules; a benchmark needs a fixed, realistic workload that the engine and this hand-written copy run
alike, so the copy stays put (its billing content is out of date: never use it to judge real claims).

This is what a competent engineer would write as a production claim scrubber for this one payer: each rule
of `bench/policies/medicare/*.yaml` (as loaded today: the two 2020 evaluation pairs were deleted back to their
first day, so they are not here) is a few `if` statements over dict and set lookups, a claim is judged in
one pass over its lines, the facts of a patient-day are worked out once per claim, and the patient's year
is kept as running totals. There is no rule interpretation, so no engine can judge these rules faster in
Python; the benchmark reports payerpolicy's speed as a multiple of this one.

It builds exactly the Decisions the engine builds (`Policy.check`, `Policy.check_many`): same findings in
the same order, same messages, fixes, line decisions and statuses. `tests/test_bench_floor.py` checks that
on generated claims, and `bench/run.py` checks it on the benchmark's claims. The rule ids, denial codes,
sources and message texts are copied from the policy files; if those files change, those checks fail and
this file has to be brought up to date by hand, as a hand-written scrubber would be.

What it supports is what `bench/generate.py` produces and a little more: claims read into the claim model
(`payerpolicy.claims.model.Claim`), original claims only (frequency 1 or none), claim- or line-level
providers, treatment periods, claims over several dates. It raises ValueError or TypeError for what it does
not support (replacements and voids, unreadable claims, a patient's claim id seen twice in one run, line
numbers out of order, charges that are not whole dollars or binary fractions of one) rather than give a
different answer from the engine's.

The window semantics follow `payerpolicy.judge.window`: a patient's claims read within `window` claims of
the first of them not yet judged form a group, judged together in date-of-service order (first date, then
claim id), and a claim sees the lines of its patient-day from
  - every claim of its group, those before it in that order first,
  - claims of the patient's earlier groups, only by what the rules need of them (codes and units, not
    minutes, as the engine's run history keeps them).
The timed-unit rules share out the minutes of the group's claims only (the engine's history does not keep
minutes). "Earlier that year" counts the claims judged before this one, of any date on or before the judged
line's, plus this claim's own earlier lines.
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Iterable, Iterator

from payerpolicy.claims.model import Claim
from payerpolicy.decision import Decision, Finding, Fix, LineDecision
from payerpolicy.judge.timed_splits import DaySplit

PAYER, VERSION = "medicare", "2026.1"
POLICY_FOLDER = Path(__file__).resolve().parent / "policies" / "medicare"
DEFAULT_WINDOW = 10_000  # as payerpolicy.api.DEFAULT_WINDOW


def _codes(*entries: str) -> frozenset[str]:
    """Codes and ranges such as 97161-97163 (all-digit codes only; G0283 is written out)."""
    out = set()
    for entry in entries:
        low, _, high = entry.partition("-")
        if high:
            out.update(str(n) for n in range(int(low), int(high) + 1))
        else:
            out.add(low)
    return frozenset(out)


# --------------------------------------------------------------------------------------------------- code sets
# From bench/policies/medicare/code-sets.yaml.
TIMED = _codes("97110", "97112", "97113", "97116", "97124", "97140", "97530", "97535", "97750", "97032-97039")
THERAPY = TIMED | _codes("97150", "97161-97168", "97010-97028", "G0283")  # @therapy_services
EVALUATIONS = _codes("97161-97168")
PT_EVALUATION = _codes("97161-97163")
PT_EVALUATION_OR_RE = _codes("97161-97164")
OT_EVALUATION_OR_RE = _codes("97165-97168")
REEVALUATION = _codes("97164", "97168")
CHIRO_MANIPULATION = _codes("98940-98942")
ONE_ON_ONE = _codes("97110", "97112", "97116")
SOFT_TISSUE = _codes("97112", "97124", "97140")  # column 2 of the manipulation pair
REEVALUATION_TREATMENTS = _codes("97110", "97112", "97113", "97116", "97140", "97530")
UNTIMED_ONCE_A_DAY = _codes("97150", "97161-97168", "97010-97028", "G0283")  # timed-units.yaml
SEPARATE_LINE_MODIFIERS = frozenset({"CQ", "CO", "59", "XE", "XS", "XP", "XU"})
# Every code some rule looks at: a line of any other code gets no finding and is not worth a look.
JUDGED = THERAPY | CHIRO_MANIPULATION

DISTINCT_SERVICE = frozenset({"59", "XE", "XS", "XP", "XU"})
NCCI_BYPASS = frozenset(
    {
        "E1",
        "E2",
        "E3",
        "E4",
        "FA",
        "F1",
        "F2",
        "F3",
        "F4",
        "F5",
        "F6",
        "F7",
        "F8",
        "F9",
        "TA",
        "T1",
        "T2",
        "T3",
        "T4",
        "T5",
        "T6",
        "T7",
        "T8",
        "T9",
        "LT",
        "RT",
        "LC",
        "LD",
        "RC",
        "LM",
        "RI",
        "24",
        "25",
        "57",
        "58",
        "78",
        "79",
        "27",
        "59",
        "91",
        "XE",
        "XS",
        "XP",
        "XU",
    }
)
MANIPULATION_BYPASS = frozenset({"59", "XS"})
# Diagnosis categories (all three characters long): a diagnosis belongs when its first three characters,
# dot removed, are one of these.
EXAMPLE_97112_CONDITIONS = frozenset({"I63", "I69", "S06", "G20", "G35", "R26", "R27", "R42", "H81", "G57"})

THERAPY_PROVIDERS = frozenset({"PT", "PTA", "OT", "OTA", "SLP"})
NEUROMUSCULAR_PROVIDERS = frozenset({"PT", "PTA", "OT", "OTA", "DC"})
DISCIPLINE_OF_MODIFIER = {"GP": "PT", "GO": "OT", "GN": "SLP"}
DISCIPLINE_OF_PROVIDER = {"PT": "PT", "PTA": "PT", "OT": "OT", "OTA": "OT", "SLP": "SLP"}

# bench/policies/medicare/threshold.yaml
KX_THRESHOLD = {2022: 2150, 2023: 2230, 2024: 2330, 2025: 2410, 2026: 2480}
TARGETED_REVIEW = 3000

# Effective dates of the rules that have one (by the line's date of service).
FROM_2020_01_01 = datetime.date(2020, 1, 1)
FROM_2020_10_01 = datetime.date(2020, 10, 1)
FROM_2021_04_19 = datetime.date(2021, 4, 19)  # one line per timed code: by the date the claims are received
RECEIVED = datetime.date.today()  # the engine's default receipt date (`claim.received`): the day of the run


# --------------------------------------------------------------------------------------------------- the rules
# (id, family, severity, reason, source) of each rule, as the policy files give them.
def _rule(rule_id, family, severity, reason, file, line, cite):
    return rule_id, family, severity, reason, {"file": f"bench/policies/medicare/{file}", "line": line, "cite": cite}


_CO_151_N362 = {"group": "CO", "carc": "151", "rarc": "N362"}
_CO_236_N20 = {"group": "CO", "carc": "236", "rarc": "N20"}
_CO_4 = {"group": "CO", "carc": "4"}
_CO_16 = {"group": "CO", "carc": "16"}
_CO_119 = {"group": "CO", "carc": "119"}
_CO_151 = {"group": "CO", "carc": "151"}

UNIT_CAP_97112 = _rule(
    "medicare.unit-cap.97112",
    "unit_cap",
    "deny",
    _CO_151_N362,
    "caps.yaml",
    6,
    "seed 003 (usual limit of 4 units a day; not the CMS MUE, which is unconfirmed); domain §4",
)
PAIR_97530_97116 = _rule(
    "medicare.pair.97530-97116",
    "code_pair",
    "deny",
    _CO_236_N20,
    "code-pairs.yaml",
    9,
    "NCCI PTP 97530/97116, reinstated 2020-10-01 [2nd: APTA]; domain §6",
)
PAIR_ONE_ON_ONE_WITH_GROUP = _rule(
    "medicare.pair.one-on-one-with-group",
    "code_pair",
    "deny",
    _CO_236_N20,
    "code-pairs.yaml",
    16,
    "NCCI PTP 97150 with 97110/97112/97116, reinstated 2020-10-01 [2nd: APTA]; domain §6",
)
PAIR_CMT_WITH_SOFT_TISSUE = _rule(
    "medicare.pair.cmt-with-soft-tissue",
    "code_pair",
    "deny",
    _CO_236_N20,
    "code-pairs.yaml",
    25,
    "seed 001 (59 or XS for a different body region); NCCI PTP, long-standing [2nd]; domain §5, §6",
)
DIAGNOSIS_97112 = _rule(
    "medicare.diagnosis.97112-example",
    "diagnosis",
    "warn",
    {"group": "CO", "carc": "11", "rarc": "N115"},
    "diagnosis.yaml",
    5,
    "seeds 001, 003, 004 (conditions 97112 treats); example only, no CMS list found; domain §8",
)
ONE_PT_EVALUATION = _rule(
    "medicare.evaluation.one-pt-evaluation-per-day",
    "evaluation",
    "deny",
    _CO_151_N362,
    "evaluations.yaml",
    3,
    "NCCI policy manual ch. XI, one PT evaluation or re-evaluation per date [2nd]; domain §7",
)
MANUAL_THERAPY_WITH_EVALUATION = _rule(
    "medicare.evaluation.manual-therapy-with-evaluation",
    "evaluation",
    "deny",
    _CO_236_N20,
    "evaluations.yaml",
    10,
    "NCCI PTP 97161-97163 with 97140, 59/X on 97140 from 2020-01-01 [2nd: APTA]; seed 004; domain §6",
)
REEVALUATION_WITH_TREATMENT = _rule(
    "medicare.evaluation.reevaluation-with-treatment",
    "evaluation",
    "deny",
    _CO_236_N20,
    "evaluations.yaml",
    18,
    "NCCI PTP 97164/97168 with treatment codes, 59/X on the re-evaluation, reinstated 2020-10-01 [2nd]; domain §6",
)
GP_ON_PT = _rule(
    "medicare.modifier.gp-on-pt-services",
    "modifier",
    "deny",
    _CO_4,
    "modifiers.yaml",
    3,
    "Pub 100-04 ch. 5 §20.1 [CMS]; domain §5",
)
GO_ON_OT = _rule(
    "medicare.modifier.go-on-ot-services",
    "modifier",
    "deny",
    _CO_4,
    "modifiers.yaml",
    10,
    "Pub 100-04 ch. 5 §20.1 [CMS]; domain §5",
)
GN_ON_SLP = _rule(
    "medicare.modifier.gn-on-slp-services",
    "modifier",
    "deny",
    _CO_4,
    "modifiers.yaml",
    17,
    "Pub 100-04 ch. 5 §20.1 [CMS]; domain §5",
)
DISCIPLINE_ON_EVALUATIONS = _rule(
    "medicare.modifier.discipline-on-evaluations",
    "modifier",
    "deny",
    _CO_4,
    "modifiers.yaml",
    24,
    "CY2017 physician fee schedule as reported by Provider Magazine [2nd]; domain §2",
)
CQ_ON_PTA = _rule(
    "medicare.modifier.cq-on-pta-services",
    "modifier",
    "deny",
    _CO_4,
    "modifiers.yaml",
    33,
    "CQ/CO modifiers required since 2020-01-01 [CMS]; domain §5",
)
CO_ON_OTA = _rule(
    "medicare.modifier.co-on-ota-services",
    "modifier",
    "deny",
    _CO_4,
    "modifiers.yaml",
    41,
    "CQ/CO modifiers required since 2020-01-01 [CMS]; domain §5",
)
GP_WITH_CQ = _rule(
    "medicare.modifier.gp-with-cq", "modifier", "deny", _CO_4, "modifiers.yaml", 50, "CQ goes with GP [2nd]; domain §5"
)
GO_WITH_CO = _rule(
    "medicare.modifier.go-with-co", "modifier", "deny", _CO_4, "modifiers.yaml", 57, "CO goes with GO [2nd]; domain §5"
)
PT_EVALUATION_BY_PT = _rule(
    "medicare.scope.pt-evaluation-by-pt",
    "provider_scope",
    "deny",
    _CO_16,
    "provider-scope.yaml",
    3,
    "seed 003 table (97161-97164: PT); domain §2",
)
OT_EVALUATION_BY_OT = _rule(
    "medicare.scope.ot-evaluation-by-ot",
    "provider_scope",
    "deny",
    _CO_16,
    "provider-scope.yaml",
    11,
    "seed 003 table (97165-97168: OT); domain §2",
)
MANIPULATION_BY_CHIROPRACTOR = _rule(
    "medicare.scope.manipulation-by-chiropractor",
    "provider_scope",
    "deny",
    _CO_16,
    "provider-scope.yaml",
    19,
    "seed 003 table (98940-98942: chiropractor); domain §2",
)
SELF_CARE_BY_OT = _rule(
    "medicare.scope.self-care-by-ot",
    "provider_scope",
    "warn",
    _CO_16,
    "provider-scope.yaml",
    27,
    "seed 003 table (97535: OT); domain §2",
)
NEUROMUSCULAR_REEDUCATION = _rule(
    "medicare.scope.neuromuscular-reeducation",
    "provider_scope",
    "warn",
    _CO_16,
    "provider-scope.yaml",
    36,
    "seed 003 table (97112: PT, OT, chiropractor, PTA/OTA under supervision); domain §2",
)
KX_PT_SLP = _rule(
    "medicare.threshold.kx-pt-slp",
    "threshold",
    "deny",
    _CO_119,
    "threshold.yaml",
    21,
    "KX threshold, PT and SLP combined, per calendar year [CMS: Noridian, NGS; 2025-2026 2nd]; domain §5",
)
KX_OT = _rule(
    "medicare.threshold.kx-ot",
    "threshold",
    "deny",
    _CO_119,
    "threshold.yaml",
    34,
    "KX threshold, OT on its own, per calendar year [CMS: Noridian, NGS; 2025-2026 2nd]; domain §5",
)
TARGETED_REVIEW_PT_SLP = _rule(
    "medicare.threshold.targeted-review-pt-slp",
    "threshold",
    "info",
    _CO_119,
    "threshold.yaml",
    47,
    "targeted medical review above $3,000 [CMS: NGS]; domain §5",
)
TARGETED_REVIEW_OT = _rule(
    "medicare.threshold.targeted-review-ot",
    "threshold",
    "info",
    _CO_119,
    "threshold.yaml",
    60,
    "targeted medical review above $3,000 [CMS: NGS]; domain §5",
)
MORE_UNITS_THAN_MINUTES = _rule(
    "medicare.timed.more-units-than-minutes",
    "timed_units",
    "deny",
    _CO_151,
    "timed-units.yaml",
    29,
    "Pub 100-04 ch. 5 §20.2, the 8-minute rule [CMS]; domain §3.1, §12",
)
FEWER_UNITS_THAN_MINUTES = _rule(
    "medicare.timed.fewer-units-than-minutes",
    "timed_units",
    "warn",
    _CO_16,
    "timed-units.yaml",
    38,
    "Pub 100-04 ch. 5 §20.2, the 8-minute rule [CMS]; domain §3.1, §12",
)
UNDER_8_MINUTES = _rule(
    "medicare.timed.under-8-minutes",
    "timed_units",
    "deny",
    _CO_151,
    "timed-units.yaml",
    53,
    "Pub 100-04 ch. 5 §20.2: a single service under 8 minutes is not billed [CMS]; domain §3.1",
)
ONE_LINE_PER_CODE = _rule(
    "medicare.timed.one-line-per-code",
    "timed_units",
    "deny",
    _CO_151,
    "timed-units.yaml",
    68,
    "one line per timed code per date of service, claims received from 2021-04-19 [CMS: FCSO; confirmed at "
    "this MAC only]; domain §3.1, §12",
)
UNTIMED_MORE_THAN_ONE_UNIT = _rule(
    "medicare.timed.untimed-more-than-one-unit",
    "timed_units",
    "warn",
    _CO_151,
    "timed-units.yaml",
    85,
    "automated excessive-units reviews of untimed codes [2nd: RAC reports]; domain §12",
)
CQ_FOR_PTA_MINUTES = _rule(
    "medicare.timed.cq-for-pta-minutes",
    "modifier",
    "deny",
    _CO_4,
    "timed-units.yaml",
    99,
    "CQ when a PTA furnishes more than 10% of the service [2nd]; domain §5",
)
CO_FOR_OTA_MINUTES = _rule(
    "medicare.timed.co-for-ota-minutes",
    "modifier",
    "deny",
    _CO_4,
    "timed-units.yaml",
    108,
    "CO when an OTA furnishes more than 10% of the service [2nd]; domain §5",
)
CQ_WITHOUT_PTA_MINUTES = _rule(
    "medicare.timed.cq-without-pta-minutes",
    "modifier",
    "warn",
    _CO_4,
    "timed-units.yaml",
    117,
    "CQ marks services furnished in whole or in part by a PTA [CMS]; domain §5",
)
CO_WITHOUT_OTA_MINUTES = _rule(
    "medicare.timed.co-without-ota-minutes",
    "modifier",
    "warn",
    _CO_4,
    "timed-units.yaml",
    126,
    "CO marks services furnished in whole or in part by an OTA [CMS]; domain §5",
)

# The order findings of one line come in: the policy's order (what `policy.program.policy.rules` lists).
RULES = (
    UNIT_CAP_97112,
    PAIR_97530_97116,
    PAIR_ONE_ON_ONE_WITH_GROUP,
    PAIR_CMT_WITH_SOFT_TISSUE,
    DIAGNOSIS_97112,
    ONE_PT_EVALUATION,
    MANUAL_THERAPY_WITH_EVALUATION,
    REEVALUATION_WITH_TREATMENT,
    GP_ON_PT,
    GO_ON_OT,
    GN_ON_SLP,
    DISCIPLINE_ON_EVALUATIONS,
    CQ_ON_PTA,
    CO_ON_OTA,
    GP_WITH_CQ,
    GO_WITH_CO,
    PT_EVALUATION_BY_PT,
    OT_EVALUATION_BY_OT,
    MANIPULATION_BY_CHIROPRACTOR,
    SELF_CARE_BY_OT,
    NEUROMUSCULAR_REEDUCATION,
    KX_PT_SLP,
    KX_OT,
    TARGETED_REVIEW_PT_SLP,
    TARGETED_REVIEW_OT,
    MORE_UNITS_THAN_MINUTES,
    FEWER_UNITS_THAN_MINUTES,
    UNDER_8_MINUTES,
    ONE_LINE_PER_CODE,
    UNTIMED_MORE_THAN_ONE_UNIT,
    CQ_FOR_PTA_MINUTES,
    CO_FOR_OTA_MINUTES,
    CQ_WITHOUT_PTA_MINUTES,
    CO_WITHOUT_OTA_MINUTES,
)

_PAIR_97116_TEXT = (
    " in column 2); a bypass modifier (59 or an X modifier (XE, XS, XP, XU)) is accepted only when "
    "the services were truly separate"
)
_GROUP_TEXT = (
    "group therapy 97150 on the same day as one-on-one exercise (97110, 97112 or 97116) is paid only "
    "with a distinct-service modifier showing separate time periods"
)
_PLAN_OF_CARE = ": Medicare pays therapy only under a plan of care marked GP, GO or GN"
_DISTINCT_TEXT = " needs a distinct-service modifier (59, XE, XS, XP, XU) on "
_THERAPY_OF_GROUP = ("PT and speech therapy", "occupational therapy")  # the year's two counts


def _finding(rule, number: int, message: str, fix: Fix | None = None) -> Finding:
    rule_id, family, severity, reason, source = rule
    return Finding(rule_id, family, severity, number, message, reason, source, fix)


def _number(value) -> str:
    """A number as the engine writes it in a message: 2590.0 as 2590."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _plural(count: int, noun: str = "unit") -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


# --------------------------------------------------------------------------------------------------- lines
class _Line:
    """A service line with what the rules ask of it looked up once: its provider's type and its discipline."""

    __slots__ = (
        "number",
        "code",
        "units",
        "minutes",
        "modifiers",
        "date",
        "charge",
        "provider_type",
        "discipline",
        "line",
        "claim",
    )

    def __init__(self, claim: Claim, line):
        self.line = line
        self.claim = claim
        self.number = line.number
        self.code = line.code
        self.units = line.units
        self.minutes = line.minutes
        self.modifiers = line.modifiers
        self.date = line.date_of_service
        charge = line.charge
        # The engine adds a year's charges up in its history's order, this floor as claims arrive; the two
        # float sums agree to the last digit only when every charge is held exactly in binary, which whole
        # dollars (the generator's) and halves, quarters... are, and cents are not.
        if charge is not None and not (charge * 1024.0).is_integer():
            raise ValueError(
                f"line {line.number}: charge {charge!r} is not a whole number of 1/1024 dollars; "
                "the floor only supports charges whose sums are exact"
            )
        self.charge = charge
        provider = claim.provider if line.provider is None else claim.provider_of(line)
        provider_type = provider.type if provider is not None else None
        self.provider_type = provider_type
        # The discipline the line counts toward in the year: its first GP/GO/GN, else its provider's.
        discipline = None
        for modifier in line.modifiers:
            discipline = DISCIPLINE_OF_MODIFIER.get(modifier.upper())
            if discipline is not None:
                break
        if discipline is None and provider_type is not None:
            discipline = DISCIPLINE_OF_PROVIDER.get(provider_type.upper())
        self.discipline = discipline


def _prepare(claim) -> list[_Line]:
    if not isinstance(claim, Claim):
        raise TypeError(f"the floor judges payerpolicy Claims only, not {type(claim).__name__}")
    if claim.frequency not in (None, "1"):
        raise ValueError(
            f"claim {claim.id}: the floor does not support frequency {claim.frequency} (replacements and voids)"
        )
    lines = [_Line(claim, line) for line in claim.lines]
    for before, after in zip(lines, lines[1:]):
        # "Earlier" within a claim is by line number for the year, by position for the day: the same order.
        if after.number <= before.number:
            raise ValueError(f"claim {claim.id}: line numbers must increase down the claim")
    return lines


def _assistant_minutes(line, provider_type: str | None, assistant: str) -> int | None:
    """The minutes of a line furnished by an assistant: its periods' own providers when they name one, else
    all or none of the line by the line's provider."""
    if line.minutes is None:
        return None
    periods = line.periods
    if periods and any(p.provider is not None and p.provider.type for p in periods):
        return sum(
            p.minutes
            for p in periods
            if ((p.provider.type if p.provider is not None else None) or provider_type) == assistant
        )
    if provider_type is None:
        return None
    return line.minutes if provider_type == assistant else 0


def _supported_units(book: list[_Line], claim: Claim) -> tuple | None:
    """What a patient-day's timed minutes support: (units by line, the day's timed minutes, the split in
    words, what else is allowed in words, whether every timed line has minutes), or None when none has.

    The 8-minute rule pools the day's timed minutes; the split of the units among codes, and a code's among
    its lines, is the allowed one nearest to the bill (`DaySplit`, the shared arithmetic: ties may go to
    any of the tied codes, so every allowed split of the bill is supported as billed)."""
    timed = [line for line in book if line.code in TIMED]
    known = [line for line in timed if line.minutes is not None]
    if not known:
        return None
    if len(known) < len(timed):  # the others' minutes may take or leave leftover units: the sure range only
        return (
            {
                line: min(max(line.units, line.minutes // 15), line.minutes // 15 + (line.minutes % 15 > 0))
                for line in known
            },
            sum(line.minutes for line in known),
            "each line with minutes at its full 15-minute units, or one more for the minutes left over "
            "(other timed lines that day have no minutes, so no more can be said)",
            "",
            False,
        )
    split = DaySplit(
        [(line.code, line.minutes, line.units) for line in timed],
        "cms",
        [
            f"line {line.number}" if line.claim is claim else f"claim {line.claim.id} line {line.number}"
            for line in timed
        ],
    )
    return (dict(zip(timed, split.units)), sum(line.minutes for line in timed), split.proposal(), split.others(), True)


# --------------------------------------------------------------------------------------------------- judging
class _Day:
    """One patient-day as the claim being judged sees it, kept up to date line by line down the claim."""

    __slots__ = (
        "book",
        "codes",
        "units_97112",
        "pt_evaluations",
        "timed",
        "of_code",
        "untimed_units",
        "gone_without_minutes",
        "own_year",
        "past_year",
        "iso",
    )

    def __init__(self, book, codes, units_97112, pt_evaluations, own_year, iso):
        self.book = book  # the day's lines of the claims in the window, in input order
        self.codes = codes  # every code billed that day (the window, and earlier claims out of it)
        self.units_97112 = units_97112  # 97112 units earlier that day: earlier claims, then earlier lines
        self.pt_evaluations = pt_evaluations  # PT evaluations and re-evaluations earlier that day
        self.timed = False  # what the day's timed minutes support (`_supported_units`), when first asked
        self.of_code = {}  # timed code -> [this claim's first line number that day, modifiers of each line]
        self.untimed_units = {}  # untimed code -> its units on this claim's earlier lines that day
        self.own_year = own_year  # [PT+SLP, OT] charges of this claim's earlier lines that year
        self.past_year = [None, None]  # the same of claims judged before, up to this date: when first asked
        self.iso = iso


class _Run:
    """The state of one run: the day book of the claims in the window, what is kept of older claims of
    each patient-day, and the patient's year of claims judged so far."""

    def __init__(self):
        self.days: dict[tuple, list[_Line]] = {}  # (patient, date) -> lines of claims in the window
        # (patient, date) -> [97112 units, PT evaluations, codes, a timed line?] of judged claims gone out
        # of the window
        self.gone: dict[tuple, list] = {}
        # (patient, year, 0 for PT+SLP or 1 for OT) -> {date: charges} of the claims judged so far
        self.years: dict[tuple, dict] = {}
        self.label = {"payer": PAYER, "version": VERSION}

    def file(self, claim: Claim) -> list[_Line]:
        """Put a claim's lines in the day book: from now on the claims around it see them."""
        lines = _prepare(claim)
        days = self.days
        patient = claim.patient_id
        for line in lines:
            key = (patient, line.date)
            book = days.get(key)
            if book is None:
                days[key] = [line]
            else:
                book.append(line)
        return lines

    def forget(self, claim: Claim, lines: list[_Line]) -> None:
        """The claim is now too far back for a claim still to be judged to see it in full: keep only what
        the day rules ask of earlier claims (codes and 97112 units). It is the oldest claim in the book,
        so its lines stand first in each of its days."""
        patient = claim.patient_id
        days, gone = self.days, self.gone
        per_date: dict[datetime.date, int] = {}
        for line in lines:
            per_date[line.date] = per_date.get(line.date, 0) + 1
        for date, count in per_date.items():
            key = (patient, date)
            book = days[key]
            kept = gone.get(key)
            if kept is None:
                kept = gone[key] = [0, 0, set(), False]
            for line in book[:count]:
                if line.code == "97112":
                    kept[0] += line.units
                elif line.code in PT_EVALUATION_OR_RE:
                    kept[1] += 1
                kept[2].add(line.code)
                if line.code in TIMED:  # the engine's history keeps no minutes: they are unknown from now on
                    kept[3] = True
            if count == len(book):
                del days[key]
            else:
                del book[:count]

    def remember(self, claim: Claim, lines: list[_Line]) -> None:
        """Count a judged claim's charges toward the patient's year, for the claims judged after it."""
        years = self.years
        patient = claim.patient_id
        for line in lines:
            if line.discipline is None or not line.charge:
                continue
            key = (patient, line.date.year, 1 if line.discipline == "OT" else 0)
            by_date = years.get(key)
            if by_date is None:
                years[key] = {line.date: line.charge}
            else:
                by_date[line.date] = by_date.get(line.date, 0) + line.charge

    def _day(self, patient: str, date: datetime.date, first: _Line, own_year: list) -> _Day:
        key = (patient, date)
        book = self.days[key]
        start = book.index(first)  # this claim's lines of the day stand together, from here
        kept = self.gone.get(key)
        if kept is None:
            units_97112 = pt_evaluations = 0
            codes = {line.code for line in book}
        else:
            units_97112, pt_evaluations = kept[0], kept[1]
            codes = kept[2].union(line.code for line in book)
        for line in book[:start]:
            if line.code == "97112":
                units_97112 += line.units
            elif line.code in PT_EVALUATION_OR_RE:
                pt_evaluations += 1
        day = _Day(book, codes, units_97112, pt_evaluations, own_year, date.isoformat())
        day.gone_without_minutes = kept is not None and kept[3]
        return day

    def _past_year(self, patient: str, date: datetime.date, group: int):
        """Charges of the claims judged before, in the year of `date` up to that date, of one group."""
        by_date = self.years.get((patient, date.year, group))
        if by_date is None:
            return 0
        return sum(charge for day, charge in by_date.items() if day <= date)

    def decide(self, claim: Claim, lines: list[_Line]) -> Decision:
        patient = claim.patient_id
        if not lines:  # the claim reader never gives one, but the engine would accept it as it is
            return Decision(claim.id, self.label, "accepted")
        first_date = lines[0].date
        if all(line.date == first_date for line in lines):  # nearly always: one date of service per claim
            day = self._day(patient, first_date, lines[0], [0, 0])
            days = None
        else:
            days = {}
            for line in lines:
                if line.date not in days:
                    # Of the year, this claim's lines of earlier dates count as earlier; its lines of this
                    # date are added as they are judged.
                    own = [0, 0]
                    for other in lines:
                        if (
                            other.date < line.date
                            and other.date.year == line.date.year
                            and other.discipline is not None
                            and other.charge
                        ):
                            own[1 if other.discipline == "OT" else 0] += other.charge
                    days[line.date] = self._day(patient, line.date, line, own)

        findings: list[Finding] = []
        line_decisions = []
        for line in lines:
            if days is not None:
                day = days[line.date]
            code = line.code
            number = line.number
            found = []
            if code in JUDGED:
                modifiers = line.modifiers
                date = line.date
                provider_type = line.provider_type

                # Daily cap, code pairs, diagnosis, evaluations (caps, code-pairs, diagnosis, evaluations.yaml).
                if code == "97112":
                    total = day.units_97112 + line.units
                    if total > 4:
                        room = max(0, 4 - day.units_97112)
                        found.append(
                            _finding(
                                UNIT_CAP_97112,
                                number,
                                f"{code} is limited to 4 units per patient per day; this line "
                                f"brings the day to {total}",
                                Fix("set_units", number, room) if room else Fix("remove_line", number),
                            )
                        )
                if (
                    code == "97116"
                    and date >= FROM_2020_10_01
                    and "97530" in day.codes
                    and NCCI_BYPASS.isdisjoint(modifiers)
                ):
                    found.append(
                        _finding(
                            PAIR_97530_97116,
                            number,
                            f"{code} is not paid on the same day as 97530 for the same patient "
                            f"(code pair edit, {code}{_PAIR_97116_TEXT}",
                            Fix("add_modifier", number, "59"),
                        )
                    )
                if (
                    code == "97150"
                    and date >= FROM_2020_10_01
                    and not ONE_ON_ONE.isdisjoint(day.codes)
                    and NCCI_BYPASS.isdisjoint(modifiers)
                ):
                    found.append(
                        _finding(PAIR_ONE_ON_ONE_WITH_GROUP, number, _GROUP_TEXT, Fix("add_modifier", number, "59"))
                    )
                if (
                    code in SOFT_TISSUE
                    and not CHIRO_MANIPULATION.isdisjoint(day.codes)
                    and MANIPULATION_BYPASS.isdisjoint(modifiers)
                ):
                    found.append(
                        _finding(
                            PAIR_CMT_WITH_SOFT_TISSUE,
                            number,
                            f"{code} is not paid on the same day as 98940-98942 for the same patient "
                            f"(code pair edit, {code} in column 2); a bypass modifier (59, XS) is "
                            "accepted only when the services were truly separate",
                            Fix("add_modifier", number, "XS"),
                        )
                    )
                if code == "97112":
                    diagnoses = claim.diagnoses_of(line.line)
                    if not any(
                        len(key := dx.replace(".", "").rstrip("*")) >= 3 and key[:3] in EXAMPLE_97112_CONDITIONS
                        for dx in diagnoses
                    ):
                        found.append(
                            _finding(
                                DIAGNOSIS_97112,
                                number,
                                f"example rule: none of the diagnoses on 97112 ({', '.join(diagnoses) or '(none)'}) is "
                                "a balance, neurological or gait condition the seeds list for neuromuscular "
                                "re-education",
                                Fix(
                                    "review",
                                    number,
                                    note="point 97112 at the diagnosis that supports it, or document "
                                    "loss of balance or proprioception",
                                ),
                            )
                        )
                if code in PT_EVALUATION_OR_RE and day.pt_evaluations >= 1:
                    found.append(
                        _finding(
                            ONE_PT_EVALUATION,
                            number,
                            "only 1 evaluation or re-evaluation (97161-97164) per patient per day; "
                            f"{code} is one too many",
                            Fix("remove_line", number),
                        )
                    )
                if (
                    code == "97140"
                    and date >= FROM_2020_01_01
                    and not PT_EVALUATION.isdisjoint(day.codes)
                    and DISTINCT_SERVICE.isdisjoint(modifiers)
                ):
                    found.append(
                        _finding(
                            MANUAL_THERAPY_WITH_EVALUATION,
                            number,
                            f"{code} billed on the same day as 97161-97163{_DISTINCT_TEXT}{code}",
                            Fix("add_modifier", number, "59"),
                        )
                    )
                if (
                    code in REEVALUATION
                    and date >= FROM_2020_10_01
                    and not REEVALUATION_TREATMENTS.isdisjoint(day.codes)
                    and DISTINCT_SERVICE.isdisjoint(modifiers)
                ):
                    found.append(
                        _finding(
                            REEVALUATION_WITH_TREATMENT,
                            number,
                            f"{code} billed on the same day as 97110, 97112, 97113, 97116, 97140, "
                            f"97530{_DISTINCT_TEXT}{code}",
                            Fix("add_modifier", number, "59"),
                        )
                    )

                # Modifiers (modifiers.yaml).
                therapy = code in THERAPY
                if therapy:
                    if provider_type in ("PT", "PTA") and "GP" not in modifiers:
                        found.append(
                            _finding(
                                GP_ON_PT,
                                number,
                                f"{code} by a physical therapist (or PT assistant) needs modifier GP{_PLAN_OF_CARE}",
                                Fix("add_modifier", number, "GP"),
                            )
                        )
                    if provider_type in ("OT", "OTA") and "GO" not in modifiers:
                        found.append(
                            _finding(
                                GO_ON_OT,
                                number,
                                f"{code} by an occupational therapist (or OT "
                                f"assistant) needs modifier GO{_PLAN_OF_CARE}",
                                Fix("add_modifier", number, "GO"),
                            )
                        )
                    if provider_type == "SLP" and "GN" not in modifiers:
                        found.append(
                            _finding(GN_ON_SLP, number, f"{code} needs modifier GN", Fix("add_modifier", number, "GN"))
                        )
                    if (
                        code in EVALUATIONS
                        and provider_type not in THERAPY_PROVIDERS
                        and "GP" not in modifiers
                        and "GO" not in modifiers
                        and "GN" not in modifiers
                    ):
                        found.append(
                            _finding(
                                DISCIPLINE_ON_EVALUATIONS,
                                number,
                                f"{code} is an evaluation, always billed as therapy: it needs GP, GO or GN",
                                Fix(
                                    "review",
                                    number,
                                    note="add GP for a PT evaluation (97161-97164) "
                                    "or GO for an OT evaluation (97165-97168)",
                                ),
                            )
                        )
                    if provider_type == "PTA" and date >= FROM_2020_01_01 and "CQ" not in modifiers:
                        found.append(
                            _finding(
                                CQ_ON_PTA,
                                number,
                                f"{code} furnished by a physical therapist "
                                "assistant needs modifier CQ (paid at 85% since 2022)",
                                Fix("add_modifier", number, "CQ"),
                            )
                        )
                    if provider_type == "OTA" and date >= FROM_2020_01_01 and "CO" not in modifiers:
                        found.append(
                            _finding(
                                CO_ON_OTA,
                                number,
                                f"{code} furnished by an occupational therapy "
                                "assistant needs modifier CO (paid at 85% since 2022)",
                                Fix("add_modifier", number, "CO"),
                            )
                        )
                    if "CQ" in modifiers and provider_type not in ("PT", "PTA") and "GP" not in modifiers:
                        found.append(
                            _finding(
                                GP_WITH_CQ,
                                number,
                                f"modifier CQ (PT assistant) goes with GP; {code} has CQ without GP",
                                Fix("add_modifier", number, "GP"),
                            )
                        )
                    if "CO" in modifiers and provider_type not in ("OT", "OTA") and "GO" not in modifiers:
                        found.append(
                            _finding(
                                GO_WITH_CO,
                                number,
                                f"modifier CO (OT assistant) goes with GO; {code} has CO without GO",
                                Fix("add_modifier", number, "GO"),
                            )
                        )

                # Who may bill what (provider-scope.yaml). A line without a provider type is never out of scope.
                if provider_type is not None:
                    if code in PT_EVALUATION_OR_RE and provider_type != "PT":
                        found.append(
                            _finding(
                                PT_EVALUATION_BY_PT,
                                number,
                                f"{code} is a PT evaluation; only a physical therapist performs it "
                                f"(this line: {provider_type})",
                                Fix(
                                    "review", number, note="bill the evaluation under the evaluating physical therapist"
                                ),
                            )
                        )
                    if code in OT_EVALUATION_OR_RE and provider_type != "OT":
                        found.append(
                            _finding(
                                OT_EVALUATION_BY_OT,
                                number,
                                f"{code} is an OT evaluation; only an occupational therapist performs "
                                f"it (this line: {provider_type})",
                                Fix(
                                    "review",
                                    number,
                                    note="bill the evaluation under the evaluating occupational therapist",
                                ),
                            )
                        )
                    if code in CHIRO_MANIPULATION and provider_type != "DC":
                        found.append(
                            _finding(
                                MANIPULATION_BY_CHIROPRACTOR,
                                number,
                                f"{code} is chiropractic manipulative treatment; it is billed by a "
                                f"chiropractor (this line: {provider_type})",
                            )
                        )
                    if code == "97535" and provider_type not in ("OT", "OTA"):
                        found.append(
                            _finding(
                                SELF_CARE_BY_OT,
                                number,
                                "97535 (self-care / home management training) is listed for "
                                f"occupational therapy; this line was furnished by {provider_type}",
                                Fix("review", number, note="check that the provider may bill 97535 under this payer"),
                            )
                        )
                    if code == "97112" and provider_type not in NEUROMUSCULAR_PROVIDERS:
                        found.append(
                            _finding(
                                NEUROMUSCULAR_REEDUCATION,
                                number,
                                "97112 is performed by a PT, OT or chiropractor (or an assistant "
                                f"under supervision); this line was furnished by {provider_type}",
                                Fix("review", number, note="check who furnished the neuromuscular re-education"),
                            )
                        )

                # The patient's year (threshold.yaml): PT and SLP together, OT on its own.
                discipline = line.discipline
                if therapy and discipline is not None and line.charge is not None:
                    group = 1 if discipline == "OT" else 0
                    past = day.past_year[group]
                    if past is None:
                        past = day.past_year[group] = self._past_year(patient, date, group)
                    earlier = past + day.own_year[group]
                    after = earlier + line.charge
                    threshold = KX_THRESHOLD.get(date.year)
                    if threshold is not None and after > threshold and "KX" not in modifiers:
                        found.append(
                            _finding(
                                KX_OT if group else KX_PT_SLP,
                                number,
                                f"this line takes the patient's {_THERAPY_OF_GROUP[group]} for "
                                f"{date.year} to {_number(after)}, past the KX threshold of "
                                f"{threshold}: it needs modifier KX (medically necessary, documented)",
                                Fix("add_modifier", number, "KX"),
                            )
                        )
                    if earlier <= TARGETED_REVIEW < after:
                        found.append(
                            _finding(
                                TARGETED_REVIEW_OT if group else TARGETED_REVIEW_PT_SLP,
                                number,
                                f"with this line the patient's {_THERAPY_OF_GROUP[group]} for "
                                f"{date.year} passes "
                                f"{TARGETED_REVIEW}: claims past it may be chosen for targeted "
                                "medical review (no denial)",
                            )
                        )

                # Timed codes (timed-units.yaml).
                if code in TIMED:
                    minutes = line.minutes
                    units = line.units
                    if minutes is not None:
                        if day.timed is False:
                            day.timed = _supported_units(day.book, claim)
                        if day.timed is not None:
                            by_line, day_minutes, split, others, all_known = day.timed
                            supported = by_line[line]
                            if units > supported and day_minutes >= 8:
                                found.append(
                                    _finding(
                                        MORE_UNITS_THAN_MINUTES,
                                        number,
                                        f"{code} is billed for {_plural(units)}, but the day's timed "
                                        f"minutes ({day_minutes} in all, {minutes} on this line) "
                                        f"support {_plural(supported)} for it: bill the day as "
                                        f"{split}{others}",
                                        Fix("set_units", number, supported)
                                        if supported
                                        else Fix("remove_line", number),
                                    )
                                )
                            if units < supported:
                                found.append(
                                    _finding(
                                        FEWER_UNITS_THAN_MINUTES,
                                        number,
                                        f"{code} is billed for {_plural(units)}; the day's timed "
                                        f"minutes support {_plural(supported)} for it: money left "
                                        f"unbilled. Bill the day as {split}{others}",
                                        Fix("set_units", number, supported),
                                    )
                                )
                            # Quiet when a timed line of the day, here or on a claim gone by, has no minutes.
                            if minutes < 8 and all_known and not day.gone_without_minutes and day_minutes < 8:
                                found.append(
                                    _finding(
                                        UNDER_8_MINUTES,
                                        number,
                                        f"{code} has {minutes} minutes, and the day's timed services "
                                        "come to less than 8 minutes: nothing is billable",
                                        Fix("remove_line", number),
                                    )
                                )
                    if RECEIVED >= FROM_2021_04_19:
                        earlier_lines = day.of_code.get(code)
                        # Lines that differ by CQ/CO or 59/X are two services; other modifiers do not count.
                        separate = SEPARATE_LINE_MODIFIERS.intersection(modifiers)
                        if earlier_lines is None:
                            day.of_code[code] = [number, separate]
                        else:
                            if any(other == separate for other in earlier_lines[1:]):
                                first = earlier_lines[0]
                                found.append(
                                    _finding(
                                        ONE_LINE_PER_CODE,
                                        number,
                                        f"{code} is billed on more than one line for this date of service; First Coast "
                                        "(a Medicare contractor) rejects claims received from 2021-04-19 that split "
                                        "one timed code over lines",
                                        Fix(
                                            "merge_lines",
                                            number,
                                            first,
                                            note=f"add its units to line {first} and remove line {number}",
                                        ),
                                    )
                                )
                            earlier_lines.append(separate)
                    if minutes is not None:
                        if line.line.periods:
                            pta = _assistant_minutes(line.line, provider_type, "PTA")
                            ota = _assistant_minutes(line.line, provider_type, "OTA")
                        elif provider_type is None:
                            pta = ota = None
                        else:  # the line's provider furnished all of it
                            pta = minutes if provider_type == "PTA" else 0
                            ota = minutes if provider_type == "OTA" else 0
                        if date >= FROM_2020_01_01:
                            if (
                                provider_type != "PTA"
                                and pta is not None
                                and pta * 10 > minutes
                                and "CQ" not in modifiers
                            ):
                                found.append(
                                    _finding(
                                        CQ_FOR_PTA_MINUTES,
                                        number,
                                        f"a PT assistant furnished {pta} of the {minutes} minutes of "
                                        f"{code}, more than 10%: the line needs modifier CQ",
                                        Fix("add_modifier", number, "CQ"),
                                    )
                                )
                            if (
                                provider_type != "OTA"
                                and ota is not None
                                and ota * 10 > minutes
                                and "CO" not in modifiers
                            ):
                                found.append(
                                    _finding(
                                        CO_FOR_OTA_MINUTES,
                                        number,
                                        f"an OT assistant furnished {ota} of the {minutes} minutes of "
                                        f"{code}, more than 10%: the line needs modifier CO",
                                        Fix("add_modifier", number, "CO"),
                                    )
                                )
                        if "CQ" in modifiers and provider_type == "PT" and pta == 0:
                            found.append(
                                _finding(
                                    CQ_WITHOUT_PTA_MINUTES,
                                    number,
                                    f"{code} carries CQ, but no PT assistant minutes are shown on it: "
                                    "the line would be paid at 85% for nothing",
                                    Fix("remove_modifier", number, "CQ"),
                                )
                            )
                        if "CO" in modifiers and provider_type == "OT" and ota == 0:
                            found.append(
                                _finding(
                                    CO_WITHOUT_OTA_MINUTES,
                                    number,
                                    f"{code} carries CO, but no OT assistant minutes are shown on it: "
                                    "the line would be paid at 85% for nothing",
                                    Fix("remove_modifier", number, "CO"),
                                )
                            )
                elif code in UNTIMED_ONCE_A_DAY:  # billed once a day: more draws excessive-units reviews
                    so_far = day.untimed_units.get(code, 0) + line.units
                    if so_far > 1:
                        found.append(
                            _finding(
                                UNTIMED_MORE_THAN_ONE_UNIT,
                                number,
                                f"{code} is an untimed service, billed once a day whatever the time; "
                                f"this line brings it to {_plural(so_far)} on this date of service, "
                                "which automated excessive-units reviews pick out",
                                Fix(
                                    "review",
                                    number,
                                    note="check the units, since an untimed service "
                                    "is billed as one unit per date of service",
                                ),
                            )
                        )

            # What this line adds to "earlier that day" and "earlier that year" for the lines after it.
            if code in UNTIMED_ONCE_A_DAY:
                day.untimed_units[code] = day.untimed_units.get(code, 0) + line.units
            if code == "97112":
                day.units_97112 += line.units
            elif code in PT_EVALUATION_OR_RE:
                day.pt_evaluations += 1
            if line.discipline is not None and line.charge:
                day.own_year[1 if line.discipline == "OT" else 0] += line.charge

            # The line's decision: denied, or adjusted when every denial only cuts its units.
            units = line.units
            if not found:
                status, allowed = "accepted", units
            else:
                findings.extend(found)
                denials = reduced = 0
                allowed = None
                for finding in found:
                    if finding.severity == "deny":
                        denials += 1
                        fix = finding.fix
                        if fix is not None and fix.action == "set_units":
                            reduced += 1
                            allowed = fix.value if allowed is None else min(allowed, fix.value)
                if not denials:
                    status, allowed = "accepted", units
                elif reduced == denials:
                    status = "adjusted"
                else:
                    status, allowed = "denied", 0
            line_decisions.append(
                LineDecision(number, code, units, allowed, status, line.modifiers, day.iso, line.charge)
            )
        denied = any(finding.severity == "deny" for finding in findings)
        return Decision(
            claim.id, self.label, "denied" if denied else "accepted", tuple(line_decisions), tuple(findings)
        )


# --------------------------------------------------------------------------------------------------- the API
def check(claim: Claim) -> Decision:
    """Judge one claim on its own (its lines still form patient-days together), as `Policy.check` does."""
    run = _Run()
    return run.decide(claim, run.file(claim))


def check_many(claims: Iterable[Claim], window: int = DEFAULT_WINDOW) -> Iterator[Decision]:
    """Judge a stream of claims in input order, as `Policy.check_many` does: a claim sees the claims of its
    patient-day up to `window` claims after it (and every one before it), and the claims judged before it
    count toward the patient's year."""
    if window < 0:
        raise ValueError("window must be 0 or more")
    return _check_many(claims, window)


def _check_many(claims: Iterable[Claim], window: int) -> Iterator[Decision]:
    """The groups of `judge.window`, written out again: a patient's claims read within `window` claims of
    the first of them not yet judged are judged together, in date-of-service order (first date, claim id);
    decisions go out in input order, each once the input is read `window` claims past it."""
    run = _Run()
    seen: set[tuple] = set()  # (patient, claim id): a claim sent twice would replace itself in the engine
    groups: dict[str, tuple[int, list]] = {}  # patient -> (first position, [(position, claim)]), oldest first
    ready: dict[int, Decision] = {}

    def judge_oldest() -> None:
        patient = next(iter(groups))
        _, members = groups.pop(patient)
        members.sort(key=lambda member: (min(line.date_of_service for line in member[1].lines), member[1].id))
        filed = [(position, claim, run.file(claim)) for position, claim in members]
        for position, claim, lines in filed:
            ready[position] = run.decide(claim, lines)
            run.remember(claim, lines)
        for _, claim, lines in filed:  # each the oldest in the book when it goes
            run.forget(claim, lines)

    next_out = 0
    for position, claim in enumerate(claims):
        while groups and next(iter(groups.values()))[0] + window <= position - 1:
            judge_oldest()
        key = (claim.patient_id, claim.id)
        if key in seen:
            raise ValueError(
                f"claim {claim.id} of patient {claim.patient_id} is sent twice; the floor does not "
                "support a claim replacing itself"
            )
        seen.add(key)
        groups.setdefault(claim.patient_id, (position, []))[1].append((position, claim))
        while groups and next(iter(groups.values()))[0] + window <= position:
            judge_oldest()
        while next_out + window <= position:
            yield ready.pop(next_out)
            next_out += 1
    while groups:
        judge_oldest()
    while next_out in ready:
        yield ready.pop(next_out)
        next_out += 1
