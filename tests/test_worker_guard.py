"""Workers started from a script without `if __name__ == "__main__":` get a sentence, not multiprocessing's
traceback from every worker (issue 20, point 11)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import payerpolicy

CLAIMS = Path(__file__).resolve().parent.parent / "examples" / "claims.json"


def _run(tmp_path: Path, body: str) -> subprocess.CompletedProcess:
    script = tmp_path / "judge_claims.py"
    script.write_text(
        textwrap.dedent(f"""\
        import json
        import payerpolicy
        claims = json.loads(open({str(CLAIMS)!r}).read())
        """)
        + textwrap.dedent(body)
    )
    return subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120, cwd=tmp_path)


def test_a_script_without_a_main_guard_is_told_how_to_fix_it(tmp_path):
    run = _run(
        tmp_path,
        """\
        decisions = list(payerpolicy.load("medicare").check_many(claims, workers=2))
        print("judged", len(decisions))
        """,
    )
    assert run.returncode == 1 and "judged" not in run.stdout
    last = run.stderr.strip().splitlines()[-1]
    assert last == ("payerpolicy.parallel.WorkerError: " + payerpolicy.parallel.UNGUARDED_MAIN_MESSAGE)
    assert 'Put the code that judges claims under `if __name__ == "__main__":`' in last
    # No worker printed multiprocessing's own complaint or a traceback of its start.
    assert "bootstrapping phase" not in run.stderr and "spawn_main" not in run.stderr
    assert run.stderr.count("Traceback") == 1


def test_the_same_script_with_the_guard_judges_and_the_error_is_catchable(tmp_path):
    run = _run(
        tmp_path,
        """\
        if __name__ == "__main__":
            decisions = list(payerpolicy.load("medicare").check_many(claims, workers=2))
            print("judged", len(decisions))
        """,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == f"judged {len(__import__('json').loads(CLAIMS.read_text()))}"
    run = _run(
        tmp_path,
        """\
        try:
            list(payerpolicy.load("medicare").check_many(claims, workers=2))
        except payerpolicy.WorkerError as exc:
            print("caught:", exc)
        """,
    )
    assert run.stdout.startswith("caught: the worker processes could not start") and run.stderr == ""
