"""How an indicator-1 code pair edit is lifted: the pair settings `bypass_on_either_line` (with
`bypass_on_either_line_from`) and `bypass_site_modifiers`, in `code_pairs` rows, `code_pair_tables` files and
`evaluations ... with:` rows alike.

A payer that sets none of them keeps the older rule: only a bypass modifier on the column-2 line counts. Only
the column-2 line is ever denied. The Medicare policy's own cases are in policies/medicare/tests/
test_code_pairs.yaml; these use a small policy of their own, so that they can reach dates before 2019-07-01
and a payer with the settings off.
"""

from __future__ import annotations

import itertools
import random
import textwrap
from pathlib import Path

import pytest

import payerpolicy
from payerpolicy.diagnostics import PolicyError

_POLICY = """\
policy: {{payer: acme, name: Acme pairs, version: "1"}}
defaults:
  code_pair: {{severity: deny, reason: {{group: CO, carc: "97"}}}}
  evaluation: {{severity: deny, reason: {{group: CO, carc: "97"}}}}
code_sets:
  bypass: [25, 59, XE, XS, XP, XU]
  distinct: [59, XE, XS, XP, XU]
  sites: [LT, RT, F1, F6]
  evaluation: [97161-97163]
settings:
  bypass_modifiers: "@bypass"
{settings}
code_pairs:
  - {{id: acme.row, column1: 97530, column2: 97035, modifier_indicator: 1, source: "test"{row}}}
code_pair_tables:
  - {{id: acme.table, file: ptp.csv, source: "test"{row}}}
evaluations:
  - {{id: acme.evaluation, evaluations: "@evaluation", with: 97140, modifier_on: treatment,
     modifiers: "@distinct", source: "test"{row}}}
"""

MEDICARE_LIKE = """\
  bypass_on_either_line: "@distinct"
  bypass_on_either_line_from: 2019-07-01
  bypass_site_modifiers: "@sites"
"""


def _policy(tmp_path: Path, settings: str = "", row: str = "", table_column1: str = "97110") -> payerpolicy.Policy:
    folder = tmp_path / "acme"
    folder.mkdir()
    (folder / "policy.yaml").write_text(_POLICY.format(settings=settings, row=row))
    (folder / "ptp.csv").write_text(
        f"column1,column2,effective_from,deleted,modifier_indicator\n{table_column1},97035,,,1\n"
    )
    return payerpolicy.load(folder)


def _claim(*lines, date="2026-03-02", claim_id="C-1"):
    return {
        "id": claim_id,
        "payer": "acme",
        "patient": {"id": "P-1"},
        "provider": {"type": "PT"},
        "diagnoses": ["R26.89"],
        "lines": [{"code": code, "modifiers": list(mods), "units": 1, "date": date} for code, *mods in lines],
    }


def _denied(policy, *lines, date="2026-03-02") -> list[tuple[str, int]]:
    """(rule, line) of every finding, after checking that only column-2 lines are ever denied."""
    decision = policy.check(_claim(*lines, date=date))
    found = [(f.rule, f.line) for f in decision.findings]
    column2 = {number for number, (code, *_) in enumerate(lines, 1) if code in ("97035", "97140")}
    assert {line for _, line in found} <= column2, found
    return found


@pytest.fixture(scope="module")
def medicare_like(tmp_path_factory):
    return _policy(tmp_path_factory.mktemp("on"), MEDICARE_LIKE)


@pytest.fixture(scope="module")
def settings_off(tmp_path_factory):
    return _policy(tmp_path_factory.mktemp("off"))


# The column-1 code of each mechanism: a `code_pairs` row, a table file, an evaluation with a treatment.
COLUMN_1 = {"acme.row": ("97530", "97035"), "acme.table": ("97110", "97035"), "acme.evaluation": ("97161", "97140")}


@pytest.mark.parametrize("rule", COLUMN_1)
def test_only_the_column_2_line_is_denied(medicare_like, settings_off, rule):
    column1, column2 = COLUMN_1[rule]
    for policy in (medicare_like, settings_off):
        assert _denied(policy, (column1,), (column2,)) == [(rule, 2)]
        assert _denied(policy, (column2,), (column1,)) == [(rule, 1)]  # whichever comes first on the claim
        decision = policy.check(_claim((column1,), (column2,)))
        assert [line.status for line in decision.lines] == ["accepted", "denied"]


@pytest.mark.parametrize("rule", COLUMN_1)
def test_a_distinct_service_modifier_on_the_column_1_line_lifts_the_edit_from_its_first_date(medicare_like, rule):
    column1, column2 = COLUMN_1[rule]
    assert _denied(medicare_like, (column1, "59"), (column2,), date="2019-07-01") == []
    assert _denied(medicare_like, (column1, "XU"), (column2,), date="2026-03-02") == []
    # The day before, only the column-2 line's modifier counts.
    assert _denied(medicare_like, (column1, "59"), (column2,), date="2019-06-30") == [(rule, 2)]
    assert _denied(medicare_like, (column1,), (column2, "59"), date="2019-06-30") == []


@pytest.mark.parametrize("rule", COLUMN_1)
def test_a_payer_without_the_setting_counts_only_the_column_2_lines_modifier(settings_off, rule):
    column1, column2 = COLUMN_1[rule]
    assert _denied(settings_off, (column1, "59"), (column2,)) == [(rule, 2)]
    assert _denied(settings_off, (column1,), (column2, "59")) == []


def test_without_a_first_date_the_either_line_rule_applies_to_every_date(tmp_path):
    policy = _policy(tmp_path, '  bypass_on_either_line: "@distinct"\n')
    assert _denied(policy, ("97530", "XS"), ("97035",), date="2015-03-02") == []
    assert _denied(policy, ("97110", "XS"), ("97035",), date="2015-03-02") == []


@pytest.mark.parametrize("rule", ["acme.row", "acme.table"])
def test_site_modifiers_lift_the_edit_only_for_different_sites(medicare_like, settings_off, rule):
    column1, column2 = COLUMN_1[rule]
    assert _denied(medicare_like, (column1, "LT"), (column2, "RT")) == []
    assert _denied(medicare_like, (column1, "F1"), (column2, "F6")) == []
    assert _denied(medicare_like, (column1, "LT"), (column2, "LT")) == [(rule, 2)]
    assert _denied(medicare_like, (column1,), (column2, "RT")) == [(rule, 2)]
    assert _denied(medicare_like, (column1, "LT"), (column2,)) == [(rule, 2)]
    # Sites are not bypass modifiers of the column-2 line here: without the setting nothing lifts the edit.
    assert _denied(settings_off, (column1, "LT"), (column2, "RT")) == [(rule, 2)]


def test_a_site_difference_lifts_only_its_own_pair(medicare_like):
    # 97035 with RT beside 97530 with LT (different sites) and 97530 with RT (the same site): still denied.
    assert _denied(medicare_like, ("97530", "LT"), ("97530", "RT"), ("97035", "RT")) == [("acme.row", 3)]


def test_a_row_may_name_its_own_either_line_modifiers(tmp_path):
    policy = _policy(tmp_path, MEDICARE_LIKE, row=", bypass_on_either_line: [XS]")
    for rule, (column1, column2) in COLUMN_1.items():
        assert _denied(policy, (column1, "XS"), (column2,)) == []
        assert _denied(policy, (column1, "XU"), (column2,)) == [(rule, 2)]


def test_the_message_says_which_modifiers_lift_the_edit_on_which_line(medicare_like, settings_off):
    [row, table] = [f.message for f in medicare_like.check(_claim(("97530",), ("97110",), ("97035",))).findings]
    for message in (row, table):
        assert message.endswith(
            "; 59, XE, XS, XP, XU on either line (before 2019-07-01: on this line only), another bypass modifier "
            "(25) on this line or site modifiers showing different sites on the two lines (LT on one, RT on the "
            "other), is accepted only when the services were truly separate"
        )
    assert table.startswith(
        "97035 is not paid on the same day as 97110 for the same patient (code pair edit "
        "97110/97035, 97035 in column 2); "
    )
    [evaluation] = [f.message for f in medicare_like.check(_claim(("97161",), ("97140",))).findings]
    assert evaluation == (
        "97140 billed on the same day as one of 97161-97163 needs a distinct-service modifier "
        "(59, XE, XS, XP, XU) on 97140 or, for dates of service from 2019-07-01, on the other line"
    )
    [off] = [f.message for f in settings_off.check(_claim(("97530",), ("97035",))).findings]
    assert off.endswith(
        "; a bypass modifier (25, 59, XE, XS, XP, XU) is accepted only when the services were truly separate"
    )


def test_rows_and_table_judge_alike_whatever_the_modifiers(medicare_like):
    """The row is lowered to the rule language; the table works the same test out in Python
    (policy_pair_table._Lifts). Every pair of modifier choices, on dates either side of 2019-07-01."""
    choices = [(), ("59",), ("XU",), ("25",), ("LT",), ("RT",), ("LT", "RT"), ("F1",), ("LT", "59"), ("GP",)]
    for first, second, date in itertools.product(choices, choices, ("2019-06-30", "2019-07-01")):
        row = _denied(medicare_like, ("97530", *first), ("97035", *second), date=date)
        table = _denied(medicare_like, ("97110", *first), ("97035", *second), date=date)
        assert [line for _, line in row] == [line for _, line in table], (first, second, date)


def test_rows_and_table_judge_alike_across_a_day_of_many_lines(tmp_path):
    # Here the table holds the row's own pair, 97530/97035: both must deny the same lines.
    policy = _policy(tmp_path, MEDICARE_LIKE, table_column1="97530")
    rng = random.Random(7)
    pool = [(), ("59",), ("LT",), ("RT",), ("XS", "LT"), ("F6",)]
    fired = 0
    for _ in range(200):
        lines = [(code, *rng.choice(pool)) for code in rng.choices(["97530", "97035", "97110"], k=4)]
        date = rng.choice(["2019-06-30", "2026-03-02"])
        found = _denied(policy, *lines, date=date)
        row = [line for rule, line in found if rule == "acme.row"]
        assert row == [line for rule, line in found if rule == "acme.table"], (lines, date)
        fired += bool(row)
    assert 20 < fired < 190  # the claims both hit and miss


def _load_errors(tmp_path, settings="", row="") -> str:
    with pytest.raises(PolicyError) as caught:
        _policy(tmp_path, settings, row)
    return str(caught.value)


def test_a_pair_setting_that_is_wrong_is_reported_once_at_the_setting(tmp_path):
    text = _load_errors(tmp_path, '  bypass_on_either_line: "@distinct"\n  bypass_on_either_line_from: 2019-02-30\n')
    assert "acme/policy.yaml:13:31: error[E203]: `2019-02-30` is not a real date" in text
    assert text.rstrip().endswith("\n1 error")


def test_an_unknown_code_set_in_a_pair_setting_is_reported_at_the_setting(tmp_path):
    text = _load_errors(tmp_path, '  bypass_site_modifiers: "@site"\n')
    assert "acme/policy.yaml:12:26: error[E402]: unknown code set `@site`" in text
    assert "did you mean `@sites`?" in text


def test_a_wrong_date_in_a_row_is_placed_on_the_row(tmp_path):
    text = _load_errors(tmp_path, MEDICARE_LIKE, row=", bypass_on_either_line_from: 2019-02-30")
    assert "acme/policy.yaml:17:119: error[E203]: `2019-02-30` is not a real date" in text  # the code_pairs row
    assert "acme/policy.yaml:19:81: error[E203]" in text  # the table
    assert text.rstrip().endswith("3 errors")  # and the evaluation


def test_a_pair_setting_must_name_a_code_set(tmp_path):
    text = _load_errors(tmp_path, "  bypass_on_either_line: 59\n")
    assert "acme/policy.yaml:12:26: error[E2" in text and "bypass_on_either_line" in text


def test_a_payer_built_on_medicare_inherits_its_pair_settings_and_may_change_them(tmp_path):
    def child(settings: str) -> payerpolicy.Policy:
        folder = tmp_path / f"child{len(list(tmp_path.iterdir()))}"
        folder.mkdir()
        (folder / "policy.yaml").write_text(
            textwrap.dedent("""\
            policy: {payer: acme, name: Acme on Medicare, version: "1", extends: medicare}
            code_pairs:
              - {id: acme.row, column1: 97530, column2: 97035, modifier_indicator: 1, source: "test"}
            """)
            + settings
        )
        return payerpolicy.load(folder)

    def row_findings(policy, *lines):
        return [f.line for f in policy.check(_claim(*lines)).findings if f.rule == "acme.row"]

    inherits = child("")
    assert row_findings(inherits, ("97530", "GP", "59"), ("97035", "GP")) == []
    assert row_findings(inherits, ("97530", "GP", "LT"), ("97035", "GP", "RT")) == []
    assert row_findings(inherits, ("97530", "GP", "LT"), ("97035", "GP", "LT")) == [2]
    later = child("settings:\n  bypass_on_either_line_from: 2030-01-01\n")
    assert row_findings(later, ("97530", "GP", "59"), ("97035", "GP")) == [2]


_EM_POLICY = """\
policy: {payer: acme, name: Acme E/M pairs, version: "1"}
defaults:
  code_pair: {severity: deny, reason: {group: CO, carc: "97"}}
code_sets:
  bypass: [25, 59, XE, XS, XP, XU]
  distinct: [59, XE, XS, XP, XU]
  em: [99211-99215]
settings:
  bypass_modifiers: "@bypass"
  bypass_on_either_line: "@distinct"
  bypass_ignored_on: "@em"
code_pairs:
  - {id: acme.em-in-column-2, column1: 97530, column2: 99213, modifier_indicator: 1, source: "test"}
  - {id: acme.em-in-column-1, column1: 99214, column2: 97035, modifier_indicator: 1, source: "test"}
code_pair_tables:
  - {id: acme.table, file: ptp.csv, source: "test"}
"""


@pytest.fixture(scope="module")
def em_policy(tmp_path_factory):
    folder = tmp_path_factory.mktemp("em") / "acme"
    folder.mkdir()
    (folder / "policy.yaml").write_text(_EM_POLICY)
    (folder / "ptp.csv").write_text("column1,column2,modifier_indicator\n97110,99213,1\n99214,97036,1\n")
    return payerpolicy.load(folder)


def _rules(policy, *lines) -> list[tuple[str, int]]:
    return [(f.rule, f.line) for f in policy.check(_claim(*lines)).findings]


def test_distinct_service_modifiers_do_not_count_on_an_ignored_code_on_either_line(em_policy):
    # The E/M line in column 2: 59 on it is ignored, 25 is not; 59 on the other line still counts.
    assert _rules(em_policy, ("97530",), ("99213", "59")) == [("acme.em-in-column-2", 2)]
    assert _rules(em_policy, ("97110",), ("99213", "XU")) == [("acme.table", 2)]
    assert _rules(em_policy, ("97530",), ("99213", "25")) == []
    assert _rules(em_policy, ("97110",), ("99213", "25")) == []
    assert _rules(em_policy, ("97530", "59"), ("99213",)) == []
    assert _rules(em_policy, ("97110", "59"), ("99213",)) == []
    # The E/M line in column 1: 59 on it is ignored; on the column-2 line it counts.
    assert _rules(em_policy, ("99214", "59"), ("97035",)) == [("acme.em-in-column-1", 2)]
    assert _rules(em_policy, ("99214", "XS"), ("97036",)) == [("acme.table", 2)]
    assert _rules(em_policy, ("99214",), ("97035", "59")) == []
    assert _rules(em_policy, ("99214",), ("97036", "59")) == []


def test_the_message_says_where_the_either_line_modifiers_do_not_count(em_policy):
    [finding] = em_policy.check(_claim(("97530",), ("99213",))).findings
    assert (
        "59, XE, XS, XP, XU on either line (never on 99211-99215) or another bypass modifier (25) on this line"
        in finding.message
    )


def test_on_a_line_where_59_does_not_count_the_fix_is_not_to_add_59(em_policy):
    for lines, rule in (((("97530",), ("99213",)), "acme.em-in-column-2"), ((("97110",), ("99213",)), "acme.table")):
        [finding] = em_policy.check(_claim(*lines)).findings
        assert finding.rule == rule and finding.fix.action == "review"
        assert finding.fix.note.startswith("59 and the X modifiers do not lift this pair on this code")
    for lines in ((("99214",), ("97035",)), (("99214",), ("97036",))):
        [finding] = em_policy.check(_claim(*lines)).findings
        assert (finding.fix.action, finding.fix.value) == ("add_modifier", "59")
