"""Policy test cases, stage 2: run each case against its policy and say, in billing words, what differed.

One harness for every front end: `payerpolicy test` and the pytest plugin both call `CaseRunner.run`.
No pytest here. The runner also keeps rule coverage: for every rule of every policy it loaded, whether
some case made it fire and some case met it (a line of a code the rule concerns, in its effective period)
without it firing. A rule that never fires is untested; one that always fires may be too broad. Coverage
belongs to where a rule is written: a Medicare rule that a payer inherits unchanged is covered by the cases
of either policy.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from payerpolicy.cases.files import PolicyCase
from payerpolicy.claims.formats import read_claim_file
from payerpolicy.claims.json_claims import ClaimFileError, claim_from_dict
from payerpolicy.decision import Decision, Finding, Fix
from payerpolicy.diagnostics import PolicyError
from payerpolicy.judge.judge import Judge
from payerpolicy.judge.window import judge_in_order
from payerpolicy.api import DEFAULT_WINDOW
from payerpolicy.pipeline import load_program, resolve
from payerpolicy.program.compile import RuleProgram
from payerpolicy.render.text import fix_in_words


@dataclass
class CaseResult:
    case: PolicyCase
    outcome: str  # passed, failed, error (the policy or the claims could not be loaded)
    problems: list[str] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.outcome == "passed"

    def report(self) -> str:
        """Why the case failed, for a billing specialist."""
        head = f"case `{self.case.name}` ({self.case.file}:{self.case.line})"
        return "\n".join([head] + ["  " + line for problem in self.problems for line in problem.splitlines()])


@dataclass
class RuleCoverage:
    rule: str
    family: str
    source: str  # file:line of the rule
    fired: bool = False
    passed: bool = False  # met without firing


COVERAGE_SCOPES = ("own", "all")


class CaseRunner:
    """Runs policy cases, loading each policy once, and keeps the rule coverage they reach.

    `scope`: which rules a policy's cases count for coverage: `own` (the rules written in that policy's
    folder), `all` (every rule they judge with, a base policy's too), or None for what each policy's
    `tests: coverage_scope:` says (default `all`)."""

    def __init__(self, scope: str | None = None):
        if scope is not None and scope not in COVERAGE_SCOPES:
            raise ValueError(f"coverage scope is one of {', '.join(COVERAGE_SCOPES)}, not {scope!r}")
        self.scope = scope
        self.programs: dict[tuple, RuleProgram | PolicyError] = {}  # by (policy, as_of)
        # Where rules are written (a policy folder) -> (rule id, file:line) -> coverage.
        self.coverage: dict[str, dict[tuple, RuleCoverage]] = {}
        # The policies whose cases ran, by folder, with their `tests:` settings.
        self.tested: dict[str, dict] = {}

    # ------------------------------------------------------------------ policies
    def program(self, case: PolicyCase) -> RuleProgram | PolicyError:
        path = resolve(case.policy, case.base)
        key = (str(path.resolve()) if path is not None else case.policy, case.as_of)
        if key not in self.programs:
            try:
                program, _ = load_program(path if path is not None else case.policy, case.as_of)
                self.programs[key] = program
            except PolicyError as exc:
                self.programs[key] = exc
            else:
                spec = program.policy
                self.tested[spec.folder] = spec.tests
                scope = self.scope or spec.tests.get("coverage_scope", "all")
                for rule in spec.rules:
                    folder = rule.source["file"].rsplit("/", 1)[0]
                    if scope == "own" and folder != spec.folder:
                        continue  # a base policy's rule: its own cases cover it
                    source = f"{rule.source['file']}:{rule.source['line']}"
                    table = self.coverage.setdefault(folder, {})
                    table.setdefault((rule.id, source), RuleCoverage(rule.id, rule.family, source))
        return self.programs[key]

    def _observer(self, program: RuleProgram):
        def observe(rule, view, fired: bool) -> None:
            source = rule.spec.source
            where = f"{source['file']}:{source['line']}"
            entry = self.coverage.get(source["file"].rsplit("/", 1)[0], {}).get((rule.spec.id, where))
            if entry is None:  # outside the coverage scope
                return
            if fired:
                entry.fired = True
            else:
                entry.passed = True

        return observe

    # ------------------------------------------------------------------ cases
    def run(self, case: PolicyCase) -> CaseResult:
        program = self.program(case)
        if isinstance(program, PolicyError):
            return CaseResult(case, "error", [f"its policy `{case.policy}` cannot be loaded:\n{program.render()}"])
        try:
            records = self._records(case)
        except ClaimFileError as exc:
            return CaseResult(case, "error", [str(exc)])
        judge = Judge(program, observer=self._observer(program), received=case.received)
        window = case.window if case.window is not None else DEFAULT_WINDOW
        decisions = list(judge_in_order(iter(records), lambda record: judge, window))
        problems = compare_case(case, decisions)
        return CaseResult(case, "failed" if problems else "passed", problems, decisions)

    def _records(self, case: PolicyCase) -> list:
        if case.claim_file is not None:
            return list(read_claim_file(case.claim_file))
        return [claim_from_dict(claim, where=f"{case.file} case `{case.name}`") for claim in case.claims or ()]

    def coverage_percent(self, folder: str | None = None) -> float:
        """The share of goals reached (each rule fires in some case, and is met without firing in another),
        over every rule counted, or over the rules written in one policy `folder`."""
        tables = self.coverage.values() if folder is None else [self.coverage.get(folder, {})]
        goals = [goal for table in tables for entry in table.values() for goal in (entry.fired, entry.passed)]
        return 100.0 * sum(goals) / len(goals) if goals else 100.0

    def coverage_shortfalls(self) -> list[str]:
        """Each tested policy whose `tests: min_coverage:` its rules' coverage does not reach, in words."""
        out = []
        for folder, tests in self.tested.items():
            least = tests.get("min_coverage")
            if least is not None and self.coverage_percent(folder) < least:
                out.append(
                    f"{folder}: rule coverage {self.coverage_percent(folder):.1f}% is below the policy's "
                    f"minimum of {least:g}% (policy: tests: min_coverage)"
                )
        return out


# ---------------------------------------------------------------------- comparing


def compare_case(case: PolicyCase, decisions: list[Decision]) -> list[str]:
    if len(case.expect) != len(decisions):
        return [
            f"{len(decisions)} claim(s) were judged but the case expects {len(case.expect)}; "
            "give one expectation per claim, in order"
        ]
    problems = []
    for number, (expected, decision) in enumerate(zip(case.expect, decisions), 1):
        found = compare_claim(expected, decision, case.exact)
        if found:
            label = (
                f"claim {decision.id or number}"
                if len(decisions) > 1 or not case.single
                else f"claim {decision.id or '(no id)'}"
            )
            problems.append(
                "\n".join(
                    [f"{label}:"]
                    + ["  " + p for p in found]
                    + ["  what came out:"]
                    + ["    " + line for line in describe_decision(decision)]
                )
            )
    return problems


def compare_claim(expected: dict, decision: Decision, exact: bool = False) -> list[str]:
    problems = []
    if "status" in expected and expected["status"] != decision.status:
        problems.append(f"status: expected {expected['status']}, got {decision.status}")
    unmatched = list(decision.findings)
    for want in expected.get("findings") or []:
        match = next((f for f in unmatched if finding_matches(want, f)), None)
        if match is None:
            problems.append(f"missing finding: {describe_expected(want)}")
        else:
            unmatched.remove(match)
    if expected.get("exact", exact):
        problems += [f"unexpected finding: {describe_finding(f)}" for f in unmatched]
    for unwanted in expected.get("absent") or []:
        for finding in decision.findings:
            if finding_matches(unwanted, finding):
                problems.append(f"finding that must not appear: {describe_finding(finding)}")
    lines = {line.line: line for line in decision.lines}
    for want in expected.get("lines") or []:
        got = lines.get(want["line"])
        if got is None:
            problems.append(f"line {want['line']}: not on the claim")
            continue
        for key in ("status", "allowed_units"):
            if key in want and getattr(got, key) != want[key]:
                problems.append(
                    f"line {want['line']} {key.replace('_', ' ')}: expected {want[key]}, got {getattr(got, key)}"
                )
    named = {error["field"] for error in decision.errors}
    for field_name in expected.get("errors") or []:
        if field_name not in named:
            problems.append(f"expected an error on `{field_name}`; errors name {', '.join(sorted(named)) or 'nothing'}")
    return problems


def finding_matches(want: dict, finding: Finding) -> bool:
    if "rule" in want and want["rule"] != finding.rule:
        return False
    if "family" in want and want["family"] != finding.family:
        return False
    if "line" in want and want["line"] != finding.line:
        return False
    if "severity" in want and want["severity"] != finding.severity:
        return False
    if "kind" in want and want["kind"] != finding.kind:
        return False
    if "message_contains" in want and want["message_contains"] not in finding.message:
        return False
    if "fix" in want:
        if finding.fix is None:
            return False
        got = finding.fix.to_dict()
        if any(str(got.get(k)) != str(v) for k, v in want["fix"].items()):
            return False
    return True


def describe_expected(want: dict) -> str:
    words = [want.get("severity", ""), want.get("rule") or f"a {want['family']} finding"]
    if "line" in want:
        words.append(f"on line {want['line']}")
    if "fix" in want and "action" in want["fix"]:
        fix = Fix(want["fix"]["action"], want.get("line", 0), want["fix"].get("value"), want["fix"].get("note"))
        words.append("(what to do: " + fix_in_words(fix).replace(" on line 0", "").replace(" line 0", "") + ")")
    elif "fix" in want:
        words.append("with a fix " + ", ".join(f"{k} {v}" for k, v in want["fix"].items()))
    if "message_contains" in want:
        words.append(f'saying "{want["message_contains"]}"')
    return " ".join(w for w in words if w)


def describe_finding(finding: Finding) -> str:
    fix = f"; what to do: {fix_in_words(finding.fix)}" if finding.fix else ""
    return f"{finding.severity} {finding.rule} on line {finding.line}: {finding.message}{fix}"


def describe_decision(decision: Decision) -> list[str]:
    if decision.status == "error":
        return ["could not be read: " + "; ".join(f"{e['field']}: {e['message']}" for e in decision.errors)]
    lines = [f"status {decision.status}"]
    lines += [describe_finding(f) for f in decision.findings] or ["no findings"]
    return lines


__all__ = ["CaseRunner", "CaseResult", "RuleCoverage", "compare_claim"]
