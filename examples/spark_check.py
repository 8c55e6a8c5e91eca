"""Judge claims on Apache Spark: JSON Lines or Parquet in, Parquet of decisions out.

    pip install 'payerpolicy[spark]'            # and Java 17 or newer
    python examples/spark_check.py claims.jsonl decisions.parquet
    spark-submit --master yarn --py-files payerpolicy-0.1.0-py3-none-any.whl \\
        examples/spark_check.py hdfs:///claims/2026-12/ hdfs:///decisions/2026-12/ --partitions 400

A path ending in .parquet (or a folder of Parquet files, with --parquet) is read as Parquet holding either a
column of claim JSON text or the claim schema's columns; anything else as JSON Lines, one claim per line.
Decisions are written with the decision JSON's fields as columns (payerpolicy.spark.DECISION_SCHEMA), plus
`position`, the claim's place in the input, to sort them back into input order.

With --history DIR, the claims judged before count (as `payerpolicy check --history FILE` counts them): DIR
is a Parquet table of earlier judged lines (payerpolicy.spark.HISTORY_SCHEMA; it need not exist on the first
run), and this run's lines are appended to it once the decisions are written.

    python examples/spark_check.py october.jsonl decisions-10.parquet --history history.parquet
    python examples/spark_check.py november.jsonl decisions-11.parquet --history history.parquet
"""

from __future__ import annotations

import argparse
import datetime
import sys

from pyspark.sql import SparkSession

from payerpolicy import Policies, PolicyError
from payerpolicy.spark import Judged, judge


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("claims", help="claims: JSON Lines, or Parquet (a .parquet path, or --parquet)")
    parser.add_argument("out", help="where to write the decisions, as Parquet")
    parser.add_argument("--parquet", action="store_true", help="read the claims as Parquet whatever the name")
    parser.add_argument(
        "--policies",
        action="append",
        default=[],
        metavar="DIR",
        help="a folder of your own payers' policy folders (searched before the shipped ones)",
    )
    parser.add_argument("--partitions", type=int, help="partitions to judge in (default: Spark's setting)")
    parser.add_argument("--as-of", type=datetime.date.fromisoformat, help="policies as known on YYYY-MM-DD")
    parser.add_argument(
        "--received", type=datetime.date.fromisoformat, help="the date the payer receives the claims (default today)"
    )
    parser.add_argument(
        "--history",
        metavar="DIR",
        help="a Parquet table of earlier judged lines: counted, and this run's lines appended",
    )
    args = parser.parse_args(argv)

    spark = SparkSession.builder.appName("payerpolicy").getOrCreate()
    try:
        parquet = args.parquet or args.claims.rstrip("/").endswith(".parquet")
        claims = spark.read.parquet(args.claims) if parquet else spark.read.text(args.claims)
        policies = Policies(args.policies, as_of=args.as_of)
        earlier = args.history if args.history and _exists(spark, args.history) else None
        try:
            judged = judge(
                claims,
                policies,
                as_of=args.as_of,
                received=args.received,
                partitions=args.partitions,
                history=earlier,
                record_history=bool(args.history),
            )
        except PolicyError as error:  # every mistake of the policy, before any task ran
            print(error, file=sys.stderr)
            return 2
        if isinstance(judged, Judged):
            judged.persist()  # judged once: the decisions and the lines recorded come from one pass
            judged.decisions.write.mode("overwrite").parquet(args.out)
            judged.history.write.mode("append").parquet(args.history)
            judged.unpersist()
        else:
            judged.write.mode("overwrite").parquet(args.out)
        counts = {row.status: row["count"] for row in spark.read.parquet(args.out).groupBy("status").count().collect()}
        print(", ".join(f"{counts[s]} {s}" for s in sorted(counts)) or "no claims")
        return 0
    finally:
        spark.stop()


def _exists(spark: SparkSession, path: str) -> bool:
    """Whether the history table is there yet (on any file system Spark reads: local, HDFS, S3)."""
    jvm = spark.sparkContext._jvm
    hadoop_path = jvm.org.apache.hadoop.fs.Path(path)
    return hadoop_path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()).exists(hadoop_path)


if __name__ == "__main__":
    sys.exit(main())
