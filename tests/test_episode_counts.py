"""The rule-language pieces a plan of care is checked with: the first and last date of service among a
patient's lines (`earliest date of lines ... on record`), `first_present`, `quotient` and `remainder`."""

import pytest

import payerpolicy

EPISODE_POLICY = """\
policy: {payer: acme, name: Acme (test), version: "1"}
rules:
  - id: acme.progress-report
    family: documentation
    kind: advisory
    severity: info
    codes: [97110, 97161]
    when: >-
      first_present(claim.treatment_began, latest date of lines with code = 97161 and date <= line.date on record)
      is present and remainder(number of days with date >= first_present(claim.treatment_began,
        latest date of lines with code = 97161 and date <= line.date on record) and date <= line.date on record, 3) = 0
    message: >-
      treatment day {number of days with date >= first_present(claim.treatment_began,
      latest date of lines with code = 97161 and date <= line.date on record) and date <= line.date on record}
      since {first_present(claim.treatment_began, latest date of lines with code = 97161 and date <= line.date on record)}
    source: test
  - id: acme.period
    family: documentation
    kind: advisory
    severity: info
    codes: 97112
    when: quotient(days_between(earliest date of lines on record, line.date), 30) >= 1
    message: "period {quotient(days_between(earliest date of lines on record, line.date), 30)}"
    source: test
"""


@pytest.fixture()
def policy(tmp_path):
    (tmp_path / "policy.yaml").write_text(EPISODE_POLICY)
    return payerpolicy.load(tmp_path)


def visits(*pairs, **claim):
    return {
        "id": "E",
        "patient": {"id": "P"},
        **claim,
        "lines": [{"code": code, "units": 1, "date": date} for code, date in pairs],
    }


def test_days_are_counted_from_the_latest_evaluation(policy):
    decision = policy.check(
        visits(
            ("97161", "2026-01-05"),
            ("97110", "2026-01-06"),
            ("97110", "2026-01-07"),
            ("97161", "2026-02-02"),
            ("97110", "2026-02-03"),
            ("97110", "2026-02-04"),
        )
    )
    assert [(f.line, f.message) for f in decision.findings] == [
        (3, "treatment day 3 since 2026-01-05"),
        (6, "treatment day 3 since 2026-02-02"),
    ]


def test_the_claims_own_date_comes_first(policy):
    decision = policy.check(
        visits(("97110", "2026-01-06"), ("97110", "2026-01-07"), ("97110", "2026-01-08"), treatment_began="2026-01-06")
    )
    assert [(f.line, f.message) for f in decision.findings] == [(3, "treatment day 3 since 2026-01-06")]


def test_without_a_start_nothing_is_counted(policy):
    decision = policy.check(visits(("97110", "2026-01-06"), ("97110", "2026-01-07"), ("97110", "2026-01-08")))
    assert decision.findings == ()


def test_quotient_gives_the_period(policy):
    decision = policy.check(
        visits(("97112", "2026-01-01"), ("97112", "2026-01-30"), ("97112", "2026-01-31"), ("97112", "2026-03-05"))
    )
    assert [(f.line, f.message) for f in decision.findings] == [(3, "period 1"), (4, "period 2")]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("earliest units of lines on record is present", "`earliest` takes the date of lines, not `units`"),
        ("latest date of lines on record > 3", "cannot be compared"),
        ("first_present(claim.treatment_began, 3) is present", "`first_present` needs a date here"),
        ("remainder(line.date, 10) = 0", "`remainder` needs a number here"),
    ],
)
def test_mistakes_are_reported(tmp_path, text, expected):
    (tmp_path / "policy.yaml").write_text(
        EPISODE_POLICY.replace("quotient(days_between(earliest date of lines on record, line.date), 30) >= 1", text)
    )
    with pytest.raises(payerpolicy.PolicyError) as error:
        payerpolicy.load(tmp_path)
    assert expected in error.value.render()


def test_the_functions():
    from payerpolicy.rules.builtins import BUILTINS

    assert BUILTINS["quotient"].implementation(95, 90) == 1
    assert BUILTINS["quotient"].implementation(5, 0) is None
    assert BUILTINS["remainder"].implementation(20, 10) == 0
    assert BUILTINS["remainder"].implementation(21.0, 10) == 1


def test_a_count_inside_a_counts_filter_is_worked_out_once_per_judged_line(policy):
    # The plan start (a `latest date of lines ...`) inside the day count's filter is worked out before the
    # loop over the counted lines: the source holds it once outside the set of dates, not inside it. (Written
    # as a walk over the record: compiled as it ships, the count halves the record's dates instead, with the
    # plan start worked out once as one of its bounds: program.record_filter.)
    from payerpolicy.program.compile import assemble, plan_program

    spec = policy.program.policy
    source = assemble(spec, plan_program(spec, running_totals=False)).source
    counted = source[source.index("len({") :]
    counted = counted[: counted.index("})")]
    assert "max(" not in counted
