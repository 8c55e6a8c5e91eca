"""`Policy.check`'s quick road: claim JSON in the usual shape, on which no rule fires, decided in one pass.

A claim judged alone (`Policy.check`) costs its reading into the claim model (claims.json_quick), a
`LineView` per line and a `DayContext` for the judge's functions (`Judge.decide_alone`), most of it spent
before any rule is asked. Most claims break no rule, and their decision is every line accepted. This road
reads the claim's lines to plain values (claims.json_values), asks each line's group of rules whether any can
fire (program.verdicts: a test written per group from the same rule trees) and, when none can, makes that
decision directly: the one `decide_alone` makes, field for field.

Where it cannot say, it hands over what it read: a claim not in the usual shape goes to json_quick's careful
road from the start (which says what is wrong), and a claim it read but cannot decide goes to the judge as the
`Claim` json_quick would read: one of several dates, a void, one with a line a test says a rule may fire on
(the judge finds which, and words its findings), or with a line of a code whose group has a rule the tests
cannot say (`UNSAID`: pair and reference tables, functions, fields of the claim or patient).
tests/test_check_road.py holds its decisions to `decide_alone`'s on the peer benchmark's policy, a policy of
counts and dated rules, and generated claims, good and bad (the shipped policies' groups all take the judge's
road: none has a test).

Where the time goes (the peer benchmark's claims of 1 to 6 lines, CPU time on a loaded machine): on a claim
decided here, reading the lines to values is about 60%, and the `LineDecision`s and the `Decision` most of the
rest; a claim the judge decides (a fifth of the benchmark's, with findings) costs about three times as much,
and is now nearly half of the time. A road written by hand for the benchmark's four rules alone did only about
10% better than this one: the checks a claim's values need and the objects a decision is made of set the floor
of a road in Python, not the rules.
"""

from __future__ import annotations

from payerpolicy._frozen import maker
from payerpolicy.claims.json_quick import claim_head
from payerpolicy.claims.json_values import line_values, service_line
from payerpolicy.claims.model import Claim
from payerpolicy.decision import Decision, LineDecision
from payerpolicy.program.compile import RuleProgram
from payerpolicy.program.verdicts import UNSAID, write_verdicts

__all__ = ["CheckRoad", "check_road"]

_make_line_decision = maker(LineDecision)
_make_decision = maker(Decision)
_make_claim = maker(Claim)
_ISO: dict = {}  # dates of service as decisions write them, each worked out once
# A claim of more lines goes to the judge: its counts over a day of many lines look only at the lines of the
# codes they ask for (program.runtime.day_lines_of), where a test here walks every line of the claim.
_MOST_LINES = 64


class CheckRoad:
    """The quick road for one compiled program (`check_road` makes it)."""

    def __init__(self, program: RuleProgram, tests: dict, every_code):
        self.tests = tests  # code -> its group's test, or UNSAID
        self.every_code = every_code  # the test of a code without rules of its own (None: no rule concerns it)
        self.timed = program.timed_codes
        spec = program.policy
        self.label = {"payer": spec.payer, "version": spec.version}  # as `Judge.policy_label`

    def decide(self, obj: dict) -> Decision | Claim | None:
        """The decision `Judge.decide_alone` makes on the claim json_quick reads from `obj`, when that is every
        line accepted. When a rule may fire, or the claim is of several dates, the claim json_quick reads, for
        the judge; None when json_quick reads no claim (then nothing is known: the careful road reads it)."""
        head = claim_head(obj)
        if head is None or len(head[8]) > _MOST_LINES:
            return None
        claim_id = head[0]
        lines = line_values(head[8], claim_id, head[3], len(head[4]))
        if lines is None:
            return None
        if head[5] == "8":  # a void: nothing of it is judged (`Judge.decide`)
            return _claim(head, lines)
        tests, every_code, timed = self.tests, self.every_code, self.timed
        date = lines[0][5]
        iso = _ISO.get(date) or _remember_iso(date)
        units_only = 0  # timed lines billed in units alone (see `Judge.decide`)
        decided = []
        for line in lines:
            number, code, units, minutes, modifiers, day, charge, _, _, _ = line
            test = tests.get(code, every_code)
            if (test is not None and (test is UNSAID or test(lines, line))) or day != date:
                return _claim(head, lines)
            if minutes is None and code in timed:
                units_only += 1
            decided.append(_make_line_decision(number, code, units, units, "accepted", modifiers, iso, charge, None))
        extra = {"timed_units_only": units_only} if units_only else {}
        return _make_decision(claim_id, self.label, "accepted", tuple(decided), (), (), "", extra)


def _claim(head: tuple, lines: list) -> Claim:
    """The `Claim` json_quick's `quick_claim` reads, from what this road read of it."""
    claim_id, patient_id, payer, provider, diagnoses, frequency, place, authorization, _ = head
    made = tuple(map(service_line, lines))
    return _make_claim(
        claim_id, patient_id, made, payer, provider, diagnoses, frequency, place, authorization, None, None, None, ()
    )


def check_road(program: RuleProgram) -> CheckRoad | None:
    """The quick road of a program, or None when it has none (program.verdicts.write_verdicts says when)."""
    verdicts = write_verdicts(program)
    if verdicts is None:
        return None
    return CheckRoad(program, verdicts.by_code, verdicts.every_code)


def _remember_iso(date) -> str:
    if len(_ISO) >= 20_000:  # more than a run's distinct dates of service: emptied, a moment's memory only
        _ISO.clear()
    text = _ISO[date] = date.isoformat()
    return text
