"""Benchmark: the claim readers of this tree against another's (a commit checked out elsewhere), paired.

    python bench/readers_ab.py --base SRC_DIR [--claims N] [--pairs N] [--repeat N] [--roads json,x12-careful,...]

SRC_DIR is the `src` folder of the other tree (`git worktree add DIR COMMIT`, then DIR/src). Writes N generated
claims (bench/generate.py) as JSON Lines and as an 837P interchange (bench/x12_corpus.py), then for each road
reads the whole file into the claim model in a fresh process of each tree, in pairs, alternating which goes
first:

- json: `claim_from_dict` on each decoded line (the quick road, the careful one for what it sends aside);
- json-careful: `claim_field_by_field` on each decoded line (every claim read field by field);
- x12: `read_x12` (the quick road, the careful one for what it sends aside);
- x12-careful: `read_x12(quick=False)`.

Only the reading is timed (CPU seconds inside the child: decoding JSON, imports and start-up are left out), --repeat
times in each process, the least counting (as `timeit` does: the others were disturbed more by the machine).
`payerpolicy check` end to end is bench/check_ab.py's. Prints each pair's seconds and the ratio this / base,
then each road's median ratio; and checks that both trees read the same records (a digest of their reprs):
a faster read of other records is no result.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import generate  # noqa: E402
import paired  # noqa: E402
import x12_corpus  # noqa: E402

ROADS = ("json", "json-careful", "x12", "x12-careful")


def read_in_child(road: str, path: str, repeat: int) -> None:
    """In the child: read `path` by `road` `repeat` times, each record dropped once read (as `check` streams
    them: a list of them all would make the collector's full passes the measure); print the least CPU
    seconds, and the digest of the records of one more, untimed, read."""
    from payerpolicy.claims import json_claims, x12

    with open(path, encoding="utf-8") as source:
        text = source.read()
    decoded = [json.loads(row) for row in text.splitlines()] if road.startswith("json") else []
    read_claim = json_claims.claim_from_dict if road == "json" else json_claims.claim_field_by_field

    def records():
        if decoded:
            return map(read_claim, decoded)
        return x12.read_x12(text, "claims.837", quick=road == "x12")

    times = []
    for _ in range(repeat):
        start = time.process_time()
        for _record in records():
            pass
        times.append(time.process_time() - start)
    digest, count = hashlib.sha256(), 0
    for record in records():
        digest.update(repr(record).encode())
        count += 1
    print(json.dumps({"seconds": min(times), "digest": digest.hexdigest(), "records": count}))


def timed(src: str, road: str, path: str, repeat: int) -> tuple[float, str]:
    """The least CPU seconds of the tree in `src` reading `path` by `road`, and the digest of its records."""
    child = paired.child_json(src, [__file__, "--child", road, path, str(repeat)])
    return child["seconds"], child["digest"]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    paired.add_base(parser)
    parser.add_argument("--claims", type=int, default=5_000)
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=5, help="reads of the file in each process; the least counts")
    parser.add_argument("--roads", default=",".join(ROADS), help="which roads, comma-separated")
    parser.add_argument("--child", nargs=3, metavar=("ROAD", "FILE", "REPEAT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        read_in_child(args.child[0], args.child[1], int(args.child[2]))
        return 0
    base = paired.check_base(parser, args.base)
    with tempfile.TemporaryDirectory(prefix="payerpolicy-readers-") as folder:
        claims = generate.claims(args.claims)
        files = {"json": os.path.join(folder, "claims.jsonl"), "x12": os.path.join(folder, "claims.837")}
        with open(files["json"], "w") as out:
            out.writelines(json.dumps(claim) + "\n" for claim in claims)
        with open(files["x12"], "w") as out:
            x12_corpus.write_837p(out, iter(claims))
        print(f"reading {args.claims:,} generated claims; CPU seconds of the reading, this tree / base")
        medians = {}
        for road in args.roads.split(","):
            path = files[road.split("-")[0]]
            medians[road] = paired.median_ratio(
                base,
                args.pairs,
                lambda name, src, road=road, path=path: timed(src, road, path, args.repeat),
                f"{road:12} ",
            )
    for road, median in medians.items():
        print(f"  {road:12} median ratio this / base: {median:.3f} (records identical)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
