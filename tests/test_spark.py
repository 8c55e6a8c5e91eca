"""The Spark job (`payerpolicy.spark.judge`) gives the command line's decisions, claim by claim, however the
claims are partitioned; a bad claim is a row with its errors; a bad policy fails before any task runs; with a
history table of earlier judged lines, a later run decides as `payerpolicy check --history` does.

Needs the `spark` extra and Java. Locally these tests skip when either is missing; CI sets
PAYERPOLICY_REQUIRE_OPTIONAL=1, which turns the skip into a failure.
"""

from __future__ import annotations

import datetime
import json
import os
import random
import shutil
import sys
from pathlib import Path

import pytest

import payerpolicy
from payerpolicy import PolicyError

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import generate  # noqa: E402  (bench/generate.py: the seeded claim generator the benchmarks use)


def _require(what: str, present: bool) -> None:
    if present:
        return
    if os.environ.get("PAYERPOLICY_REQUIRE_OPTIONAL") == "1":
        pytest.fail(f"{what} is required here (PAYERPOLICY_REQUIRE_OPTIONAL=1) but missing")
    pytest.skip(f"{what} is missing: install the `spark` extra (pip install -e '.[spark]') and a Java runtime")


try:
    import pyspark  # noqa: F401

    HAVE_PYSPARK = True
except ImportError:
    HAVE_PYSPARK = False

AS_OF = RECEIVED = datetime.date(2026, 12, 1)


@pytest.fixture(scope="module")
def spark():
    _require("pyspark", HAVE_PYSPARK)
    _require("Java", shutil.which("java") is not None or bool(os.environ.get("JAVA_HOME")))
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("payerpolicy-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.driver.memory", "1g")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def _corpus(count: int, seed: int) -> list[dict]:
    """Claims with many patients sharing days (code pairs and caps across claims) and enough charges over a
    year to pass the therapy threshold (KX), shuffled so that input order is not patient order."""
    claims = generate.claims(count, seed, patients=max(1, count // 20), days=60)
    for number, claim in enumerate(claims):
        claim["id"] = f"C-{number}"
    random.Random(seed).shuffle(claims)
    return claims


def _command_line_decisions(path: Path) -> list[str]:
    # The command line with a window as large as the file: every claim of a patient in one group, as a Spark
    # partition has them (README: which claims are judged together).
    with payerpolicy.Session(as_of=AS_OF, received=RECEIVED, window=100_000) as session:
        return [json.dumps(d.to_dict()) for d in session.check_many(payerpolicy.read_claims(path))]


def _spark_decisions(spark, path: Path, partitions: int) -> list[str]:
    from payerpolicy.spark import judge

    decided = judge(spark.read.text(str(path)), as_of=AS_OF, received=RECEIVED, partitions=partitions)
    return [row.decision for row in decided.orderBy("position").select("decision").collect()]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("spark") / "claims.jsonl"
    path.write_text("\n".join(json.dumps(c) for c in _corpus(20_000, 19)) + "\n", encoding="utf-8")
    return path


def test_the_corpus_has_findings_across_claims_and_over_the_year(corpus):
    """Guards the equality test below: it means something only if rules looking past one claim fire."""
    families = {
        json.loads(d)["findings"][i]["rule"]
        for d in _command_line_decisions(corpus)
        for i in range(len(json.loads(d)["findings"]))
    }
    assert any(".kx" in rule or "threshold" in rule for rule in families), sorted(families)
    assert any(".pair." in rule for rule in families), sorted(families)


@pytest.mark.parametrize("partitions", [1, 2, 7])
def test_spark_gives_the_command_lines_decisions_for_any_partitioning(spark, corpus, partitions):
    expected = _command_line_decisions(corpus)
    got = _spark_decisions(spark, corpus, partitions)
    assert len(got) == len(expected) == 20_000
    differing = [i for i, (a, b) in enumerate(zip(got, expected)) if a != b]
    assert not differing, (
        f"{len(differing)} of {len(got)} claims differ; the first:\n"
        f"spark: {got[differing[0]]}\ncheck: {expected[differing[0]]}"
    )


def test_a_bad_claim_is_a_row_with_its_errors_and_the_rest_are_judged(spark, tmp_path):
    good = generate.claims(3, 5)
    path = tmp_path / "mixed.jsonl"
    path.write_text(
        "\n".join(
            [json.dumps(good[0]), "{not json", json.dumps({"id": "X-1", "lines": "none"}), "", json.dumps(good[1])]
        )
        + "\n",
        encoding="utf-8",
    )
    from payerpolicy.spark import judge

    rows = judge(spark.read.text(str(path)), as_of=AS_OF, received=RECEIVED).orderBy("position").collect()
    assert [r.status for r in rows] == [_status(good[0]), "error", "error", "error", _status(good[1])]
    assert rows[1].errors[0].field == "json" and "not valid JSON" in rows[1].errors[0].message
    assert rows[2].id == "X-1" and any(e.field == "lines" for e in rows[2].errors)
    assert rows[3].errors[0].field == "json"  # an empty row is a claim that cannot be read, not a lost row


def _status(claim: dict) -> str:
    return payerpolicy.load("medicare", as_of=AS_OF).check(claim, received=RECEIVED).status


def test_claims_given_as_columns_are_judged_as_their_json(spark, tmp_path):
    claims = generate.claims(40, 8)
    path = tmp_path / "claims.jsonl"
    path.write_text("\n".join(json.dumps(c) for c in claims) + "\n", encoding="utf-8")
    from payerpolicy.spark import judge

    as_columns = spark.read.json(str(path))  # the claim schema's own columns, not text
    got = {r.id: r.status for r in judge(as_columns, as_of=AS_OF, received=RECEIVED).collect()}
    with payerpolicy.Session(as_of=AS_OF, received=RECEIVED) as session:
        expected = {d.id: d.status for d in session.check_many(claims)}
    assert got == expected
    bare = judge(as_columns, as_of=AS_OF, received=RECEIVED, decision_json=False).collect()
    assert {r.id: r.status for r in bare} == expected and all(r.decision is None for r in bare)


def test_a_policy_with_errors_fails_the_job_before_any_task(spark, tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "policy.yaml").write_text(
        "policy: {payer: broken, name: Broken, version: '1'}\nrules:\n  - id: broken.r\n    when: line.units >>> 2\n",
        encoding="utf-8",
    )
    from payerpolicy.spark import judge

    with pytest.raises(PolicyError) as raised:
        judge(spark.read.text(str(tmp_path)), policies=str(broken))
    assert "policy.yaml:3:5" in str(raised.value) and "missing `source`" in str(raised.value)


def test_the_example_job_writes_parquet_decisions(spark, tmp_path):
    """examples/spark_check.py as a user runs it (its own Spark, local): JSON Lines in, Parquet out."""
    import subprocess

    claims = generate.claims(30, 3)
    path = tmp_path / "claims.jsonl"
    path.write_text("\n".join(json.dumps(c) for c in claims) + "\n", encoding="utf-8")
    example = Path(__file__).resolve().parent.parent / "examples" / "spark_check.py"
    done = subprocess.run(
        [
            sys.executable,
            str(example),
            str(path),
            str(tmp_path / "out.parquet"),
            "--received",
            "2026-12-01",
            "--as-of",
            "2026-12-01",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    written = spark.read.parquet(str(tmp_path / "out.parquet"))
    assert written.count() == 30
    with payerpolicy.Session(as_of=AS_OF, received=RECEIVED) as session:
        expected = {d.id: d.status for d in session.check_many(claims)}
    assert {r.id: r.status for r in written.select("id", "status").collect()} == expected
    assert "accepted" in done.stdout or "denied" in done.stdout


# -- the claim history as data --------------------------------------------------------------------------------


def _two_runs(count: int, seed: int) -> tuple[list[dict], list[dict]]:
    """An earlier run and a later one of a dense population (patients pass the year's KX threshold), the
    later one with a replacement (fewer units) of one earlier claim and a void of another."""
    claims = generate.claims(count, seed, patients=max(1, count // 50), days=60)
    random.Random(seed).shuffle(claims)
    earlier = [c for c in claims if c["lines"][0]["date"] < "2026-02-05"]
    later = [c for c in claims if c["lines"][0]["date"] >= "2026-02-05"]
    replaced = json.loads(json.dumps(earlier[5]))
    replaced["frequency"] = "7"
    replaced["lines"][0]["units"] = 1
    later += [replaced, dict(json.loads(json.dumps(earlier[9])), frequency="8")]
    return earlier, later


def _check_with_history(path: Path, history: Path) -> list[str]:
    """`payerpolicy check --history` as a user runs it; each claim's decision JSON, in input order."""
    import subprocess

    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "payerpolicy",
            "check",
            str(path),
            "--history",
            str(history),
            "--as-of",
            AS_OF.isoformat(),
            "--received",
            RECEIVED.isoformat(),
            "--window",
            "100000",
            "--quiet",
            "--fail-on",
            "never",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return [json.dumps(d) for d in json.loads(done.stdout)["claims"]]


def _history_file_lines(path: Path, claims: list[dict]) -> set[tuple]:
    from payerpolicy.judge.history import ClaimHistory

    patients = {c["patient"]["id"] for c in claims}
    with ClaimHistory(path) as store:
        return {
            (
                line.patient_id,
                line.claim_id,
                line.number,
                line.code,
                tuple(line.modifiers),
                line.units,
                line.charge,
                line.date_of_service,
                line.provider_type,
                line.discipline,
                line.payer,
                line.allowed,
            )
            for p in patients
            for line in store.lines(p, datetime.date.min, datetime.date.max)
        }


@pytest.fixture(scope="module")
def history_runs(tmp_path_factory):
    """The two runs as files, and what `check --history` decided on the later one and left in its file."""
    folder = tmp_path_factory.mktemp("history-runs")
    earlier, later = _two_runs(4_000, 23)
    for name, claims in (("earlier", earlier), ("later", later)):
        (folder / f"{name}.jsonl").write_text("\n".join(json.dumps(c) for c in claims) + "\n", encoding="utf-8")
    history = folder / "history.sqlite"
    _check_with_history(folder / "earlier.jsonl", history)
    expected = _check_with_history(folder / "later.jsonl", history)
    return folder, expected, _history_file_lines(history, earlier + later)


def test_the_earlier_run_changes_the_later_one_s_decisions_over_the_year(history_runs):
    """Guards the test below: the history must matter (KX crossings counted from the earlier run)."""
    folder, expected, _ = history_runs
    with payerpolicy.Session(as_of=AS_OF, received=RECEIVED, window=100_000) as session:
        alone = [json.dumps(d.to_dict()) for d in session.check_many(payerpolicy.read_claims(folder / "later.jsonl"))]
    changed = [json.loads(a) for a, b in zip(expected, alone) if a != b]
    assert sum(any(".kx" in f["rule"] or "threshold" in f["rule"] for f in d["findings"]) for d in changed) >= 5


@pytest.mark.parametrize("partitions", [1, 3])
def test_spark_with_a_history_table_gives_check_history_s_decisions(spark, history_runs, partitions, tmp_path):
    from payerpolicy.spark import HISTORY_SCHEMA, current_history, judge

    folder, expected, file_lines = history_runs
    table = str(tmp_path / "history")
    first = judge(
        spark.read.text(str(folder / "earlier.jsonl")),
        as_of=AS_OF,
        received=RECEIVED,
        partitions=partitions,
        record_history=True,
    )
    first.history.write.parquet(table)  # the first run's lines start the history table
    second = judge(
        spark.read.text(str(folder / "later.jsonl")),
        as_of=AS_OF,
        received=RECEIVED,
        partitions=partitions,
        history=table,
        record_history=True,
    )
    second.persist()
    got = [row.decision for row in second.decisions.orderBy("position").select("decision").collect()]
    assert len(got) == len(expected)
    differing = [i for i, (a, b) in enumerate(zip(got, expected)) if a != b]
    assert not differing, (
        f"{len(differing)} of {len(got)} claims differ; the first:\n"
        f"spark: {got[differing[0]]}\ncheck: {expected[differing[0]]}"
    )
    second.history.write.mode("append").parquet(table)  # ... and the second run's are appended
    written = spark.read.parquet(table)
    assert [f.name for f in written.schema.fields] == [c.split(" ")[0] for c in HISTORY_SCHEMA.split(", ")]
    current = {
        (
            r.patient_id,
            r.claim_id,
            r.number,
            r.code,
            tuple(r.modifiers),
            r.units,
            r.charge,
            r.date_of_service,
            r.provider_type,
            r.discipline,
            r.payer,
            r.allowed,
        )
        for r in current_history(written).collect()
    }
    assert current == file_lines  # the table now counts what check's history file counts
    voided = json.loads((folder / "later.jsonl").read_text().splitlines()[-1])
    assert written.where(f"claim_id = '{voided['id']}' and frequency = '8'").count() == 1


def test_a_history_without_the_history_columns_is_refused_before_any_task(spark, tmp_path):
    from payerpolicy.spark import judge

    claims = spark.read.text(str(tmp_path))
    with pytest.raises(ValueError, match="the history has no column `claim_id`"):
        judge(claims, as_of=AS_OF, received=RECEIVED, history=spark.createDataFrame([("P-1",)], "patient_id string"))


def test_the_example_job_keeps_a_history_table_across_runs(spark, history_runs, tmp_path):
    """examples/spark_check.py --history, run twice as a user would: the second run's decisions are those of
    `check --history` after the first run."""
    import subprocess

    folder, expected, _ = history_runs
    example = Path(__file__).resolve().parent.parent / "examples" / "spark_check.py"
    table = tmp_path / "history.parquet"
    for run in ("earlier", "later"):
        done = subprocess.run(
            [
                sys.executable,
                str(example),
                str(folder / f"{run}.jsonl"),
                str(tmp_path / f"{run}.parquet"),
                "--history",
                str(table),
                "--partitions",
                "2",
                "--received",
                RECEIVED.isoformat(),
                "--as-of",
                AS_OF.isoformat(),
            ],
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, done.stderr[-2000:]
    written = spark.read.parquet(str(tmp_path / "later.parquet"))
    assert [r.decision for r in written.orderBy("position").select("decision").collect()] == expected
    assert spark.read.parquet(str(table)).select("recorded_at").distinct().count() == 2  # one per run
