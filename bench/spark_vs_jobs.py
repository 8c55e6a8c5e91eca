"""The Spark job on `local[N]` against `payerpolicy check --jobs N`, on the same generated claims.

    pip install -e '.[spark]' && python bench/spark_vs_jobs.py --claims 200000 --rounds 3

Each round runs both, in turns (Spark, then the command line, then Spark ...), as whole processes: wall time
from start to exit, and CPU seconds (user + system) of the process and everything it waited for (Spark's JVM
and its Python workers; the command line and its worker processes). Printed per round and as medians, with
claims/s, CPU microseconds per claim and the ratios, so a noisy machine moves both sides alike. Start-up is
included on both sides: it is what a user waits for. Decisions are written to /dev/null (the command line)
and counted without being written (Spark), so that neither side pays for the other's output format.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import generate  # noqa: E402

SPARK_JOB = """
import os, sys
from pyspark.sql import SparkSession
from payerpolicy.spark import judge


def cpu_of_tree(root):
    # user + system seconds of the JVM and every process below it (the Python daemon and its workers),
    # including children they have waited for; read before the session stops and they exit.
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = open(f"/proc/{entry}/stat").read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry)] = (int(fields[1]), sum(int(v) for v in fields[11:15]))
    def below(pid):
        return pid == root or (pid in parents and parents[pid][0] != pid and below(parents[pid][0]))
    return sum(ticks for pid, (_, ticks) in parents.items() if below(pid)) / os.sysconf("SC_CLK_TCK")


spark = (SparkSession.builder.master(sys.argv[2]).config("spark.ui.enabled", "false")
         .config("spark.sql.shuffle.partitions", sys.argv[3]).getOrCreate())
spark.sparkContext.setLogLevel("ERROR")
count = judge(spark.read.text(sys.argv[1]), partitions=int(sys.argv[3])).groupBy("status").count().collect()
print(sorted((row.status, row["count"]) for row in count))
print("tree-cpu", cpu_of_tree(spark.sparkContext._gateway.proc.pid), file=sys.stderr)
spark.stop()
"""


def _timed(command: list[str]) -> tuple[float, float]:
    """Wall seconds, and CPU seconds of the command and all it ran: what the OS accounts to the children
    waited for, plus what a Spark job reports for its JVM's process tree (not waited for by anyone here)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if done.returncode not in (0, 1, 3):  # 1 and 3: some claims denied or unreadable, as generated claims are
        raise SystemExit(f"{command[0]} failed ({done.returncode}): {done.stderr[-2000:]}")
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    tree = sum(float(line.split()[1]) for line in done.stderr.splitlines() if line.startswith("tree-cpu "))
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime) + tree


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--claims", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cores", type=int, default=2, help="Spark's local[N] and the command line's --jobs N")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        corpus = Path(folder) / "claims.jsonl"
        with corpus.open("w", encoding="utf-8") as out:
            for claim in generate.claims(args.claims, 2026, patients=max(1, args.claims // 10), days=300):
                out.write(json.dumps(claim) + "\n")
        job = Path(folder) / "job.py"
        job.write_text(SPARK_JOB, encoding="utf-8")
        spark = [sys.executable, str(job), str(corpus), f"local[{args.cores}]", str(args.cores)]
        check = ["sh", "-c", f'exec payerpolicy check --jobs {args.cores} --format json "{corpus}" > /dev/null']
        rounds = []
        for number in range(1, args.rounds + 1):
            spark_wall, spark_cpu = _timed(spark)
            check_wall, check_cpu = _timed(check)
            rounds.append((spark_wall, spark_cpu, check_wall, check_cpu))
            print(
                f"round {number}: spark {spark_wall:.1f} s wall, {spark_cpu:.1f} s cpu; "
                f"check --jobs {args.cores} {check_wall:.1f} s wall, {check_cpu:.1f} s cpu",
                flush=True,
            )
    n = args.claims
    spark_wall, spark_cpu, check_wall, check_cpu = (statistics.median(r[i] for r in rounds) for i in range(4))
    print(f"\n{n:,} claims, medians of {args.rounds} paired rounds, {os.cpu_count()} cores on the machine:")
    print(
        f"  spark local[{args.cores}]:        {n / spark_wall:8,.0f} claims/s, {spark_cpu / n * 1e6:6.0f} us cpu/claim"
    )
    print(
        f"  check --jobs {args.cores}:         {n / check_wall:8,.0f} claims/s, {check_cpu / n * 1e6:6.0f} us cpu/claim"
    )
    print(
        f"  spark / check: {statistics.median(r[2] / r[0] for r in rounds):.2f}x the speed, "
        f"{statistics.median(r[1] / r[3] for r in rounds):.2f}x the cpu (paired per round)"
    )


if __name__ == "__main__":
    main()
