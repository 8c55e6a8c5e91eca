"""payerpolicy against an earlier version of itself on the peer benchmark's claims, in one paired run.

    git worktree add /tmp/base <commit>            # the version to compare with, beside this clone
    python bench/peers/before_after.py /tmp/base/src --n 5000 --rounds 7

Two worker processes, one importing payerpolicy from this clone's src/ and one from the given src/ folder,
each load policies/payerpolicy/ and make the batch's claim dicts (as engines.setup_payerpolicy does), check
that they give the same violations, then judge the whole batch with `Policy.check`, one claim per call, in
turns: before, after, before, after... (GC on, as in an application), so both see the same load on a shared
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


def worker(n: int) -> None:
    """Read 'go' lines from stdin; after each, judge the batch and write the seconds it took."""
    sys.path.insert(0, HERE)
    import claimgen
    import engines

    policy = engines.load_payerpolicy()
    records = [engines.payerpolicy_record(c, "C%d" % i) for i, c in enumerate(claimgen.make_claims(n))]
    check, violations = policy.check, engines.payerpolicy_violations
    found = [violations(check(r)) for r in records]  # warms up; the answer both versions must agree on
    listed = repr(sorted((i, tuple(v)) for i, vs in enumerate(found) for v in vs))
    print(hashlib.sha256(listed.encode()).hexdigest(), flush=True)
    for _ in sys.stdin:
        start = time.perf_counter()
        for record in records:
            check(record)
        print(time.perf_counter() - start, flush=True)


def start(src: str, n: int) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=os.path.abspath(src))
    return subprocess.Popen(
        [sys.executable, os.path.abspath(__file__), "--worker", "--n", str(n)],
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
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args.n)
    if not args.before_src:
        parser.error("give the src/ folder of the version to compare with")
    before, after = start(args.before_src, args.n), start(OWN_SRC, args.n)
    agreed = before.stdout.readline().strip(), after.stdout.readline().strip()
    if agreed[0] != agreed[1]:
        sys.exit("the two versions find different violations on this batch: not comparable")
    ratios = []
    for round_ in range(args.rounds):
        seconds = []
        for proc in (before, after):
            proc.stdin.write("go\n")
            proc.stdin.flush()
            seconds.append(float(proc.stdout.readline()))
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
        f"(n={args.n} claims; same violations)"
    )


if __name__ == "__main__":
    main()
