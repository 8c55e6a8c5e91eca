"""Judge claims on Apache Spark: JSON Lines or Parquet in, Parquet of decisions out.

    pip install 'payerpolicy[spark]'            # and Java 17 or newer
    python examples/spark_check.py claims.jsonl decisions.parquet
    spark-submit --master yarn --py-files payerpolicy-0.1.0-py3-none-any.whl \\
        examples/spark_check.py hdfs:///claims/2026-12/ hdfs:///decisions/2026-12/ --partitions 400

A path ending in .parquet (or a folder of Parquet files, with --parquet) is read as Parquet holding either a
column of claim JSON text or the claim schema's columns; anything else as JSON Lines, one claim per line.
Decisions are written with the decision JSON's fields as columns (payerpolicy.spark.DECISION_SCHEMA), plus
`position`, the claim's place in the input, to sort them back into input order.
"""
from __future__ import annotations

import argparse
import datetime
import sys

from pyspark.sql import SparkSession

from payerpolicy import Policies, PolicyError
from payerpolicy.spark import judge


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("claims", help="claims: JSON Lines, or Parquet (a .parquet path, or --parquet)")
    parser.add_argument("out", help="where to write the decisions, as Parquet")
    parser.add_argument("--parquet", action="store_true", help="read the claims as Parquet whatever the name")
    parser.add_argument("--policies", action="append", default=[], metavar="DIR",
                        help="a folder of your own payers' policy folders (searched before the shipped ones)")
    parser.add_argument("--partitions", type=int, help="partitions to judge in (default: Spark's setting)")
    parser.add_argument("--as-of", type=datetime.date.fromisoformat, help="policies as known on YYYY-MM-DD")
    parser.add_argument("--received", type=datetime.date.fromisoformat,
                        help="the date the payer receives the claims (default today)")
    args = parser.parse_args(argv)

    spark = SparkSession.builder.appName("payerpolicy").getOrCreate()
    try:
        parquet = args.parquet or args.claims.rstrip("/").endswith(".parquet")
        claims = spark.read.parquet(args.claims) if parquet else spark.read.text(args.claims)
        policies = Policies(args.policies, as_of=args.as_of)
        try:
            decisions = judge(claims, policies, as_of=args.as_of, received=args.received,
                              partitions=args.partitions)
        except PolicyError as error:  # every mistake of the policy, before any task ran
            print(error, file=sys.stderr)
            return 2
        decisions.write.mode("overwrite").parquet(args.out)
        counts = {row.status: row["count"] for row in spark.read.parquet(args.out).groupBy("status").count().collect()}
        print(", ".join(f"{counts[s]} {s}" for s in sorted(counts)) or "no claims")
        return 0
    finally:
        spark.stop()


if __name__ == "__main__":
    sys.exit(main())
