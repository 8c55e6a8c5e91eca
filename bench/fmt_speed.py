"""`payerpolicy fmt` over the shipped policy files, with libyaml's parser (as it runs when PyYAML has it) and
with PyYAML's pure-Python one, taking turns.

    python bench/fmt_speed.py [--rounds N]

Each round lays out every shipped YAML file once each way (the order alternating between rounds, the garbage
collector on) and prints both times; the last line is the median of libyaml's time over the pure parser's
(below 1.00: libyaml pays). The layout is the same either way (tests/test_fmt.py holds it).
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import yaml

from payerpolicy.policy import layout

ROOT = Path(__file__).resolve().parent.parent


def _pure_events(text: str) -> list:
    return list(yaml.parse(text, Loader=yaml.SafeLoader))


def _pure_data(text: str):
    node = yaml.compose(text, Loader=yaml.SafeLoader)
    return layout._said(node, {}) if node is not None else None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    texts = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "policies").rglob("*.yaml"))]
    ways = {"libyaml": (layout._events, layout._data), "pure": (_pure_events, _pure_data)}
    ratios = []
    for round_ in range(args.rounds):
        times = {}
        for way in ("libyaml", "pure") if round_ % 2 == 0 else ("pure", "libyaml"):
            layout._events, layout._data = ways[way]
            start = time.perf_counter()
            for text in texts:
                layout.lay_out(text)
            times[way] = time.perf_counter() - start
        layout._events, layout._data = ways["libyaml"]
        ratios.append(times["libyaml"] / times["pure"])
        print(
            f"round {round_ + 1}: libyaml {times['libyaml']:.2f} s, pure {times['pure']:.2f} s, ratio {ratios[-1]:.2f}"
        )
    print(f"median libyaml / pure over {len(texts)} files: {statistics.median(ratios):.2f}")


if __name__ == "__main__":
    main()
