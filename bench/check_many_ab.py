"""Benchmark: `Policy.check_many` of this tree against another's, paired, in an application with a heap.

    python bench/check_many_ab.py --base SRC_DIR [--claims N] [--pairs N] [--heap N]

SRC_DIR is the `src` folder of the other tree (`git worktree add DIR COMMIT`, then DIR/src). Each pair runs,
in a fresh process per tree and alternating which goes first, the same generated claims (bench/generate.py,
the benchmark's Medicare policy) through `check_many` from their claim JSON dicts, the garbage collector on,
with `--heap` objects of the application's own alive (a million by default; 0 for none), and takes the CPU
seconds of the judging alone (not start-up or making the claims). It prints each pair and the median ratio
this / base (below 1: this tree is faster), and fails when the two trees made different decisions.

`bench/check_many_heap.py` compares `check_many` with `check` inside one tree; this one says whether a change
made `check_many` itself faster.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import paired  # noqa: E402

BENCH = str(Path(__file__).resolve().parent)

# Run in the child, with the tree under test first on the path: judge, and print CPU seconds and a digest.
_CHILD = """
import gc, hashlib, json, sys, time
sys.path.insert(0, {bench!r})
import floor, generate, payerpolicy
policy = payerpolicy.load(floor.POLICY_FOLDER)
claims = generate.claims({claims})
heap = [[n, str(n)] for n in range({heap})]
gc.collect()
start = time.process_time()
for decision in policy.check_many(claims):  # as an application that hands each decision on
    pass
seconds = time.process_time() - start
decisions = [d.to_dict() for d in policy.check_many(claims)]  # again, untimed, for the digest
digest = hashlib.sha256(json.dumps(decisions, sort_keys=True).encode()).hexdigest()
print(json.dumps([seconds, digest]))
"""


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    paired.add_base(parser)
    parser.add_argument("--claims", type=int, default=10_000)
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument("--heap", type=int, default=1_000_000, help="objects the application holds (1,000,000)")
    args = parser.parse_args(argv)
    base = paired.check_base(parser, args.base)
    child = _CHILD.format(bench=BENCH, claims=args.claims, heap=args.heap)

    def measure(name: str, src: str) -> tuple[float, str]:
        seconds, digest = paired.child_json(src, ["-c", child])
        return seconds, digest

    print(f"check_many of {args.claims:,} claims from claim JSON dicts, a heap of {args.heap:,} objects")
    ratio = paired.median_ratio(base, args.pairs, measure)
    print(f"check_many CPU seconds, this / base, median of {args.pairs} pairs: {ratio:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
