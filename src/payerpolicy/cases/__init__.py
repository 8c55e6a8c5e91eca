"""Policy test cases: the case files of a policy (`tests/test_*.yaml`), run against it with coverage, as
`payerpolicy test` and the pytest plugin run them.

    files.py          finding and reading case files (claims, expected decisions, dates)
    run.py            judging each case and comparing what came out with what was expected; coverage
    update.py         writing what came out back into a case file (`payerpolicy test --update`)
    junit.py          JUnit XML for CI
    pytest_plugin.py  the cases collected as pytest items (the `pytest11` entry point)
"""

from __future__ import annotations

from payerpolicy.cases.files import find_case_files, read_case_file
from payerpolicy.cases.junit import junit_bytes, write_junit
from payerpolicy.cases.run import COVERAGE_SCOPES, CaseResult, CaseRunner
from payerpolicy.cases.update import update_case_file

__all__ = [
    "find_case_files",
    "read_case_file",
    "CaseRunner",
    "CaseResult",
    "COVERAGE_SCOPES",
    "update_case_file",
    "junit_bytes",
    "write_junit",
]
