"""What the language server pays to check a policy folder again after an edit, with and without the parses
of unchanged conditions kept between loads (`rules.parse.remember`, which `payerpolicy lsp` turns on).

    python bench/lsp_reload.py [--policy policies/example-commercial] [--rounds N]

Each round loads the folder twice from the editor's unsaved text, as the server does after a pause in typing
(one edit changes one rule's message, so the text differs from the last load): once with nothing remembered and
once with the trees of the previous load kept, taking turns, the garbage collector on. It prints each round and
the median ratio of the remembered load's time to the plain load's (below 1.00: the reuse pays). The compiled-
policy cache is off for both, as it is for unsaved text.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from payerpolicy.pipeline import load_program
from payerpolicy.rules import parse


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--policy", default="policies/example-commercial", type=Path)
    ap.add_argument("--rounds", type=int, default=7)
    args = ap.parse_args()
    policy_file = args.policy / "policy.yaml"
    text = policy_file.read_text(encoding="utf-8")
    parse.remember(20_000)
    load_program(args.policy, unsaved={policy_file: text})  # the server's first load: every parse kept
    ratios = []
    for round_ in range(args.rounds):
        edited = {policy_file: text + f"\n# edit {round_}\n"}
        times = {}
        for remembered in (False, True) if round_ % 2 == 0 else (True, False):
            kept = dict(parse._remembered)
            parse.remember(20_000 if remembered else 0)
            start = time.perf_counter()
            load_program(args.policy, unsaved=edited)
            times[remembered] = time.perf_counter() - start
            parse._remembered.update(kept)
        ratios.append(times[True] / times[False])
        print(
            f"round {round_ + 1}: plain {times[False] * 1000:.0f} ms, remembered {times[True] * 1000:.0f} ms, "
            f"ratio {ratios[-1]:.2f}"
        )
    print(f"median remembered / plain: {statistics.median(ratios):.2f}")


if __name__ == "__main__":
    main()
