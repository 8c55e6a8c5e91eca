"""payerpolicy against an earlier version of itself on the peer benchmark's claims, in one paired run.

    git worktree add /tmp/base <commit>            # the version to compare with, beside this clone
    python bench/peers/before_after.py /tmp/base/src --n 5000 --rounds 7
    python bench/peers/before_after.py /tmp/base/src --road check_many   # the run's road, Judge.decide

Two worker processes, one importing payerpolicy from this clone's src/ and one from the given src/ folder,
each load policies/payerpolicy/ and make the batch's claim dicts (as engines.setup_payerpolicy does), check
that they give the same violations, then judge the whole batch with `Policy.check`, one claim per call (or, with `--road check_many`, with
`Policy.check_many`, the road of runs and of claims judged in their day's context: `Judge.decide`), in
turns: before, after, after, before... (GC on, as in an application), so both see the same load on a shared
machine. Printed: each round's claims/s, and the median over rounds of after/before, paired round by round.
"""

import argparse
import hashlib
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
OWN_SRC = os.path.join(HERE, "..", "..", "src")


def worker(n: int, road: str) -> None:
    """Read 'go' lines from stdin; after each, judge the batch and write the seconds it took."""
    sys.path.insert(0, HERE)
    import claimgen
    import engines

    policy = engines.load_payerpolicy()
    records = [engines.payerpolicy_record(c, "C%d" % i) for i, c in enumerate(claimgen.make_claims(n))]
    violations = engines.payerpolicy_violations

    def judge_all() -> list:
        if road == "check_many":
            return list(policy.check_many(records))
        return [policy.check(record) for record in records]

    found = [violations(d) for d in judge_all()]  # warms up; the answer both versions must agree on
    listed = repr(sorted((i, tuple(v)) for i, vs in enumerate(found) for v in vs))
    print(hashlib.sha256(listed.encode()).hexdigest(), flush=True)
    for _ in sys.stdin:
        start = time.perf_counter()
        judge_all()
        print(time.perf_counter() - start, flush=True)


def start(src: str, n: int, road: str) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=os.path.abspath(src))
    return subprocess.Popen(
        [sys.executable, os.path.abspath(__file__), "--worker", "--n", str(n), "--road", road],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before_src", nargs="?", help="the src/ folder of the version to compare with")
    parser.add_argument("--n", type=int, default=5000, help="claims in the batch")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument(
        "--road", choices=("check", "check_many"), default="check", help="Policy.check per claim, or check_many"
    )
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args.n, args.road)
    if not args.before_src:
        parser.error("give the src/ folder of the version to compare with")
    before, after = start(args.before_src, args.n, args.road), start(OWN_SRC, args.n, args.road)
    agreed = before.stdout.readline().strip(), after.stdout.readline().strip()
    if agreed[0] != agreed[1]:
        sys.exit("the two versions find different violations on this batch: not comparable")
    ratios = []
    for round_ in range(args.rounds):
        took = {}
        # Who goes first alternates, so that neither is always the one running after the other's garbage.
        for proc in (before, after) if round_ % 2 == 0 else (after, before):
            proc.stdin.write("go\n")
            proc.stdin.flush()
            took[proc] = float(proc.stdout.readline())
        seconds = [took[before], took[after]]
        ratios.append(seconds[0] / seconds[1])
        print(
            f"round {round_ + 1}: before {args.n / seconds[0]:,.0f} claims/s, "
            f"after {args.n / seconds[1]:,.0f} claims/s, after/before {ratios[-1]:.2f}",
            flush=True,
        )
    for proc in (before, after):
        proc.stdin.close()
        proc.wait()
    print(
        f"median after/before over {args.rounds} paired rounds: {statistics.median(ratios):.2f} "
        f"(n={args.n} claims, road {args.road}; same violations)"
    )


if __name__ == "__main__":
    main()
