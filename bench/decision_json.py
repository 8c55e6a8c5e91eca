"""Benchmark: writing a decision's JSON straight from it (`render.decision_json`) against
`json.dumps(decision.to_dict())`, as `payerpolicy check --format json` did before; or, with --base, this
tree's JSON and text writers against another tree's.

    python bench/decision_json.py [--claims N] [--patients N] [--rounds N] [--base TREE]

Judges N generated claims (bench/generate.py, over --patients patients: fewer patients fill their years,
and their claims carry more findings) with the shipped Medicare policy, checks that both give the same text
for every decision, then times both over all the decisions, alternating, for --rounds rounds in one process
(CPU time, the garbage collector on), and prints each round's ratio and the median. Judging is outside the
timing: only the writing of the text is compared.

--base TREE (a git worktree of another commit) loads that tree's `render/decision_json.py` and
`render/text.py` beside this tree's (both write the decisions this tree judged) and compares each format's
writer, this / base, in turns that alternate which goes first.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parent))

import generate  # noqa: E402

import payerpolicy  # noqa: E402
from payerpolicy.render import text as this_text  # noqa: E402
from payerpolicy.render.decision_json import decision_json  # noqa: E402


def _seconds(write: Callable, decisions: list) -> float:
    start = time.process_time()
    for decision in decisions:
        write(decision)
    return time.process_time() - start


def _against_dumps(decisions: list, rounds: int) -> list[float]:
    ratios = []
    for _ in range(rounds):
        dumps = _seconds(lambda d: json.dumps(d.to_dict()), decisions)
        direct = _seconds(decision_json, decisions)
        ratios.append(direct / dumps)
        per = 1e6 / len(decisions)
        print(f"  dumps(to_dict) {dumps * per:6.1f} us, direct {direct * per:6.1f} us, ratio {ratios[-1]:.2f}")
    return ratios


def _module_of(tree: str, name: str):
    """The base tree's `render/<name>.py`, loaded as a module of its own (it imports this tree's decision)."""
    path = Path(tree) / "src" / "payerpolicy" / "render" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"base_{name}", path)
    assert spec is not None and spec.loader is not None, path
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _against_base(decisions: list, rounds: int, tree: str) -> None:
    writers = {
        "json": (_module_of(tree, "decision_json").decision_json, decision_json),
        "text": (_module_of(tree, "text").render_claim, this_text.render_claim),
    }
    for name, (base, this) in writers.items():
        if any(base(d) != this(d) for d in decisions):
            raise SystemExit(f"the two trees' {name} writers wrote different text")
    for name, (base, this) in writers.items():
        ratios = []
        for turn in range(rounds):
            if turn % 2:
                after, before = _seconds(this, decisions), _seconds(base, decisions)
            else:
                before, after = _seconds(base, decisions), _seconds(this, decisions)
            ratios.append(after / before)
            per = 1e6 / len(decisions)
            print(f"  {name}: base {before * per:6.1f} us, this {after * per:6.1f} us, ratio {ratios[-1]:.3f}")
        print(f"  {name}: median ratio this / base {statistics.median(ratios):.3f} ({rounds} rounds)")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=5_000)
    parser.add_argument("--patients", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--base", help="a worktree of another commit: compare its writers with this tree's")
    args = parser.parse_args(argv)
    rng = random.Random(2026)
    claims = [generate.claim(rng, i, patients=args.patients) for i in range(args.claims)]
    decisions = list(payerpolicy.load("medicare").check_many(claims))
    if any(decision_json(d) != json.dumps(d.to_dict()) for d in decisions):
        raise SystemExit("decision_json and json.dumps(to_dict()) wrote different text")
    findings = sum(len(d.findings) for d in decisions) / len(decisions)
    print(f"{len(decisions):,} decisions ({findings:.2f} findings each); CPU time per decision")
    if args.base:
        _against_base(decisions, args.rounds, args.base)
        return 0
    print(f"  median ratio direct / dumps: {statistics.median(_against_dumps(decisions, args.rounds)):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
