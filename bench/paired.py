"""Paired runs of this tree against another's (a commit checked out elsewhere): the loop the *_ab.py benches share.

Each pair runs both trees, alternating which goes first, so that a load on the machine hits both sides of a
ratio alike; a pair whose two sides made different results stops the bench (a faster run that makes something
else is no result).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Callable

HERE = str(Path(__file__).resolve().parent.parent / "src")


def add_base(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--base", help="the src folder of the tree to compare with (git worktree add DIR COMMIT)")


def check_base(parser: argparse.ArgumentParser, base: str | None) -> str:
    if base is None or not os.path.isfile(os.path.join(base, "payerpolicy", "__init__.py")):
        parser.error(f"--base {base}: give the src folder of the other tree (it has the payerpolicy package)")
    return base


def child_json(src: str, arguments: list[str]):
    """Run `python ARGUMENTS` with the tree in `src` first on the path; what it printed, read as JSON."""
    env = dict(os.environ, PYTHONPATH=src)
    done = subprocess.run([sys.executable, *arguments], env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def median_ratio(base: str, pairs: int, measure: Callable[[str, str], tuple[float, str]], label: str = "") -> float:
    """The median ratio this / base of `pairs` pairs of `measure(name, src)`, which runs the tree in `src`
    ("base" or "this", by `name`) and gives its CPU seconds and what it made (a digest); each pair printed."""
    ratios = []
    for pair in range(pairs):
        sides = [("base", base), ("this", HERE)]
        if pair % 2:
            sides.reverse()
        seconds, made = {}, {}
        for name, src in sides:
            seconds[name], made[name] = measure(name, src)
        if made["this"] != made["base"]:
            raise SystemExit(f"{label or 'the bench'}: the two trees made different results")
        ratios.append(seconds["this"] / seconds["base"])
        print(
            f"  {label}pair {pair + 1}: base {seconds['base']:7.3f} s, this {seconds['this']:7.3f} s, "
            f"ratio {ratios[-1]:.3f}"
        )
    return statistics.median(ratios)
