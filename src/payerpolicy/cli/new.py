"""`payerpolicy new payer NAME [--extends medicare]`: a new payer's policy folder that lints and tests clean.

It writes `<into>/<name>/policy.yaml` (the `policy:` section, a coverage gate over the payer's own rules, and
one example rule: a daily unit cap, with a figure the author must replace) and `tests/test_<name>.yaml` (a case
where the cap fires and one where it does not). The author then edits from something that works.
"""

from __future__ import annotations

from payerpolicy.cli.help import Command, option

import re
import sys
from pathlib import Path

from payerpolicy import Policies, lint

_NAME = re.compile(r"[a-z0-9][a-z0-9-]*")

_POLICY = """\
# {name}: written by `payerpolicy new payer`. Replace the example rule with the payer's own, citing for each
# the payer's bulletin, manual section or contract clause in `source`.
policy:
  payer: {name}
  name: "{name} (edit this: the payer's name as billers know it)"
  version: "{year}.1"
  effective_from: {year}-01-01{extends}
  tests: {{coverage_scope: own, min_coverage: 100}}  # its cases must make each of its own rules fire and pass

unit_caps:
  # EXAMPLE, not a real figure: the most units of {code} the payer pays a day. Put the payer's figure and
  # its source here, or delete this rule and its cases.
  - id: {name}.unit-cap.{code}
    codes: "{code}"
    max_units: 4
    severity: deny
    reason: {{group: CO, carc: "151"}}  # CARC 151: the information does not support this many services
    source: "EXAMPLE figure written by payerpolicy new: replace with the payer's own and cite it"
"""

_CASES = """\
# Cases for {name}: each claim in, the decision that must come out. Run `payerpolicy test {folder}`.
claim_defaults: {{referring_npi: "1234567893"}}  # the certifying physician, as a therapy claim names one
cases:
"""

# One case of the example cap: a day of `units` units of the code, and what the cap must then do.
_CASE = """\
  - name: {code} at {units} units {said}
    claim:
      id: NEW-{number}
      patient: {{id: P-{number}}}
      provider: {{type: PT}}
      lines: [{{code: "{code}", modifiers: [GP], units: {units}, minutes: {minutes}, date: "{year}-03-02"}}]
    expect:
      {expect}
"""

# The example cap's two cases: over the cap (5 units, it fires) and at it (4 units, it does not).
_CAP_CASES = (
    (5, "in one day is over the example cap of 4", "findings: [{{rule: {name}.unit-cap.{code}, line: 1}}]"),
    (4, "is within the cap", "absent: [{{rule: {name}.unit-cap.{code}}}]"),
)


def _cases(**names: object) -> str:
    """The example cap's case file, its cases numbered from 1; a day's minutes are 15 to a unit."""
    cases = [
        _CASE.format(number=number, units=units, minutes=15 * units, said=said, expect=expect.format(**names), **names)
        for number, (units, said, expect) in enumerate(_CAP_CASES, 1)
    ]
    return _CASES.format(**names) + "".join(cases)


_EXAMPLE_CODES = ("97110", "97530", "97140", "97535", "97112")


def run(args) -> int:
    if not _NAME.fullmatch(args.name):
        print(
            f"payerpolicy: `{args.name}` cannot be a payer's name: use lower-case letters, digits and hyphens, "
            "starting with a letter or digit (acme-health)",
            file=sys.stderr,
        )
        return 2
    folder = Path(args.into) / args.name
    if folder.exists():
        print(f"payerpolicy: {folder} already exists; choose another name or --into folder", file=sys.stderr)
        return 2
    known = Policies([args.into] if Path(args.into).is_dir() else [])
    if args.extends and args.extends not in known:
        print(
            f"payerpolicy: no payer `{args.extends}` to extend (shipped: {', '.join(Policies().names())})",
            file=sys.stderr,
        )
        return 2
    import datetime

    year = datetime.date.today().year
    (folder / "tests").mkdir(parents=True)
    extends = f"\n  extends: {args.extends}" if args.extends else ""
    cases = folder / "tests" / f"test_{args.name.replace('-', '_')}.yaml"
    # The example cap goes on a timed code the base does not cap already (a second cap would be warned of).
    for code in _EXAMPLE_CODES:
        (folder / "policy.yaml").write_text(
            _POLICY.format(name=args.name, year=year, extends=extends, code=code), encoding="utf-8"
        )
        if not any(d.code == "W504" for result in lint(folder) for d in result.diagnostics):
            break
    cases.write_text(_cases(name=args.name, year=year, folder=folder.as_posix(), code=code), encoding="utf-8")
    print(
        f"wrote {folder}/policy.yaml and {folder}/tests/; next: payerpolicy lint {folder} && payerpolicy test {folder}"
    )
    return 0


COMMAND = Command(
    "new",
    "start a new payer's policy folder",
    (
        "payerpolicy new payer acme-health --extends medicare",
        "payerpolicy new payer acme-gold --extends acme-health --into my-payers",
    ),
    run,
    subcommands=(
        Command(
            "payer",
            "a payer's policy folder",
            (
                "payerpolicy new payer acme-health --extends medicare",
                "payerpolicy new payer acme-health --into my-payers",
            ),
            options=(
                option("name", help="the payer's name in claims' `payer` (lower-case letters, digits, hyphens)"),
                option(
                    "--extends",
                    metavar="PAYER",
                    help="a payer whose rules it starts from (a shipped one such as medicare, or a sibling folder)",
                ),
                option(
                    "--into", default="policies", metavar="DIR", help="the folder of policy folders (default policies)"
                ),
            ),
            settings=dict(description="Write policies/NAME/policy.yaml and its cases."),
        ),
    ),
    chosen_as="kind",
    settings=dict(
        description="Write a new payer's policy folder, with an example rule and its cases, "
        "that lints and tests clean at once.",
    ),
)
