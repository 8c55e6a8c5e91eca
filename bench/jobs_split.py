"""Where a `payerpolicy check --jobs N` run spends its CPU: the parent process against its workers.

    python bench/jobs_split.py CLAIMS.jsonl --jobs 2 [--out FILE]

`bench/jobs.py` gives each side's CPU in all (the command and its workers together). On a machine too loaded
for wall-clock speed-ups to mean much, this tells what two jobs could give on idle cores: the run is `check`
itself, called in this process, so its own CPU is the parent's (reading, routing, putting decisions back in
order, writing) and its children's is the workers'. With N workers sharing the patients about evenly, N idle
cores finish no sooner than the larger of the parent's CPU and the workers' CPU / N. One run, no pairing:
compare it with a `--jobs 1` run of this script on the same file, made right before or after.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time

from payerpolicy.cli.main import main as payerpolicy_main


def cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("claims")
    options.add_argument("--jobs", type=int, default=2)
    options.add_argument("--out", default=os.devnull, help="where the decisions go (default: nowhere)")
    args = options.parse_args()
    start, parent_before = time.perf_counter(), cpu(resource.RUSAGE_SELF)
    saved = sys.stdout
    with open(args.out, "w") as sys.stdout:
        code = payerpolicy_main(
            ["check", args.claims, "--format", "json", "--quiet", "--jobs", str(args.jobs), "--fail-on", "never"]
        )
    sys.stdout = saved
    wall, parent, workers = (
        time.perf_counter() - start,
        cpu(resource.RUSAGE_SELF) - parent_before,
        cpu(resource.RUSAGE_CHILDREN),
    )
    claims = sum(1 for line in open(args.claims, "rb") if line.strip())
    print(
        f"--jobs {args.jobs}, {claims:,} claims, exit {code}, load average {os.getloadavg()[0]:.1f}: wall {wall:.1f} s; "
        f"CPU a claim: parent {parent / claims * 1e6:.0f} µs, workers {workers / claims * 1e6:.0f} µs, "
        f"in all {(parent + workers) / claims * 1e6:.0f} µs"
    )


if __name__ == "__main__":  # the workers start by importing this script again (spawn)
    main()
