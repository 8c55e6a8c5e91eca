"""The pytest plugin: policy test cases (test_*.yaml) collected and run as pytest items.

Registered through the `pytest11` entry point, so installing payerpolicy is enough: `pytest policies/`
runs every case of every policy, each as its own test named after the case. A failing case is reported in
billing words (what was expected of which claim, what came out), not as a Python traceback. The harness is
the package's own (`cases.files`, `cases.run`); this module only collects and reports.
"""

from __future__ import annotations

import pytest

from payerpolicy.cases.files import is_case_file, read_case_file
from payerpolicy.cases.run import CaseResult, CaseRunner
from payerpolicy.diagnostics import PolicyError, SourceFiles

_RUNNER = pytest.StashKey[CaseRunner]()


def _runner(config) -> CaseRunner:
    if _RUNNER not in config.stash:
        config.stash[_RUNNER] = CaseRunner()
    return config.stash[_RUNNER]


def pytest_collect_file(file_path, parent):
    if file_path.suffix in (".yaml", ".yml") and is_case_file(file_path):
        return PolicyCaseFile.from_parent(parent, path=file_path)
    return None


class PolicyCaseFile(pytest.File):
    def collect(self):
        sources, diagnostics = SourceFiles(), []
        case_file = read_case_file(self.path, sources, diagnostics)
        if diagnostics or case_file is None:
            raise self.CollectError(PolicyError(diagnostics, sources).render())
        for case in case_file.cases:
            yield PolicyCaseItem.from_parent(self, name=case.name, case=case)


class PolicyCaseFailed(Exception):
    def __init__(self, result: CaseResult):
        super().__init__(result.report())
        self.result = result


class PolicyCaseItem(pytest.Item):
    def __init__(self, *, case, **kwargs):
        super().__init__(**kwargs)
        self.case = case

    def runtest(self) -> None:
        result = _runner(self.config).run(self.case)
        if not result.passed:
            raise PolicyCaseFailed(result)

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, PolicyCaseFailed):
            return excinfo.value.result.report()
        return super().repr_failure(excinfo, style)

    def reportinfo(self):
        return self.path, self.case.line - 1, f"policy case: {self.case.name}"


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    runner = config.stash.get(_RUNNER, None)
    if runner is None or not runner.coverage:
        return
    terminalreporter.write_sep("-", "payerpolicy rule coverage")
    for policy, table in runner.coverage.items():
        missing = [
            f"{entry.rule} never {'fires' if not entry.fired else 'is met without firing'}"
            for entry in table.values()
            if not (entry.fired and entry.passed)
        ]
        count = f"{len(table)} rule{'' if len(table) == 1 else 's'}"
        terminalreporter.write_line(f"{policy}: {count}" + ("" if missing else ", all covered"))
        for line in missing:
            terminalreporter.write_line(f"  {line}")
    terminalreporter.write_line(f"rule coverage: {runner.coverage_percent():.1f}%")
    for line in _shortfalls(config):
        terminalreporter.write_line(line, red=True)


def _selected(config) -> bool:
    """Whether only some tests were asked for (-k, -m, --lf, a node id): a policy's coverage gate is for a
    whole run of its cases."""
    option = config.option
    return bool(
        getattr(option, "keyword", "")
        or getattr(option, "markexpr", "")
        or getattr(option, "lf", False)
        or any("::" in str(arg) for arg in config.args)
    )


def _shortfalls(config) -> list[str]:
    runner = config.stash.get(_RUNNER, None)
    if runner is None or _selected(config):
        return []
    return runner.coverage_shortfalls()


def pytest_sessionfinish(session, exitstatus):
    """A policy whose rules' coverage is below its `tests: min_coverage:` fails the run, as in `payerpolicy
    test`."""
    if exitstatus == 0 and _shortfalls(session.config):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
