"""Render policy test results as JUnit XML, the report format CI systems read (one suite per case file)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from payerpolicy.cases.run import CaseResult


def write_junit(
    results: list[CaseResult], path: Path, seconds: dict[int, float], broken: dict[str, str] | None = None
) -> None:
    Path(path).write_bytes(junit_bytes(results, seconds, broken))


def junit_bytes(results: list[CaseResult], seconds: dict[int, float], broken: dict[str, str] | None = None) -> bytes:
    """The JUnit XML of a run. `broken`: case files that could not be read, each with its rendered
    diagnostics; each is reported as a suite with one errored test case, so a CI dashboard shows it rather
    than counting nothing. A failure's message is its first problem; its text, the whole report (what was
    expected of which claim, and what came out)."""
    by_file: dict[str, list[CaseResult]] = {}
    for result in results:
        by_file.setdefault(result.case.file, []).append(result)
    root = ET.Element("testsuites", name="payerpolicy policy tests")
    totals = {"tests": 0, "failures": 0, "errors": 0}
    total_time = 0.0
    for file, file_results in by_file.items():
        failures = sum(r.outcome == "failed" for r in file_results)
        errors = sum(r.outcome == "error" for r in file_results)
        suite_time = sum(seconds.get(id(r), 0.0) for r in file_results)
        suite = _suite(root, file, len(file_results), failures, errors, suite_time)
        for result in file_results:
            case = _case(suite, file, result.case.name, seconds.get(id(result), 0.0), line=result.case.line)
            if result.outcome != "passed":
                tag = "failure" if result.outcome == "failed" else "error"
                first = result.problems[0].splitlines()[0] if result.problems else result.outcome
                element = ET.SubElement(case, tag, message=first, type=f"policy case {result.outcome}")
                element.text = result.report()
        totals["tests"] += len(file_results)
        totals["failures"] += failures
        totals["errors"] += errors
        total_time += suite_time
    for file, rendered in (broken or {}).items():
        case = _case(_suite(root, file, 1, 0, 1, 0.0), file, "(the case file could not be read)", 0.0)
        element = ET.SubElement(case, "error", message=rendered.splitlines()[0], type="case file not read")
        element.text = rendered
        totals["tests"] += 1
        totals["errors"] += 1
    root.set("tests", str(totals["tests"]))
    root.set("failures", str(totals["failures"]))
    root.set("errors", str(totals["errors"]))
    root.set("time", f"{total_time:.3f}")
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def _suite(root: ET.Element, file: str, tests: int, failures: int, errors: int, time: float) -> ET.Element:
    """One case file's suite: its counts and the time its cases took."""
    return ET.SubElement(
        root,
        "testsuite",
        name=file,
        tests=str(tests),
        failures=str(failures),
        errors=str(errors),
        skipped="0",
        time=f"{time:.3f}",
    )


def _case(suite: ET.Element, file: str, name: str, time: float, line: int | None = None) -> ET.Element:
    """One case; `line` where it is written in its file (none for a file that could not be read)."""
    attributes = {"classname": file.rsplit(".", 1)[0].replace("/", "."), "name": name, "file": file}
    if line is not None:
        attributes["line"] = str(line)
    attributes["time"] = f"{time:.3f}"
    return ET.SubElement(suite, "testcase", attributes)
